import NIOCore
import NIOHTTP1
import NIOPosix

/// What the metrics server answers to one request.
struct MetricsResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType = "text/plain; charset=utf-8"
    var body: [UInt8]
    var extraHeaders: [(String, String)] = []

    init(_ status: HTTPResponseStatus, _ text: String, headers: [(String, String)] = []) {
        self.status = status
        body = Array(text.utf8)
        extraHeaders = headers
    }

    init(status: HTTPResponseStatus, contentType: String, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}

/// A small HTTP/1.1 server (SwiftNIO) on its own event loop group of one thread: it answers
/// `/metrics`, `/healthz` and `/readyz` through `respond`, which runs on that thread. Nothing
/// here touches the daemon's I/O thread or workers.
final class MetricsServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// The port actually bound (useful with port 0).
    let port: Int
    /// `host:port` as bound.
    let address: String

    /// Binds `host:port` (port 0 picks a free one) and starts serving, with `connections`
    /// capping and timing out the connections.
    init(host: String, port: Int, connections: MetricsConnectionGuard = MetricsConnectionGuard(limits: .init(), events: .init()),
         respond: @escaping @Sendable (HTTPRequestHead) -> MetricsResponse) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(connections.serverHandlers())
                }
            }
            // An IPPROTO_TCP option: `.socketOption(.tcp_nodelay)` set SO_DEBUG instead (the same
            // number at SOL_SOCKET), which needs CAP_NET_ADMIN, so a daemon that is not root
            // (systemd's DynamicUser) closed every connection as soon as it was accepted.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Over the cap: the connection is closed already, nothing to set up.
                    guard let guards = connections.admit(channel) else { return }
                    try channel.pipeline.syncOperations.addHandlers(guards)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(respond: respond))
                }
            }
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.group = group
        self.port = channel.localAddress?.port ?? port
        self.address = host.contains(":") ? "[\(host)]:\(self.port)" : "\(host):\(self.port)"
    }

    /// Closes the listener and every connection, and stops the thread (not from the server's
    /// own thread).
    func shutdown() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// The same without waiting (from a deinit).
    func shutdownLater() {
        channel.close(promise: nil)
        group.shutdownGracefully { _ in }
    }
}

/// One connection: requests in, one response each; keep-alive as the client asks.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let respond: @Sendable (HTTPRequestHead) -> MetricsResponse
    private var head: HTTPRequestHead?

    init(respond: @escaping @Sendable (HTTPRequestHead) -> MetricsResponse) {
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            let response = respond(head)
            let keepAlive = head.isKeepAlive
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: response.contentType)
            headers.add(name: "Content-Length", value: "\(head.method == .HEAD ? 0 : response.body.count)")
            headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            for (name, value) in response.extraHeaders { headers.add(name: name, value: value) }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))),
                          promise: nil)
            if head.method != .HEAD {
                var buffer = context.channel.allocator.buffer(capacity: response.body.count)
                buffer.writeBytes(response.body)
                context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            }
            if keepAlive {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            } else {
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
