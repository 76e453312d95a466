import Foundation
import Logging
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagWire
@testable import StreamTagClient
import StreamTagZMQ

/// A daemon on free loopback ports with a client attached, for tests over real sockets.
final class DaemonHarness {
    let daemon: Daemon
    let client: StreamClient
    let stateDir: String

    convenience init(model: Model, configure: (inout DaemonConfig) -> Void = { _ in }) throws {
        var config = Self.testConfig()
        configure(&config)
        try self.init(config: config, model: model)
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
    /// a fresh directory: `stop()` removes it); `logger` defaults to a silent one.
    init(config: DaemonConfig, model: Model, logger: Logger? = nil) throws {
        stateDir = config.stateDir
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        daemon = try Daemon(config: config, model: model, logger: logger ?? quiet)
        try daemon.start()
        client = try StreamClient(input: daemon.inputEndpoint, output: daemon.outputEndpoint)
        try client.follow("")          // everything: tests filter themselves
        try client.waitForHeartbeat(timeout: 10)
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

    func stop() {
        client.close()
        daemon.requestStop()
        daemon.waitUntilStopped()
        try? FileManager.default.removeItem(atPath: stateDir)
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
