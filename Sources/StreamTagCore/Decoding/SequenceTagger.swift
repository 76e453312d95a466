/// Tags many independent sequences offline through the same batched, incremental path as the
/// daemon: each sequence is a stream (state reset at its start, flushed at its end), up to
/// `maxBatch` of them advance together, one token per step.
public struct SequenceTagger: ~Copyable {
    public let model: Model
    public let decoder: TagDecoder
    private let stepper: BatchStepper
    private let states: AlignedBuffer<Float>
    private let scores: AlignedBuffer<Float>
    private var codes: [TokenCode]
    /// k' ≤ k: the lookahead actually used (a model trained with k can serve any smaller k').
    public let lookahead: Int

    public init(model: Model, maxBatch: Int = 64, lookahead: Int? = nil) {
        self.model = model
        self.lookahead = min(max(lookahead ?? model.k, 0), model.k)
        decoder = TagDecoder(tags: model.tags)
        stepper = BatchStepper(model: model, maxBatch: maxBatch)
        states = AlignedBuffer(count: maxBatch * stepper.layout.floats)
        scores = AlignedBuffer(count: maxBatch * model.C)
        codes = Array(repeating: TokenCode(word: 0), count: maxBatch)
    }

    /// Final tags for every token of every sequence, in order (one emission per token).
    /// `provisional(sequence, position, tag)`, if given, receives each provisional tag as the
    /// window moves: a token gets one from each head j < k' before its final tag.
    public mutating func tag(_ sequences: [[String]],
                             provisional: ((_ sequence: Int, _ position: Int, _ tag: Int32) -> Void)? = nil) -> [[TagEmission]] {
        var results = sequences.map { _ in [TagEmission]() }
        for (i, s) in sequences.enumerated() { results[i].reserveCapacity(s.count) }
        let S = stepper.layout.floats, C = model.C, k = lookahead
        // Active rows: which sequence each holds, its next token and its window cursor.
        var rowSequence: [Int] = []
        var cursors: [LookaheadCursor] = []
        var next = 0

        func admit() {
            while rowSequence.count < stepper.maxBatch && next < sequences.count {
                if !sequences[next].isEmpty {
                    let row = rowSequence.count
                    (states.pointer + row * S).update(repeating: 0, count: S)
                    rowSequence.append(next)
                    cursors.append(LookaheadCursor(lookahead: k))
                }
                next += 1
            }
        }

        admit()
        while !rowSequence.isEmpty {
            let B = rowSequence.count
            for b in 0..<B {
                codes[b] = model.encode(sequences[rowSequence[b]][cursors[b].fed])
                cursors[b].advance()
            }
            codes.withUnsafeBufferPointer { stepper.step(states: states.pointer, tokens: $0.baseAddress!, count: B) }
            stepper.scores(states: states.pointer, count: B, seeing: k, into: scores.pointer)
            for b in 0..<B {
                if let emission = cursors[b].releaseDue(scores: scores.pointer + b * C, decoder: decoder) {
                    results[rowSequence[b]].append(emission)
                }
            }
            if let provisional {
                for j in 0..<k {
                    stepper.scores(states: states.pointer, count: B, seeing: j, into: scores.pointer)
                    for b in 0..<B where j < cursors[b].pending {
                        let (tag, _) = decoder.decode(scores.pointer + b * C, previous: cursors[b].previousTag)
                        provisional(rowSequence[b], cursors[b].position(seeing: j), tag)
                    }
                }
            }
            // Flush finished sequences and close the gaps by moving the last row down.
            var b = 0
            while b < rowSequence.count {
                let sequence = rowSequence[b]
                guard cursors[b].fed == sequences[sequence].count else { b += 1; continue }
                flush(row: b, cursor: &cursors[b]) { results[sequence].append($0) }
                let last = rowSequence.count - 1
                if b != last {
                    (states.pointer + b * S).update(from: states.pointer + last * S, count: S)
                    rowSequence[b] = rowSequence[last]
                    cursors[b] = cursors[last]
                }
                rowSequence.removeLast()
                cursors.removeLast()
            }
            admit()
        }
        return results
    }

    /// Releases the tokens still in a row's window, oldest first, each from the head that sees
    /// all the followers it has.
    public func flush(row: Int, cursor: inout LookaheadCursor, emit: (TagEmission) -> Void) {
        _ = stepper.decodeWindow(row: states.pointer + row * stepper.layout.floats, cursor: cursor, decoder: decoder,
                                 scratch: scores.pointer, emit)
        cursor.reset()
    }
}
