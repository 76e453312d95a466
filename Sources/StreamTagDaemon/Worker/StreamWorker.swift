import StreamTagCore

/// One worker's streams and the machinery that advances them: the stream table, a slab of
/// recurrent states (row = stream slot), and the batched stepper. Single-threaded and
/// deterministic: `WorkerThread` drives it from a thread; tests drive it directly with an
/// injected clock and collect what it publishes.
final class StreamWorker {
    var table: StreamTable
    let model: Model
    let lookahead: Int
    let stepper: BatchStepper
    let decoder: TagDecoder
    let layout: StateLayout
    /// [capacity, S] states of every stream, by slot.
    var slab: AlignedBuffer<Float>
    /// [maxBatch, S] states of the streams in the current step, gathered from the slab.
    let batch: AlignedBuffer<Float>
    private let scores: AlignedBuffer<Float>
    private var codes: [TokenCode]
    private var batchSlots: [Int] = []
    private var buffer: [UInt8] = []
    /// Receives every published message: (topic, body).
    var publish: (String, [UInt8]) -> Void
    let clock: () -> Double
    /// Where the scan of active streams starts next time, so a full batch rotates fairly.
    private var nextStart = 0

    // Counters for status and metrics.
    private(set) var tokensIn = 0
    private(set) var tokensOut = 0
    private(set) var steps = 0

    init(model: Model, settings: StreamSettings, clock: @escaping () -> Double,
         publish: @escaping (String, [UInt8]) -> Void) {
        self.model = model
        lookahead = min(max(settings.lookahead ?? model.k, 0), model.k)
        stepper = BatchStepper(model: model, maxBatch: settings.maxBatch)
        decoder = TagDecoder(tags: model.tags)
        layout = StateLayout(config: model.config)
        table = StreamTable(settings: settings, lookahead: lookahead, stateBytes: layout.bytes)
        slab = AlignedBuffer(count: 64 * layout.floats)
        batch = AlignedBuffer(count: settings.maxBatch * layout.floats)
        scores = AlignedBuffer(count: settings.maxBatch * model.C)
        codes = Array(repeating: TokenCode(word: 0), count: settings.maxBatch)
        batchSlots.reserveCapacity(settings.maxBatch)
        self.clock = clock
        self.publish = publish
    }

    var streamCount: Int { table.count }
    var hasWork: Bool { !table.active.isEmpty || !table.immediate.isEmpty }

    // MARK: input

    func accept(_ message: InputMessage) {
        tokensIn += message.tokens.count
        table.accept(message, now: clock())
        prepareNewStreams()
    }

    func reject(stream: String, error: OutputEvent) {
        table.reject(stream: stream, error: error)
    }

    func drop(_ stream: String) -> Bool {
        let dropped = table.drop(stream)
        publishImmediate()
        return dropped
    }

    /// Evicts idle streams and forgets old tombstones (call about once a second).
    func expire() {
        table.expire(now: clock())
        publishImmediate()
    }

    func prepareNewStreams() {
        guard !table.fresh.isEmpty else { return }
        let S = layout.floats
        if table.capacity * S > slab.count {
            var rows = slab.count / S
            while rows < table.capacity { rows *= 2 }
            let grown = AlignedBuffer<Float>(count: rows * S)
            grown.pointer.update(from: slab.pointer, count: slab.count)
            slab = grown
        }
        for slot in table.fresh { (slab.pointer + slot * S).update(repeating: 0, count: S) }
        table.fresh.removeAll(keepingCapacity: true)
    }

    // MARK: running

    /// Runs ops and steps until every stream waits for input.
    func runUntilIdle() {
        while runOnce() {}
    }

    /// Runs the ops at the head of every active stream up to its next token, then one batched
    /// step over the streams that have a token ready. Returns whether anything happened.
    @discardableResult
    func runOnce() -> Bool {
        publishImmediate()
        guard !table.active.isEmpty else { return false }
        batchSlots.removeAll(keepingCapacity: true)
        let active = table.active
        let n = active.count
        let start = nextStart % max(n, 1)
        for i in 0..<n {
            let slot = active[(start + i) % n]
            if runHead(slot) && batchSlots.count < stepper.maxBatch { batchSlots.append(slot) }
        }
        nextStart = start + batchSlots.count
        if !batchSlots.isEmpty { step() }
        table.pruneActive()
        publishImmediate()
        return true
    }

