import Foundation
import NIOCore
import StreamTagWire

/// The daemon's side of the WebSocket gateway (docs/websocket.md): the
/// I/O loop takes the gateway's events, parses message bodies with the same `InputParser`
/// as the ZeroMQ input and stages them for the same workers; `publishOutputs` routes each
/// stream's output to its connection as well as publishing it on ZeroMQ.
extension IOLoop {
    /// In `init`: binds the gateway when `websocket.listen` is set.
    func startGateway() throws {
        let settings = config.websocket
        guard !settings.listen.isEmpty else { return }
        let wake = daemon.wake
        let server = try WebSocketGateway(settings: settings, metrics: GatewayMetrics(registry: metrics.registry),
                                          wake: { try? wake.signal() })
        let address: String
        do {
            address = try server.start()
        } catch {
            server.shutdown()
            throw error
        }
        gateway = GatewayRouter(server: server)
        daemon.gatewayAddress.withLock { $0 = address }
        logger.info("websocket gateway listening", metadata: [
            "address": "\(address)", "page": "http://\(address)/", "streams": "ws://\(address)\(GatewayAdmission.streamPrefix)ID",
        ])
    }

    /// Each loop iteration: the gateway's news. While stopping (`accepting` false)
    /// messages are dropped unanswered, as the ZeroMQ input is no longer read.
    func drainGateway(accepting: Bool) {
        guard let gateway else { return }
        if gateway.server.inbox.take(into: &gateway.events) { gateway.server.resumeReading() }
        guard !gateway.events.isEmpty else { return }
        let now = monotonicSeconds()
        for event in gateway.events {
            switch event {
            case .open(let connection):
                gateway.open(connection)
            case .message(let connection, let body):
                guard accepting else { continue }
                stageGatewayMessage(connection, body: body, router: gateway)
            case .close(let connection):
                if let seq = gateway.close(connection, now: now), accepting {
                    // As a final message with `end: true` and no tokens would.
                    let end = InputMessage(streamID: connection.streamID, seq: seq, end: true)
                    metrics.counts.add(EventCount.messagesIn)
                    stage(.message(end), stream: end.streamID)
                }
            }
        }
        gateway.events.removeAll(keepingCapacity: true)
        flush()
    }

    private func stageGatewayMessage(_ connection: GatewayConnection, body: ByteBuffer, router: GatewayRouter) {
        let nextSeq = router.nextSeq(of: connection)
        let result = connection.streamIDBytes.withUnsafeBufferPointer { id in
            body.withUnsafeReadableBytes { bytes in
                parser.parse(streamID: id, body: bytes.assumingMemoryBound(to: UInt8.self), defaultSeq: nextSeq)
            }
        }
        switch result {
        case .success(let message):
            router.accepted(connection, seq: message.seq, end: message.end)
            metrics.counts.add(EventCount.messagesIn)
            stage(.message(message), stream: message.streamID)
        case .failure(let error):
            // The same error event as on the ZeroMQ side, on the stream's topic (so it reaches
            // the connection in order with its answers).
            metrics.rejected(error.code)
            stage(.reject(stream: connection.streamID, error: error.event), stream: connection.streamID)
        }
    }

    /// About once a second: forget kept streams the daemon has evicted by now.
    func gatewayTick() {
        gateway?.forgetKept(olderThan: config.streams.idleTimeout.seconds, now: monotonicSeconds())
    }

    /// After the I/O loop: closes the listener and the connections.
    func stopGateway() {
        gateway?.server.shutdown()
        gateway = nil
        daemon.gatewayAddress.withLock { $0 = nil }
    }
}
