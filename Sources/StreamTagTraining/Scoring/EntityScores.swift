/// Entity-level scores (exact span and type, the CoNLL definition as computed by conlleval):
/// overall and per type, as a value that renders as a table and encodes to JSON.
///
/// All rates are fractions in 0...1 (the table shows percentages); a rate whose denominator is
/// 0 is 0. F1 is the harmonic mean of precision and recall.
public struct EntityScores: Codable, Sendable, Equatable {
    /// Scores of one entity type (or of all of them, in `overall`).
    public struct Row: Codable, Sendable, Equatable {
        /// Entity type; `"overall"` in `overall`. Empty for conlleval's typeless chunks.
        public var type: String
        public var precision: Double
        public var recall: Double
        public var f1: Double
        /// Gold entities (support), predicted entities, and predicted entities that are correct.
        public var gold: Int
        public var predicted: Int
        public var correct: Int

        init(type: String, gold: Int, predicted: Int, correct: Int) {
            self.type = type
            self.gold = gold
            self.predicted = predicted
            self.correct = correct
            precision = PRF.ratio(correct, predicted)
            recall = PRF.ratio(correct, gold)
            f1 = PRF.f1(precision, recall)
        }
    }

    /// Tokens scored, and the share whose tag was exactly right (conlleval's "accuracy").
    public var tokens: Int
    public var tokenAccuracy: Double
    /// Micro-averaged over all entities, as conlleval's headline figure.
    public var overall: Row
    /// Mean of the per-type F1 scores (unweighted), often reported next to the CoNLL figure.
    public var macroF1: Double
    /// One row per type that occurs in gold or predictions, by gold count (descending), then name.
    public var types: [Row]

    /// Scores from conlleval-style counts.
    public init(counts: EntityCounts) {
        tokens = counts.tokens
        tokenAccuracy = PRF.ratio(counts.correctTags, counts.tokens)
        let names = Set(counts.gold.keys).union(counts.predicted.keys)
        types = names.map {
            Row(type: $0, gold: counts.gold[$0] ?? 0, predicted: counts.predicted[$0] ?? 0,
                correct: counts.correct[$0] ?? 0)
        }.sorted { ($0.gold, $1.type) > ($1.gold, $0.type) }
        overall = Row(type: "overall", gold: counts.gold.values.reduce(0, +),
                      predicted: counts.predicted.values.reduce(0, +), correct: counts.correct.values.reduce(0, +))
        macroF1 = types.isEmpty ? 0 : types.map(\.f1).reduce(0, +) / Double(types.count)
    }

    /// Scores of whole corpora: one tag array per sentence on each side.
    public init(gold: [[String]], predicted: [[String]]) throws(ScoringError) {
        var counts = EntityCounts()
        try counts.add(gold: gold, predicted: predicted)
        self = counts.scores
    }

    /// The row of one type, if it occurs.
    public subscript(type: String) -> Row? { types.first { $0.type == type } }

    /// Fixed-width table: one line per type, then the overall line; percentages with two decimals.
    public func table() -> String {
        var table = TextTable(["type", "precision", "recall", "f1", "gold", "predicted", "correct"])
        for row in types + [overall] {
            table.add([row.type.isEmpty ? "-" : row.type, TextTable.percent(row.precision),
                       TextTable.percent(row.recall), TextTable.percent(row.f1),
                       String(row.gold), String(row.predicted), String(row.correct)])
        }
        return table.render()
            + "tokens \(tokens), tag accuracy \(TextTable.percent(tokenAccuracy))%, macro F1 \(TextTable.percent(macroF1))\n"
    }

    /// The scores as JSON (sorted keys).
    public func json(pretty: Bool = true) -> String { PRF.json(self, pretty: pretty) }
}
