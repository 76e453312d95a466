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
        guard let position = cursor.release() else { return nil }
        return decode(position: position, seeing: model.k)
    }

    /// Scores of head j for the token it sees now (C values), e.g. for parity tests.
    public func scores(seeing j: Int = 0) -> [Float] {
        stepper.scores(states: state.pointer, count: 1, seeing: j, into: scoreBuffer.pointer)
        return scoreBuffer.array
    }

    /// Provisional tags for the tokens still inside the window, oldest first.
    public func provisional() -> [TagEmission] {
        (0..<cursor.pending).reversed().map { j in
            stepper.scores(states: state.pointer, count: 1, seeing: j, into: scoreBuffer.pointer)
            let (tag, p) = decoder.decode(scoreBuffer.pointer, previous: cursor.previousTag)
            return TagEmission(position: cursor.position(seeing: j), tag: tag, p: p)
        }
    }

    /// Releases every waiting token (end of stream) and clears the state for a fresh start.
    public mutating func finish() -> [TagEmission] {
        var out: [TagEmission] = []
        for j in (0..<cursor.pending).reversed() {
            out.append(decode(position: cursor.position(seeing: j), seeing: j))
        }
        cursor.reset()
        state.buffer.update(repeating: 0)
        return out
    }

    private mutating func decode(position: Int, seeing j: Int) -> TagEmission {
        stepper.scores(states: state.pointer, count: 1, seeing: j, into: scoreBuffer.pointer)
        let (tag, p) = decoder.decode(scoreBuffer.pointer, previous: cursor.previousTag)
        cursor.previousTag = tag
        return TagEmission(position: position, tag: tag, p: p)
    }
}
