import CZeroMQ
import Foundation
import Synchronization
import StreamTagZMQ

extension IOLoop {
    /// In `init`, after `openSockets`: counts what libzmq does silently — an
    /// accept refused for want of file descriptors (`EMFILE`, `ENFILE`) on any socket, and input
    /// connections closed (a producer went away, or sent a frame over
    /// `input.max_zmq_message_bytes`, which libzmq drops by closing the connection without
    /// saying why). The first descriptor shortage is logged at once; the log summary reports
    /// both every 10 s. With CURVE on, failed handshakes go to the security's refusal counts
    /// (on the I/O thread): libzmq allows one monitor per socket, so this is the only one.
    func monitorSockets() {
        let counts = metrics.counts, logger = self.logger, daemon = self.daemon
        let reported = Mutex(false)
        let handshakes = security == nil ? 0 : DaemonSecurity.monitoredEvents
        do {
            _ = try ZMQEventMonitor(context: context, sockets: [
                ("input", input, ZMQ_EVENT_ACCEPT_FAILED | ZMQ_EVENT_DISCONNECTED | handshakes),
                ("output", output, ZMQ_EVENT_ACCEPT_FAILED | handshakes),
                ("control", control, ZMQ_EVENT_ACCEPT_FAILED | handshakes),
            ]) { [weak daemon] event in
                switch event.event {
                case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
                    guard let daemon, let socket = KeyRing.Socket(rawValue: event.socket) else { return }
                    daemon.onIOThread { loop in loop.security?.handshakeFailed(socket, event: event.event, value: event.value) }
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
