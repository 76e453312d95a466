import NIOCore
import NIOPosix
import Synchronization
import StreamTagClient

/// The load generator of the gateway measurement (docs/websocket.md):
/// one WebSocket connection per stream, all on one event loop, with the same phases, figures
/// and checks as the ZeroMQ `LoadGenerator` (``LoadPhase``, ``LoadResult``, ``LoadVerification``):
/// saturated (each stream keeps `window` messages unanswered) or paced (a total token rate),
/// then every stream ended and every position checked once and in order.
package final class GatewayLoadGenerator: Sendable {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let host: String
    private let port: Int
    private let path: String
    private let words: LoadWords
    private let headers: [(String, String)]

    /// `address` is the gateway's `host:port`; stream ids are `prefix` + run + stream number.
    package init(address: String, words: [String], token: String? = nil, prefix: String = "wsload-") {
        // Not host:port: port 0, which the first connect reports as refused.
        let split = EndpointSyntax.hostPort(address)
        host = split?.host ?? address
        port = split.flatMap { Int($0.port) } ?? 0
        path = GatewayAdmission.streamPrefix + prefix
        self.words = LoadWords(words)
        headers = token.map { [("Authorization", "Bearer \($0)")] } ?? []
    }

    package func close() { try? group.syncShutdownGracefully() }

    /// Runs so far (each run's stream ids are fresh).
    private let runs = Atomic<Int>(0)

    /// Connects `phase.streams` connections, runs the phase, ends the streams, closes them.
    package func run(_ phase: LoadPhase) throws -> LoadResult {
        let loop = group.next()
        let runNumber = runs.add(1, ordering: .relaxed).newValue
        let state = GatewayLoadRun(phase: phase, words: words)   // used on `loop` only, the group's one thread
        var clients: [GatewayClient] = []
        clients.reserveCapacity(phase.streams)
        // Connect in slices: a listener backlog of 1,024 and SYN cookies would stall a burst.
        var s = 0
        while s < phase.streams {
            let slice = s..<min(phase.streams, s + 256)
            let futures = slice.map { stream in
                GatewayClient.connect(group: group, host: host, port: port, path: "\(path)\(runNumber)-\(stream)", headers: headers,
                                      onMessage: { bytes in state.received(stream: stream, bytes) })
            }
            for future in futures { clients.append(try future.wait()) }
            s = slice.upperBound
        }
        let done = loop.makePromise(of: LoadResult.self)
        let all = clients
        loop.execute { state.start(clients: all, done: done) }
        let result = try done.futureResult.wait()
        for client in clients { client.close() }
        return result
    }
}
