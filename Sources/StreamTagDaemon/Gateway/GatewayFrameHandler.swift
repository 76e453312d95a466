import NIOCore
import NIOWebSocket

/// The WebSocket side of one connection, on the gateway's event loop: complete messages go to
/// the I/O thread (``GatewayInbox``) as input bodies; answers come back through ``send(_:)``.
/// Answers pings, pings the client every `websocket.ping_interval` and closes a connection
/// silent for two periods; closes one whose unread answers exceed `max_buffered_bytes`.
final class GatewayFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let connection: GatewayConnection
    private let gateway: WebSocketGateway
    private var context: ChannelHandlerContext?
    private var ping: RepeatedTask?
    /// Something arrived since the last ping.
    private var heard = true
    /// Answer bytes written but not yet taken by the socket.
    private var buffered = 0
    private var closing = false

    init(connection: GatewayConnection, gateway: WebSocketGateway) {
        self.connection = connection
        self.gateway = gateway
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        connection.handler = self
        gateway.metrics.opened()
        gateway.inbox.push(.open(connection))
        let interval = gateway.settings.pingInterval
        if interval > .zero {
            let amount = TimeAmount.nanoseconds(Int64(interval.seconds * 1e9))
            // Cancelled in handlerRemoved, so holding the handler does not outlive the connection.
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            ping = context.eventLoop.scheduleRepeatedTask(initialDelay: amount, delay: amount) { _ in
                bound.value.pingTick()
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ping?.cancel()
        ping = nil
        connection.handler = nil
        self.context = nil
        gateway.metrics.closed()
        gateway.inbox.push(.close(connection))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        heard = true
        switch frame.opcode {
        case .text, .binary:
            guard !closing else { return }
            gateway.metrics.framesIn.increment()
            if gateway.inbox.push(.message(connection, frame.unmaskedData)) { gateway.pause(context.channel) }
        case .ping:
            var data = frame.unmaskedData
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: data.readSlice(length: data.readableBytes) ?? data)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            // Echo the client's code, then close (RFC 6455 §5.5.1).
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self).map { WebSocketErrorCode(codeNumber: Int($0)) } ?? .normalClosure
            close(code, reason: nil)
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case NIOWebSocketError.invalidFrameLength, NIOWebSocketFrameAggregator.Error.accumulatedFrameSizeIsTooLarge:
            gateway.metrics.error("frame_too_large")
            close(.messageTooLarge, reason: "message larger than websocket.max_frame_bytes (\(gateway.settings.maxFrameBytes) bytes)")
        default:
            gateway.metrics.error("bad_frame")
            close(.protocolError, reason: "\(error)")
        }
    }

    /// Writes answers as text frames, one flush for the batch.
    func send(_ bodies: [[UInt8]]) {
        guard let context, !closing, !bodies.isEmpty else { return }
        let total = bodies.reduce(0) { $0 + $1.count }
        for (n, body) in bodies.enumerated() {
            var buffer = context.channel.allocator.buffer(capacity: body.count)
            buffer.writeBytes(body)
            let frame = WebSocketFrame(fin: true, opcode: .text, data: buffer)
            if n == bodies.count - 1 {
                let done = context.eventLoop.makePromise(of: Void.self)
                done.futureResult.assumeIsolated().whenComplete { [weak self] _ in self?.buffered -= total }
                context.write(wrapOutboundOut(frame), promise: done)
            } else {
                context.write(wrapOutboundOut(frame), promise: nil)
            }
        }
        context.flush()
        buffered += total
        gateway.metrics.framesOut.increment(by: Int64(bodies.count))
        for body in bodies {
            if let code = GatewayMetrics.errorCode(body) { gateway.metrics.error(code) }
        }
        if buffered > gateway.settings.maxBufferedBytes {
            gateway.metrics.error("slow_consumer")
            close(.policyViolation, reason: "more than \(gateway.settings.maxBufferedBytes) bytes of answers unread")
        }
    }

    private func pingTick() {
        guard let context, !closing else { return }
        // While the daemon itself has stopped reading this connection (its inbox is full), the
        // client's pongs wait unread in the socket: it is not silent, the daemon is deaf.
        if gateway.isPaused(context.channel) { heard = true }
        if !heard {
            gateway.metrics.error("no_pong")
            close(.goingAway, reason: "no pong within two ping intervals")
            return
        }
        heard = false
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(capacity: 0))),
                              promise: nil)
    }

    /// How long a closing connection has to take its close frame and hang up before it is cut
    /// off: two ping intervals, as for a silent client (30 s with pings off). A client that has
    /// stopped reading never takes the frame, and must not keep its socket and answers.
    var closeLinger: TimeAmount {
        let interval = gateway.settings.pingInterval
        return interval > .zero ? .nanoseconds(Int64(2 * interval.seconds * 1e9)) : .seconds(30)
    }

    /// Sends a close frame with `code` (and a short reason) after the answers already written,
    /// then half-closes: the client reads them, the frame, then end of file, and hangs up
    /// itself. Closing outright while the client's messages are still unread would make the
    /// kernel send a reset, and the client's kernel would throw away the unread answers and
    /// the close frame with it. `closeLinger` bounds the wait.
    private func close(_ code: WebSocketErrorCode, reason: String?) {
        guard let context, !closing else { return }
        closing = true
        var data = context.channel.allocator.buffer(capacity: 2 + 123)
        data.write(webSocketErrorCode: code)
        if let reason { data.writeString(String(reason.utf8.prefix(120)) ?? "") }
        let channel = context.channel
        let cutOff = context.eventLoop.scheduleTask(in: closeLinger) { channel.close(promise: nil) }
        channel.closeFuture.whenComplete { _ in cutOff.cancel() }
        // Read on (the messages are dropped while closing), so the client's side drains and
        // its hang-up is seen.
        channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))).whenComplete { result in
            guard case .success = result else { return channel.close(promise: nil) }
            let halfClosed = channel.eventLoop.makePromise(of: Void.self)
            halfClosed.futureResult.whenFailure { _ in channel.close(promise: nil) }
            channel.close(mode: .output, promise: halfClosed)
        }
    }
}
