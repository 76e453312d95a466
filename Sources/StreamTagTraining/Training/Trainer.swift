import Dispatch
import Foundation
import StreamTagCore

/// Trains a tagger: builds the vocabulary and tag set, then epochs of truncated
/// backpropagation through time over parallel streams (data parallel over worker threads),
/// Adam with warm-up, clipping and a learning rate halved on dev plateaus, early stopping on
/// the dev score. The best epoch's weights are the result.
public final class Trainer {
    public let options: TrainingOptions
    public let config: ModelConfig
    public let vocabulary: [String]
    public let tags: [String]
    let train: EncodedCorpus
    let devSentences: [Sentence]
    let dev: EncodedCorpus
    let params: Parameters
    let workers: [TrainWorker]
    let sparse: [SparseGradient]
    var adam: Adam
    var rng: SplitMix64
    public let name: String

    /// Called after each step and epoch with what to show.
    public var progress: (TrainingProgress) -> Void = { _ in }
    /// Dev score of predictions (higher is better); defaults to token accuracy.
    public var devScore: ([[String]], [Sentence]) -> Double = Trainer.tokenAccuracy

    /// The word-class lexicon of a `lexicon` feature (saved in the model).
    public let lexicon: Lexicon?

    /// `teacher`: a model whose tag distributions the tag losses learn from too
    /// (`options.distillWeight`); it must have the same tag set. `lexicon`: required when the
    /// options have a `lexicon` feature.
    public init(options: TrainingOptions, train: [Sentence], dev: [Sentence], name: String, teacher: Model? = nil,
                lexicon: Lexicon? = nil) throws {
        self.options = options
        self.name = name
        config = try options.modelConfig()
        guard !train.isEmpty else { throw TrainingError("the training data has no sentences") }
        let wantsLexicon = config.features.contains { $0.kind == .lexicon }
        guard wantsLexicon == (lexicon != nil) else {
            throw TrainingError(wantsLexicon ? "a lexicon feature needs a lexicon" : "a lexicon needs a lexicon feature")
        }
        self.lexicon = lexicon
        vocabulary = buildVocabulary(train, lowercase: options.lowercase, minCount: options.minCount,
                                     maxSize: options.maxVocabulary)
        tags = buildTagSet(train)
        guard !tags.isEmpty else { throw TrainingError("the training data has no tags") }
        let vocab = Vocabulary(words: vocabulary, lowercase: options.lowercase)
        let tagIndex = Dictionary(uniqueKeysWithValues: tags.enumerated().map { ($1, Int32($0)) })
        var encoded = EncodedCorpus(sentences: train, vocabulary: vocab, tagIndex: tagIndex, features: config.features,
                                    lexicon: lexicon)
        if let teacher, options.distillWeight > 0 {
            guard teacher.tags == tags else { throw TrainingError("the teacher's tags differ from the training data's") }
            encoded.teacher = Trainer.tagDistributions(model: teacher, sentences: train.map(\.tokens))
        }
        self.train = encoded
        devSentences = dev
        self.dev = EncodedCorpus(sentences: dev, vocabulary: vocab, tagIndex: tagIndex, features: config.features,
                                 lexicon: lexicon)
        rng = SplitMix64(seed: options.seed)
        var initial = ModelBundle.random(name: name, config: config, vocabulary: vocabulary, tags: tags,
                                         seed: options.seed, lexicon: lexicon)
        // A forget-gate bias of 1 helps LSTMs keep state early in training.
        if config.cell == .lstm {
            let H = config.hiddenDim
            for l in initial.weights.layers.indices {
                for j in H..<(2 * H) { initial.weights.layers[l].inputBias[j] = 1 }
            }
        }
        params = Parameters(bundle: initial, nextTagClasses: options.nextTagWeight > 0 ? tags.count : 0,
                            nextWordClasses: options.nextWordWeight > 0 ? max(2, options.nextWordClasses) : 0,
                            seed: options.seed)
        let threads = options.threads > 0 ? options.threads : ProcessInfo.processInfo.activeProcessorCount
        let workerCount = max(1, min(threads, options.batchSize))
        var workers: [TrainWorker] = []
        var row = 0
        for w in 0..<workerCount {
            let rows = options.batchSize / workerCount + (w < options.batchSize % workerCount ? 1 : 0)
            workers.append(TrainWorker(params: params, rows: rows, firstRow: row, chunk: options.chunkLength))
            row += rows
        }
        self.workers = workers
        sparse = params.all.filter(\.sparse).map(SparseGradient.init)
        adam = Adam(beta1: options.adamBeta1, beta2: options.adamBeta2, epsilon: options.adamEpsilon)
        configureBLAS()
    }

    public var trainTokenCount: Int { train.tokenCount }

    /// The weights as a model bundle: their moving average when enabled (what is evaluated and
    /// saved), else the current values.
    public func bundle(training: String? = nil) -> ModelBundle {
        ModelBundle(name: name, config: config, vocabulary: vocabulary, tags: tags,
                    weights: params.weights(averaged: options.averageDecay > 0), created: nil, training: training,
                    lexicon: lexicon)
    }
}

/// What the trainer reports while it runs.
public struct TrainingProgress: Sendable {
    public enum Kind: Sendable { case step, epoch }
    public var kind: Kind
    public var epoch: Int
    public var epochs: Int
    public var step: Int
    public var stepsPerEpoch: Int
    public var tokensPerSecond: Double
    public var loss: Double
    public var trainAccuracy: Double
    public var learningRate: Float
    /// Dev scores by lookahead (index k'), after an epoch.
    public var devScores: [Double]
    public var bestDevScore: Double
    public var elapsed: Double
    public var remaining: Double?
}
