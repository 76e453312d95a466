import ArgumentParser
import Foundation
import StreamTagCore
import StreamTagTraining
import StreamTagWire

/// Training throughput with the fixed reference configuration: word + suffix-3 + shape
/// embeddings, E=128, H=256, 1 LSTM layer, batch 32, chunks of 32, all cores; V = 20,000.
/// Data: a synthetic Zipf-distributed corpus of EWT's size (204,577 tokens, 17 tags), or
/// `--data FILE` for real sentences.
struct TrainBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Training tokens/s (one epoch-equivalent).")

    @OptionGroup var bench: BenchOptions
    @Option(name: .long, help: "CoNLL-U or IOB file to train on instead of synthetic data.") var data: String?
    @Option(name: .long, help: "Worker threads (0 = one per core).") var threads = 0

    func run() throws {
        let sentences = try data.map { try readCorpus($0, format: nil, options: .init()).sentences } ?? synthetic()
        var options = TrainingOptions()
        options.embeddingDim = 128
        options.hiddenDim = 256
        options.layers = 1
        options.batchSize = 32
        options.chunkLength = 32
        options.minCount = 1
        options.maxVocabulary = 20_000
        options.features = [FeatureSpecOption(kind: "suffix", length: 3, buckets: 4096),
                            FeatureSpecOption(kind: "shape", length: 0, buckets: 512)]
        options.threads = threads
        let trainer = try Trainer(options: options, train: sentences, dev: [], name: "bench")
        var rates: [Double] = []
        for run in 0..<max(1, bench.runs) {
            let start = monotonicSeconds()
            let tokens = trainer.runEpoch(run + 1, learningRate: options.learningRate)
            rates.append(Double(tokens) / (monotonicSeconds() - start))
        }
        let rate = median(rates)
        let threadCount = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        printTable(title: "train (E=128 H=256 L=1 batch 32, word+suffix3+shape, V=\(trainer.vocabulary.count), \(threadCount) threads)",
                   [("tokens/s (median of \(rates.count))", String(format: "%.0f", rate)),
                    ("tokens per epoch", "\(trainer.trainTokenCount)")])
        if bench.json {
            print(try jsonLine(Report(tokensPerSecond: rate.rounded(), runs: rates.map { $0.rounded() }, threads: threadCount,
                                      vocabulary: trainer.vocabulary.count, tokens: trainer.trainTokenCount)))
        }
    }

    /// The `bench train --json` object.
    struct Report: Encodable {
        /// Median over the runs, whole tokens per second.
        let tokensPerSecond: Double
        /// Each run's tokens per second.
        let runs: [Double]
        let threads: Int
        let vocabulary: Int
        /// Tokens per epoch.
        let tokens: Int

        enum CodingKeys: String, CodingKey {
            case tokensPerSecond = "tokens_per_s", runs, threads, vocabulary, tokens
        }
    }

    /// 204,577 tokens in sentences of 5–30 words, word frequencies Zipf(1) over 20,000 types
    /// (each type at least once), tags a deterministic function of the word.
    private func synthetic() -> [Sentence] {
        var rng = SplitMix64(seed: 7)
        let types = 20_000, total = 204_577
        var cumulative: [Double] = []
        var sum = 0.0
        for r in 1...types { sum += 1 / Double(r); cumulative.append(sum) }
        var words = (0..<types).map { $0 }
        while words.count < total {
            let u = Double(rng.nextUnitFloat()) * sum
            var lo = 0, hi = types - 1
            while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] < u { lo = mid + 1 } else { hi = mid } }
            words.append(lo)
        }
        words.shuffle(using: &rng)
        var sentences: [Sentence] = []
        var i = 0
        while i < words.count {
            let n = min(5 + Int(rng.next() % 26), words.count - i)
            let slice = words[i..<(i + n)]
            sentences.append(Sentence(tokens: slice.map { "w\($0)" + ($0 % 3 == 0 ? "ing" : "") },
                                      tags: slice.map { "T\($0 % 17)" }))
            i += n
        }
        return sentences
    }
}
