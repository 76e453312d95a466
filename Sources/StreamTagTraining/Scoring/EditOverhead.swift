/// Streaming measure: how often provisional tags (emitted at a token's arrival, and possibly
/// revised while it sits in the lookahead window) differ from the token's final tag.
///
/// `overhead` = provisional tags that differed from the final tag / all provisional tags.
/// A token may have several provisional tags or none (then it only counts in `tokens`).
public struct EditOverhead: Codable, Sendable, Equatable {
    /// Tokens with a final tag.
    public private(set) var tokens = 0
    /// Provisional tags emitted, and those that differed from their token's final tag.
    public private(set) var provisional = 0
    public private(set) var changed = 0
    /// Tokens whose provisional tags were not all equal to the final tag.
    public private(set) var tokensChanged = 0
    /// Tokens with at least one provisional tag, and those whose first provisional tag was final.
    public private(set) var tokensWithProvisional = 0
    public private(set) var firstRight = 0

    public init() {}

    /// Share of provisional tags that differed from the final tag (0 when there were none).
    public var overhead: Double { PRF.ratio(changed, provisional) }

    /// Share of tokens with provisional tags whose first provisional tag was already final.
    public var firstGuessAccuracy: Double { PRF.ratio(firstRight, tokensWithProvisional) }

    /// Adds one token: the provisional tags it received, in order, and its final tag.
    public mutating func add(provisional tags: [String], final: String) {
        tokens += 1
        var differed = 0
        for tag in tags where tag != final { differed += 1 }
        provisional += tags.count
        changed += differed
        if differed > 0 { tokensChanged += 1 }
        if let first = tags.first {
            tokensWithProvisional += 1
            if first == final { firstRight += 1 }
        }
    }

    /// Adds a sequence of tokens: `provisional[i]` are token i's provisional tags, `final[i]`
    /// its final tag.
    public mutating func add(provisional: [[String]], final: [String]) throws(ScoringError) {
        guard provisional.count == final.count else {
            throw ScoringError(.lengthMismatch,
                               "provisional tags for \(provisional.count) tokens, final tags for \(final.count)")
        }
        for (tags, tag) in zip(provisional, final) { add(provisional: tags, final: tag) }
    }

    /// Adds another measurement to this one.
    public mutating func merge(_ other: EditOverhead) {
        tokens += other.tokens
        provisional += other.provisional
        changed += other.changed
        tokensChanged += other.tokensChanged
        tokensWithProvisional += other.tokensWithProvisional
        firstRight += other.firstRight
    }
}
