import Testing
@testable import StreamTagDaemon

/// `batching.batch_wait` on a worker driven with a fake clock (docs/concepts.md#streams-batching-persistence: the daemon waits to
/// fill a batch only when batch_wait says so).
@Suite struct WorkerBatchWaitTests {
    func harness(wait: Double, maxBatch: Int = 3) throws -> WorkerHarness {
        var settings = StreamSettings()
        settings.batchWait = wait
        settings.maxBatch = maxBatch
        return WorkerHarness(model: try testModel(lookahead: 0), settings: settings)
    }

    func answers(_ h: WorkerHarness) -> [String] {
        h.published.filter { $0.json["type"] as? String == "tags" }.map(\.stream)
    }

    /// The first step after an idle spell waits until batch_wait has passed since it could
    /// have run, gathering the streams that arrive meanwhile; then it steps them together.
    @Test func theFirstStepWaitsForCompanyUntilTheWaitIsOver() throws {
        let h = try harness(wait: 0.005)
        h.send("a", 1, ["the"])
        #expect(h.worker.runOnce() == false, "held: the batch is not full and no time has passed")
        #expect(h.worker.heldUntil == 0.005)
        h.now = 0.002
        h.send("b", 1, ["cat"])
        #expect(h.worker.runOnce() == false)
        #expect(answers(h).isEmpty)
        h.now = 0.005
        #expect(h.worker.runOnce() == true)
        #expect(Set(answers(h)) == ["a", "b"], "both stepped in the one batch")
        #expect(h.worker.heldUntil == nil)
    }

    /// Steps that follow a step run at once (a message waits once at most), and a full batch
    /// never waits.
    @Test func followingStepsAndFullBatchesDoNotWait() throws {
        let h = try harness(wait: 0.005)
        h.send("a", 1, ["the", "cat", "sat"])
        #expect(h.worker.runOnce() == false, "held")
        h.now = 0.005
        #expect(h.worker.runOnce(), "the first step, after the wait")
        #expect(h.worker.runOnce(), "the second token steps at once")
        #expect(h.worker.runOnce(), "and the third")
        #expect(answers(h) == ["a"])
        #expect(h.worker.runOnce() == false, "idle")

        let full = try harness(wait: 0.005)
        for s in ["x", "y", "z"] { full.send(s, 1, ["dog"]) }
        #expect(full.worker.runOnce(), "three ready streams fill max_batch 3: no wait")
        #expect(Set(answers(full)) == ["x", "y", "z"])
    }

    /// A snapshot's run to idle does not wait, and the wait changes no tag.
    @Test func runUntilIdleDoesNotWaitAndTagsAreTheSame() throws {
        let waiting = try harness(wait: 0.5), plain = try harness(wait: 0)
        for h in [waiting, plain] {
            h.send("a", 1, ["the", "dog", "ran", "on", "a", "mat"])
            h.send("b", 1, ["a", "cat", "."])
            h.worker.runUntilIdle()
        }
        #expect(waiting.now == 0)
        #expect(waiting.finals("a").count == 6 && waiting.finals("b").count == 3)
        #expect(waiting.finals("a").map(\.2) == plain.finals("a").map(\.2))
        #expect(waiting.finals("b").map(\.2) == plain.finals("b").map(\.2))
    }
}
