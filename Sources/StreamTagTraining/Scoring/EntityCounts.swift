/// Accumulates entity counts exactly as conlleval does, sentence by sentence.
///
/// This is a transcription of conlleval's main loop (2004 version, the one that allows `-` in
/// types), not a set intersection of spans: the two agree on IOB data, and where they could
/// differ (malformed or mixed schemes) the transcription is what the CoNLL numbers mean. Each
/// `add` is followed by a sentence boundary, which conlleval reads as an `O`/`O` line.
public struct EntityCounts: Sendable, Equatable {
    /// Tokens seen, and tokens whose predicted tag equals the gold tag.
    public private(set) var tokens = 0
    public private(set) var correctTags = 0
    /// Per entity type: gold entities, predicted entities, and predicted entities that match a
    /// gold entity in span and type.
    public private(set) var gold: [String: Int] = [:]
    public private(set) var predicted: [String: Int] = [:]
    public private(set) var correct: [String: Int] = [:]

    // conlleval's state between lines.
    private var inCorrect = false
    private var lastGold = ChunkTag.outside
    private var lastGuess = ChunkTag.outside

    public init() {}

    /// Adds one sentence's gold and predicted tags (same length), then a sentence boundary.
    public mutating func add(gold goldTags: [String], predicted predictedTags: [String]) throws(ScoringError) {
        try ScoringError.checkLengths(goldTags.count, predictedTags.count, "tag counts differ")
        for (g, p) in zip(goldTags, predictedTags) {
            step(ChunkTag(g), ChunkTag(p))
            tokens += 1
            if g == p { correctTags += 1 }
        }
        // The boundary line: conlleval forces both tags to O there.
        step(.outside, .outside)
    }

    /// Adds many sentences.
    public mutating func add(gold goldSentences: [[String]], predicted predictedSentences: [[String]]) throws(ScoringError) {
        try ScoringError.checkLengths(goldSentences.count, predictedSentences.count, "sentence counts differ")
        for (g, p) in zip(goldSentences, predictedSentences) { try add(gold: g, predicted: p) }
    }

    private mutating func step(_ g: ChunkTag, _ p: ChunkTag) {
        if inCorrect {
            let goldEnds = ChunkTag.endsChunk(lastGold, g)
            let guessEnds = ChunkTag.endsChunk(lastGuess, p)
            if goldEnds && guessEnds && lastGuess.type == lastGold.type {
                inCorrect = false
                correct[String(lastGold.type), default: 0] += 1
            } else if goldEnds != guessEnds || p.type != g.type {
                inCorrect = false
            }
        }
        let goldStarts = ChunkTag.startsChunk(lastGold, g)
        let guessStarts = ChunkTag.startsChunk(lastGuess, p)
        if goldStarts && guessStarts && p.type == g.type { inCorrect = true }
        if goldStarts { gold[String(g.type), default: 0] += 1 }
        if guessStarts { predicted[String(p.type), default: 0] += 1 }
        lastGold = g
        lastGuess = p
    }

    /// The scores so far, with conlleval's end-of-file rule applied (a chunk still matching
    /// counts as correct). With IOB tags that rule never fires, since each sentence's boundary
    /// closes every chunk; only a tag without `-` other than `O` can keep a chunk open.
    public var scores: EntityScores {
        var final = self
        if final.inCorrect {
            final.correct[String(lastGold.type), default: 0] += 1
            final.inCorrect = false
        }
        return EntityScores(counts: final)
    }
}
