import Dispatch
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
        let results = UnsafeSendableBox(Array(repeating: [[String]](), count: parts))
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let slice = Array(sentences[min(p * chunk, sentences.count)..<min((p + 1) * chunk, sentences.count)])
            var tagger = SequenceTagger(model: model, maxBatch: 64, lookahead: lookahead)
            let out = tagger.tag(slice).map { $0.map { model.tags[Int($0.tag)] } }
            results.value[p] = out
        }
        return results.value.flatMap { $0 }
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

/// Lets parallel workers write to distinct slots of one array.
final class UnsafeSendableBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
