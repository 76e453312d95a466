import Foundation
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon

/// A snapshot saves queued input as input: a stop does not compute the backlog, and a restart
/// publishes exactly what an uninterrupted run would have.
@Suite struct SnapshotQueuedInputTests {
    static let text = ["the", "cat", "sat", "on", "a", "mat", ".", "a", "dog", "ran", "on", "the", "mat", "."]

    /// Three streams' messages (3 tokens each; a duplicate, a gap with reset, an end), all
    /// sent before anything runs.
    static func sendAll(_ h: WorkerHarness) {
        for s in 0..<3 {
            let chunks = stride(from: 0, to: text.count, by: 3).map { Array(text[$0..<min($0 + 3, text.count)]) }
            for (n, chunk) in chunks.enumerated() {
                h.send("s\(s)", UInt64(n + 1), chunk, reset: s == 1 && n == 3, end: n == chunks.count - 1)
            }
            h.send("s\(s)", 2, ["again"])                         // a duplicate, queued as an event
        }
        h.send("s2", 9, ["new", "stream"])                        // behind the end: a new stream
    }

    /// Everything published, per stream, as canonical JSON.
    static func transcript(_ published: [(stream: String, json: [String: Any])]) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for (stream, json) in published {
            let data = try! JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
            out[stream, default: []].append(String(decoding: data, as: UTF8.self))
        }
        return out
    }

    @Test(arguments: [0, 2, 5, 9])
    func restartWithQueuedInputGivesTheUninterruptedOutput(roundsBeforeStop: Int) throws {
        let model = try testModel(lookahead: 2)
        let whole = WorkerHarness(model: model)
        Self.sendAll(whole)
        whole.worker.runUntilIdle()

        let first = WorkerHarness(model: model)
        Self.sendAll(first)
        for _ in 0..<roundsBeforeStop { first.worker.runOnce() }
        let (streams, tombstones) = first.worker.exportStreams(halt: true)
        #expect(first.worker.runOnce() == false, "a halted worker runs nothing more")
        let queued = streams.reduce(0) { $0 + $1.queuedTokens }
        #expect(queued > 0, "the stop left input queued")
        let file = SnapshotFile(modelID: model.id, modelSHA256: model.sha256, streams: streams, tombstones: tombstones)
        let restored = try SnapshotFile.decode(try file.encode(), limits: .serving(model))
        #expect(restored.dropped.isEmpty && restored == file)

        let second = WorkerHarness(model: model)
        for s in restored.streams { second.worker.importStream(s, fromModel: model.id) }
        for t in restored.tombstones { second.worker.importTombstone(t) }
        #expect(second.worker.runOnce() == false, "restored input waits for the release")
        second.worker.releaseRestoredInput()
        second.worker.runUntilIdle()
        #expect(Self.transcript(first.published + second.published) == Self.transcript(whole.published))
        #expect(second.worker.table.pendingTokens == 0)
    }

    @Test func formatOneSnapshotsAreStillRead() throws {
        let model = try testModel(lookahead: 2)
        let record = StreamSnapshot(id: "s", seq: 1, fed: 2, previousTag: -1, window: ["a", "b"], replay: ["a", "b"], idle: 0,
                                    model: model.sha256, state: Array(repeating: 0, count: SnapshotLimits.serving(model).stateFloats))
        let bytes = try SnapshotFile(modelID: model.id, modelSHA256: model.sha256, streams: [record], tombstones: []).encode()
        // The header's format rewritten to /1 (same length), the checksum recomputed.
        var body = Array(bytes.dropLast(32))
        // (JSONEncoder writes the slash escaped.)
        let markers = [Array(#"streamtag-snapshot\/2"#.utf8), Array("streamtag-snapshot/2".utf8)]
        let found = markers.lazy.compactMap { marker in
            (0...(body.count - marker.count)).first { Array(body[$0..<($0 + marker.count)]) == marker }.map { ($0, marker) }
        }.first
        let at = found.map(\.0), marker = found?.1 ?? []
        try #require(at != nil)
        body[at! + marker.count - 1] = UInt8(ascii: "1")
        let file = try SnapshotFile.decode(SnapshotFile.seal(body), limits: .serving(model))
        #expect(file.streams == [record])
        body[at! + marker.count - 1] = UInt8(ascii: "7")
        #expect(throws: SnapshotFile.Damage.self) { try SnapshotFile.decode(SnapshotFile.seal(body), limits: .serving(model)) }
    }
}
