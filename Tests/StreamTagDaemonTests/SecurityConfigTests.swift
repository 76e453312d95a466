import Foundation
import StreamTagTestSupport
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagClient

/// The `security:` settings: overrides, what depends on what, and the refusal to face the
/// network in plaintext.
@Suite(.serialized) struct SecurityConfigTests {
    @Test(arguments: ["input.bind=tcp://0.0.0.0:5560", "output.bind=tcp://*:5561", "control.bind=tcp://10.1.2.3:5562",
                      "input.connect=tcp://producer.example:5560", "output.bind=tcp://[::]:5561"])
    func nonLoopbackPlaintextIsRefusedNamingTheKeyAndTheFix(_ override: String) throws {
        let (key, value) = (String(override.split(separator: "=")[0]), String(override.split(separator: "=", maxSplits: 1)[1]))
        #expect {
            try DaemonConfig.load(file: nil, environment: [:], overrides: [key: value])
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.key == key && error.message.contains("not a loopback address")
                && error.message.contains("security.server_key") && error.message.contains("security.allow_plaintext: true")
        }
        let allowed = try DaemonConfig.load(file: nil, environment: [:], overrides: [key: value, "security.allow_plaintext": "true"])
        #expect(allowed.security.allowPlaintext)
    }

    @Test(arguments: ["tcp://127.0.0.1:5560", "tcp://127.9.8.7:5560", "tcp://localhost:5560", "tcp://[::1]:5560", "tcp://lo:5560",
                      "ipc:///run/streamtag/in", "inproc://in"])
    func localEndpointsNeedNoCurve(_ endpoint: String) throws {
        #expect(DaemonConfig.isLocal(endpoint))
        _ = try DaemonConfig.load(file: nil, environment: [:], overrides: ["input.bind": endpoint])
    }

    @Test func securityKeysComeFromTheFileTheEnvironmentAndSet() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/streamtag.yaml"
        try "security:\n  server_key: /etc/streamtag/server.key_secret\n  clients: /etc/streamtag/clients\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let fromFile = try DaemonConfig.load(file: file, environment: [:])
        #expect(fromFile.security.serverKey == "/etc/streamtag/server.key_secret")
        #expect(fromFile.security.clients == "/etc/streamtag/clients")
        #expect(fromFile.security.isEnabled)
        // With CURVE on, a non-loopback bind is fine.
        let env = ["STREAMTAG_SECURITY_CONTROL_CLIENTS": "/etc/streamtag/control", "STREAMTAG_INPUT_BIND": "tcp://0.0.0.0:5560"]
        let fromEnv = try DaemonConfig.load(file: file, environment: env)
        #expect(fromEnv.security.controlClients == "/etc/streamtag/control")
        let fromSet = try DaemonConfig.load(file: file, environment: env, overrides: ["security.clients": "/srv/keys"])
        #expect(fromSet.security.clients == "/srv/keys")
        #expect(fromSet.describe().contains("  clients: \"/srv/keys\""))
    }

    @Test func keyDirectoriesAndServerKeyNeedEachOther() throws {
        #expect {
            try DaemonConfig.load(file: nil, environment: [:], overrides: ["security.server_key": "/k/server.key_secret"])
        } throws: { ($0 as? ConfigError)?.key == "security.clients" }
        #expect {
            try DaemonConfig.load(file: nil, environment: [:], overrides: ["security.control_clients": "/k/control"])
        } throws: { error in
            (error as? ConfigError)?.key == "security.control_clients" && "\(error)".contains("without security.server_key")
        }
        #expect(throws: ConfigError.self) {
            try DaemonConfig.load(file: nil, environment: [:], overrides: ["security.allow_plaintext": "maybe"])
        }
    }

    @Test func securitySettingsNeedARestart() throws {
        var next = DaemonConfig()
        next.security.allowPlaintext = true
        next.security.serverKey = "/k/server.key_secret"
        let change = ConfigChange(from: DaemonConfig(), to: next)
        #expect(change.live.isEmpty)
        #expect(Set(change.restartNeeded.map(\.key)) == ["security.server_key", "security.allow_plaintext"])
    }

    /// `allow_plaintext: true` lets a daemon bind every interface without CURVE.
    @Test func startsOnEveryInterfaceWithAllowPlaintext() async throws {
        var config = try DaemonConfig.load(file: nil, environment: [:], overrides: [
            "input.bind": "tcp://0.0.0.0:*", "output.bind": "tcp://0.0.0.0:*", "control.bind": "tcp://127.0.0.1:*",
            "security.allow_plaintext": "true",
        ])
        let test = DaemonHarness.testConfig()
        config.metrics.listen = ""
        config.stateDir = test.stateDir
        config.heartbeatInterval = test.heartbeatInterval
        defer { try? FileManager.default.removeItem(atPath: test.stateDir) }
        let daemon = try Daemon(config: config, model: try testModel(lookahead: 0), logger: .init(label: "test"))
        try await withRunning(daemon) { _ in
            #expect(daemon.inputEndpoint.hasPrefix("tcp://0.0.0.0:"))
            let port = daemon.outputEndpoint.split(separator: ":").last.map(String.init) ?? ""
            let client = try StreamClient(input: daemon.inputEndpoint.replacingOccurrences(of: "0.0.0.0", with: "127.0.0.1"),
                                          output: "tcp://127.0.0.1:\(port)")
            defer { client.close() }
            try client.waitForHeartbeat(timeout: 10)
        }
    }
}
