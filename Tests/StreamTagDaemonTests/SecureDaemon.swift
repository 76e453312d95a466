import Foundation
import Logging
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagWire
@testable import StreamTagClient

/// A daemon with CURVE on (the fixture's keys), free loopback ports and a metrics listener,
/// for tests over real sockets. Clients are made per test, each with the keys it is given.
/// Started like every embedded daemon (``RunningDaemon``); ``with(keys:logger:configure:_:)``
/// stops it on every path.
final class SecureDaemon {
    let daemon: Daemon
    let running: RunningDaemon
    let keys: SecurityFixture
    let metricsPort: Int
    private var clients: [StreamClient] = []
    private var stopped = false

    /// A daemon started for `body`, stopped after it (also when it throws): `body`'s error
    /// first, else the stop's.
    static func with<T>(keys: SecurityFixture, logger: Logger? = nil, configure: (inout DaemonConfig) -> Void = { _ in },
                        _ body: (SecureDaemon) async throws -> T) async throws -> T {
        try await using(try await SecureDaemon(keys: keys, logger: logger, configure: configure), body, then: { try await $0.stop() })
    }

    init(keys: SecurityFixture, logger: Logger? = nil, configure: (inout DaemonConfig) -> Void = { _ in }) async throws {
        self.keys = keys
        var config = DaemonHarness.testConfig()
        keys.secure(&config)
        config.metrics.listen = "127.0.0.1:0"
        configure(&config)
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        daemon = try Daemon(config: config, model: try testModel(lookahead: 1), logger: logger ?? quiet)
        running = try await RunningDaemon.start(daemon)
        metricsPort = daemon.metricsPort ?? 0
    }

    /// A stream client with `security` (nil: plaintext), following `follow`; closed by `stop`.
    func client(_ security: ClientSecurity?, follow: String = "") throws -> StreamClient {
        let client = try StreamClient(input: daemon.inputEndpoint, output: daemon.outputEndpoint, security: security)
        try client.follow(follow)
        clients.append(client)
        return client
    }

    func control(_ request: JSONValue, as security: ClientSecurity?, timeout: Double = 10) throws -> JSONValue {
        try controlRequest(request, endpoint: daemon.controlEndpoint, timeout: timeout, security: security)
    }

    /// `ctl status` as the operator (a `control_clients` key).
    func status() throws -> JSONValue {
        try control(.object([("cmd", .string("status"))]), as: keys.client(keys.admin))
    }

    /// `streamtag_auth_failures_total{socket,reason}`, scraped over HTTP.
    func failures(_ socket: String, _ reason: String) throws -> Double {
        let text = try HTTPTestClient.get(port: metricsPort, "/metrics").text
        return try Exposition(text).value("streamtag_auth_failures_total", ["socket": socket, "reason": reason]) ?? -1
    }

    /// The non-zero `streamtag_auth_failures_total` lines, for failure messages.
    func failureLines() throws -> String {
        try HTTPTestClient.get(port: metricsPort, "/metrics").text.split(separator: "\n")
            .filter { $0.hasPrefix("streamtag_auth_failures_total") && !$0.hasSuffix(" 0") }.joined(separator: "; ")
    }

    /// Waits until the failure count of `socket`/`reason` (plus `other`'s) reaches `count`
    /// (true) or 10 s pass.
    func waitForFailures(_ socket: String, _ reason: String, or other: String? = nil, atLeast count: Double = 1) throws -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if try failures(socket, reason) + (other.map { try failures(socket, $0) } ?? 0) >= count { return true }
            usleep(20_000)
        }
        return false
    }

    /// Waits until the daemon has read its key directories `count` times in all.
    func waitForKeyReads(_ count: Int) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if daemon.securityKeyReads.load(ordering: .acquiring) >= count { return true }
            usleep(10_000)
        }
        return false
    }

    var keyReads: Int { daemon.securityKeyReads.load(ordering: .acquiring) }

    /// Closes the clients, stops the daemon and removes its state directory; a second call
    /// does nothing.
    func stop() async throws {
        guard !stopped else { return }
        stopped = true
        for c in clients { c.close() }
        defer { try? FileManager.default.removeItem(atPath: daemon.config.stateDir) }
        try await running.stop()
    }
}

extension JSONValue {
    var int: Int? { if case .integer(let i) = self { i } else { nil } }
}
