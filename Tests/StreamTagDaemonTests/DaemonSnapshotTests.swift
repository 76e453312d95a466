import Foundation
import Logging
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagClient

/// The daemon's snapshot at start and stop, with real sockets and files: the state directory
/// is checked before ready, bad records are dropped, queued input survives a restart, and a
/// failed snapshot is reported and leaves the previous one.
@Suite(.serialized) struct DaemonSnapshotTests {
    static let model = try! testModel(lookahead: 2)

    @Test func stateDirUnderARegularFileIsRefusedAtStart() throws {
        let file = NSTemporaryDirectory() + "streamtag-file-" + UUID().uuidString
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        var config = DaemonHarness.testConfig()
        config.stateDir = file + "/state"
        let daemon = try Daemon(config: config, model: Self.model, logger: Logger(label: "test"))
        do {
            try daemon.start()
            Issue.record("started with an unwritable state_dir")
            daemon.requestStop()
            daemon.waitUntilStopped()
        } catch let error as StateDirError {
            #expect(error.description.contains(file))
            #expect(error.description.contains("Not a directory"), "\(error)")
        }
    }

    @Test func badRecordsAreDroppedAndCountedTheRestRestored() throws {
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
        let h = try DaemonHarness(config: config, model: Self.model)
        defer { h.stop() }
        #expect(h.daemon.status.streams == 1)
        let metrics = String(decoding: h.daemon.metrics.render(), as: UTF8.self)
        #expect(metrics.contains(#"streamtag_snapshot_records_dropped_total{reason="bad_position"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"streamtag_snapshot_records_dropped_total{reason="bad_id"} 1"#))
        try h.client.publish(stream: "good", seq: 4, tokens: ["mat"], end: true)
        let got = try h.collect { $0.contains { $0.event == "end" } }
        #expect(got.filter { $0.type == "tags" }.flatMap(\.finals).map(\.0) == [3, 4, 5])
    }

