import Foundation
import StreamTagCore

/// What a model's `training` metadata records (`docs/model-format.md#metadata`): the data, the
/// options and the outcome of the run, so that it can be repeated and compared. To the model
/// loader it is an opaque JSON object; `streamtag tag` reads `column` from it.
///
/// Encoded with sorted keys and no spaces, the layout earlier versions wrote (they built the
/// same keys by hand), so old and new models read the same way.
public struct TrainingMetadata: Codable, Sendable, Equatable {
    /// One data file of the run.
    public struct DataFile: Codable, Sendable, Equatable {
        /// `train` or `dev`.
        public var role: String
        /// The file's name (without its directory).
        public var file: String
        /// Hex SHA-256 of the file's bytes.
        public var sha256: String
        public var sentences: Int
        public var tokens: Int

        public init(role: String, file: String, sha256: String, sentences: Int, tokens: Int) {
            self.role = role
            self.file = file
            self.sha256 = sha256
            self.sentences = sentences
            self.tokens = tokens
        }
    }

    public var data: [DataFile]
    public var options: TrainingOptions
    /// `accuracy` or `entity F1`: what `devScores` measure.
    public var devMetric: String
    /// Dev scores at the best epoch by lookahead: `k0`, `k1`, … (rounded to 6 decimals).
    public var devScores: [String: Double]
    public var epochsRun: Int
    public var bestEpoch: Int
    /// Wall-clock training time, rounded to 0.1 s.
    public var seconds: Double
    public var tokensPerSecond: Double
    public var threads: Int
    /// The trainer's version.
    public var streamtag: String
    /// CoNLL-U tag column trained on: `upos` or `xpos`.
    public var column: String

    enum CodingKeys: String, CodingKey {
        case data, options, seconds, threads, streamtag, column
        case devMetric = "dev_metric"
        case devScores = "dev_scores"
        case epochsRun = "epochs_run"
        case bestEpoch = "best_epoch"
        case tokensPerSecond = "tokens_per_s"
    }

    /// The metadata of a finished run (times and scores rounded as stored).
    public init(data: [DataFile], options: TrainingOptions, devMetric: String, result: TrainingResult,
                streamtag: String, column: String) {
        self.data = data
        self.options = options
        self.devMetric = devMetric
        var scores: [String: Double] = [:]
        for (k, score) in result.devScores.enumerated() { scores["k\(k)"] = (score * 1e6).rounded() / 1e6 }
        devScores = scores
        epochsRun = result.epochsRun
        bestEpoch = result.bestEpoch
        seconds = (result.seconds * 10).rounded() / 10
        tokensPerSecond = result.tokensPerSecond.rounded()
        threads = options.threads
        self.streamtag = streamtag
        self.column = column
    }

    /// The metadata's JSON text: sorted keys, no spaces, slashes unescaped.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The `column` of a model's `training` metadata, if it is a JSON object that has one
    /// (models from other trainers may hold anything else there).
    public static func column(in training: String) -> String? {
        struct ColumnOnly: Decodable { var column: String? }
        return (try? JSONDecoder().decode(ColumnOnly.self, from: Data(training.utf8)))?.column
    }
}
