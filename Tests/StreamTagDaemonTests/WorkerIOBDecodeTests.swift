import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon

/// The worker decodes through the same Core functions as the offline taggers
/// (`LookaheadDecoding`): with an IOB tag set, where the tag carried from token to token
/// matters, the daemon's final tags equal `SequenceTagger`'s, messages of any size.
@Suite struct WorkerIOBDecodeTests {
    @Test(arguments: [0, 1, 2])
    func workerEqualsSequenceTaggerOnIOB(lookahead: Int) throws {
        let tags = ["O", "B-X", "I-X", "B-Y", "I-Y"]
        let config = ModelConfig(cell: .lstm, layers: 1, embeddingDim: 8, hiddenDim: 12, lookahead: lookahead,
                                 features: [FeatureSpec(.suffix, length: 2, buckets: 31)])
        var bundle = ModelBundle.random(config: config, vocabulary: ["<unk>", "a", "b", "c"], tags: tags, seed: 11)
        // Inside tags favoured where they are allowed, so the carried tag decides often.
        let bias: [Float] = [0, 2, 3, 2, 3]
        bundle.weights.head.weight = bundle.weights.head.weight.map { $0 * 8 }
        bundle.weights.head.bias = bias
        for j in bundle.weights.lookaheadHeads.indices {
            bundle.weights.lookaheadHeads[j].weight = bundle.weights.lookaheadHeads[j].weight.map { $0 * 8 }
            bundle.weights.lookaheadHeads[j].bias = bias
        }
        let model = try Model(bundle: bundle)
        let texts: [[String]] = [["a", "b", "c", "a", "zz", "b", "b", "c"], ["c"], ["q", "r", "s", "a", "b", "c", "a", "b", "c", "a", "c"]]
        let h = WorkerHarness(model: model)
        for (s, text) in texts.enumerated() {
            var seq: UInt64 = 1, offset = 0, size = 1
            while offset < text.count {
                let n = min(size, text.count - offset)
                h.send("s\(s)", seq, Array(text[offset..<(offset + n)]), end: offset + n == text.count)
                offset += n
                seq += 1
                size = size % 3 + 1
            }
        }
        h.worker.runUntilIdle()
        var tagger = SequenceTagger(model: model)
        let offline = tagger.tag(texts)
        var sawInside = false
        for (s, text) in texts.enumerated() {
            let streamed = h.finals("s\(s)")
            #expect(streamed.map(\.0) == Array(0..<text.count))
            #expect(streamed.map(\.2) == offline[s].map { tags[Int($0.tag)] }, "stream \(s)")
            sawInside = sawInside || streamed.contains { $0.2.hasPrefix("I-") }
        }
        #expect(sawInside, "the fixture should produce I- tags, else the carried tag is not exercised")
    }
}
