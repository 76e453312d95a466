// The lookahead-window decode, written once for every path that tags a stream: the offline
// taggers (`StreamTagger`, `SequenceTagger`) and the daemon's workers. Each path keeps its own
// storage (a state buffer, a batch buffer, a slab row) and its own output type; what a token's
// tag is, and which tag the next one is decoded after, is decided here.
//
// Nothing here allocates: the emit closures are non-escaping and results are plain structs,
// so the daemon's per-token path stays allocation-free.

extension LookaheadCursor {
    /// After a step, with `scores` the final head's scores (C values) of this stream's row:
    /// the final tag of the token the full window releases, decoded after the previous final
    /// tag, which it then becomes. Nil while no more than k' tokens wait.
    @inline(__always)
    public mutating func releaseDue(scores: UnsafePointer<Float>, decoder: TagDecoder) -> TagEmission? {
        guard pending > lookahead else { return nil }
        return releaseOldest(scores: scores, decoder: decoder)
    }

    /// Releases the oldest waiting token with the tag `scores` give it (after the previous
    /// final tag, which it then becomes). The caller has checked that a token waits and that
    /// `scores` come from the head that sees its followers (e.g. a replay that has stepped k'
    /// of them).
    @inline(__always)
    public mutating func releaseOldest(scores: UnsafePointer<Float>, decoder: TagDecoder) -> TagEmission {
        let position = released
        let (tag, p) = decoder.decode(scores, previous: previousTag)
        self = LookaheadCursor(lookahead: lookahead, fed: fed, released: position + 1, previousTag: tag)
        return TagEmission(position: position, tag: tag, p: p)
    }
}

extension BatchStepper {
    /// Walks the tokens waiting in a stream's window, oldest first, and tags each from the
    /// head that sees the followers it has (head j for the token with j followers).
    ///
    /// - `row`: the stream's state row; `scratch`: room for C scores.
    /// - `carry`: decode each token after the previous one's tag (a flush, the daemon's
    ///   partial tags), or every token after `cursor.previousTag` (provisional tags read one
    ///   by one, as `StreamTagger.provisional()` gives them).
    /// - Returns the last tag decoded (the stream's IOB context after a flush), or
    ///   `cursor.previousTag` when the window is empty. The cursor is not changed: a flush
    ///   then marks the tokens released (`releaseAll()` or `reset()`).
    @inline(__always)
    public func decodeWindow(row: UnsafePointer<Float>, cursor: LookaheadCursor, decoder: TagDecoder,
                             scratch: UnsafeMutablePointer<Float>, carry: Bool = true,
                             _ emit: (TagEmission) -> Void) -> Int32 {
        var previous = cursor.previousTag
        // A plain countdown (not `reversed()`), so that even an unoptimised build allocates nothing.
        var j = cursor.pending - 1
        while j >= 0 {
            scores(states: row, count: 1, seeing: j, into: scratch)
            let (tag, p) = decoder.decode(scratch, previous: carry ? previous : cursor.previousTag)
            previous = tag
            emit(TagEmission(position: cursor.position(seeing: j), tag: tag, p: p))
            j -= 1
        }
        return previous
    }
}
