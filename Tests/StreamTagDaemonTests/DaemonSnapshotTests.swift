import Foundation
import Logging
import StreamTagTestSupport
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagClient

/// The daemon's snapshot at start and stop, with real sockets and files: the state directory
/// is checked before ready, bad records are dropped, queued input survives a restart, and a
/// failed snapshot is reported and leaves the previous one.
@Suite(.serialized) struct DaemonSnapshotTests {
    static let model = try! testModel(lookahead: 2)

    /// A start failure comes out of both `ready()` and `run()`, naming the directory and the
    /// reason; nothing is left running.
    @Test func stateDirUnderARegularFileIsRefusedAtStart() async throws {
        let file = NSTemporaryDirectory() + "streamtag-file-" + UUID().uuidString
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        var config = DaemonHarness.testConfig()
        config.stateDir = file + "/state"
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let daemon = try Daemon(config: config, model: Self.model, logger: quiet)
        let run = Task { try await daemon.run() }
        let fromReady = await #expect(throws: StateDirError.self) { try await daemon.ready() }
        let fromRun = await #expect(throws: StateDirError.self) { try await run.value }
        for error in [fromReady, fromRun] {
            #expect(error?.description.contains(file) == true, "\(String(describing: error))")
            #expect(error?.description.contains("Not a directory") == true, "\(String(describing: error))")
        }
        // Had it started, the cancellation stops it.
        run.cancel()
        _ = await run.result
    }

    @Test func badRecordsAreDroppedAndCountedTheRestRestored() async throws {
        var config = DaemonHarness.testConfig()
        config.metrics.listen = "127.0.0.1:0"
        try FileManager.default.createDirectory(atPath: config.stateDir, withIntermediateDirectories: true)
        var bad = SnapshotValidationTests.good("bad")
        bad.fed = Int.min
        var sys = SnapshotValidationTests.good("$sys")
        sys.seq = 1
        let file = SnapshotFile(modelID: Self.model.id, modelSHA256: Self.model.sha256,
                                streams: [SnapshotValidationTests.good(), bad, sys], tombstones: [])
        try Data(try file.encode()).write(to: URL(fileURLWithPath: config.stateDir + "/snapshot.bin"))
        try await DaemonHarness.with(config: config, model: Self.model) { h in
            #expect(h.daemon.status.streams == 1)
            let metrics = String(decoding: h.daemon.metrics.render(), as: UTF8.self)
            #expect(metrics.contains(#"streamtag_snapshot_records_dropped_total{reason="bad_position"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"streamtag_snapshot_records_dropped_total{reason="bad_id"} 1"#))
            try h.client.publish(stream: "good", seq: 4, tokens: ["mat"], end: true)
            let got = try h.collect { $0.contains { $0.event == "end" } }
            #expect(got.filter { $0.type == "tags" }.flatMap(\.finals).map(\.0) == [3, 4, 5])
        }
    }

    /// Many streams with long queues, stopped as soon as everything was accepted, then
    /// restarted: every stream's answers (before and after) are those of an uninterrupted run.
    @Test func restartWithQueuedInputGivesTheUninterruptedTags() async throws {
        let streams = 24, messages = 30
        let words = ["the", "cat", "sat", "on", "a", "mat", ".", "dog", "ran"]
        func tokens(_ s: Int, _ n: Int) -> [String] { (0..<200).map { words[(s * 7 + n * 3 + $0) % words.count] } }
        let whole = WorkerHarness(model: Self.model)
        for n in 0..<messages { for s in 0..<streams { whole.send("s\(s)", UInt64(n + 1), tokens(s, n), end: n == messages - 1) } }
        whole.worker.runUntilIdle()

        var config = DaemonHarness.testConfig()
        config.batching.maxBatch = 2                          // slow enough for a backlog
        var answers: [String: [(Int, String, String)]] = [:]
        try await DaemonHarness.with(config: config, model: Self.model) { first in
            for n in 0..<messages { for s in 0..<streams { try first.client.publish(stream: "s\(s)", seq: UInt64(n + 1), tokens: tokens(s, n), end: n == messages - 1) } }
            let deadline = Date().addingTimeInterval(20)
            while first.daemon.metrics.counts.load(EventCount.messagesIn) < streams * messages && Date() < deadline { usleep(1000) }
            // The answers published while it stops are read as they come.
            await first.running.beginStop()
            while let m = try first.client.receive(timeout: 5), m.event != "stopping" {
                if m.type == "tags" { answers[m.topic, default: []] += m.finals }
            }
            try await first.stop(removeStateDir: false)
        }
        let saved = try SnapshotFile.decode(try AtomicFile.read(path: config.stateDir + "/snapshot.bin"), limits: .serving(Self.model))
        #expect(saved.streams.reduce(0) { $0 + $1.queuedTokens } > 0, "the stop saved a backlog")

        // The restored input runs from the first heartbeat on: its answers need the client
        // subscribed by then, and the harness's client attaches only once the start's `await`
        // has resumed, which on a loaded machine can take longer than 50 ms (and once, beside a
        // sanitizer run, longer than 2 s).
        config.heartbeatInterval = .milliseconds(Int64(stretched(5) * 1000))
        try await DaemonHarness.with(config: config, model: Self.model) { second in
            var ended = Set<String>()
            let rest = try second.collect(timeout: 30) { got in got.count { $0.event == "end" } == streams }
            for m in rest where m.type == "tags" { answers[m.topic, default: []] += m.finals }
            for m in rest where m.event == "end" { ended.insert(m.topic) }
            #expect(ended.count == streams)
            for s in 0..<streams {
                let expected = whole.finals("s\(s)")
                let got = answers["s\(s)"] ?? []
                #expect(got.map(\.0) == expected.map(\.0), "s\(s) positions")
                #expect(got.map(\.2) == expected.map(\.2), "s\(s) tags")
            }
        }
    }

