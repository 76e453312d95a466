import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon

@Suite struct SnapshotTests {
    static let text = ["the", "cat", "sat", "on", "a", "mat", ".", "a", "dog", "ran", "on", "the", "mat", "."]

    /// Tags of `text` sent in messages of 3 tokens, with a snapshot/restore after `cut` messages.
    func tags(model: Model, restoreModel: Model? = nil, cut: Int?) throws -> [(Int, String, String)] {
        var h = WorkerHarness(model: model)
        var collected: [(Int, String, String)] = []
        let messages = stride(from: 0, to: Self.text.count, by: 3).map { Array(Self.text[$0..<min($0 + 3, Self.text.count)]) }
        for (n, chunk) in messages.enumerated() {
            if n == cut {
                h.worker.runUntilIdle()
                collected += h.finals("s")
                h.send("other", 1, ["x"])                     // a second stream goes along
                h.worker.runUntilIdle()
                let (streams, tombstones) = h.worker.exportStreams()
                let file = SnapshotFile(modelID: model.id, modelSHA256: model.sha256, streams: streams, tombstones: tombstones)
                let restored = try SnapshotFile.decode(try file.encode(), limits: .serving(restoreModel ?? model))
                #expect(restored == file)
                let next = restoreModel ?? model
                h = WorkerHarness(model: next)
                for s in restored.streams { h.worker.importStream(s, fromModel: restored.modelID) }
                #expect(h.worker.streamCount == 2)
            }
            h.send("s", UInt64(10 + n), chunk, end: n == messages.count - 1)
        }
        h.worker.runUntilIdle()
        return collected + h.finals("s")
    }

    @Test(arguments: [1, 2, 3])
    func restartMidStreamGivesTheSameTags(cut: Int) throws {
        let model = try testModel(lookahead: 2)
        let uninterrupted = try tags(model: model, cut: nil)
        let restarted = try tags(model: model, cut: cut)
        #expect(uninterrupted.map(\.0) == Array(0..<Self.text.count))
        #expect(restarted.map(\.0) == uninterrupted.map(\.0))
        #expect(restarted.map(\.2) == uninterrupted.map(\.2))
    }

    @Test func anotherModelRebuildsStateByReplay() throws {
        // With replay_tokens ≥ the stream's length, the new model continues as if it had
        // tagged the stream from the start.
        let old = try testModel(lookahead: 2)
        let new = try testModel(lookahead: 2, cell: .gru)
        let continued = try tags(model: old, restoreModel: new, cut: 2)
        let fromStart = try tags(model: new, cut: nil)
        // Tokens released before the cut came from the old model; everything after from the new.
        let released = continued.count - (Self.text.count - 6 + 2)
        #expect(Array(continued[released...].map(\.2)) == Array(fromStart[released...].map(\.2)))
    }

    @Test func damagedSnapshotsAreRefusedWithAReason() throws {
        let file = SnapshotFile(modelID: "m@1", modelSHA256: "ab",
                                streams: [StreamSnapshot(id: "s", seq: 1, fed: 3, previousTag: -1, window: ["a"], replay: ["a"],
                                                         idle: 1, model: "ab", state: [1, 2])],
                                tombstones: [TombstoneSnapshot(id: "t", seq: 4, age: 2)])
        var bytes = try file.encode()
        let limits = SnapshotLimits(modelSHA256: "ab", lookahead: 2, tags: 5, stateFloats: 2, replayTokens: 32)
        #expect(try SnapshotFile.decode(bytes, limits: limits) == file)
        bytes[20] ^= 1
        #expect(throws: SnapshotFile.Damage.self) { try SnapshotFile.decode(bytes, limits: limits) }
        #expect(throws: SnapshotFile.Damage.self) { try SnapshotFile.decode(Array(bytes.prefix(30)), limits: limits) }
        #expect(throws: SnapshotFile.Damage.self) { try SnapshotFile.decode([], limits: limits) }
        do {
            _ = try SnapshotFile.decode(bytes, limits: limits)
            Issue.record("a damaged file decoded")
        } catch {
            #expect(error.message.contains("checksum"))
        }
    }
}

