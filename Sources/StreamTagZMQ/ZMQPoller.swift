import CZeroMQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Polls a fixed set of ZeroMQ sockets and raw file descriptors (such as an `EventFD`) with
/// `zmq_poll`.
///
/// Add items once, then call `poll(timeoutMilliseconds:)` in a loop and ask each item's index
/// for `readyEvents(at:)`. Polling allocates nothing. The poller keeps its sockets alive but does
/// not own file descriptors; polling a socket that was closed throws `ENOTSOCK`.
///
/// Thread rules: the same as `ZMQSocket`: a poller (with its sockets) may be moved to another
/// thread, never used from two at once.
public final class ZMQPoller: @unchecked Sendable {
    /// Readiness conditions: what to wait for, and what `readyEvents(at:)` reports.
    public struct Events: OptionSet, Sendable, Hashable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }

        /// `ZMQ_POLLIN`: a whole message can be received (or the descriptor is readable).
        public static let readable = Events(rawValue: Int16(ZMQ_POLLIN))
        /// `ZMQ_POLLOUT`: a message can be sent without blocking (or the descriptor is writable).
        public static let writable = Events(rawValue: Int16(ZMQ_POLLOUT))
        /// `ZMQ_POLLERR`: an error condition on a raw descriptor (never set for sockets).
        public static let error = Events(rawValue: Int16(ZMQ_POLLERR))
    }

    private var items: [zmq_pollitem_t] = []
    /// The socket of each item, nil for raw descriptors; same indices as `items`.
    private var sockets: [ZMQSocket?] = []

    /// Creates an empty poller.
    public init() {}

    /// The number of items added.
    public var count: Int { items.count }

    /// Adds `socket`, waiting for `events`; returns the item's index.
    @discardableResult
    public func add(_ socket: ZMQSocket, events: Events = .readable) -> Int {
        items.append(zmq_pollitem_t(socket: nil, fd: -1, events: events.rawValue, revents: 0))
        sockets.append(socket)
        return items.count - 1
    }

    /// Adds a raw file descriptor, waiting for `events`; returns the item's index.
    @discardableResult
    public func add(fd: Int32, events: Events = .readable) -> Int {
        items.append(zmq_pollitem_t(socket: nil, fd: fd, events: events.rawValue, revents: 0))
        sockets.append(nil)
        return items.count - 1
    }

    /// Points the raw-descriptor item at `index` to another descriptor (e.g. a new inotify
    /// descriptor when the watched file changes), waiting for `events`.
    public func setFD(_ fd: Int32, events: Events, at index: Int) {
        precondition(sockets[index] == nil, "item \(index) is a socket")
        items[index].fd = fd
        items[index].events = events.rawValue
    }

    /// Changes what the item at `index` waits for (e.g. add `.writable` only while output is
    /// pending).
    public func setEvents(_ events: Events, at index: Int) {
        items[index].events = events.rawValue
    }

    /// Waits until at least one item is ready or `timeoutMilliseconds` pass (0 returns at once,
    /// -1 waits forever) and returns the number of ready items. `EINTR` is retried with the
    /// remaining time. Throws `ETERM` when the sockets' context is terminated.
    public func poll(timeoutMilliseconds: Int) throws -> Int {
        for index in items.indices {
            items[index].revents = 0
            if let socket = sockets[index] {
                items[index].socket = try socket.live("zmq_poll")
            }
        }
        let clock = ContinuousClock()
        let deadline = timeoutMilliseconds > 0 ? clock.now.advanced(by: .milliseconds(timeoutMilliseconds)) : nil
        var timeout = timeoutMilliseconds
        while true {
            let ready = items.withUnsafeMutableBufferPointer { buffer in
                zmq_poll(buffer.baseAddress, Int32(buffer.count), timeout)
            }
            if ready >= 0 { return Int(ready) }
            let code = zmq_errno()
            guard code == EINTR else { throw ZMQError(code: code, call: "zmq_poll") }
            if let deadline {
                let left = clock.now.duration(to: deadline).components
                timeout = max(0, Int(left.seconds) * 1000 + Int(left.attoseconds / 1_000_000_000_000_000))
            }
        }
    }

    /// What the item at `index` was found ready for by the last `poll`; empty if not ready.
    public func readyEvents(at index: Int) -> Events {
        Events(rawValue: items[index].revents)
    }

    /// Whether the item at `index` was readable at the last `poll`.
    public func isReadable(_ index: Int) -> Bool {
        readyEvents(at: index).contains(.readable)
    }

    /// Whether the item at `index` was writable at the last `poll`.
    public func isWritable(_ index: Int) -> Bool {
        readyEvents(at: index).contains(.writable)
    }
}