    /// A backlog far longer than a stop may take (the built-in model, 240,000 tokens queued):
    /// the stop finishes the messages in progress only and saves the rest as input.
    @Test func stopTimeIsBoundedWithALargeBacklog() async throws {
        let model = try BuiltinModel.load()
        var config = DaemonHarness.testConfig()
        config.streams.maxPendingTokens = 100_000
        defer { try? FileManager.default.removeItem(atPath: config.stateDir) }
        try await DaemonHarness.with(config: config, model: model) { h in
            let words = ["the", "cat", "sat", "on", "a", "mat", "."]
            let message = (0..<100).map { words[$0 % words.count] }
            let streams = 20, messages = 120
            for n in 0..<messages { for s in 0..<streams { try h.client.publish(stream: "b\(s)", seq: UInt64(n + 1), tokens: message) } }
            let deadline = Date().addingTimeInterval(30)
            while h.daemon.metrics.counts.load(EventCount.messagesIn) < streams * messages && Date() < deadline { usleep(1000) }
            let start = Date()
            try await h.stop(removeStateDir: false)         // throws if the snapshot failed
            let seconds = Date().timeIntervalSince(start)
            let saved = try SnapshotFile.decode(try AtomicFile.read(path: config.stateDir + "/snapshot.bin"), limits: .serving(model))
            let queued = saved.streams.reduce(0) { $0 + $1.queuedTokens }
            #expect(queued > streams * messages * 100 / 2, "most of the backlog saved as input, not computed (\(queued) tokens)")
            #expect(queued % 100 == 0, "whole messages only: the ones in progress were finished")
            // Alone it takes under a second; computing the backlog instead would take minutes in a
            // debug build. The bound leaves room for the rest of the suite running beside it
            // (5.9 s was seen on 2 cores).
            #expect(seconds < stretched(15), "stop took \(seconds) s")
        }
    }

    /// A 64 KiB tmpfs as the state directory (needs root and mount rights; disabled where a
    /// probe mount fails): the first snapshot fits, the shutdown one does not.
    @Test(.enabled(if: TmpfsMount.available, "mounting a tmpfs needs root"))
    func fullDiskAtStopIsReportedAndLeavesThePreviousSnapshot() async throws {
        let mount = try #require(TmpfsMount(bytes: 64 << 10))
        defer { mount.remove() }
        var config = DaemonHarness.testConfig()
        config.stateDir = mount.path + "/state"
        try await DaemonHarness.with(config: config, model: Self.model) { h in
            try h.client.publish(stream: "first", seq: 1, tokens: ["the", "cat"])
            _ = try h.collect { $0.contains { $0.type == "tags" } }
            #expect(try h.control(["cmd": "snapshot"])["ok"] == .bool(true))
            let previous = try AtomicFile.read(path: config.stateDir + "/snapshot.bin")
            for s in 0..<400 { try h.client.publish(stream: "s\(s)", seq: 1, tokens: ["a"]) }
            _ = try h.collect { $0.count { $0.type == "tags" } == 400 }
            await h.running.beginStop()
            var stopping: StreamClient.Received?
            while stopping == nil, let m = try h.client.receive(timeout: 5) { if m.event == "stopping" { stopping = m } }
            let failed = await #expect(throws: ShutdownSnapshotFailed.self) { try await h.stop(removeStateDir: false) }
            let reason = failed?.reason ?? ""
            #expect(reason.contains("No space left on device") && reason.contains(config.stateDir), "\(reason)")
            #expect(stopping?.string("snapshot_error")?.contains("No space left on device") == true)
            #expect(try AtomicFile.read(path: config.stateDir + "/snapshot.bin") == previous, "the previous snapshot is intact")
            #expect(try FileManager.default.contentsOfDirectory(atPath: config.stateDir) == ["snapshot.bin"], "no temp file left")
        }
    }

    /// The state directory replaced by a regular file after start: the stop says why it
    /// could not save, in words (the error `run()` throws once stopped).
    @Test func unwritableStateDirAtStopIsReported() async throws {
        try await DaemonHarness.with(model: Self.model) { h in
            try FileManager.default.removeItem(atPath: h.stateDir)
            try Data("x".utf8).write(to: URL(fileURLWithPath: h.stateDir))
            let failed = await #expect(throws: ShutdownSnapshotFailed.self) { try await h.stop() }
            let reason = failed?.reason ?? ""
            #expect(reason.contains(h.stateDir) && reason.contains("Not a directory"), "\(reason)")
        }
    }
}
