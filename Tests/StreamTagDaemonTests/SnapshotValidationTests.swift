import Foundation
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon

/// Snapshots with a valid checksum but impossible values: each bad record is dropped with its
/// reason, the rest restored, and nothing restored can trap a worker.
@Suite struct SnapshotValidationTests {
    static let model = try! testModel(lookahead: 2)
    static var limits: SnapshotLimits { .serving(model) }

    /// A record that restores: under the serving model, between two messages.
    static func good(_ id: String = "good", seq: UInt64 = 3) -> StreamSnapshot {
        StreamSnapshot(id: id, seq: seq, fed: 5, previousTag: 1, window: ["on", "a"], replay: ["the", "cat", "sat", "on", "a"],
                       idle: 1, model: model.sha256, state: Array(repeating: 0.1, count: limits.stateFloats))
    }

    static func bad(_ id: String, _ change: (inout StreamSnapshot) -> Void) -> StreamSnapshot {
        var s = good(id)
        change(&s)
        return s
    }

    /// Encoded by the real writer (so the checksum is right) and read back.
    static func roundTrip(_ streams: [StreamSnapshot], tombstones: [TombstoneSnapshot] = []) throws -> SnapshotFile {
        let file = SnapshotFile(modelID: model.id, modelSHA256: model.sha256, streams: streams, tombstones: tombstones)
        return try SnapshotFile.decode(try file.encode(), limits: limits)
    }

    static let cases: [(StreamSnapshot, SnapshotDropReason)] = [
        (bad("fed-min") { $0.fed = Int.min }, .badPosition),
        (bad("fed-max") { $0.fed = Int.max }, .badPosition),
        (bad("fed-negative") { $0.fed = -1; $0.window = []; $0.replay = [] }, .badPosition),
        (bad("window-over-lookahead") { $0.window = ["a", "b", "c"] }, .badPosition),
        (bad("window-over-fed") { $0.fed = 1; $0.replay = ["a"] }, .badPosition),
        (bad("$sys") { _ in }, .badID),
        (bad("") { _ in }, .badID),
        (bad(String(repeating: "x", count: 300)) { _ in }, .badID),
        (bad("nan-state") { $0.state[3] = .nan }, .badState),
        (bad("inf-state") { $0.state[0] = -.infinity }, .badState),
        (bad("short-state") { $0.state.removeLast() }, .badState),
        (bad("seq-max") { $0.seq = UInt64.max }, .badSeq),
        (bad("tag-over") { $0.previousTag = 5 }, .badTag),
        (bad("tag-under") { $0.previousTag = -2 }, .badTag),
        (bad("idle-negative") { $0.idle = -1e300 }, .badTime),
        (bad("empty-token") { $0.replay[0] = "" }, .badInput),
        (bad("queued-answer-after-seq") { $0.queued = [QueuedOp(.token("x"))!, QueuedOp(.answer(seq: 9))!] }, .badInput),
        (bad("ending-without-end") { $0.ending = true }, .badInput),
    ]

    @Test func everyImpossibleRecordIsDroppedWithItsReason() throws {
        let file = try Self.roundTrip([Self.good()] + Self.cases.map(\.0))
        #expect(file.streams.map(\.id) == ["good"])
        #expect(file.dropped.map(\.id) == Self.cases.map(\.0.id))
        for (d, expected) in zip(file.dropped, Self.cases.map(\.1)) {
            #expect(d.reason == expected, "\(d.id): \(d.detail)")
            #expect(!d.detail.isEmpty)
        }
    }

    @Test func tombstonesAndDuplicateIdsAreChecked() throws {
        let file = try Self.roundTrip([Self.good(), Self.good(seq: 9)], tombstones: [
            TombstoneSnapshot(id: "t", seq: 4, age: 2),
            TombstoneSnapshot(id: "aged", seq: 4, age: -1e300),
            TombstoneSnapshot(id: "t", seq: 5, age: 1),
            TombstoneSnapshot(id: "good", seq: 1, age: 1),
            TombstoneSnapshot(id: "$sys", seq: 1, age: 1),
            TombstoneSnapshot(id: "high", seq: UInt64.max, age: 1),
        ])
        #expect(file.streams.map(\.seq) == [3], "the first of two records with one id wins")
        #expect(file.tombstones.map(\.id) == ["t"])
        #expect(file.dropped.map(\.reason) == [.duplicateID, .badTime, .duplicateID, .duplicateID, .badID, .badSeq])
    }

    /// A record saved under another model is replayed: its window must be releasable by the
    /// replay, its previous tag (another tag set) is not used.
    @Test func recordsOfAnotherModelAreCheckedForReplay() throws {
        var other = Self.good("other")
        other.model = String(repeating: "0", count: 64)
        other.state = [.nan]                                  // not used: replayed
        other.previousTag = 40
        var unreleasable = other
        unreleasable.id = "unreleasable"
        unreleasable.fed = 9
        unreleasable.window = ["a", "b", "c", "d", "e", "f"]
        unreleasable.replay = ["a", "b", "c"]
        let file = try Self.roundTrip([other, unreleasable])
        #expect(file.streams.map(\.id) == ["other"])
        #expect(file.dropped.map(\.reason) == [.badPosition])
        let h = WorkerHarness(model: Self.model)
        h.worker.importStream(file.streams[0], fromModel: "old@0")
        h.send("other", 4, ["mat", "."], end: true)
        h.worker.runUntilIdle()
        #expect(h.finals("other").map(\.0) == [3, 4, 5, 6])
    }

    /// The surviving record and the limits' edges run: no trap at the next message.
    @Test func restoredRecordsAtTheLimitsRun() throws {
        var edge = Self.good("edge")
        edge.fed = SnapshotLimits.maxFed
        let file = try Self.roundTrip([Self.good(), edge])
        #expect(file.dropped.isEmpty)
        let h = WorkerHarness(model: Self.model)
        for s in file.streams { h.worker.importStream(s, fromModel: Self.model.id) }
        h.send("good", 4, ["mat", "."], end: true)
        h.send("edge", 4, ["mat"], end: true)
        h.worker.runUntilIdle()
        #expect(h.finals("good").map(\.0) == [3, 4, 5, 6])
        #expect(h.finals("edge").map(\.0) == [SnapshotLimits.maxFed - 2, SnapshotLimits.maxFed - 1, SnapshotLimits.maxFed])
    }
}
