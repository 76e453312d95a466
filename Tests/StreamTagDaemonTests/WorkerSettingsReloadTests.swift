import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon

/// A worker taking new stream rules between two steps (what a config reload hands it).
@Suite struct WorkerSettingsReloadTests {
    @Test func appliedLimitsActAtTheNextMessageAndSizingStays() throws {
        let model = try testModel(lookahead: 2)
        var settings = StreamSettings()
        settings.maxPendingTokens = 100
        settings.maxBatch = 16
        let h = WorkerHarness(model: model, settings: settings)
        h.send("s", 1, ["the", "cat", "sat"])
        h.worker.runUntilIdle()

        var next = settings
        next.maxPendingTokens = 2
        next.partial = false
        next.lookahead = 0          // restart-only: ignored
        next.maxBatch = 4           // restart-only: ignored
        h.worker.apply(next)
        #expect(h.worker.settings.maxPendingTokens == 2 && h.worker.table.settings.maxPendingTokens == 2)
        #expect(h.worker.settings.lookahead == nil && h.worker.settings.maxBatch == 16)

        h.send("s", 2, ["on", "a", "mat"])   // 3 tokens > the new limit of 2: refused
        h.send("s", 3, ["."])                 // refused too: it comes after the refused seq 2
        h.send("s", 2, ["."])                 // the refused seq again, and it fits
        h.worker.runUntilIdle()
        let mine = h.published.filter { $0.stream == "s" }.map(\.json)
        #expect(mine.contains { $0["code"] as? String == "overloaded" && $0["seq"] as? Int == 2 })
        #expect(mine.contains { $0["code"] as? String == "overloaded" && $0["seq"] as? Int == 3 })
        let last = mine.last { $0["type"] as? String == "tags" }
        #expect(last?["seq"] as? Int == 2)
        #expect(last?["partial"] == nil, "model.partial off takes effect")
    }

    /// `reload.drain_timeout` reaches the worker: a stream left on the old model moves over
    /// once it has passed.
    @Test func drainTimeoutComesFromTheSettings() throws {
        let old = try testModel(lookahead: 2), new = try testModel(lookahead: 2, cell: .gru)
        var settings = StreamSettings()
        settings.drainTimeout = 5
        let h = WorkerHarness(model: old, settings: settings)
        h.send("open", 1, ["the", "cat"])
        h.worker.runUntilIdle()
        h.worker.adopt(new, policy: .drain)
        h.now = 4
        h.worker.expire()
        h.send("open", 2, ["sat"])
        h.worker.runUntilIdle()
        h.now = 6
        h.worker.expire()
        h.send("open", 3, ["on"])
        h.worker.runUntilIdle()
        let models = h.published.filter { $0.stream == "open" && $0.json["type"] as? String == "tags" }.compactMap { $0.json["model"] as? String }
        #expect(models == [old.id, old.id, new.id])
    }
}
