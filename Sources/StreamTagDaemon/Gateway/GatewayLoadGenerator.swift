import Dispatch
import NIOCore
import NIOPosix
import Synchronization

/// The load generator of the gateway measurement (README "WebSocket gateway and live page"):
/// one WebSocket connection per stream, all on one event loop, with the same phases, figures
/// and checks as the ZeroMQ `LoadGenerator` (``LoadPhase``, ``LoadResult``, ``LoadVerification``):
/// saturated (each stream keeps `window` messages unanswered) or paced (a total token rate),
/// then every stream ended and every position checked once and in order.
public final class GatewayLoadGenerator: Sendable {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let host: String
    private let port: Int
    private let path: String
    private let words: LoadWords
    private let headers: [(String, String)]

    /// `address` is the gateway's `host:port`; stream ids are `prefix` + run + stream number.
    public init(address: String, words: [String], token: String? = nil, prefix: String = "wsload-") {
        let cut = address.lastIndex(of: ":")!
        host = String(address[..<cut]).trimmingCharacters(in: ["[", "]"])
        port = Int(address[address.index(after: cut)...]) ?? 0
        path = GatewayAdmission.streamPrefix + prefix
        self.words = LoadWords(words)
        headers = token.map { [("Authorization", "Bearer \($0)")] } ?? []
    }

    public func close() { try? group.syncShutdownGracefully() }

    private let runs = NIOLockedCounter()

    /// Connects `phase.streams` connections, runs the phase, ends the streams, closes them.
    public func run(_ phase: LoadPhase) throws -> LoadResult {
        let loop = group.next()
        let runNumber = runs.next()
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

/// A counter for run numbers (fresh stream ids per run).
final class NIOLockedCounter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}
