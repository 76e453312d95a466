import ArgumentParser
import CStreamTagKernels
import Foundation
import StreamTagCore
import StreamTagWire

/// Single-stream step latency and batched throughput of the recurrent core, one thread, for
/// the reference shape V=20,000, E=128, H=256, C=17 (1 LSTM layer, word features only, k=0).
/// A "token" is the whole per-token work: input projection, recurrent step, head, decode.
struct KernelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kernel", abstract: "Recurrent step latency and batched throughput.")

    @OptionGroup var bench: BenchOptions
    @Option(name: .long, help: "Vocabulary size V.") var vocabulary = 20_000
    @Option(name: .long, help: "Embedding width E.") var embeddingDim = 128
    @Option(name: .long, help: "Hidden width H.") var hiddenDim = 256
    @Option(name: .long, help: "Tags C.") var tags = 17
    @Option(name: .long, help: "Model file to measure instead of a random model of the shape above.") var model: String?

    func run() throws {
        let models = try makeModels()
        var table: [(String, String)] = []
        let m = models[0].1
        var report = KernelBenchReport(isa: String(cString: st_isa_name(st_active_isa())),
                                       shape: .init(V: m.vocabulary.count, E: m.E, H: m.H, C: m.C))
        for (precision, model) in models {
            let step = median((0..<bench.runs).map { _ in stepMicroseconds(model) })
            table.append(("single-stream step \(precision.rawValue)", String(format: "%.2f µs/token", step)))
            var throughput: [String: Double] = [:]
            for B in [1, 8, 64, 256] {
                let rate = median((0..<bench.runs).map { _ in batchedTokensPerSecond(model, batch: B) })
                throughput["\(B)"] = rate.rounded()
                table.append(("batched B=\(B) \(precision.rawValue)", String(format: "%.0f tokens/s", rate)))
            }
            report.precisions.append(.init(precision: precision, stepMicroseconds: (step * 100).rounded() / 100,
                                           tokensPerSecond: throughput))
        }
        printTable(title: "kernel (one thread, \(report.isa); V=\(m.vocabulary.count) E=\(m.E) H=\(m.H) C=\(m.C))", table)
        if bench.json { print(try jsonLine(report)) }
    }

    private func makeModels() throws -> [(Model.Precision, Model)] {
        let bundle: ModelBundle
        if let model {
            bundle = try ModelFile.read(path: model).bundle
        } else {
            let config = ModelConfig(embeddingDim: embeddingDim, hiddenDim: hiddenDim)
            bundle = ModelBundle.random(name: "bench", config: config,
                                        vocabulary: [Vocabulary.unknown] + (1..<vocabulary).map { "w\($0)" },
                                        tags: (0..<tags).map { "T\($0)" })
        }
        return try Model.Precision.allCases.map { ($0, try Model(bundle: bundle, sha256: String(repeating: "0", count: 64), precision: $0)) }
    }

    /// Tokens drawn from the vocabulary, fixed seed.
    private func tokenCodes(_ model: Model, count: Int) -> [TokenCode] {
        var rng = SplitMix64(seed: 42)
        return (0..<count).map { _ in TokenCode(word: Int32(1 + Int(rng.next() % UInt64(model.vocabulary.count - 1)))) }
    }

    /// µs per token for one stream: step + final head + decode.
    private func stepMicroseconds(_ model: Model) -> Double {
        let stepper = BatchStepper(model: model, maxBatch: 1)
        let state = AlignedBuffer<Float>(count: stepper.layout.floats)
        let scores = AlignedBuffer<Float>(count: model.C)
        let decoder = TagDecoder(tags: model.tags)
        let codes = tokenCodes(model, count: 4096)
        var checksum: Int32 = 0
        let start = monotonicSeconds()
        let n = 20_000
        codes.withUnsafeBufferPointer { codes in
            for i in 0..<n {
                stepper.step(states: state.pointer, tokens: codes.baseAddress! + (i & 4095), count: 1)
                stepper.scores(states: state.pointer, count: 1, seeing: model.k, into: scores.pointer)
                checksum &+= decoder.decode(scores.pointer, previous: -1).tag
            }
        }
        let elapsed = monotonicSeconds() - start
        if checksum == Int32.min { print("") }   // keep the work observable
        return elapsed / Double(n) * 1e6
    }

    /// Tokens per second for B streams advancing together.
    private func batchedTokensPerSecond(_ model: Model, batch B: Int) -> Double {
        let stepper = BatchStepper(model: model, maxBatch: B)
        let states = AlignedBuffer<Float>(count: B * stepper.layout.floats)
        let scores = AlignedBuffer<Float>(count: B * model.C)
        let decoder = TagDecoder(tags: model.tags)
        let codes = tokenCodes(model, count: 4096 + B)
        let steps = max(20, 200_000 / (B * 8))
        var checksum: Int32 = 0
        let start = monotonicSeconds()
        codes.withUnsafeBufferPointer { codes in
            for i in 0..<steps {
                stepper.step(states: states.pointer, tokens: codes.baseAddress! + (i * 7 & 4095), count: B)
                stepper.scores(states: states.pointer, count: B, seeing: model.k, into: scores.pointer)
                for b in 0..<B { checksum &+= decoder.decode(scores.pointer + b * model.C, previous: -1).tag }
            }
        }
        let elapsed = monotonicSeconds() - start
        if checksum == Int32.min { print("") }
        return Double(steps * B) / elapsed
    }
}

func printTable(title: String, _ rows: [(String, String)]) {
    print(title)
    let width = rows.map(\.0.count).max() ?? 0
    for (name, value) in rows { print("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value) }
}
