import Foundation
import Synchronization
import StreamTagTestSupport
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagClient

/// Hot reload over real sockets: files renamed into place, SIGHUP-style and control reloads,
/// bad files, continuous load.
@Suite(.serialized) struct ReloadTests {
    static func writeModel(_ model: Model, to path: String) throws {
        try ModelFile.write(model.bundle, to: path)
    }

    static func models() throws -> (Model, Model) {
        let a = try testModel(lookahead: 2)
        var bundle = ModelBundle.random(name: "second", config: a.config, vocabulary: a.vocabulary.words, tags: a.tags, seed: 77)
        bundle.name = "second"
        return (a, try Model(bundle: bundle))
    }

    /// A daemon serving `path` (first written with `first`), for `body`; stopped after it.
    static func withHarness<T>(first: Model, dir: String, policy: ReloadPolicy = .replay,
                               configure: (inout DaemonConfig) -> Void = { _ in },
                               _ body: (DaemonHarness) async throws -> T) async throws -> T {
        let path = dir + "/model.safetensors"
        try writeModel(first, to: path)
        let served = try Model(path: path)
        return try await DaemonHarness.with(model: served, configure: { config in
            config.model.path = path
            config.model.watchInterval = .milliseconds(200)
            config.reload.policy = policy
            config.reload.drainTimeout = .seconds(600)
            configure(&config)
        }, body)
    }

