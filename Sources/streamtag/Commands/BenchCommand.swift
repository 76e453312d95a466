import ArgumentParser
import Foundation
import StreamTagCore

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: kernel (step latency, batched throughput), train (tokens/s), e2e (daemon over sockets), gateway (WebSocket against ZeroMQ), faults (fault drills), soak (long run).",
        subcommands: [KernelBenchCommand.self, TrainBenchCommand.self, E2EBenchCommand.self, GatewayBenchCommand.self,
                      FaultBenchCommand.self, SoakBenchCommand.self]
    )
}

/// Options every benchmark shares.
struct BenchOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON object on the last line (after the table).")
    var json = false
    @Option(name: .long, help: "Repetitions; the median is reported.")
    var runs = 5
}

/// Median of measurements.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Compact JSON for the last line of `--json` output: one line, keys sorted. Every benchmark's
/// report goes through this one encoder.
func jsonLine(_ report: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // JSON has no NaN or infinity. A figure divided by a zero duration is written as the string
    // "NaN", "Infinity" or "-Infinity" instead of losing the whole report (the dictionary
    // serializer used before threw here, and the `try!` around it crashed the run).
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return String(decoding: try encoder.encode(report), as: UTF8.self)
}
