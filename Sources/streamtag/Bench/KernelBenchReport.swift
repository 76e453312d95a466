import Foundation
import StreamTagCore

/// The `bench kernel --json` object: the ISA, the model's shape, and per precision the
/// single-stream step time and the batched rates. The fp32 figures are `step_us` and
/// `tokens_per_s`; another precision's carry its name: `step_us_bf16`, `tokens_per_s_bf16`.
struct KernelBenchReport: Encodable {
    /// The model's shape: vocabulary, embedding, hidden and tag counts.
    struct Shape: Encodable {
        let V: Int
        let E: Int
        let H: Int
        let C: Int
    }

    /// One precision's figures.
    struct PrecisionFigures {
        let precision: Model.Precision
        /// Median µs per token for one stream, two decimals.
        let stepMicroseconds: Double
        /// Median tokens/s by batch size ("1", "8", "64", "256"), whole tokens.
        let tokensPerSecond: [String: Double]
    }

    let isa: String
    let shape: Shape
    var precisions: [PrecisionFigures] = []

    init(isa: String, shape: Shape) {
        self.isa = isa
        self.shape = shape
    }

    /// Keys made at run time: each precision's pair has its own suffix.
    private struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.init(stringValue) }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(isa, forKey: Key("isa"))
        try container.encode(shape, forKey: Key("shape"))
        for figures in precisions {
            let suffix = figures.precision == .fp32 ? "" : "_\(figures.precision.rawValue)"
            try container.encode(figures.stepMicroseconds, forKey: Key("step_us" + suffix))
            try container.encode(figures.tokensPerSecond, forKey: Key("tokens_per_s" + suffix))
        }
    }
}