    @Test(arguments: [ReloadPolicy.replay, .drain, .reset])
    func tenReloadsUnderLoadLoseNothing(policy: ReloadPolicy) async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b) = try Self.models()
        try await Self.withHarness(first: a, dir: dir, policy: policy) { h in
            let path = dir + "/model.safetensors"
            // A producer thread: 100 streams, a message of 1–4 tokens each round, ~600 messages/s.
            let streams = (0..<100).map { "load-\($0)" }
            let running = Atomic<Bool>(true)
            let sent = Mutex<[String: [String]]>([:])
            let input = h.daemon.inputEndpoint, output = h.daemon.outputEndpoint
            let producer = Thread {
                let client = try! StreamClient(input: input, output: output)
                try! client.waitForHeartbeat(timeout: 10)
                var seq: UInt64 = 0
                var rng = SplitMix64(seed: 4)
                while running.load(ordering: .relaxed) {
                    for s in streams {
                        let tokens = (0...(rng.next() % 4)).map { _ in DaemonTests.words[Int(rng.next() % UInt64(DaemonTests.words.count))] }
                        try! client.publish(stream: s, seq: seq, tokens: tokens)
                        sent.withLock { $0[s, default: []] += tokens }
                    }
                    seq += 1
                    Thread.sleep(forTimeInterval: 0.15)
                }
                for s in streams { try! client.publish(stream: s, seq: seq, tokens: [], end: true) }
                // The client's sockets have linger 0: closing at once can discard the `end`
                // messages not yet handed to TCP (seen on a loaded machine as streams missing
                // their last window). Give them a moment to leave.
                Thread.sleep(forTimeInterval: 1)
                client.close()
            }
            producer.start()
            // Ten reloads alternating b and a, renamed into place (atomic writes), every 250 ms.
            var reloaded = 0
            for n in 0..<10 {
                pause(0.25)
                try Self.writeModel(n % 2 == 0 ? b : a, to: path)
                let answer = try h.control(["cmd": "reload"])
                #expect(answer["ok"] == .bool(true), "reload \(n): \(answer)")
                // The watcher may have loaded the file first (then this reload finds it unchanged).
                switch (answer["changed"], answer["pause_ms"]) {
                case (.bool(true)?, .number(let pause)?): #expect(pause >= 0)
                case (.bool(true)?, .integer(let pause)?): #expect(pause >= 0)
                case (.bool(true)?, _): Issue.record("no pause_ms in \(answer)")
                default: break
                }
                reloaded += 1
            }
            pause(0.25)
            running.store(false, ordering: .relaxed)
            let received = try h.collect(timeout: stretched(30)) { all in all.filter { $0.event == "end" }.count == streams.count }
            #expect(reloaded == 10)
            let loaded = received.filter { $0.event == "model_loaded" }
            #expect(loaded.count == 10, "one model_loaded per change")
            let bySent = sent.withLock { $0 }
            for s in streams {
                let mine = received.filter { $0.topic == s }
                let finals = mine.filter { $0.type == "tags" }.flatMap(\.finals)
                let tokens = bySent[s] ?? []
                if policy == .reset {
                    // Positions restart at each model change; tokens are all there, in order.
                    #expect(finals.map(\.1) == tokens, "\(s): every token once, in order")
                } else {
                    #expect(finals.map(\.0) == Array(0..<tokens.count), "\(s): positions 0..<n once each")
                    #expect(finals.map(\.1) == tokens)
                }
                // A model event precedes the first answer from each new model, and only then.
                var model: String? = nil
                var announced: String? = nil
                for m in mine {
                    if m.event == "model" { announced = m.string("to"); #expect(m.string("from") == model || model == nil) }
                    if m.type == "tags", let id = m.string("model") {
                        if model != nil && id != model { #expect(announced == id, "\(s): model event before \(id)") }
                        model = id
                    }
                }
                if policy == .drain {
                    // Streams that began on the first model finish on it.
                    #expect(Set(mine.compactMap { $0.string("model") }).count == 1, "\(s) drained on its first model")
                }
            }
        }
    }

    @Test func badFilesAreRejectedAndTheOldModelKeepsServing() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, _) = try Self.models()
        try await Self.withHarness(first: a, dir: dir) { h in
            let path = dir + "/model.safetensors"
            let good = ModelFile.encode(a.bundle)
            // A file whose config claims hidden_dim 12 while its tensors are 14 wide.
            var inconsistent = ModelFile.encode(ModelBundle.random(name: "h", config: ModelConfig(embeddingDim: 8, hiddenDim: 14),
                                                                  vocabulary: a.vocabulary.words, tags: a.tags))
            inconsistent = Array(String(decoding: inconsistent, as: UTF8.self).replacingOccurrences(of: #"\"hidden_dim\":14"#, with: #"\"hidden_dim\":12"#).utf8)
            var rng = SplitMix64(seed: 1)
            let cases: [(String, [UInt8])] = [
                ("truncated", Array(good.prefix(good.count / 2))),
                ("random bytes", (0..<5000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }),
                ("empty", []),
                ("inconsistent hidden size", inconsistent),
            ]
            for (name, bytes) in cases {
                try AtomicFile.write(bytes, to: path)
                let answer = try h.control(["cmd": "reload"])
                #expect(answer["ok"] == .bool(false), "\(name)")
                #expect(answer["model"] == .string(a.id), "\(name): still serving")
                if case .string(let reason)? = answer["error"] { #expect(!reason.isEmpty) } else { Issue.record("\(name): no reason") }
            }
            let rejected = try h.collect { $0.filter { $0.event == "model_rejected" }.count >= cases.count }
            #expect(rejected.filter { $0.event == "model_rejected" }.count >= cases.count)
            // Still tagging with the old model.
            try h.client.publish(stream: "after", seq: 1, tokens: ["the", "cat"], end: true)
            let answers = try h.collect { $0.contains { $0.topic == "after" && $0.event == "end" } }.filter { $0.topic == "after" && $0.type == "tags" }
            #expect(answers.allSatisfy { $0.string("model") == a.id })
            #expect(answers.flatMap(\.finals).count == 2)
        }
    }

    @Test func slowInPlaceWriterIsNeverServedHalfWritten() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b) = try Self.models()
        try await Self.withHarness(first: a, dir: dir) { h in
            let path = dir + "/model.safetensors"
            let bytes = ModelFile.encode(b.bundle)
            // Rewrite the file in place, slowly, in pieces (a non-atomic writer).
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: 0)
            let piece = bytes.count / 8 + 1
            for start in stride(from: 0, to: bytes.count, by: piece) {
                try handle.write(contentsOf: bytes[start..<min(start + piece, bytes.count)])
                pause(0.12)
            }
            try handle.close()
            let events = try h.collect(timeout: 10) { $0.contains { $0.event == "model_loaded" } }
            let loaded = events.filter { $0.event == "model_loaded" }
            #expect(loaded.count == 1)
            #expect(loaded.first?.string("model")?.hasPrefix("second@") == true)
            // Any attempt on a partial file was rejected with a reason, never served.
            for r in events where r.event == "model_rejected" { #expect(r.string("reason")?.isEmpty == false) }
        }
    }

    @Test func unchangedFileIsANoOp() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, _) = try Self.models()
        try await Self.withHarness(first: a, dir: dir) { h in
            let answer = try h.control(["cmd": "reload"])
            #expect(answer["ok"] == .bool(true))
            #expect(answer["changed"] == .bool(false))
            h.daemon.requestReload(source: "SIGHUP")
            let events = try h.collect(timeout: 0.5) { _ in false }
            #expect(!events.contains { $0.event == "model_loaded" || $0.event == "model_rejected" })
        }
    }

    @Test func renameIntoPlaceIsPickedUpByTheWatcher() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b) = try Self.models()
        try await Self.withHarness(first: a, dir: dir) { h in
            let start = Date()
            try Self.writeModel(b, to: dir + "/model.safetensors")       // temp file + rename
            let events = try h.collect(timeout: 5) { $0.contains { $0.event == "model_loaded" } }
            #expect(events.contains { $0.event == "model_loaded" })
            #expect(Date().timeIntervalSince(start) < 1, "reload within a second of the rename")
            try h.client.publish(stream: "x", seq: 1, tokens: ["the"])
            let answer = try h.collect { $0.contains { $0.topic == "x" && $0.type == "tags" } }.first { $0.topic == "x" }
            #expect(answer?.string("model")?.hasPrefix("second@") == true)
        }
    }

    /// The served path is a symlink into a directory of versions; switching it (a new link
    /// renamed over the old one, as `ln -sfn` + `mv -T` do) serves the new target.
    @Test func symlinkSwitchIsPickedUpByTheWatcher() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b) = try Self.models()
        try FileManager.default.createDirectory(atPath: dir + "/versions", withIntermediateDirectories: true)
        try Self.writeModel(a, to: dir + "/versions/1.safetensors")
        try Self.writeModel(b, to: dir + "/versions/2.safetensors")
        let path = dir + "/model.safetensors"
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "versions/1.safetensors")
        try await DaemonHarness.with(model: try Model(path: path), configure: { config in
            config.model.path = path
            config.model.watchInterval = .milliseconds(200)
        }) { h in
            let start = Date()
            try FileManager.default.createSymbolicLink(atPath: dir + "/next", withDestinationPath: "versions/2.safetensors")
            #expect(rename(dir + "/next", path) == 0)
            let events = try h.collect(timeout: 5) { $0.contains { $0.event == "model_loaded" } }
            let loaded = events.first { $0.event == "model_loaded" }
            #expect(loaded?.string("model")?.hasPrefix("second@") == true, "\(events)")
            #expect(Date().timeIntervalSince(start) < 1, "reload within a second of the switch")
        }
    }
}

