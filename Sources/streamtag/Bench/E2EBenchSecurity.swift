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

extension E2EReport {
    /// CURVE's saturated rate over plaintext's, per configuration measured with both.
    var curveRatios: [(streams: Int, tokens: Int, plaintext: Double, curve: Double, ratio: Double)] {
        zip(configs, curveConfigs).compactMap { plain, curve in
            guard plain.medianTagsPerSecond > 0 else { return nil }
            return (plain.streams, plain.tokensPerMessage, plain.medianTagsPerSecond, curve.medianTagsPerSecond,
                    curve.medianTagsPerSecond / plain.medianTagsPerSecond)
        }
    }

    func printCurveRatios() {
        for r in curveRatios {
            let plainCPU = configs.first { $0.streams == r.streams && $0.tokensPerMessage == r.tokens }
                .map { medianCPU($0.saturated.map(\.cpu)).daemonMicrosecondsPerTag } ?? 0
            let curveCPU = curveConfigs.first { $0.streams == r.streams && $0.tokensPerMessage == r.tokens }
                .map { medianCPU($0.saturated.map(\.cpu)).daemonMicrosecondsPerTag } ?? 0
            print(String(format: "  CURVE / plaintext %@×%d saturated: %@ / %@ tags/s = %.2f (target ≥ 0.7: %@); daemon CPU per tag %.2f → %.2f µs",
                         grouped(Double(r.streams)), r.tokens, grouped(r.curve), grouped(r.plaintext), r.ratio,
                         r.ratio >= 0.7 ? "PASS" : "MISS", plainCPU, curveCPU))
        }
    }

    /// The CURVE daemon's configurations and the ratios, for `--json`.
    var curveJSON: [String: Any] {
        ["configs": curveConfigs.map(\.json),
         "ratios": curveRatios.map { ["streams": $0.streams, "tokens_per_message": $0.tokens,
                                      "plaintext_tags_per_s": $0.plaintext.rounded(), "curve_tags_per_s": $0.curve.rounded(),
                                      "ratio": round3($0.ratio)] }]
    }
}
