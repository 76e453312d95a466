import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// The WebSocket gateway (docs/websocket.md): an HTTP/1.1 listener on
/// its own event loop (one thread) that serves the live page at `/` and upgrades
/// `/v1/streams/ID` to a WebSocket feeding stream ID. It parses nothing: complete messages go
/// to the daemon's I/O thread through ``inbox``, which parses them with the ZeroMQ input's
/// parser and hands them to the same workers; the I/O thread routes the stream's output back
/// (``GatewayRouter``).
///
/// Two connections for one stream id: the second is refused with 409 while the first is open
/// (one connection, one stream: two writers would interleave seqs, two readers would each
/// miss what the other was sent).
final class WebSocketGateway: Sendable {
    let settings: DaemonConfig.WebSocket
    let admission: GatewayAdmission
    let inbox: GatewayInbox
    let metrics: GatewayMetrics
    /// Stream ids with an open or upgrading connection (touched on the gateway's one event loop only).
    private let claims = ClaimTable()
    private let group: MultiThreadedEventLoopGroup
    private let listener = Mutex<(any Channel)?>(nil)

    final class ClaimTable: @unchecked Sendable {
        var ids: Set<String> = []
        /// Connections paused while the inbox is full.
        var paused: [any Channel] = []
    }

    /// Reads the token file; `start()` binds.
    init(settings: DaemonConfig.WebSocket, metrics: GatewayMetrics, wake: @escaping @Sendable () -> Void) throws {
        self.settings = settings
        admission = GatewayAdmission(tokens: try settings.loadTokens())
        inbox = GatewayInbox(wake: wake)
        self.metrics = metrics
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Binds `websocket.listen` and serves; returns `host:port` as bound.
    func start() throws -> String {
        guard let (host, port) = settings.bindAddress else {
            throw GatewayError(message: "websocket.listen: \(settings.listen) is not host:port or a port")
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // IPPROTO_TCP, not `.socketOption` (that set SO_DEBUG: see MetricsServer).
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try configure(channel) }
            }
        do {
            let channel = try bootstrap.bind(host: host, port: port).wait()
            listener.withLock { $0 = channel }
            let bound = channel.localAddress?.port ?? port
            return host.contains(":") ? "[\(host)]:\(bound)" : "\(host):\(bound)"
        } catch {
            throw GatewayError(message: "websocket.listen: cannot listen on \(settings.listen): \(error)")
        }
    }

    /// Closes the listener and every connection (close code 1006 for clients), and stops the
    /// event loop. Not from the event loop itself.
    func shutdown() {
        if let channel = listener.withLock({ $0 }) { try? channel.close().wait() }
        try? group.syncShutdownGracefully()
    }

    /// One accepted connection: HTTP, with the WebSocket upgrade for stream URLs.
    private func configure(_ channel: any Channel) throws {
        let refusal = RefusalBox()
        let http = GatewayHTTPHandler(gateway: self, refusal: refusal)
        let httpBound = NIOLoopBound(http, eventLoop: channel.eventLoop)
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: settings.maxFrameBytes,
            automaticErrorHandling: true,
            shouldUpgrade: { [self] channel, head in
                channel.eventLoop.makeSucceededFuture(admit(head, channel: channel, refusal: refusal))
            },
            upgradePipelineHandler: { [self] channel, head in
                channel.eventLoop.makeCompletedFuture {
                    guard case .stream(let id) = admission.route(head) else { throw GatewayError(message: "route changed") }
                    let connection = GatewayConnection(streamID: id, channel: channel)
                    try channel.pipeline.syncOperations.addHandler(NIOWebSocketFrameAggregator(
                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1024,
                        maxAccumulatedFrameSize: settings.maxFrameBytes))
                    try channel.pipeline.syncOperations.addHandler(GatewayFrameHandler(connection: connection, gateway: self))
                }
            })
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                context.pipeline.syncOperations.removeHandler(httpBound.value, promise: nil)
            }),
            withErrorHandling: true)
        try channel.pipeline.syncOperations.addHandler(http)
    }

    /// Event loop: whether ``pause(_:)`` stopped reading `channel` and it has not resumed.
    func isPaused(_ channel: any Channel) -> Bool {
        claims.paused.contains { $0 === channel }
    }

    /// Event loop: stops reading `channel` until ``resumeReading()`` (the inbox is full).
    func pause(_ channel: any Channel) {
        if !claims.paused.contains(where: { $0 === channel }) {
            claims.paused.append(channel)
            channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
    }

    /// Any thread: the I/O thread has emptied the inbox; paused connections read again.
    func resumeReading() {
        let table = claims
        group.next().execute {
            for channel in table.paused { channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in } }
            table.paused.removeAll()
        }
    }

    /// `shouldUpgrade`: the headers of the 101 answer, or nil (with the reason in `refusal`,
    /// which the HTTP handler then answers) when the request is refused. Claims the stream id
    /// until the connection closes.
    private func admit(_ head: HTTPRequestHead, channel: any Channel, refusal: RefusalBox) -> HTTPHeaders? {
        let id: String
        switch admission.route(head) {
        case .stream(let stream): id = stream
        case .page:
            refusal.value = (.badRequest, "the page is not a WebSocket endpoint; streams are at \(GatewayAdmission.streamPrefix)ID")
            metrics.error("not_found")
            return nil
        case .refuse(let status, let code, let reason):
            refusal.value = (status, reason)
            metrics.error(code)
            return nil
        }
        let table = claims
        guard table.ids.count < settings.maxConnections else {
            refusal.value = (.serviceUnavailable, "too many connections (websocket.max_connections = \(settings.maxConnections))")
            metrics.error("too_many_connections")
            return nil
        }
        guard table.ids.insert(id).inserted else {
            refusal.value = (.conflict, "stream \(id) already has a WebSocket connection; one connection per stream")
            metrics.error("conflict")
            return nil
        }
        let claims = self.claims
        channel.closeFuture.whenComplete { _ in claims.ids.remove(id) }
        return HTTPHeaders()
    }
}
