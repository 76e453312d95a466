import ArgumentParser
import Foundation

/// `bench e2e --security`: what the daemon under test runs.
enum E2ESecurity: String, ExpressibleByArgument, CaseIterable {
    /// No encryption (the default; loopback only).
    case plaintext
    /// CURVE on every socket, the generator an allowed client.
    case curve
    /// Both, each configuration measured on a plaintext daemon and then on a CURVE one.
    case both
}

/// CURVE's saturated rate over plaintext's for one configuration measured with both.
struct E2ECurveRatio: Encodable {
    let streams: Int
    let tokensPerMessage: Int
    /// Median saturated tags/s of the plaintext and the CURVE daemon.
    let plaintext: Double
    let curve: Double
    var ratio: Double { curve / plaintext }

    enum CodingKeys: String, CodingKey {
        case streams, tokensPerMessage = "tokens_per_message", plaintext = "plaintext_tags_per_s"
        case curve = "curve_tags_per_s", ratio
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(streams, forKey: .streams)
        try container.encode(tokensPerMessage, forKey: .tokensPerMessage)
        try container.encode(plaintext.rounded(), forKey: .plaintext)
        try container.encode(curve.rounded(), forKey: .curve)
        try container.encode(round3(ratio), forKey: .ratio)
    }
}

extension E2EReport {
    /// CURVE's saturated rate over plaintext's, per configuration measured with both.
    var curveRatios: [E2ECurveRatio] {
        zip(configs, curveConfigs).compactMap { plain, curve in
            guard plain.medianTagsPerSecond > 0 else { return nil }
            return E2ECurveRatio(streams: plain.streams, tokensPerMessage: plain.tokensPerMessage,
                                 plaintext: plain.medianTagsPerSecond, curve: curve.medianTagsPerSecond)
        }
    }

    func printCurveRatios() {
        for r in curveRatios {
            let plainCPU = configs.first { $0.streams == r.streams && $0.tokensPerMessage == r.tokensPerMessage }
                .map { medianCPU($0.saturated.map(\.cpu)).daemonMicrosecondsPerTag } ?? 0
            let curveCPU = curveConfigs.first { $0.streams == r.streams && $0.tokensPerMessage == r.tokensPerMessage }
                .map { medianCPU($0.saturated.map(\.cpu)).daemonMicrosecondsPerTag } ?? 0
            print(String(format: "  CURVE / plaintext %@×%d saturated: %@ / %@ tags/s = %.2f (target ≥ 0.7: %@); daemon CPU per tag %.2f → %.2f µs",
                         grouped(Double(r.streams)), r.tokensPerMessage, grouped(r.curve), grouped(r.plaintext), r.ratio,
                         r.ratio >= 0.7 ? "PASS" : "MISS", plainCPU, curveCPU))
        }
    }
}
