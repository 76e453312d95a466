import Foundation
import StreamTagTraining

/// Shows training progress on stderr: one line rewritten in place on a terminal; otherwise
/// plain lines, at most one every 10 seconds, plus one per epoch.
final class TrainingProgressPrinter: @unchecked Sendable {
    let metric: String
    let terminal: Bool
    private var lastPlain = 0.0
    private var lineOpen = false

    init(metric: String, terminal: Bool) {
        self.metric = metric
        self.terminal = terminal
    }

    func show(_ p: TrainingProgress) {
        switch p.kind {
        case .step:
            let eta = p.remaining.map { String(format: "epoch ETA %@", duration($0)) } ?? ""
            let line = String(format: "epoch %d/%d  step %d/%d  %.0f tokens/s  loss %.4f  train acc %.2f%%  lr %.2g  %@",
                              p.epoch, p.epochs, p.step, p.stepsPerEpoch, p.tokensPerSecond, p.loss,
                              p.trainAccuracy * 100, Double(p.learningRate), eta)
            if terminal {
                printError("\r\u{1B}[K" + line, terminator: "")
                lineOpen = true
            } else if p.elapsed - lastPlain >= 10 {
                lastPlain = p.elapsed
                printError(line)
            }
        case .epoch:
            if lineOpen { printError("") ; lineOpen = false }
            let scores = p.devScores.enumerated().map { String(format: "k=%d %.2f%%", $0, $1 * 100) }
                .joined(separator: "  ")
            printError(String(format: "epoch %d done: dev %@ %@ (best %.2f%%)  %@ elapsed, %.0f tokens/s",
                              p.epoch, metric, scores, p.bestDevScore * 100, duration(p.elapsed), p.tokensPerSecond))
        }
    }

    func finish() {
        if lineOpen { printError("") }
    }
}

func duration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s / 60 % 60) : String(format: "%dm%02ds", s / 60, s % 60)
}
