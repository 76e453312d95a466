import Foundation
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagClient

/// CURVE over real loopback sockets: who gets in, and that a refused client gets nothing
/// through — checked from an allowed client (`ctl status`) and the metrics.
@Suite(.serialized) struct SecurityDaemonTests {
    /// Streams `tokens` as one ended stream through `client` and returns the final tags' tokens.
    private func stream(_ client: StreamClient, id: String, tokens: [String]) throws -> [String] {
        try client.publish(stream: id, seq: 0, tokens: tokens, end: true)
        var finals: [String] = []
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, let m = try client.receive(timeout: deadline.timeIntervalSinceNow) {
            guard m.topic == id else { continue }
            finals += m.finals.map(\.1)
            if m.event == "end" { break }
        }
        return finals
    }

    @Test func allowListedClientStreamsAndControlClientControls() async throws {
        let keys = try SecurityFixture()
        defer { keys.remove() }
        try await SecureDaemon.with(keys: keys) { d in
            let producer = try d.client(keys.client(keys.producer), follow: "p1")
            try producer.waitForHeartbeat(timeout: 10)
            #expect(try stream(producer, id: "p1", tokens: ["the", "cat", "sat"]) == ["the", "cat", "sat"])
            // An operator key works on every socket.
            let admin = try d.client(keys.client(keys.admin), follow: "a1")
            try admin.waitForHeartbeat(timeout: 10)
            #expect(try stream(admin, id: "a1", tokens: ["a", "dog"]) == ["a", "dog"])
            let status = try d.status()
            #expect(status["ok"] == .bool(true))
            #expect(status["messages_in"]?.int == 2)
            for reason in KeyRing.Refusal.allCases {
                #expect(try d.failures("input", reason.rawValue) == 0, "nothing refused: \(reason)")
            }
        }
    }

    /// A refused client publishes and subscribes: no heartbeat reaches it, no message reaches
    /// the daemon (no stream, nothing counted in), and the refusal is counted on both sockets.
    /// A plaintext client that hangs up first leaves the daemon only a failed handshake to see:
    /// `reasons` lists what may be counted.
    private func expectNothingDelivered(_ d: SecureDaemon, _ intruder: StreamClient, reason: String, or other: String? = nil) throws {
        // An allowed subscriber to everything, to see what a leak would publish.
        let watcher = try d.client(d.keys.client(d.keys.admin))
        try watcher.waitForHeartbeat(timeout: 10)
        #expect(throws: ClientError.self) { try intruder.waitForHeartbeat(timeout: 1) }
        for seq in 0..<5 { try intruder.publish(stream: "intruder", seq: UInt64(seq), tokens: ["the", "cat"]) }
        let input = try d.waitForFailures("input", reason, or: other), output = try d.waitForFailures("output", reason, or: other)
        let counted = try d.failureLines()
        #expect(input, "input refusal counted as \(reason): \(counted)")
        #expect(output, "output refusal counted as \(reason): \(counted)")
        #expect(try intruder.receive(timeout: 0.3) == nil, "nothing at all for the refused subscriber")
        let status = try d.status()
        #expect(status["streams"]?.int == 0)
        #expect(status["messages_in"]?.int == 0)
        #expect(status["errors_in"]?.int == 0)
        var leaked: [String] = []
        let until = Date().addingTimeInterval(0.3)
        while let m = try watcher.receive(timeout: until.timeIntervalSinceNow) {
            if m.topic != "$sys" { leaked.append(m.topic) }
        }
        #expect(leaked.isEmpty, "published for the intruder: \(leaked)")
    }

    @Test func unlistedKeyIsRefused() async throws {
        let keys = try SecurityFixture()
        defer { keys.remove() }
        try await SecureDaemon.with(keys: keys) { d in
            try expectNothingDelivered(d, d.client(keys.client(keys.stranger)), reason: "unknown_key")
        }
    }

    @Test func plaintextClientIsRefused() async throws {
        let keys = try SecurityFixture()
        defer { keys.remove() }
        try await SecureDaemon.with(keys: keys) { d in
            try expectNothingDelivered(d, d.client(nil), reason: "plaintext", or: "handshake")
        }
    }

