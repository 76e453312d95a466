import NIOCore

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
    /// A complete WebSocket message (text or binary): an input body for the stream, as the
    /// frame brought it (the I/O thread parses it in place: no copy on the event loop).
    case message(GatewayConnection, ByteBuffer)
    /// The connection is gone: stop routing; end or keep the stream (`websocket.on_close`).
    case close(GatewayConnection)
}
