import Foundation
import Testing
@testable import StreamTagCore
@testable import StreamTagTraining

/// Backpropagation checked against central finite differences of the training objective, for
/// every cell kind, two layers, features, lookahead heads, resets and a carried state.
@Suite struct GradientTests {
    static let sentences: [Sentence] = [
        Sentence(tokens: ["the", "cat", "sat", "down"], tags: ["D", "N", "V", "A"]),
        Sentence(tokens: ["a", "dog", "ran"], tags: ["D", "N", "V"]),
        Sentence(tokens: ["Cats", "sat", "on", "the", "mat", "today"], tags: ["N", "V", "P", "D", "N", "A"]),
        Sentence(tokens: ["dogs", "barked"], tags: ["N", "V"]),
        Sentence(tokens: ["the", "mat", "was", "red", "."], tags: ["D", "N", "V", "A", "P"]),
    ]

    func makeTrainer(cell: CellKindName, dropout: Float, auxiliary: Bool = false) throws -> Trainer {
        var options = TrainingOptions()
        options.cell = cell
        options.layers = 2
        options.embeddingDim = 4
        options.hiddenDim = 5
        options.lookahead = 2
        options.minCount = 1
        options.features = [FeatureSpecOption(kind: "suffix", length: 2, buckets: 7),
                            FeatureSpecOption(kind: "shape", length: 0, buckets: 5),
                            FeatureSpecOption(kind: "ngram", length: 3, buckets: 6)]
        options.batchSize = 2
        options.chunkLength = 4
        options.threads = 1
        options.inputDropout = dropout
        options.hiddenDropout = dropout
        options.wordDropout = 0
        options.resetProbability = 0.5
        options.seed = 7
        if auxiliary {
            options.labelSmoothing = 0.1
            options.nextTagWeight = 0.5
            options.nextWordWeight = 0.3
            options.nextWordClasses = 6
            options.distillWeight = 0.3
            options.firstHeadWeight = 1.5   // head 0 weighted apart from head 1 (0.5)
            // A random teacher with lookahead 1: soft targets for every token.
            let config = ModelConfig(cell: .gru, layers: 1, embeddingDim: 3, hiddenDim: 4, lookahead: 1,
                                     features: [FeatureSpec(.suffix, length: 1, buckets: 5)])
            let bundle = ModelBundle.random(config: config, vocabulary: ["<unk>", "the", "cat"],
                                            tags: ["A", "D", "N", "P", "V"], seed: 11)
            return try Trainer(options: options, train: Self.sentences, dev: [], name: "grad", teacher: try Model(bundle: bundle))
        }
        return try Trainer(options: options, train: Self.sentences, dev: [], name: "grad")
    }

    /// Runs chunk 1 (so the carried state from chunk 0 matters) and returns the objective.
    func objective(_ trainer: Trainer, _ worker: TrainWorker, plan: EpochPlan, carry: [[Float]]) -> Double {
        let all = worker.carryH + worker.carryC
        for (buffer, values) in zip(all, carry) { buffer.pointer.update(from: values, count: values.count) }
        worker.rng = SplitMix64(seed: 99)
        worker.fill(plan: plan, corpus: trainer.train, chunk: 1, wordDropout: 0)
        worker.forward()
        return worker.objective
    }

    /// The auxiliary next-tag / next-word heads, label smoothing, distillation targets and a k'=0
    /// head weight of its own, with
    /// and without dropout.
    @Test(arguments: [Float(0), 0.3])
    func auxiliaryLossGradientsMatchFiniteDifferences(dropout: Float) throws {
        try gradientsMatchFiniteDifferences(cell: .lstm, dropout: dropout, auxiliary: true)
    }

    @Test(arguments: [(CellKindName.lstm, Float(0)), (.gru, 0), (.rnnTanh, 0), (.rnnRelu, 0), (.lstm, 0.3)])
    func gradientsMatchFiniteDifferences(cell: CellKindName, dropout: Float) throws {
        try gradientsMatchFiniteDifferences(cell: cell, dropout: dropout, auxiliary: false)
    }

