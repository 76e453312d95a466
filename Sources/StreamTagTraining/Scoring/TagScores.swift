/// Token-level tagging scores: accuracy, per-tag precision/recall/F1/support, macro, weighted
/// and micro averages, and the confusions, as a value that renders as a table and encodes to JSON.
///
/// Rates are fractions in 0...1 (the table shows percentages); a rate whose denominator is 0 is
/// 0. Averages run over every tag that occurs in gold or predictions. With one tag per token,
/// micro precision, recall and F1 all equal accuracy; they are kept for uniform reports.
public struct TagScores: Codable, Sendable, Equatable {
    /// Scores of one tag.
    public struct Row: Codable, Sendable, Equatable {
        public var tag: String
        public var precision: Double
        public var recall: Double
        public var f1: Double
        /// Gold occurrences.
        public var support: Int
        /// Predicted occurrences, and how many of those were right.
        public var predicted: Int
        public var correct: Int
    }

    /// An average of per-tag precision, recall and F1.
    public struct Average: Codable, Sendable, Equatable {
        public var precision: Double
        public var recall: Double
        public var f1: Double
    }

    /// One off-diagonal cell of the confusion matrix: `count` tokens of `gold` tagged `predicted`.
    public struct Confusion: Codable, Sendable, Equatable {
        public var gold: String
        public var predicted: String
        public var count: Int
    }

    public var tokens: Int
    public var correct: Int
    public var accuracy: Double
    /// One row per tag, by support (descending), then predicted count (descending), then tag.
    public var tags: [Row]
    /// Unweighted mean over tags.
    public var macro: Average
    /// Mean over tags weighted by support.
    public var weighted: Average
    /// Pooled over all tokens (equal to accuracy for single-label tagging).
    public var micro: Average
    /// Every confusion, most frequent first (ties by gold tag, then predicted tag).
    public var confusions: [Confusion]

    /// Scores of accumulated counts.
    public init(counts: TagCounts) {
        tokens = counts.tokens
        correct = counts.correct
        accuracy = PRF.ratio(counts.correct, counts.tokens)
        let names = Set(counts.gold.keys).union(counts.predicted.keys)
        tags = names.map { tag in
            let support = counts.gold[tag] ?? 0, predicted = counts.predicted[tag] ?? 0, hits = counts.hits[tag] ?? 0
            let p = PRF.ratio(hits, predicted), r = PRF.ratio(hits, support)
            return Row(tag: tag, precision: p, recall: r, f1: PRF.f1(p, r),
                       support: support, predicted: predicted, correct: hits)
        }.sorted { ($0.support, $0.predicted, $1.tag) > ($1.support, $1.predicted, $0.tag) }
        let n = Double(max(tags.count, 1))
        macro = Average(precision: tags.map(\.precision).reduce(0, +) / n,
                        recall: tags.map(\.recall).reduce(0, +) / n,
                        f1: tags.map(\.f1).reduce(0, +) / n)
        let total = Double(max(counts.tokens, 1))
        weighted = Average(precision: tags.map { $0.precision * Double($0.support) }.reduce(0, +) / total,
                           recall: tags.map { $0.recall * Double($0.support) }.reduce(0, +) / total,
                           f1: tags.map { $0.f1 * Double($0.support) }.reduce(0, +) / total)
        micro = Average(precision: accuracy, recall: accuracy, f1: PRF.f1(accuracy, accuracy))
        confusions = counts.errors.map { Confusion(gold: $0.key.gold, predicted: $0.key.predicted, count: $0.value) }
            .sorted { ($0.count, $1.gold, $1.predicted) > ($1.count, $0.gold, $0.predicted) }
    }

    /// Scores of whole corpora: one tag array per sentence on each side.
    public init(gold: [[String]], predicted: [[String]]) throws(ScoringError) {
        var counts = TagCounts()
        try counts.add(gold: gold, predicted: predicted)
        self.init(counts: counts)
    }

    /// The `n` most frequent confusions (gold, predicted, count).
    public func topErrors(_ n: Int) -> [Confusion] { Array(confusions.prefix(max(n, 0))) }

    /// The row of one tag, if it occurs.
    public subscript(tag: String) -> Row? { tags.first { $0.tag == tag } }

    /// Fixed-width table: one line per tag (by support), then the averages, then accuracy and,
    /// when `errors` > 0, that many of the most frequent confusions.
    public func table(errors: Int = 0) -> String {
        var table = TextTable(["tag", "precision", "recall", "f1", "support", "predicted"])
        for row in tags {
            table.add([row.tag, TextTable.percent(row.precision), TextTable.percent(row.recall),
                       TextTable.percent(row.f1), String(row.support), String(row.predicted)])
        }
        for (name, average) in [("macro avg", macro), ("weighted avg", weighted), ("micro avg", micro)] {
            table.add([name, TextTable.percent(average.precision), TextTable.percent(average.recall),
                       TextTable.percent(average.f1), String(tokens), String(tokens)])
        }
        var out = table.render()
        out += "accuracy \(TextTable.percent(accuracy))% (\(correct)/\(tokens))\n"
        let top = topErrors(errors)
        if !top.isEmpty {
            var confusion = TextTable(["gold", "predicted", "count"], textColumns: 2)
            for error in top { confusion.add([error.gold, error.predicted, String(error.count)]) }
            out += "\n" + confusion.render()
        }
        return out
    }

    /// The scores as JSON (sorted keys).
    public func json(pretty: Bool = true) -> String { PRF.json(self, pretty: pretty) }
}
