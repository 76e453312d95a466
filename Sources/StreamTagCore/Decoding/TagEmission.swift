/// One tag for one token of a stream.
public struct TagEmission: Sendable, Equatable {
    /// Position in the stream since its start or last reset.
    public var position: Int
    /// Row of the model's tag list.
    public var tag: Int32
    /// Probability of the tag under the model (softmax, or the constrained decoding's marginal).
    public var p: Float

    public init(position: Int, tag: Int32, p: Float) {
        self.position = position
        self.tag = tag
        self.p = p
    }
}

/// Per-stream bookkeeping of the lookahead window: which token each head scores after each
/// step, and what a flush (end or reset) still owes. Pure arithmetic, shared by the offline
/// taggers and the daemon's workers.
public struct LookaheadCursor: Sendable, Equatable {
    public let lookahead: Int
    /// Tokens fed since the stream's start or last reset.
    public private(set) var fed: Int = 0
    /// Final tag of the last released token, for IOB constraints (-1: none yet).
    public var previousTag: Int32 = -1

    public init(lookahead: Int) { self.lookahead = lookahead }

    /// A cursor restored from a snapshot.
    public init(lookahead: Int, fed: Int, previousTag: Int32) {
        self.lookahead = lookahead
        self.fed = max(0, fed)
        self.previousTag = previousTag
    }

    /// Records one more token.
    public mutating func advance() { fed += 1 }

    /// After a step: the position the final head releases now, if the window is full.
    public var releasedPosition: Int? { fed > lookahead ? fed - 1 - lookahead : nil }

    /// Tokens still waiting for their final tag.
    public var pending: Int { min(fed, lookahead) }

    /// The waiting token that head j scores now: it has seen j followers. For j in
    /// `(0..<pending).reversed()` this walks the window oldest first, which is the order both
    /// provisional tags and a flush (end or reset) release them in.
    public func position(seeing j: Int) -> Int { fed - 1 - j }

    /// Clears the stream (after a flush): positions restart at 0.
    public mutating func reset() {
        fed = 0
        previousTag = -1
    }
}
