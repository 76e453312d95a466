/// One stream, one token at a time: the incremental API in its simplest form.
/// `feed` advances the state and returns the final tag the window releases (if any);
/// `finish` releases the rest, as at the end of a stream.
public struct StreamTagger: ~Copyable {
    public let model: Model
    public let decoder: TagDecoder
    private let stepper: BatchStepper
    /// The stream's state row (S floats).
    public let state: AlignedBuffer<Float>
    private let scoreBuffer: AlignedBuffer<Float>
    public private(set) var cursor: LookaheadCursor

    public init(model: Model) {
        self.model = model
        decoder = TagDecoder(tags: model.tags)
        stepper = BatchStepper(model: model, maxBatch: 1)
        state = AlignedBuffer(count: stepper.layout.floats)
        scoreBuffer = AlignedBuffer(count: model.C)
        cursor = LookaheadCursor(lookahead: model.k)
    }

    /// Advances the stream by one token; returns the final tag released by this step, if any.
    public mutating func feed(_ token: String) -> TagEmission? {
        var code = model.encode(token)
        cursor.advance()
        stepper.step(states: state.pointer, tokens: &code, count: 1)
        guard cursor.pending > cursor.lookahead else { return nil }
        stepper.scores(states: state.pointer, count: 1, seeing: model.k, into: scoreBuffer.pointer)
        return cursor.releaseDue(scores: scoreBuffer.pointer, decoder: decoder)
    }

    /// Scores of head j for the token it sees now (C values), e.g. for parity tests.
    public func scores(seeing j: Int = 0) -> [Float] {
        stepper.scores(states: state.pointer, count: 1, seeing: j, into: scoreBuffer.pointer)
        return scoreBuffer.array
    }

    /// Provisional tags for the tokens still inside the window, oldest first, each decoded
    /// after the last final tag.
    public func provisional() -> [TagEmission] {
        var out: [TagEmission] = []
        _ = stepper.decodeWindow(row: state.pointer, cursor: cursor, decoder: decoder, scratch: scoreBuffer.pointer,
                                 carry: false) { out.append($0) }
        return out
    }

    /// Releases every waiting token (end of stream) and clears the state for a fresh start.
    public mutating func finish() -> [TagEmission] {
        var out: [TagEmission] = []
        _ = stepper.decodeWindow(row: state.pointer, cursor: cursor, decoder: decoder, scratch: scoreBuffer.pointer) {
            out.append($0)
        }
        cursor.reset()
        state.buffer.update(repeating: 0)
        return out
    }
}
