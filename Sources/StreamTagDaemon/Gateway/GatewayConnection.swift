import NIOCore

/// One WebSocket connection: one stream. Shared by two threads: its identity is immutable,
/// and its ``handler`` belongs to the gateway's event loop. The I/O loop's bookkeeping of the
/// stream (the seq it numbers from, whether it is open, the answers of one turn) is not here
/// but in the `GatewayRouter`, which the I/O loop owns.
final class GatewayConnection: @unchecked Sendable {
    // @unchecked for `handler` alone: set and read on the connection's event loop only (the
    // upgrade installs it, `deliver` reads it in a task on that loop).
    /// The stream this connection feeds and follows.
    let streamID: String
    /// `streamID`'s UTF-8 bytes, for the input parser.
    let streamIDBytes: [UInt8]
    let channel: any Channel

    /// The frame handler, once the upgrade has installed it (event loop).
    var handler: GatewayFrameHandler?

    init(streamID: String, channel: any Channel) {
        self.streamID = streamID
        streamIDBytes = Array(streamID.utf8)
        self.channel = channel
    }

    /// Hands one I/O loop turn's answers to the event loop in one task.
    func deliver(_ bodies: [[UInt8]]) {
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
