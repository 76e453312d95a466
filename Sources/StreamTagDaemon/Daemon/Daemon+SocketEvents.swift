import CZeroMQ
import Foundation
import Synchronization

extension Daemon {
    /// After `openSockets`, before the I/O thread runs: counts what libzmq does silently — an
    /// accept refused for want of file descriptors (`EMFILE`, `ENFILE`) on any socket, and input
    /// connections closed (a producer went away, or sent a frame over
    /// `input.max_zmq_message_bytes`, which libzmq drops by closing the connection without
    /// saying why). The first descriptor shortage is logged at once; the log summary reports
    /// both every 10 s.
    func monitorSockets() {
        let counts = metrics.counts, logger = self.logger
        let reported = Mutex(false)
        do {
            _ = try ZMQEventMonitor(context: context, sockets: [
                ("input", input, ZMQ_EVENT_ACCEPT_FAILED | ZMQ_EVENT_DISCONNECTED),
                ("output", output, ZMQ_EVENT_ACCEPT_FAILED),
                ("control", control, ZMQ_EVENT_ACCEPT_FAILED),
            ]) { event in
                switch event.event {
                case ZMQ_EVENT_ACCEPT_FAILED where event.value == EMFILE || event.value == ENFILE:
                    counts.add(EventCount.fdExhaustedZMQ)
                    if reported.withLock({ r in defer { r = true }; return !r }) {
                        logger.error("out of file descriptors: a ZeroMQ socket cannot accept connections", metadata: [
                            "socket": "\(event.socket)", "error": "\(String(cString: strerror(event.value)))",
                        ])
                    }
                case ZMQ_EVENT_DISCONNECTED:
                    counts.add(EventCount.inputDisconnects)
                default:
                    break
                }
            }
        } catch {
            logger.warning("ZeroMQ socket events are not monitored", metadata: ["error": "\(error)"])
        }
    }
}
