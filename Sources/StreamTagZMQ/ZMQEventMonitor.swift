import CZeroMQ
import Foundation

/// libzmq's socket events (`zmq_socket_monitor`) for a few sockets, read on a thread of its own
/// so the I/O loop does not change: what libzmq does silently inside (a connection closed, an
/// accept that failed with `EMFILE`) becomes a callback.
///
/// Create it before the sockets bind (events before that are missed). The thread ends when the
/// context terminates (its poll returns `ETERM`), closing its own sockets, so
/// `ZMQContext.terminate()` does not wait for it.
package final class ZMQEventMonitor: @unchecked Sendable {
    /// One event: which watched socket (its name), the event (`ZMQ_EVENT_*`), its value (an
    /// errno for failures, a descriptor otherwise).
    package struct Event: Sendable {
        package var socket: String
        package var event: Int32
        package var value: Int32
    }

    private var pairs: [(name: String, handle: UnsafeMutableRawPointer)] = []
    private let onEvent: @Sendable (Event) -> Void

    /// Watches `events` (a `ZMQ_EVENT_*` mask) on each named socket.
    package init(context: ZMQContext, sockets: [(name: String, socket: ZMQSocket, events: Int32)],
                 onEvent: @escaping @Sendable (Event) -> Void) throws {
        self.onEvent = onEvent
        let tag = UUID().uuidString
        do {
            for (name, socket, events) in sockets {
                let endpoint = "inproc://streamtag-monitor-\(name)-\(tag)"
                guard zmq_socket_monitor(try socket.live("zmq_socket_monitor"), endpoint, events) == 0 else {
                    throw ZMQError.last("zmq_socket_monitor")
                }
                let pair = try context.makeSocketHandle(type: ZMQ_PAIR)
                pairs.append((name, pair))
                guard zmq_connect(pair, endpoint) == 0 else { throw ZMQError.last("zmq_connect") }
            }
        } catch {
            for p in pairs { zmq_close(p.handle) }
            throw error
        }
        let thread = Thread { [self] in run() }
        thread.name = "streamtag-zmq-monitor"
        thread.start()
    }

    private func run() {
        nameCurrentThread("streamtag-zmqmon")
        var items = pairs.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer {
            zmq_msg_close(&message)
            for p in pairs {
                var zero: Int32 = 0
                zmq_setsockopt(p.handle, ZMQ_LINGER, &zero, MemoryLayout<Int32>.size)
                zmq_close(p.handle)
            }
        }
        while true {
            let n = zmq_poll(&items, Int32(items.count), -1)
            if n < 0 {
                if zmq_errno() == EINTR { continue }
                return   // ETERM: the context is being terminated
            }
            for (i, item) in items.enumerated() where item.revents & Int16(ZMQ_POLLIN) != 0 {
                // Frame 1: 16-bit event, 32-bit value (native byte order); frame 2: the endpoint.
                guard zmq_msg_recv(&message, pairs[i].handle, ZMQ_DONTWAIT) >= 0 else {
                    if zmq_errno() == ETERM { return }
                    continue
                }
                var event: Int32 = 0, value: Int32 = 0
                if zmq_msg_size(&message) >= 6, let data = zmq_msg_data(&message) {
                    event = Int32(data.loadUnaligned(as: UInt16.self))
                    value = data.loadUnaligned(fromByteOffset: 2, as: Int32.self)
                }
                while zmq_msg_more(&message) != 0 {
                    guard zmq_msg_recv(&message, pairs[i].handle, ZMQ_DONTWAIT) >= 0 else { break }
                }
                onEvent(Event(socket: pairs[i].name, event: event, value: value))
            }
        }
    }
}
