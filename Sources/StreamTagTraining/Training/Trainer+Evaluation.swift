import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StreamTagCore

extension Trainer {
    /// The current weights as a runnable model (no file hash: a fixed placeholder id).
    func currentModel() -> Model {
        try! Model(bundle: bundle(), sha256: String(repeating: "0", count: 64))
    }

    /// Dev scores at every lookahead k' = 0...k, tagging through the inference path.
    func evaluateDev() -> [Double] {
        guard !devSentences.isEmpty else { return [] }
        let model = currentModel()
        return (0...config.lookahead).map { k in
            let predicted = Trainer.predict(model: model, sentences: devSentences.map(\.tokens), lookahead: k)
            return devScore(predicted, devSentences)
        }
    }

    /// Tags sentences (each its own stream) on two threads; returns tag names.
    public static func predict(model: Model, sentences: [[String]], lookahead: Int? = nil, threads: Int = 2) -> [[String]] {
        let parts = max(1, min(threads, sentences.count))
        let chunk = (sentences.count + parts - 1) / parts
        // One slot per part, each written by its own thread. Slots of a Swift array would not
        // do: every write touches the array itself (ThreadSanitizer caught that race).
        let results = UnsafeMutableBufferPointer<[[String]]>.allocate(capacity: parts)
        results.initialize(repeating: [])
        defer { results.deinitialize(); results.deallocate() }
        nonisolated(unsafe) let slots = results
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let slice = Array(sentences[min(p * chunk, sentences.count)..<min((p + 1) * chunk, sentences.count)])
            var tagger = SequenceTagger(model: model, maxBatch: 64, lookahead: lookahead)
            slots[p] = tagger.tag(slice).map { $0.map { model.tags[Int($0.tag)] } }
        }
        return results.flatMap { $0 }
    }

    /// Every token's tag distribution from the head that gives its final tag at lookahead
    /// `lookahead` (default: the model's) — [N, C], corpus order; each sentence is its own
    /// stream, and tokens near its end come from the heads that see what is left.
    public static func tagDistributions(model: Model, sentences: [[String]], lookahead: Int? = nil) -> [Float] {
        let C = model.C, k = min(lookahead ?? model.k, model.k)
        var out: [Float] = []
        out.reserveCapacity(sentences.reduce(0) { $0 + $1.count } * C)
        var tagger = StreamTagger(model: model)
        func append(_ scores: [Float]) {
            let m = scores.max() ?? 0
            let e = scores.map { expf($0 - m) }
            let sum = e.reduce(0, +)
            out.append(contentsOf: e.map { $0 / sum })
        }
        for sentence in sentences {
            let n = sentence.count
            for (i, token) in sentence.enumerated() {
                _ = tagger.feed(token)
                if i >= k { append(tagger.scores(seeing: k)) }
            }
            for j in (0..<min(k, n)).reversed() { append(tagger.scores(seeing: j)) }
            _ = tagger.finish()
        }
        return out
    }

    /// Tags from the mean of several models' tag distributions at lookahead `lookahead` (an
    /// ensemble: what averaging independently trained models would reach). The models share
    /// one tag set and have at least that lookahead; decoding is the first model's (its IOB
    /// constraints, if any), on the log of the mean.
    public static func ensemblePredict(models: [Model], sentences: [[String]], lookahead: Int) throws(TrainingError) -> [[String]] {
        guard let first = models.first else { throw TrainingError("an ensemble needs at least one model") }
        for model in models {
            guard model.tags == first.tags else { throw TrainingError("\(model.id) has other tags than \(first.id)") }
            guard model.k >= lookahead else { throw TrainingError("\(model.id) has lookahead \(model.k), less than \(lookahead)") }
        }
        let C = first.C
        var mean = [Float](repeating: 0, count: sentences.reduce(0) { $0 + $1.count } * C)
        for model in models {
            let d = tagDistributions(model: model, sentences: sentences, lookahead: lookahead)
            for i in mean.indices { mean[i] += d[i] / Float(models.count) }
        }
        let decoder = TagDecoder(tags: first.tags)
        var logMean = [Float](repeating: 0, count: C)
        var token = 0
        return sentences.map { sentence in
            var previous: Int32 = -1
            return sentence.map { _ in
                for c in 0..<C { logMean[c] = logf(max(mean[token * C + c], .leastNormalMagnitude)) }
                token += 1
                previous = logMean.withUnsafeBufferPointer { decoder.decode($0.baseAddress!, previous: previous).tag }
                return first.tags[Int(previous)]
            }
        }
    }

    /// Share of tokens whose predicted tag equals the gold tag.
    public static func tokenAccuracy(_ predicted: [[String]], _ gold: [Sentence]) -> Double {
        var right = 0, total = 0
        for (p, g) in zip(predicted, gold) {
            for (a, b) in zip(p, g.tags) {
                total += 1
                if a == b { right += 1 }
            }
        }
        return total == 0 ? 0 : Double(right) / Double(total)
    }
}
