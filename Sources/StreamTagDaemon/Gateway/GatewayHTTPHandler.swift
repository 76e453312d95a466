import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The plain-HTTP side of the gateway: the live page at `/`, and every request that is not
/// upgraded answered with its status (401, 404, 409, 426, 503 …) and a one-line reason.
/// Removed from the pipeline when a WebSocket upgrade succeeds.
final class GatewayHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let gateway: WebSocketGateway
    /// Why the upgrade of this connection's request was refused (set by `shouldUpgrade`).
    let refusal: RefusalBox
    private var head: HTTPRequestHead?

    init(gateway: WebSocketGateway, refusal: RefusalBox) {
        self.gateway = gateway
        self.refusal = refusal
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        var status = HTTPResponseStatus.ok
        var contentType = "text/plain; charset=utf-8"
        var body: [UInt8]
        var extra: [(String, String)] = []
        if let refused = refusal.value {
            refusal.value = nil
            (status, body) = (refused.status, Array((refused.reason + "\n").utf8))
        } else {
            switch gateway.admission.route(head) {
            case .page:
                contentType = "text/html; charset=utf-8"
                body = LivePage.bytes
            case .stream:
                gateway.metrics.error("upgrade_required")
                status = .upgradeRequired
                body = Array("this is a WebSocket endpoint: connect with Upgrade: websocket\n".utf8)
                extra.append(("Upgrade", "websocket"))
            case .refuse(let refusedStatus, let code, let reason):
                gateway.metrics.error(code)
                (status, body) = (refusedStatus, Array((reason + "\n").utf8))
            }
        }
        if status == .unauthorized { extra.append(("WWW-Authenticate", "Bearer")) }
        if status == .methodNotAllowed { extra.append(("Allow", "GET")) }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(head.method == .HEAD ? 0 : body.count)")
        headers.add(name: "Cache-Control", value: "no-store")
        let keepAlive = head.isKeepAlive && status == .ok
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        for (name, value) in extra { headers.add(name: name, value: value) }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: body.count)
            buffer.writeBytes(body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A refused upgrade comes by here first (the upgrader reports it as an error, then hands
        // the request on): the request is answered in `channelRead`, so keep the connection.
        if error is NIOWebSocketUpgradeError { return }
        context.close(promise: nil)
    }
}

/// The refusal of one connection's upgrade, handed from `shouldUpgrade` to the HTTP handler
/// (both run on the connection's event loop).
final class RefusalBox: @unchecked Sendable {
    var value: (status: HTTPResponseStatus, reason: String)?
}
