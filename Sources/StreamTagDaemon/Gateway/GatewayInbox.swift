import NIOCore
import Synchronization

/// The queue from the gateway's event loop to the I/O thread: events appended under a lock,
/// taken all at once by the I/O thread, which the first event after a take wakes (the
/// daemon's eventfd), so a burst of frames costs one wake-up. Bounded: above `maxBytes` of
/// queued bodies `push` says so and the connections stop reading (TCP pushes back on the
/// clients) until the I/O thread has taken the queue.
final class GatewayInbox: Sendable {
    // A take empties the queue, so "a wake-up is pending" is "the queue is not empty", and
    // "the queue went over its bound" is "its bytes are over it": neither needs a flag.
    private struct State {
        var items: [GatewayEvent] = []
        var bytes = 0
    }
    private let state = Mutex(State())
    private let wake: @Sendable () -> Void
    let maxBytes: Int

    init(maxBytes: Int = 16 << 20, wake: @escaping @Sendable () -> Void) {
        self.maxBytes = maxBytes
        self.wake = wake
    }

    /// Appends an event; true when the queue is now over its bound (stop reading).
    @discardableResult
    func push(_ event: GatewayEvent) -> Bool {
        let (signal, full) = state.withLock { state -> (Bool, Bool) in
            let first = state.items.isEmpty
            state.items.append(event)
            if case .message(_, let body) = event { state.bytes += body.readableBytes }
            return (first, state.bytes > maxBytes)
        }
        if signal { wake() }
        return full
    }

    /// I/O thread: everything queued so far (swapped with `buffer`, whose capacity is reused).
    /// Returns whether the queue had been full (the paused connections may read again).
    @discardableResult
    func take(into buffer: inout [GatewayEvent]) -> Bool {
        buffer.removeAll(keepingCapacity: true)
        return state.withLock { state in
            swap(&state.items, &buffer)
            defer { state.bytes = 0 }
            return state.bytes > maxBytes
        }
    }
}
