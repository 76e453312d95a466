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

/// Per-stream bookkeeping of the lookahead window: which token's final tag is due after each
/// step, and what a flush (end or reset) still owes. Pure arithmetic, shared by the offline
/// taggers and the daemon's workers.
public struct LookaheadCursor: Sendable, Equatable {
    /// k': followers a final tag waits for.
    public let lookahead: Int
    /// Tokens fed since the stream's start or last reset.
    public private(set) var fed: Int = 0
    /// Tokens whose final tag is out. Kept explicitly (not derived from `fed` and k') so that a
    /// stream can move to a model with another lookahead without a token released twice.
    public private(set) var released: Int = 0
    /// Final tag of the last released token, for IOB constraints (-1: none yet).
    public var previousTag: Int32 = -1

    public init(lookahead: Int) { self.lookahead = lookahead }

    /// A cursor restored from a snapshot or carried over to another model.
    public init(lookahead: Int, fed: Int, released: Int, previousTag: Int32) {
        self.lookahead = lookahead
        self.fed = max(0, fed)
        self.released = min(max(0, released), self.fed)
        self.previousTag = previousTag
    }

    /// Records one more token.
    public mutating func advance() { fed += 1 }

    /// After a step: the position whose final tag is due now (more than k' tokens wait), which
    /// is then counted as released.
    public mutating func release() -> Int? {
        guard fed - released > lookahead else { return nil }
        released += 1
        return released - 1
    }

    /// Tokens still waiting for their final tag.
    public var pending: Int { fed - released }

    /// The waiting token that head j scores now: it has seen j followers. For j in
    /// `(0..<pending).reversed()` this walks the window oldest first, which is the order both
    /// provisional tags and a flush (end or reset) release them in.
    public func position(seeing j: Int) -> Int { fed - 1 - j }

    /// Marks every waiting token released (after a flush has emitted them).
    public mutating func releaseAll() { released = fed }

    /// Clears the stream (after a flush): positions restart at 0.
    public mutating func reset() {
        fed = 0
        released = 0
        previousTag = -1
    }
}
