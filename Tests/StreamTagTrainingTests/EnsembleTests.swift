import Testing
@testable import StreamTagCore
@testable import StreamTagTraining

/// Tag distributions and the ensemble of `eval --ensemble`, against the batched tagger that
/// `eval` uses for one model.
@Suite struct EnsembleTests {
    static let tags = ["A", "D", "N", "P", "V"]
    static let sentences = GradientTests.sentences.map(\.tokens) + [["the"], ["dogs", "sat", "on", "a", "red", "mat", "."]]

    static func model(seed: UInt64, lookahead: Int = 2, tags: [String] = tags) throws -> Model {
        let config = ModelConfig(cell: .lstm, layers: 1, embeddingDim: 6, hiddenDim: 8, lookahead: lookahead,
                                 features: [FeatureSpec(.suffix, length: 2, buckets: 7)])
        let bundle = ModelBundle.random(config: config, vocabulary: ["<unk>", "the", "cat", "sat", "dog"], tags: tags, seed: seed)
        return try Model(bundle: bundle)
    }

    @Test func distributionsAreOnePerTokenAndSumToOne() throws {
        let model = try Self.model(seed: 1)
        let tokens = Self.sentences.reduce(0) { $0 + $1.count }
        for k in 0...2 {
            let d = Trainer.tagDistributions(model: model, sentences: Self.sentences, lookahead: k)
            #expect(d.count == tokens * model.C)
            for n in 0..<tokens {
                let row = d[n * model.C..<(n + 1) * model.C]
                #expect(abs(row.reduce(0, +) - 1) < 1e-5)
                #expect(row.allSatisfy { $0 > 0 })
            }
        }
    }

    @Test func anEnsembleOfOneTagsLikeTheBatchedTagger() throws {
        let model = try Self.model(seed: 2)
        for k in 0...2 {
            let alone = try Trainer.ensemblePredict(models: [model], sentences: Self.sentences, lookahead: k)
            #expect(alone == Trainer.predict(model: model, sentences: Self.sentences, lookahead: k), "k=\(k)")
        }
    }

    @Test func anEnsembleTagsByTheMeanDistribution() throws {
        let a = try Self.model(seed: 3), b = try Self.model(seed: 4)
        let k = 1
        let da = Trainer.tagDistributions(model: a, sentences: Self.sentences, lookahead: k)
        let db = Trainer.tagDistributions(model: b, sentences: Self.sentences, lookahead: k)
        let expected = Self.sentences.indices.flatMap { s in
            let first = Self.sentences[..<s].reduce(0) { $0 + $1.count }
            return Self.sentences[s].indices.map { i in
                let n = first + i
                let mean = (0..<a.C).map { da[n * a.C + $0] + db[n * a.C + $0] }
                return a.tags[mean.indices.max { mean[$0] < mean[$1] }!]
            }
        }
        let both = try Trainer.ensemblePredict(models: [a, b], sentences: Self.sentences, lookahead: k)
        #expect(both.flatMap { $0 } == expected)
        // The two models disagree somewhere, so the test says something about the mean.
        #expect(Trainer.predict(model: a, sentences: Self.sentences, lookahead: k)
            != Trainer.predict(model: b, sentences: Self.sentences, lookahead: k))
    }

    @Test func membersMustShareTagsAndLookahead() throws {
        let a = try Self.model(seed: 5)
        let otherTags = try Self.model(seed: 6, tags: ["A", "D", "N", "P", "X"])
        #expect(throws: TrainingError.self) { try Trainer.ensemblePredict(models: [a, otherTags], sentences: Self.sentences, lookahead: 0) }
        let short = try Self.model(seed: 7, lookahead: 1)
        #expect(throws: TrainingError.self) { try Trainer.ensemblePredict(models: [a, short], sentences: Self.sentences, lookahead: 2) }
        #expect(throws: TrainingError.self) { try Trainer.ensemblePredict(models: [], sentences: Self.sentences, lookahead: 0) }
    }
}