    @Test func clientWithTheWrongServerKeyIsRefused() async throws {
        let keys = try SecurityFixture()
        defer { keys.remove() }
        try await SecureDaemon.with(keys: keys) { d in
            // A listed key, but talking to a server key that is not the daemon's.
            try expectNothingDelivered(d, d.client(keys.client(keys.producer, serverKey: keys.stranger.publicKey)), reason: "handshake")
        }
    }

    @Test func producerKeyCannotUseTheControlSocket() async throws {
        let keys = try SecurityFixture()
        defer { keys.remove() }
        try await SecureDaemon.with(keys: keys) { d in
            let producer = try d.client(keys.client(keys.producer), follow: "open")
            try producer.waitForHeartbeat(timeout: 10)
            try producer.publish(stream: "open", seq: 0, tokens: ["the"])
            let answered = Date().addingTimeInterval(10)
            while let m = try producer.receive(timeout: answered.timeIntervalSinceNow), m.topic != "open" {}
            #expect(try d.status()["streams"]?.int == 1)
            // The producer's key may stream, but a drop (or anything) on control gets no answer.
            #expect(throws: ClientError.self) {
                try d.control(.object([("cmd", .string("drop")), ("stream", .string("open"))]), as: keys.client(keys.producer), timeout: 1)
            }
            #expect(try d.waitForFailures("control", "not_control"))
            #expect(try d.status()["streams"]?.int == 1, "the stream is still there")
            #expect(throws: ClientError.self) {
                try d.control(.object([("cmd", .string("status"))]), as: keys.client(keys.stranger), timeout: 1)
            }
            #expect(try d.waitForFailures("control", "unknown_key"))
        }
    }

    @Test func removedKeyIsRefusedAtOnceAndAddedKeyAdmittedWithoutRestart() async throws {
        let keys = try SecurityFixture()
        defer { keys.remove() }
        try await SecureDaemon.with(keys: keys) { d in
            let before = try d.client(keys.client(keys.producer))
            try before.waitForHeartbeat(timeout: 10)

            var reads = d.keyReads
            try FileManager.default.removeItem(atPath: keys.clientsDir + "/producer.key")
            #expect(d.waitForKeyReads(reads + 1), "inotify noticed the removal")
            try expectNothingDelivered(d, d.client(keys.client(keys.producer)), reason: "unknown_key")

            // Added the way docs/security.md says: copied under another name, then renamed in
            // (here from outside the directory, so that the rename is the only event).
            try FileManager.default.copyItem(atPath: keys.directory + "/private/stranger.key", toPath: keys.directory + "/stranger.key.tmp")
            reads = d.keyReads
            try FileManager.default.moveItem(atPath: keys.directory + "/stranger.key.tmp", toPath: keys.clientsDir + "/stranger.key")
            #expect(d.waitForKeyReads(reads + 1), "inotify noticed the new key")
            let added = try d.client(keys.client(keys.stranger), follow: "new")
            try added.waitForHeartbeat(timeout: 10)
            #expect(try stream(added, id: "new", tokens: ["a", "mat"]) == ["a", "mat"])
        }
    }

    @Test func configReloadRereadsTheKeyDirectories() async throws {
        let keys = try SecurityFixture()
        defer { keys.remove() }
        try await SecureDaemon.with(keys: keys, configure: { $0.model.watch = false }) { d in
            let reads = d.keyReads
            let config = d.daemon.config
            d.daemon.reloadConfiguration(source: "SIGHUP") { () throws(ConfigError) in config }
            #expect(d.waitForKeyReads(reads + 1))
        }
    }

    @Test func startFailsOnAnUnusableKeyDirectoryNamingTheFile() async throws {
        let keys = try SecurityFixture()
        defer { keys.remove() }
        try "curve\n    public-key = \"short\"\n".write(toFile: keys.clientsDir + "/broken.key", atomically: true, encoding: .utf8)
        var config = DaemonHarness.testConfig()
        keys.secure(&config)
        defer { try? FileManager.default.removeItem(atPath: config.stateDir) }
        let daemon = try Daemon(config: config, model: try testModel(lookahead: 1), logger: .init(label: "test"))
        let error = await #expect(throws: (any Error).self) { try await withRunning(daemon) { _ in } }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("broken.key") && text.contains("public-key is not 40 characters of Z85"), "\(text)")
    }
}