    /// Many streams with long queues, stopped as soon as everything was accepted, then
    /// restarted: every stream's answers (before and after) are those of an uninterrupted run.
    @Test func restartWithQueuedInputGivesTheUninterruptedTags() throws {
        let streams = 24, messages = 30
        let words = ["the", "cat", "sat", "on", "a", "mat", ".", "dog", "ran"]
        func tokens(_ s: Int, _ n: Int) -> [String] { (0..<200).map { words[(s * 7 + n * 3 + $0) % words.count] } }
        let whole = WorkerHarness(model: Self.model)
        for n in 0..<messages { for s in 0..<streams { whole.send("s\(s)", UInt64(n + 1), tokens(s, n), end: n == messages - 1) } }
        whole.worker.runUntilIdle()

        var config = DaemonHarness.testConfig()
        config.batching.maxBatch = 2                          // slow enough for a backlog
        let first = try DaemonHarness(config: config, model: Self.model)
        for n in 0..<messages { for s in 0..<streams { try first.client.publish(stream: "s\(s)", seq: UInt64(n + 1), tokens: tokens(s, n), end: n == messages - 1) } }
        let deadline = Date().addingTimeInterval(20)
        while first.daemon.metrics.counts.load(EventCount.messagesIn) < streams * messages && Date() < deadline { usleep(1000) }
        var answers: [String: [(Int, String, String)]] = [:]
        first.daemon.requestStop()
        while let m = try first.client.receive(timeout: 5), m.event != "stopping" {
            if m.type == "tags" { answers[m.topic, default: []] += m.finals }
        }
        first.daemon.waitUntilStopped()
        first.client.close()
        let saved = try SnapshotFile.decode(try AtomicFile.read(path: config.stateDir + "/snapshot.bin"), limits: .serving(Self.model))
        #expect(saved.streams.reduce(0) { $0 + $1.queuedTokens } > 0, "the stop saved a backlog")

        let second = try DaemonHarness(config: config, model: Self.model)
        defer { second.stop() }
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

    /// A backlog far longer than a stop may take (the built-in model, 240,000 tokens queued):
    /// the stop finishes the messages in progress only and saves the rest as input.
    @Test func stopTimeIsBoundedWithALargeBacklog() throws {
        let model = try BuiltinModel.load()
        var config = DaemonHarness.testConfig()
        config.streams.maxPendingTokens = 100_000
        let h = try DaemonHarness(config: config, model: model)
        defer { try? FileManager.default.removeItem(atPath: h.stateDir) }
        let words = ["the", "cat", "sat", "on", "a", "mat", "."]
        let message = (0..<100).map { words[$0 % words.count] }
        let streams = 20, messages = 120
        for n in 0..<messages { for s in 0..<streams { try h.client.publish(stream: "b\(s)", seq: UInt64(n + 1), tokens: message) } }
        let deadline = Date().addingTimeInterval(30)
        while h.daemon.metrics.counts.load(EventCount.messagesIn) < streams * messages && Date() < deadline { usleep(1000) }
        let start = Date()
        h.daemon.requestStop()
        h.daemon.waitUntilStopped()
        let seconds = Date().timeIntervalSince(start)
        h.client.close()
        #expect(h.daemon.shutdownSnapshotError == nil)
        let saved = try SnapshotFile.decode(try AtomicFile.read(path: config.stateDir + "/snapshot.bin"), limits: .serving(model))
        let queued = saved.streams.reduce(0) { $0 + $1.queuedTokens }
        #expect(queued > streams * messages * 100 / 2, "most of the backlog saved as input, not computed (\(queued) tokens)")
        #expect(queued % 100 == 0, "whole messages only: the ones in progress were finished")
        #expect(seconds < 5, "stop took \(seconds) s")
    }

    /// A 64 KiB tmpfs as the state directory (needs root and mount rights; disabled where a
    /// probe mount fails): the first snapshot fits, the shutdown one does not.
    @Test(.enabled(if: TmpfsMount.available, "mounting a tmpfs needs root"))
    func fullDiskAtStopIsReportedAndLeavesThePreviousSnapshot() throws {
        let mount = try #require(TmpfsMount(bytes: 64 << 10))
        defer { mount.remove() }
        var config = DaemonHarness.testConfig()
        config.stateDir = mount.path + "/state"
        let h = try DaemonHarness(config: config, model: Self.model)
        try h.client.publish(stream: "first", seq: 1, tokens: ["the", "cat"])
        _ = try h.collect { $0.contains { $0.type == "tags" } }
        #expect(try h.control(["cmd": "snapshot"])["ok"] == .bool(true))
        let previous = try AtomicFile.read(path: config.stateDir + "/snapshot.bin")
        for s in 0..<400 { try h.client.publish(stream: "s\(s)", seq: 1, tokens: ["a"]) }
        _ = try h.collect { $0.count { $0.type == "tags" } == 400 }
        h.daemon.requestStop()
        var stopping: StreamClient.Received?
        while stopping == nil, let m = try h.client.receive(timeout: 5) { if m.event == "stopping" { stopping = m } }
        h.daemon.waitUntilStopped()
        h.client.close()
        let reason = h.daemon.shutdownSnapshotError ?? ""
        #expect(reason.contains("No space left on device") && reason.contains(config.stateDir), "\(reason)")
        #expect(stopping?.string("snapshot_error")?.contains("No space left on device") == true)
        #expect(try AtomicFile.read(path: config.stateDir + "/snapshot.bin") == previous, "the previous snapshot is intact")
        #expect(try FileManager.default.contentsOfDirectory(atPath: config.stateDir) == ["snapshot.bin"], "no temp file left")
    }

    /// The state directory replaced by a regular file after start: the stop says why it
    /// could not save, in words.
    @Test func unwritableStateDirAtStopIsReported() throws {
        let h = try DaemonHarness(model: Self.model)
        try FileManager.default.removeItem(atPath: h.stateDir)
        try Data("x".utf8).write(to: URL(fileURLWithPath: h.stateDir))
        h.stop()
        let reason = h.daemon.shutdownSnapshotError ?? ""
        #expect(reason.contains(h.stateDir) && reason.contains("Not a directory"), "\(reason)")
    }
}