    /// Executes a stream's ops until a token is at the head (returns true) or none are left.
    private func runHead(_ slot: Int) -> Bool {
        while let op = table[slot].ops.first {
            switch op {
            case .token:
                return true
            case .event(let event):
                emit(table[slot].id, event)
            case .clear(let reason, let announce):
                releaseWindow(slot)
                clearState(slot)
                if announce { emit(table[slot].id, .reset(reason: reason)) }
            case .flush:
                table[slot].endCount = table[slot].cursor.fed
                releaseWindow(slot)
                clearState(slot)
            case .answer(let seq):
                answer(slot, seq: seq)
            case .end:
                emit(table[slot].id, .end(tokens: table[slot].endCount))
                table[slot].ops.removeFirst()
                if table[slot].ops.isEmpty {
                    table.remove(slot, tombstone: clock())
                    return false
                }
                continue
            }
            table[slot].ops.removeFirst()
        }
        return false
    }

    /// One batched step: gather states, advance every stream by its head token, scatter back,
    /// release the tokens whose window is full.
    private func step() {
        let S = layout.floats, B = batchSlots.count, C = model.C
        for (b, slot) in batchSlots.enumerated() {
            (batch.pointer + b * S).update(from: slab.pointer + slot * S, count: S)
            guard case .token(let token) = table[slot].ops.first else { preconditionFailure("head is not a token") }
            codes[b] = model.encode(token)
        }
        codes.withUnsafeBufferPointer { stepper.step(states: batch.pointer, tokens: $0.baseAddress!, count: B) }
        stepper.scores(states: batch.pointer, count: B, seeing: lookahead, into: scores.pointer)
        for (b, slot) in batchSlots.enumerated() {
            (slab.pointer + slot * S).update(from: batch.pointer + b * S, count: S)
            advance(&table[slot], scores: scores.pointer + b * C)
        }
        steps += 1
    }

    /// Books the step of a stream's head token: window, replay ring, and the final tag the
    /// full window releases (scores of the final head for this stream's row).
    private func advance(_ r: inout StreamRecord, scores: UnsafePointer<Float>) {
        guard case .token(let token) = r.ops.removeFirst() else { return }
        r.queuedTokens -= 1
        r.cursor.advance()
        r.window.append(token)
        r.replay.append(token)
        if let position = r.cursor.releasedPosition {
            let (tag, p) = decoder.decode(scores, previous: r.cursor.previousTag)
            r.cursor.previousTag = tag
            r.answer.append(OutputTag(i: position, token: r.window.removeFirst(), tag: model.tags[Int(tag)], p: Double(p)))
        }
    }

    /// Final tags for the tokens still in the window, from the heads that see what they have.
    private func releaseWindow(_ slot: Int) {
        let row = slab.pointer + slot * layout.floats
        for j in (0..<table[slot].cursor.pending).reversed() {
            stepper.scores(states: row, count: 1, seeing: j, into: scores.pointer)
            let (tag, p) = decoder.decode(scores.pointer, previous: table[slot].cursor.previousTag)
            table[slot].cursor.previousTag = tag
            let position = table[slot].cursor.position(seeing: j)
            table[slot].answer.append(OutputTag(i: position, token: table[slot].window.removeFirst(),
                                              tag: model.tags[Int(tag)], p: Double(p)))
        }
    }

    private func clearState(_ slot: Int) {
        (slab.pointer + slot * layout.floats).update(repeating: 0, count: layout.floats)
        table[slot].cursor.reset()
        table[slot].window.removeAll(keepingCapacity: true)
        table[slot].replay.removeAll()
    }

    private func answer(_ slot: Int, seq: UInt64) {
        var partial: [OutputTag]? = nil
        if table.settings.partial && lookahead > 0 {
            let row = slab.pointer + slot * layout.floats
            var items: [OutputTag] = []
            let cursor = table[slot].cursor, window = table[slot].window
            var previous = cursor.previousTag
            for j in (0..<cursor.pending).reversed() {
                stepper.scores(states: row, count: 1, seeing: j, into: scores.pointer)
                let (tag, p) = decoder.decode(scores.pointer, previous: previous)
                previous = tag
                items.append(OutputTag(i: cursor.position(seeing: j), token: window[window.count - 1 - j],
                                     tag: model.tags[Int(tag)], p: Double(p)))
            }
            partial = items
        }
        tokensOut += table[slot].answer.count
        buffer.removeAll(keepingCapacity: true)
        if let partial {
            OutputEncoder.encodeTags(seq: seq, model: model.id, tags: table[slot].answer, partial: partial, into: &buffer)
        } else {
            OutputEncoder.encodeTags(seq: seq, model: model.id, tags: table[slot].answer, into: &buffer)
        }
        publish(table[slot].id, buffer)
        table[slot].answer.removeAll(keepingCapacity: true)
    }

    private func emit(_ stream: String, _ event: OutputEvent) {
        buffer.removeAll(keepingCapacity: true)
        OutputEncoder.encode(event, into: &buffer)
        publish(stream, buffer)
    }

    private func publishImmediate() {
        guard !table.immediate.isEmpty else { return }
        for (stream, event) in table.immediate { emit(stream, event) }
        table.immediate.removeAll(keepingCapacity: true)
    }
}
