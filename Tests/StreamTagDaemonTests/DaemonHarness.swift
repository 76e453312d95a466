import Foundation
import Logging
import StreamTagTestSupport
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagWire
@testable import StreamTagClient
import StreamTagZMQ

/// A daemon on free loopback ports with a client attached, for tests over real sockets.
///
/// Started like every embedded daemon (``RunningDaemon``); ``with(model:configure:_:)`` and
/// ``whileRunning(_:)`` stop it on every path, the body's error first.
final class DaemonHarness {
    let daemon: Daemon
    let running: RunningDaemon
    let client: StreamClient
    let stateDir: String
    private var stopped = false

    convenience init(model: Model, configure: (inout DaemonConfig) -> Void = { _ in }) async throws {
        var config = Self.testConfig()
        configure(&config)
        try await self.init(config: config, model: model)
    }

    /// A harness started for `body`, stopped after it (also when it throws).
    static func with<T>(model: Model, configure: (inout DaemonConfig) -> Void = { _ in },
                        _ body: (DaemonHarness) async throws -> T) async throws -> T {
        try await DaemonHarness(model: model, configure: configure).whileRunning(body)
    }

    /// ``with(model:configure:_:)`` with exactly `config` (see ``init(config:model:logger:)``).
    static func with<T>(config: DaemonConfig, model: Model, logger: Logger? = nil,
                        _ body: (DaemonHarness) async throws -> T) async throws -> T {
        try await DaemonHarness(config: config, model: model, logger: logger).whileRunning(body)
    }

    /// Free loopback ports, no metrics listener, a 50 ms heartbeat, snapshots only at stop, two
    /// workers, a fresh state directory.
    static func testConfig() -> DaemonConfig {
        var config = DaemonConfig()
        config.input.bind = "tcp://127.0.0.1:*"
        config.output.bind = "tcp://127.0.0.1:*"
        config.control.bind = "tcp://127.0.0.1:*"
        config.metrics.listen = ""
        config.heartbeatInterval = .milliseconds(50)
        config.snapshotInterval = .zero
        config.batching.workers = 2
        config.stateDir = NSTemporaryDirectory() + "streamtag-test-" + UUID().uuidString
        return config
    }

    /// A daemon with exactly `config` (its sockets should bind free ports, its `state_dir` be
    /// a fresh directory: `stop()` removes it); `logger` defaults to a silent one. Throws the
    /// start's error; a daemon that started is stopped again if the client cannot attach.
    init(config: DaemonConfig, model: Model, logger: Logger? = nil) async throws {
        stateDir = config.stateDir
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        daemon = try Daemon(config: config, model: model, logger: logger ?? quiet)
        running = try await RunningDaemon.start(daemon)
        do {
            client = try StreamClient(input: daemon.inputEndpoint, output: daemon.outputEndpoint)
            try client.follow("")          // everything: tests filter themselves
            // The first heartbeat comes one interval after the start (some tests lengthen it).
            try client.waitForHeartbeat(timeout: stretched(10) + 2 * config.heartbeatInterval.seconds)
        } catch {
            try? await running.stop()
            try? FileManager.default.removeItem(atPath: stateDir)
            throw error
        }
    }

    /// Runs `body`, then stops (unless `body` did): `body`'s error first, else the stop's.
    func whileRunning<T>(_ body: (DaemonHarness) async throws -> T) async throws -> T {
        try await using(self, body, then: { try await $0.stop() })
    }

    /// Collects messages until `done` says so (or the deadline passes).
    func collect(timeout: Double = 10, until done: ([StreamClient.Received]) -> Bool) throws -> [StreamClient.Received] {
        var all: [StreamClient.Received] = []
        let deadline = Date().addingTimeInterval(timeout)
        while !done(all), Date() < deadline {
            if let m = try client.receive(timeout: deadline.timeIntervalSinceNow), m.topic != "$sys" || m.event != "heartbeat" {
                all.append(m)
            }
        }
        return all
    }

    func control(_ request: JSONValue) throws -> JSONValue {
        try controlRequest(request, endpoint: daemon.controlEndpoint, timeout: 10)
    }

    /// Closes the client, stops the daemon gracefully and removes the state directory (kept
    /// with `removeStateDir: false`, for a restart on it). Throws what the daemon's `run()`
    /// threw (``ShutdownSnapshotFailed``); a second call does nothing.
    func stop(removeStateDir: Bool = true) async throws {
        guard !stopped else { return }
        stopped = true
        client.close()
        defer { if removeStateDir { try? FileManager.default.removeItem(atPath: stateDir) } }
        try await running.stop()
    }
}

extension StreamClient.Received {
    var seq: Int? { if case .integer(let s)? = body["seq"] { s } else { nil } }

    /// (i, token, tag) of a `tags` message's final tags.
    var finals: [(Int, String, String)] {
        guard case .array(let tags)? = body["tags"] else { return [] }
        return tags.compactMap { t in
            guard case .integer(let i)? = t["i"], case .string(let token)? = t["token"], case .string(let tag)? = t["tag"] else { return nil }
            return (i, token, tag)
        }
    }

    func string(_ key: String) -> String? { if case .string(let s)? = body[key] { s } else { nil } }
}

/// Sends raw bytes as a control request.
func controlRaw(_ text: String, endpoint: String) throws -> JSONValue {
    let context = try ZMQContext()
    let socket = try context.socket(.req)
    defer { socket.close() }
    try socket.setOption(.receiveTimeout, 5000)
    try socket.connect(endpoint)
    _ = try socket.send(frames: [Array(text.utf8)])
    guard let frames = try socket.receive(), let frame = frames.first, case .success(let value) = JSONValue.parse(frame) else {
        return .null
    }
    return value
}

/// Runs `daemon` (``RunningDaemon/start(_:logger:)``) for `body` and stops it after, also when
/// `body` throws: `body`'s error first, else the stop's.
func withRunning<T>(_ daemon: Daemon, _ body: (RunningDaemon) async throws -> T) async throws -> T {
    try await using(try await RunningDaemon.start(daemon), body, then: { try await $0.stop() })
}

/// `body(resource)`, then `finish(resource)` on every path: when `body` throws, its error is
/// the one thrown (the finish's is dropped); otherwise the finish's.
func using<R, T>(_ resource: R, _ body: (R) async throws -> T, then finish: (R) async throws -> Void) async throws -> T {
    let result: T
    do {
        result = try await body(resource)
    } catch {
        try? await finish(resource)
        throw error
    }
    try await finish(resource)
    return result
}

/// Blocks the calling thread for `seconds`, as the tests' timed waits always have (like their
/// socket reads): a test that suspended instead could resume late while other tests hold the
/// cooperative threads, and miss the moment it waits for.
func pause(_ seconds: Double) {
    Thread.sleep(forTimeInterval: seconds)
}