    func gradientsMatchFiniteDifferences(cell: CellKindName, dropout: Float, auxiliary: Bool) throws {
        let trainer = try makeTrainer(cell: cell, dropout: dropout, auxiliary: auxiliary)
        let worker = trainer.workers[0]
        worker.inputDropout = dropout
        worker.hiddenDropout = dropout
        worker.normalizer = 3
        worker.labelSmoothing = trainer.options.labelSmoothing
        worker.distillWeight = trainer.options.distillWeight
        worker.provisionalWeight = trainer.options.provisionalWeight
        worker.firstHeadWeight = trainer.options.firstHeadWeight ?? trainer.options.provisionalWeight
        worker.weightDrop = dropout   // DropConnect on W_hh along with the other dropouts
        #expect(trainer.train.teacher.isEmpty != auxiliary)
        worker.nextTagWeight = trainer.options.nextTagWeight
        worker.nextWordWeight = trainer.options.nextWordWeight
        var rng = SplitMix64(seed: 3)
        let plan = EpochPlan(corpus: trainer.train, rows: 2, resetProbability: 0.5, keepDocuments: false, rng: &rng)
        // A non-zero carried state, as after an earlier chunk.
        let carry = (worker.carryH + worker.carryC).map { b in (0..<b.count).map { _ in rng.nextUnitFloat() - 0.5 } }

        _ = objective(trainer, worker, plan: plan, carry: carry)
        #expect(worker.seeing.contains { $0 >= 0 && $0 < 2 }, "the chunk should hold truncated windows")
        worker.zeroGradients()
        _ = objective(trainer, worker, plan: plan, carry: carry)
        worker.backward()

        // Analytic gradients: dense from the worker, embeddings scattered from dx.
        var analytic: [ObjectIdentifier: [Float]] = [:]
        for p in trainer.params.dense { analytic[ObjectIdentifier(p)] = Array(UnsafeBufferPointer(start: worker.grad(p), count: p.count)) }
        // Table 0 is the word embedding, table 1 + f feature f's; an n-gram bag has one slot per
        // n-gram (-1: none), all on its table.
        let E = trainer.config.embeddingDim, slotFeatures = trainer.config.features.slotFeatures, F = slotFeatures.count
        var tables = trainer.params.all.filter(\.sparse).map { [Float](repeating: 0, count: $0.count) }
        var ngramRows = 0
        for n in 0..<(worker.T * worker.B) {
            var rows = [(table: 0, row: Int(worker.words[n]))]
            for f in 0..<F where worker.featureIDs[n * F + f] >= 0 {
                rows.append((1 + slotFeatures[f], Int(worker.featureIDs[n * F + f])))
                if trainer.config.features[slotFeatures[f]].kind == .ngram { ngramRows += 1 }
            }
            for (t, row) in rows {
                for e in 0..<E { tables[t][row * E + e] += worker.dEmbedded.pointer[n * E + e] }
            }
        }
        #expect(ngramRows > worker.T * worker.B, "tokens have several n-grams each")
        for (p, g) in zip(trainer.params.all.filter(\.sparse), tables) { analytic[ObjectIdentifier(p)] = g }

        // ReLU has kinks: a smaller step keeps most differences on one side of them, at the price
        // of float rounding in the differences, hence its looser bound (a wrong term is off by ~100%).
        let eps: Float = cell == .rnnRelu ? 3e-4 : 1e-2
        let bound = cell == .rnnRelu ? 6e-2 : 2e-2
        for p in trainer.params.all {
            let g = analytic[ObjectIdentifier(p)]!
            var diff = 0.0, norm = 0.0
            // Every element of small tensors; a spread of elements of larger ones.
            let indices = p.count <= 64 ? Array(0..<p.count) : (0..<64).map { ($0 * 7919) % p.count }
            for i in indices {
                let saved = p.values[i]
                p.values[i] = saved + eps
                let plus = objective(trainer, worker, plan: plan, carry: carry)
                p.values[i] = saved - eps
                let minus = objective(trainer, worker, plan: plan, carry: carry)
                p.values[i] = saved
                let numeric = (plus - minus) / Double(2 * eps)
                diff += (numeric - Double(g[i])) * (numeric - Double(g[i]))
                norm += numeric * numeric
            }
            let relative = diff.squareRoot() / max(norm.squareRoot(), 1e-6)
            #expect(relative < bound, "\(cell) \(p.name): relative error \(relative), |g| \(norm.squareRoot())")
            if p.name.hasPrefix("rnn.weight_hh") || p.name == "head.weight" || p.name.hasPrefix("aux.") {
                #expect(norm > 1e-8, "\(p.name) should get a gradient")
            }
        }
    }
}
