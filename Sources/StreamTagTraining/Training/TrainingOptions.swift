import StreamTagCore

/// Everything that shapes a training run besides the data: model shape and hyperparameters.
/// Stored in the model's `training` metadata so a run can be repeated.
public struct TrainingOptions: Codable, Sendable, Equatable {
    // Model shape.
    public var cell: CellKindName = .lstm
    public var layers = 1
    public var embeddingDim = 128
    public var hiddenDim = 256
    public var lookahead = 0
    public var lowercase = false
    public var features: [FeatureSpecOption] = TrainingOptions.defaultFeatures
    /// Words seen fewer times than this in training map to the unknown row.
    public var minCount = 2
    /// At most this many words (the most frequent) get their own row; 0 = no limit.
    public var maxVocabulary = 0

    // Optimisation.
    public var epochs = 30
    /// Rows (parallel streams) per batch, split across the workers.
    public var batchSize = 32
    /// Tokens per row per step of truncated backpropagation through time.
    public var chunkLength = 32
    public var learningRate: Float = 2e-3
    /// Linear warm-up over this many steps.
    public var warmupSteps = 200
    public var adamBeta1: Float = 0.9
    public var adamBeta2: Float = 0.999
    public var adamEpsilon: Float = 1e-8
    /// Global gradient norm cap.
    public var clipNorm: Float = 5
    /// Dropout on the input vector, between layers, and on the states the heads read.
    public var inputDropout: Float = 0.25
    public var hiddenDropout: Float = 0.3
    /// Probability of replacing a known word by the unknown row (its features stay).
    public var wordDropout: Float = 0.1
    /// Loss weight of the provisional heads (the final head for a position has weight 1).
    public var provisionalWeight: Float = 0.5
    /// Loss weight of the k'=0 head where it is provisional (nil = `provisionalWeight`): the head
    /// that tags a token on arrival, which serves `--lookahead 0` from a model with k > 0.
    public var firstHeadWeight: Float? = nil
    /// Which dev score picks the best epoch (and drives the plateau schedule and early stopping).
    public var selection: EpochSelection = .final
    /// At each sentence boundary the stream is reset with this probability, otherwise the state
    /// carries on into the next sentence: the model learns both sentence-at-a-time use and long
    /// unsegmented streams.
    public var resetProbability: Float = 0.5
    /// Keep documents together (sentences of one document follow each other) instead of
    /// shuffling sentences independently.
    public var keepDocuments = false
    /// Halve the learning rate when the dev score has not improved for this many epochs...
    public var decayPatience = 1
    /// ...and stop when it has not improved for this many.
    public var stopPatience = 4
    /// Evaluate and save an exponential moving average of the weights with this decay per step
    /// (0 = the raw weights). Averaging smooths the end of training's noise.
    public var averageDecay: Float = 0.999
    /// For tokens that reach the model as the unknown word (rare, or hidden by word dropout),
    /// replace each `lower` feature's bucket by a random one with this probability: at test time
    /// an unseen word's `lower` bucket is another word's row, and the model should not trust it
    /// the way it trusts a bucket trained on the very token.
    public var lowerNoise: Float = 0
    /// Learning-rate schedule: `plateau` halves on dev plateaus; `cosine` decays to 0 over
    /// `epochs` (after warm-up), still keeping the best epoch.
    public var schedule: LearningRateSchedule = .plateau
    /// Label smoothing of the tag losses (share of the target mass spread over all tags).
    public var labelSmoothing: Float = 0
    /// DropConnect rate on the recurrent matrices W_hh (a fresh mask per chunk).
    public var weightDrop: Float = 0
    /// Training-only auxiliary losses from the top state at t (not saved in the model):
    /// predicting the next token's tag, and the next word (its vocabulary row among the
    /// `nextWordClasses` most frequent words; the rest share class 0).
    public var nextTagWeight: Float = 0
    public var nextWordWeight: Float = 0
    public var nextWordClasses = 2048
    /// Distillation: the tag losses' target mixes this share of a teacher model's distribution
    /// (its final head, per sentence) into the gold one-hot; the teacher is given to the trainer.
    public var distillWeight: Float = 0
    public var seed: UInt64 = 1
    /// Worker threads (data parallel); 0 = one per core.
    public var threads = 0

