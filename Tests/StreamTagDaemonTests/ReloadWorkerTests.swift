import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon

/// Model swaps inside one worker, for every policy, without sockets.
@Suite struct ReloadWorkerTests {
    static let text = ["the", "cat", "sat", "on", "a", "mat", ".", "a", "dog", "ran", "on", "the", "mat", "."]

    /// Sends `text` in messages of 3 (the last with `end`), swapping to `new` before message
    /// `swapAt`; returns the published messages of stream "s".
    func run(old: Model, new: Model, policy: ReloadPolicy, swapAt: Int, midMessage: Bool = false,
             replayTokens: Int = 32) -> [[String: Any]] {
        var settings = StreamSettings()
        settings.replayTokens = replayTokens
        let h = WorkerHarness(model: old, settings: settings)
        let messages = stride(from: 0, to: Self.text.count, by: 3).map { Array(Self.text[$0..<min($0 + 3, Self.text.count)]) }
        for (n, chunk) in messages.enumerated() {
            if n == swapAt {
                if !midMessage { h.worker.runUntilIdle() }
                h.worker.adopt(new, policy: policy)
            }
            h.send("s", UInt64(n), chunk, end: n == messages.count - 1)
            if midMessage && n == swapAt - 1 { h.worker.runOnce() }    // swap lands inside this message
        }
        h.worker.runUntilIdle()
        return h.published.filter { $0.stream == "s" }.map(\.json)
    }

    static func finals(_ messages: [[String: Any]]) -> [(i: Int, tag: String, model: String)] {
        messages.filter { $0["type"] as? String == "tags" }.flatMap { m in
            (m["tags"] as! [[String: Any]]).map { (i: $0["i"] as! Int, tag: $0["tag"] as! String, model: m["model"] as! String) }
        }
    }

    @Test(arguments: [false, true])
    func replayContinuesPositionsAndMatchesTheNewModelFromTheStart(midMessage: Bool) throws {
        let old = try testModel(lookahead: 2), new = try testModel(lookahead: 2, cell: .gru)
        let messages = run(old: old, new: new, policy: .replay, swapAt: 2, midMessage: midMessage)
        let finals = Self.finals(messages)
        #expect(finals.map(\.i) == Array(0..<Self.text.count), "every token once, in order")
        // The model event comes right before the first answer from the new model.
        let firstNew = messages.firstIndex { $0["model"] as? String == new.id }!
        #expect(messages[firstNew - 1]["event"] as? String == "model")
        #expect(messages[firstNew - 1]["from"] as? String == old.id && messages[firstNew - 1]["to"] as? String == new.id)
        #expect(messages.filter { $0["event"] as? String == "model" }.count == 1)
        // Every answer before it is the old model's, every one after the new model's.
        let models = messages.compactMap { $0["model"] as? String }
        #expect(models == Array(repeating: old.id, count: models.firstIndex(of: new.id)!)
                + Array(repeating: new.id, count: models.count - models.firstIndex(of: new.id)!))
        // replay_tokens ≥ the stream: tags from the new model equal the new model tagging it all.
        var tagger = SequenceTagger(model: new)
        let reference = tagger.tag([Self.text])[0].map { new.tags[Int($0.tag)] }
        for f in finals where f.model == new.id { #expect(f.tag == reference[f.i], "position \(f.i)") }
    }

    @Test func resetPolicyStartsOver() throws {
        let old = try testModel(lookahead: 2), new = try testModel(lookahead: 1, cell: .gru)
        let messages = run(old: old, new: new, policy: .reset, swapAt: 2)
        let events = messages.compactMap { $0["event"] as? String }
        #expect(events == ["model", "reset", "end"])
        let reset = messages.first { $0["event"] as? String == "reset" }!
        #expect(reset["reason"] as? String == "model")
        // 6 tokens before the swap (positions 0–5), then the other 8 from 0 again.
        #expect(Self.finals(messages).map(\.i) == Array(0..<6) + Array(0..<8))
    }

    @Test func drainKeepsOpenStreamsOnTheOldModel() throws {
        let old = try testModel(lookahead: 2), new = try testModel(lookahead: 2, cell: .gru)
        let h = WorkerHarness(model: old)
        h.send("open", 1, ["the", "cat"])
        h.worker.runUntilIdle()
        h.worker.adopt(new, policy: .drain)
        h.send("open", 2, ["sat", "on"])
        h.send("fresh", 1, ["a", "dog"])
        h.send("open", 3, ["the", "mat"], reset: true)        // a reset moves it over
        h.worker.runUntilIdle()
        let open = h.published.filter { $0.stream == "open" }.map(\.json)
        let models = open.compactMap { $0["model"] as? String }
        #expect(models == [old.id, old.id, new.id])
        #expect(open.contains { $0["event"] as? String == "model" })
        let fresh = h.published.filter { $0.stream == "fresh" }.map(\.json)
        #expect(fresh.compactMap { $0["model"] as? String } == [new.id])
        #expect(!fresh.contains { $0["event"] as? String == "model" }, "a new stream gets no model event")
        #expect(h.worker.runtimes.compactMap { $0 }.count == 1, "the old model is freed when its last stream leaves")
    }

    @Test func differentTagSetsAndLookaheads() throws {
        let old = try testModel(lookahead: 2)
        let config = ModelConfig(embeddingDim: 6, hiddenDim: 10, lookahead: 0)
        let new = try Model(bundle: ModelBundle.random(name: "other", config: config, vocabulary: ["<unk>", "the", "cat"],
                                                       tags: ["X", "Y", "Z"], seed: 8))
        let messages = run(old: old, new: new, policy: .replay, swapAt: 2)
        let finals = Self.finals(messages)
        #expect(finals.map(\.i) == Array(0..<Self.text.count))
        for f in finals where f.model == new.id { #expect(["X", "Y", "Z"].contains(f.tag)) }
    }
}
