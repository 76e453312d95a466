import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A small WebSocket client for the gateway (SwiftNIO): the tests and the gateway's load
/// generator use it. Messages arrive through `onMessage` on the connection's event loop.
final class GatewayClient: Sendable {
    /// The server answered the upgrade request with another status.
    struct Refused: Error, CustomStringConvertible {
        var status: Int
        var body: String
        var description: String { "HTTP \(status): \(body)" }
    }

    let channel: any Channel

    init(channel: any Channel) { self.channel = channel }

    /// Opens `ws://host:port` + `path` (e.g. `/v1/streams/ID`). The future fails with
    /// ``Refused`` when the server does not upgrade. `onMessage` gets each text or binary
    /// message, `onClose` the close code (nil when the socket went without a close frame).
    /// `answerPings: false` plays a client that has hung (for tests of the keep-alive).
    static func connect(group: any EventLoopGroup, host: String, port: Int, path: String,
                               headers: [(String, String)] = [], maxFrameSize: Int = 1 << 24, answerPings: Bool = true,
                               onMessage: @escaping @Sendable ([UInt8]) -> Void,
                               onClose: @escaping @Sendable (Int?) -> Void = { _ in }) -> EventLoopFuture<GatewayClient> {
        let upgraded = group.next().makePromise(of: GatewayClient.self)
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let refusal = RefusalCatcher(promise: upgraded)
                    let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: maxFrameSize, upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(ClientFrameHandler(onMessage: onMessage, onClose: onClose, answerPings: answerPings))
                            upgraded.succeed(GatewayClient(channel: channel))
                        }
                    })
                    let refusalBound = NIOLoopBound(refusal, eventLoop: channel.eventLoop)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes,
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.syncOperations.removeHandler(refusalBound.value, promise: nil)
                        }))
                    try channel.pipeline.syncOperations.addHandler(refusal)
                }
            }
        bootstrap.connect(host: host, port: port).whenComplete { result in
            switch result {
            case .failure(let error): upgraded.fail(error)
            case .success(let channel):
                var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
                head.headers.add(name: "Host", value: "\(host):\(port)")
                head.headers.add(name: "Content-Length", value: "0")
                for (name, value) in headers { head.headers.add(name: name, value: value) }
                channel.write(HTTPClientRequestPart.head(head), promise: nil)
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                channel.closeFuture.whenComplete { _ in upgraded.fail(ChannelError.ioOnClosedChannel) }
            }
        }
        return upgraded.futureResult
    }

    /// Sends one text message.
    func send(_ text: String) {
        var buffer = channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer), promise: nil)
    }

    /// Sends one text message given as UTF-8 bytes.
    func send(bytes: [UInt8]) {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer), promise: nil)
    }

    /// Sends a close frame (1000) and closes.
    func close() {
        var data = channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: .normalClosure)
        let channel = self.channel
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    /// Closes the socket without a close frame (as a crashed client would).
    func drop() { channel.close(promise: nil) }
}

/// Reads a non-101 answer to the upgrade request and fails the connect promise with it.
private final class RefusalCatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let promise: EventLoopPromise<GatewayClient>
    private var status = 0
    private var body: [UInt8] = []

    init(promise: EventLoopPromise<GatewayClient>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body(var buffer): body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            promise.fail(GatewayClient.Refused(status: status, body: String(decoding: body, as: UTF8.self)))
            context.close(promise: nil)
        }
    }
}

/// Hands messages to the client's callback; answers pings; reports the close.
private final class ClientFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame
    private let onMessage: @Sendable ([UInt8]) -> Void
    private let onClose: @Sendable (Int?) -> Void
    private var closeCode: Int?
    private var fragments: [UInt8] = []
    private let answerPings: Bool

    init(onMessage: @escaping @Sendable ([UInt8]) -> Void, onClose: @escaping @Sendable (Int?) -> Void, answerPings: Bool) {
        self.onMessage = onMessage
        self.onClose = onClose
        self.answerPings = answerPings
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        var payload = frame.unmaskedData
        switch frame.opcode {
        case .text, .binary, .continuation:
            fragments += payload.readBytes(length: payload.readableBytes) ?? []
            if frame.fin {
                onMessage(fragments)
                fragments.removeAll(keepingCapacity: true)
            }
        case .ping where answerPings:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: payload)), promise: nil)
        case .connectionClose:
            closeCode = payload.readInteger(as: UInt16.self).map(Int.init)
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        onClose(closeCode)
        context.fireChannelInactive()
    }
}
