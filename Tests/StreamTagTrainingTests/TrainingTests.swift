import Testing
@testable import StreamTagCore
@testable import StreamTagTraining

/// The trainer's forward pass against the inference path: the logits a head is trained on must
/// be the scores the stepper computes for the same token and followers.
@Suite struct TrainingTests {
    /// The toy corpus of the gradient checks.
    static let sentences = GradientTests.sentences

    @Test func trainingLogitsEqualInferenceScores() throws {
        var options = TrainingOptions()
        options.layers = 2
        options.embeddingDim = 6
        options.hiddenDim = 7
        options.lookahead = 2
        options.minCount = 2          // singletons stay unknown: their features matter
        options.features = [FeatureSpecOption(kind: "suffix", length: 2, buckets: 7),
                            FeatureSpecOption(kind: "shape", length: 0, buckets: 5),
                            FeatureSpecOption(kind: "lower", length: 0, buckets: 11),
                            FeatureSpecOption(kind: "lexicon", length: 0, buckets: 16),
                            FeatureSpecOption(kind: "ngram", length: 2, buckets: 13)]
        options.batchSize = 2
        options.chunkLength = 12
        options.threads = 1
        options.averageDecay = 0
        options.seed = 3
        let lexicon = Lexicon(entries: ["cat": Lexicon.noun, "sit": Lexicon.verb, "bark": Lexicon.verb | Lexicon.noun])
        let trainer = try Trainer(options: options, train: Self.sentences, dev: [], name: "fwd", lexicon: lexicon)
        let worker = trainer.workers[0]
        worker.inputDropout = 0
        worker.hiddenDropout = 0
        var rng = SplitMix64(seed: 4)
        let plan = EpochPlan(corpus: trainer.train, rows: 2, resetProbability: 1, keepDocuments: false, rng: &rng)
        worker.resetCarry()
        worker.fill(plan: plan, corpus: trainer.train, chunk: 0, wordDropout: 0)
        worker.forwardScores()

        let model = try Model(bundle: trainer.bundle(), sha256: String(repeating: "0", count: 64))
        let tokens = Self.sentences.flatMap(\.tokens)
        var checked = 0
        for b in 0..<worker.B {
            for t in 0..<worker.Tc {
                guard let g = plan.position(row: b, offset: t) else { continue }
                var start = g
                while !plan.reset[start] { start -= 1 }
                for j in 0...2 where g + j < Int(plan.segmentEnd[g]) {
                    var tagger = StreamTagger(model: model)
                    for p in start...(g + j) { _ = tagger.feed(tokens[Int(plan.order[p])]) }
                    let expected = tagger.scores(seeing: j)
                    let n = t * worker.B + b, C = model.C
                    for c in 0..<C {
                        #expect(abs(worker.logits[j].pointer[n * C + c] - expected[c]) < 1e-4, "row \(b) t \(t) head \(j)")
                    }
                    checked += 1
                }
            }
        }
        #expect(checked > 20)
    }
}
