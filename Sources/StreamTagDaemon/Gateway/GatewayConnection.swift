import NIOCore
import Synchronization

/// One WebSocket connection: one stream. Shared by two threads, each with its own fields:
/// the gateway's event loop owns ``handler``; the daemon's I/O thread owns the stream
/// bookkeeping (``nextSeq``, ``streamOpen``, ``batch``). Nothing is shared in between but the
/// immutable identity, so no field needs a lock.
final class GatewayConnection: @unchecked Sendable {
    /// The stream this connection feeds and follows.
    let streamID: String
    /// `streamID`'s UTF-8 bytes, for the input parser.
    let streamIDBytes: [UInt8]
    let channel: any Channel

    // Event loop only.
    /// The frame handler, once the upgrade has installed it.
    var handler: GatewayFrameHandler?

    // I/O thread only.
    /// The seq the gateway gives the next message without one: the last accepted seq + 1.
    var nextSeq: UInt64 = 0
    /// The stream has accepted a message and not ended since (closing it then ends it).
    var streamOpen = false
    /// Answers routed to this connection in the current I/O loop iteration.
    var batch: [[UInt8]] = []

    init(streamID: String, channel: any Channel) {
        self.streamID = streamID
        streamIDBytes = Array(streamID.utf8)
        self.channel = channel
    }

    /// I/O thread: hands this iteration's answers to the event loop in one task.
    func deliverBatch() {
        let bodies = batch
        batch.removeAll(keepingCapacity: true)
        channel.eventLoop.execute { [self] in handler?.send(bodies) }
    }
}

/// What the gateway's event loop tells the I/O thread, in order.
enum GatewayEvent: Sendable {
    /// A connection was upgraded: route its stream's output to it.
    case open(GatewayConnection)
    /// A complete WebSocket message (text or binary): an input body for the stream.
    case message(GatewayConnection, [UInt8])
    /// The connection is gone: stop routing; end or keep the stream (`websocket.on_close`).
    case close(GatewayConnection)
}

/// The queue from the gateway's event loop to the I/O thread: events appended under a lock,
/// taken all at once by the I/O thread, which the first event after a take wakes (the
/// daemon's eventfd), so a burst of frames costs one wake-up. Bounded: above `maxBytes` of
/// queued bodies `push` says so and the connections stop reading (TCP pushes back on the
/// clients) until the I/O thread has taken the queue.
final class GatewayInbox: Sendable {
    private struct State {
        var items: [GatewayEvent] = []
        var bytes = 0
        var wakePending = false
        var full = false
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
            state.items.append(event)
            if case .message(_, let body) = event { state.bytes += body.count }
            if state.bytes > maxBytes { state.full = true }
            defer { state.wakePending = true }
            return (!state.wakePending, state.full)
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
            state.wakePending = false
            state.bytes = 0
            defer { state.full = false }
            return state.full
        }
    }
}
