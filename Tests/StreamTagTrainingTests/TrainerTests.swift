import Testing
@testable import StreamTagCore
@testable import StreamTagTraining

@Suite struct TrainerTests {
    /// A toy language where a word's tag depends on its left neighbour: "x" after "a" is N,
    /// after "b" it is V. Learnable only through the recurrent state.
    static func corpus(_ n: Int, seed: UInt64) -> [Sentence] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in
            var tokens: [String] = [], tags: [String] = []
            for _ in 0..<(3 + Int(rng.next() % 5)) {
                let first = rng.next() % 2 == 0 ? "a" : "b"
                tokens += [first, "x"]
                tags += ["D", first == "a" ? "N" : "V"]
            }
            return Sentence(tokens: tokens, tags: tags)
        }
    }

    static func options(threads: Int) -> TrainingOptions {
        var o = TrainingOptions()
        o.embeddingDim = 8
        o.hiddenDim = 16
        o.features = [FeatureSpecOption(kind: "suffix", length: 1, buckets: 8)]
        o.minCount = 1
        o.batchSize = 4
        o.chunkLength = 8
        o.epochs = 6
        o.learningRate = 0.02
        o.warmupSteps = 5
        o.threads = threads
        return o
    }

    @Test func learnsALeftContextDependency() throws {
        let trainer = try Trainer(options: Self.options(threads: 2), train: Self.corpus(80, seed: 1),
                                  dev: Self.corpus(20, seed: 2), name: "toy")
        let result = trainer.run()
        #expect(result.devScores.count == 1)
        #expect(result.devScores[0] > 0.97, "dev accuracy \(result.devScores[0])")
    }

    @Test func sameSeedSameModel() throws {
        func train() throws -> ModelBundle {
            var options = Self.options(threads: 2)
            options.epochs = 2
            let trainer = try Trainer(options: options, train: Self.corpus(40, seed: 1), dev: [], name: "toy")
            return trainer.run().bundle
        }
        let a = try train(), b = try train()
        #expect(a.weights == b.weights)
        var options = Self.options(threads: 2)
        options.epochs = 2
        options.seed = 2
        let c = try Trainer(options: options, train: Self.corpus(40, seed: 1), dev: [], name: "toy").run().bundle
        #expect(a.weights != c.weights)
    }

    @Test func featureOptionsParse() throws {
        let ngram = try FeatureSpecOption(parsing: "ngram3:8192")
        #expect(ngram == FeatureSpecOption(kind: "ngram", length: 3, buckets: 8192))
        #expect(ngram.description == "ngram3:8192")
        #expect(try FeatureSpecOption(parsing: "suffix2") == FeatureSpecOption(kind: "suffix", length: 2, buckets: 4096))
        #expect(try FeatureSpecOption(parsing: "shape:64") == FeatureSpecOption(kind: "shape", length: 0, buckets: 64))
        #expect(throws: TrainingError.self) { try FeatureSpecOption(parsing: "chars3:10") }
        #expect(throws: TrainingError.self) { try FeatureSpecOption(parsing: "ngram3:0") }
        var options = TrainingOptions()
        options.features = [ngram]
        #expect(try options.modelConfig().features == [FeatureSpec(.ngram, length: 3, buckets: 8192)])
        options.features = [FeatureSpecOption(kind: "ngram", length: 12, buckets: 10)]
        #expect(throws: TrainingError.self) { try options.modelConfig() }
        // More bucket slots than a token's code holds: refused before training, not after an epoch.
        options.features = [ngram, ngram, try FeatureSpecOption(parsing: "shape:16")]
        #expect(throws: TrainingError.self) { try options.modelConfig() }
    }

    @Test func epochSelectionScores() {
        let scores = [0.90, 0.94, 0.95]
        #expect(EpochSelection.final.score(scores) == 0.95)
        #expect(abs(EpochSelection.mean.score(scores) - 0.93) < 1e-12)
        #expect(EpochSelection.mean.score([]) == 0)
        #expect(EpochSelection.final.score([]) == 0)
    }

    @Test func meanSelectionTrainsALookaheadModel() throws {
        var options = Self.options(threads: 2)
        options.lookahead = 1
        options.selection = .mean
        options.firstHeadWeight = 1
        let result = try Trainer(options: options, train: Self.corpus(80, seed: 1), dev: Self.corpus(20, seed: 2),
                                 name: "toy").run()
        #expect(result.devScores.count == 2)
        #expect(result.devScores.allSatisfy { $0 > 0.9 }, "dev accuracy \(result.devScores)")
    }
}