    public init() {}

    public static let defaultFeatures: [FeatureSpecOption] = [
        .init(kind: "prefix", length: 1, buckets: 1024),
        .init(kind: "prefix", length: 2, buckets: 4096),
        .init(kind: "suffix", length: 1, buckets: 1024),
        .init(kind: "suffix", length: 2, buckets: 4096),
        .init(kind: "suffix", length: 3, buckets: 8192),
        .init(kind: "suffix", length: 4, buckets: 8192),
        .init(kind: "shape", length: 0, buckets: 1024),
        .init(kind: "lower", length: 0, buckets: 16384),
    ]

    /// The model config these options describe.
    public func modelConfig() throws -> ModelConfig {
        guard let cell = CellKind(rawValue: cell.rawValue) else { throw TrainingError("unknown cell \(cell)") }
        let specs = try features.map { option -> FeatureSpec in
            guard let kind = FeatureSpec.Kind(rawValue: option.kind) else {
                throw TrainingError("unknown feature kind \(option.kind) (known: \(FeatureSpec.Kind.names))")
            }
            return FeatureSpec(kind, length: option.length, buckets: option.buckets)
        }
        let config = ModelConfig(cell: cell, layers: layers, embeddingDim: embeddingDim, hiddenDim: hiddenDim,
                                 lookahead: lookahead, lowercase: lowercase, features: specs)
        do { try config.validate() } catch { throw TrainingError(error.message) }
        return config
    }
}

/// How the learning rate moves over the run.
public enum LearningRateSchedule: String, Codable, Sendable, CaseIterable {
    case plateau, cosine
}

/// The dev score that picks the best epoch: the final head's accuracy (`final`, at lookahead
/// k), or the mean of the accuracies at every lookahead k' = 0...k (`mean`).
public enum EpochSelection: String, Codable, Sendable, CaseIterable {
    case final, mean

    /// The selection score of dev scores by lookahead (index k').
    public func score(_ scores: [Double]) -> Double {
        switch self {
        case .final: scores.last ?? 0
        case .mean: scores.isEmpty ? 0 : scores.reduce(0, +) / Double(scores.count)
        }
    }
}

/// Cell names as the command line and metadata spell them.
public enum CellKindName: String, Codable, Sendable, CaseIterable {
    case lstm, gru
    case rnnTanh = "rnn_tanh"
    case rnnRelu = "rnn_relu"
}

/// A feature as an option: `suffix3:8192`, `prefix2:4096`, `shape:1024`.
public struct FeatureSpecOption: Codable, Sendable, Equatable, CustomStringConvertible {
    public var kind: String
    public var length: Int
    public var buckets: Int

    public init(kind: String, length: Int, buckets: Int) {
        self.kind = kind
        self.length = length
        self.buckets = buckets
    }

    /// Parses `suffix3:8192` / `shape:1024` / `prefix2` / `ngram3:8192` (default buckets 4096).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1)
        let name = String(parts.first ?? "")
        let buckets = parts.count > 1 ? Int(parts[1]) : name == "lexicon" ? Lexicon.classes : 4096
        guard let buckets, buckets > 0 else { throw TrainingError("feature \(text): bucket count must be a positive integer") }
        let letters = name.prefix { $0.isLetter }
        let digits = name.dropFirst(letters.count)
        guard let kind = FeatureSpec.Kind(rawValue: String(letters)) else {
            throw TrainingError("feature \(text): kind must be one of \(FeatureSpec.Kind.names)")
        }
        let length = digits.isEmpty ? (kind.hasLength ? 3 : 0) : Int(digits) ?? -1
        guard length >= 0 else { throw TrainingError("feature \(text): bad length") }
        self.init(kind: kind.rawValue, length: length, buckets: buckets)
    }

    public var description: String {
        FeatureSpec.Kind(rawValue: kind)?.hasLength == true ? "\(kind)\(length):\(buckets)" : "\(kind):\(buckets)"
    }
}

/// A training failure with a message for people.
public struct TrainingError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
