/// Accumulates token-level tag counts (per-tag hits and the confusion matrix) for `TagScores`.
/// Cheap to add to token by token during evaluation; `merge` combines partial counts.
public struct TagCounts: Sendable, Equatable {
    /// A (gold, predicted) pair of the confusion matrix.
    struct Pair: Hashable, Sendable {
        var gold: String
        var predicted: String
    }

    public private(set) var tokens = 0
    public private(set) var correct = 0
    /// Per tag: how often it is the gold tag (support), how often it was predicted, and how
    /// often both at once.
    public private(set) var gold: [String: Int] = [:]
    public private(set) var predicted: [String: Int] = [:]
    public private(set) var hits: [String: Int] = [:]
    /// Off-diagonal cells only: the diagonal is `hits`.
    private(set) var errors: [Pair: Int] = [:]

    public init() {}

    /// Counts one token.
    public mutating func add(gold goldTag: String, predicted predictedTag: String) {
        tokens += 1
        gold[goldTag, default: 0] += 1
        predicted[predictedTag, default: 0] += 1
        if goldTag == predictedTag {
            correct += 1
            hits[goldTag, default: 0] += 1
        } else {
            errors[Pair(gold: goldTag, predicted: predictedTag), default: 0] += 1
        }
    }

    /// Counts one sentence (same length on both sides).
    public mutating func add(gold goldTags: [String], predicted predictedTags: [String]) throws(ScoringError) {
        try ScoringError.checkLengths(goldTags.count, predictedTags.count, "tag counts differ")
        for (g, p) in zip(goldTags, predictedTags) { add(gold: g, predicted: p) }
    }

    /// Counts many sentences.
    public mutating func add(gold goldSentences: [[String]], predicted predictedSentences: [[String]]) throws(ScoringError) {
        try ScoringError.checkLengths(goldSentences.count, predictedSentences.count, "sentence counts differ")
        for (g, p) in zip(goldSentences, predictedSentences) { try add(gold: g, predicted: p) }
    }

    /// Adds another set of counts to this one.
    public mutating func merge(_ other: TagCounts) {
        tokens += other.tokens
        correct += other.correct
        gold.merge(other.gold, uniquingKeysWith: +)
        predicted.merge(other.predicted, uniquingKeysWith: +)
        hits.merge(other.hits, uniquingKeysWith: +)
        errors.merge(other.errors, uniquingKeysWith: +)
    }

    /// How often `goldTag` was tagged `predictedTag` (the diagonal included).
    public func count(gold goldTag: String, predicted predictedTag: String) -> Int {
        goldTag == predictedTag ? hits[goldTag] ?? 0 : errors[Pair(gold: goldTag, predicted: predictedTag)] ?? 0
    }

    /// The scores of these counts.
    public var scores: TagScores { TagScores(counts: self) }
}
