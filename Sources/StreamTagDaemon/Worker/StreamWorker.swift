import StreamTagCore
import StreamTagWire

/// One worker's streams and the machinery that advances them: the stream table and one
/// `ModelRuntime` per model in use (normally one; two while streams move to a reloaded model).
/// Single-threaded and deterministic: `WorkerThread` drives it from a thread and drains its
/// ``outbox``; tests drive it directly with an injected clock and read the outbox.
final class StreamWorker {
    // Accessed for every op and token: no dynamic exclusivity checks (the worker is
    // single-threaded and never holds an access to `table` across a call that takes another).
    @exclusivity(unchecked) var table: StreamTable
    /// The stream rules, kept by the table; a config reload changes them between two steps
    /// (`apply(_:)`).
    var settings: StreamSettings { table.settings }
    /// Which worker of the pool this is.
    var index = 0
    /// Runtimes by generation; nil once freed.
    var runtimes: [ModelRuntime?]
    /// Generation new streams start on.
    private(set) var current: Int
    /// How streams move to a new model.
    var policy: ReloadPolicy = .replay
    private(set) var swapTime = 0.0
    /// Where a message's body is encoded before it goes into the outbox. The outbox entry then
    /// shares its storage, so the next `removeAll(keepingCapacity:)` gives it fresh storage of
    /// the size messages have had: one allocation per published message, none per token.
    private var buffer: [UInt8] = []
    /// What the worker published, oldest first, answers with their message's arrival: whoever
    /// drives the worker takes it (and empties it, keeping its storage).
    var outbox: [Outgoing] = []
    /// Called at every round of work, so health checks see a worker busy in a long job (a
    /// snapshot's `runUntilIdle`) as alive.
    var tick: () -> Void = {}
    let clock: () -> Double
    /// Where the scan of active streams starts next time, so a full batch rotates fairly.
    private var nextStart = 0
    /// Active-list entries scanned since the last prune.
    private var scannedSincePrune = 0
    /// `batch_wait`: when the first step after an idle spell began waiting for company (nil
    /// when no step is held), and whether the last round stepped (then the next steps at once).
    private var holdingSince: Double?
    private var steppedLastRound = false
    /// Set by the shutdown snapshot: the queued input is in the snapshot, so running any of it
    /// now would answer it twice (once now, once after the restart).
    var halted = false

    // Counters for status and metrics.
    private(set) var tokensIn = 0
    private(set) var tokensOut = 0
    private(set) var steps = 0
    /// Scratch for the tags of a stream's lookahead window (partial tags, releases).
    private var windowTags: [OutputTag] = []
    var metrics = WorkerMetrics()

    init(model: Model, settings: StreamSettings, clock: @escaping () -> Double) {
        let runtime = ModelRuntime(model: model, settings: settings, generation: 0)
        runtimes = [runtime]
        current = 0
        table = StreamTable(settings: settings, lookahead: runtime.lookahead, stateBytes: runtime.layout.bytes)
        self.clock = clock
    }

    /// The model new streams start on.
    var model: Model { runtimes[current]!.model }
    var currentRuntime: ModelRuntime { runtimes[current]! }
    var streamCount: Int { table.count }

    @inline(__always)
    func runtime(of slot: Int) -> ModelRuntime { runtimes[table[slot].runtime]! }

    // MARK: input

    func accept(_ message: InputMessage) {
        tokensIn += message.tokens.count
        table.accept(message, now: clock())
        bookkeeping()
    }

    func reject(stream: String, error: OutputEvent) {
        table.reject(stream: stream, error: error)
    }

    func drop(_ stream: String) -> Bool {
        let dropped = table.drop(stream)
        bookkeeping()
        publishImmediate()
        return dropped
    }

    /// Evicts idle streams, forgets old tombstones, moves drained streams over (call about
    /// once a second).
    func expire() {
        guard !halted else { return }
        let now = clock()
        table.expire(now: now)
        if policy == .drain && now - swapTime >= settings.drainTimeout { scheduleMoves() }
        bookkeeping()
        publishImmediate()
    }

    /// Zeroes new streams' states and frees runtimes nobody uses any more.
    func bookkeeping() {
        if !table.fresh.isEmpty {
            for slot in table.fresh {
                let runtime = runtimes[table[slot].runtime]!
                runtime.ensureCapacity(table.capacity)
                runtime.zero(slot)
                runtime.streams += 1
            }
            table.fresh.removeAll(keepingCapacity: true)
        }
        if !table.released.isEmpty {
            for generation in table.released { runtimes[generation]?.streams -= 1 }
            table.released.removeAll(keepingCapacity: true)
            freeUnusedRuntimes()
        }
    }

    private func freeUnusedRuntimes() {
        for case let r? in runtimes where r.generation != current && r.streams <= 0 { runtimes[r.generation] = nil }
    }

    func setCurrent(_ generation: Int) { current = generation }
    func markSwap(at time: Double) { swapTime = time }
    func dropRuntime(_ generation: Int) { runtimes[generation] = nil }

    // MARK: running

    /// Runs ops and steps until every stream waits for input (no step is held back).
    func runUntilIdle() {
        while runOnce(hold: false) {}
    }

    /// When a step held back by `batch_wait` is due; nil when none is held.
    var heldUntil: Double? { holdingSince.map { $0 + settings.batchWait } }

    /// Runs the ops at the head of active streams up to their next token until a batch is
    /// full (the scan goes on from there next time, so streams take turns), then one batched
    /// step per model; right after the step, each stepped stream runs the ops its token
    /// completed (the answer after a message's last token, `end`, events), so they go out with
    /// this step's output. Returns whether anything happened.
    ///
    /// With `batch_wait` (and `hold`), the first step after an idle spell waits up to that long
    /// for more streams, unless a full batch is ready: it returns false until then (`heldUntil`
    /// says when). The steps that follow a step run at once, so a message waits once at most.
    @discardableResult
    func runOnce(hold: Bool = true) -> Bool {
        runRound(hold: hold, toBoundary: false)
    }

    /// Runs the messages streams are in the middle of to their answers, and nothing after
    /// them: every stream is then between two messages, and what it has queued can be saved
    /// as input. At most one message per stream (≤ 4,096 tokens), batched like any work.
    func finishMessagesInProgress() {
        while runRound(hold: false, toBoundary: true) {}
    }

    /// One round of `runOnce`; `toBoundary` takes only streams in the middle of a message and
    /// stops each at its next answer. Returns whether a step ran.
    private func runRound(hold: Bool, toBoundary: Bool) -> Bool {
        tick()
        publishImmediate()
        guard !halted, !table.active.isEmpty else {
            steppedLastRound = false
            return false
        }
        if hold && settings.batchWait > 0 && !steppedLastRound && table.active.count < settings.maxBatch {
            let now = clock()
            let since = holdingSince ?? now
            holdingSince = since
            if now - since < settings.batchWait { return false }
        }
        holdingSince = nil
        for case let r? in runtimes { r.batchSlots.removeAll(keepingCapacity: true) }
        let active = table.active
        let n = active.count
        let start = nextStart % max(n, 1)
        var taken = 0, scanned = 0
        while scanned < n && taken < settings.maxBatch {
            let slot = active[(start + scanned) % n]
            scanned += 1
            guard table.records[slot] != nil, runHead(slot, toBoundary: toBoundary) else { continue }
            runtime(of: slot).batchSlots.append(slot)
            taken += 1
        }
        nextStart = start + scanned
        steppedLastRound = taken > 0
        for case let r? in runtimes where !r.batchSlots.isEmpty {
            step(r)
            for slot in r.batchSlots where table.records[slot] != nil { _ = runHead(slot, toBoundary: toBoundary) }
        }
        // Streams with nothing left leave the active list once per full turn of the scan.
        scannedSincePrune += scanned
        if scannedSincePrune >= n {
            table.pruneActive()
            scannedSincePrune = 0
        }
        bookkeeping()
        publishImmediate()
        return toBoundary ? taken > 0 : true
    }

    /// Executes a stream's ops until a token (or replay) is at the head (returns true) or none
    /// are left (or, `toBoundary`, its message is answered).
    private func runHead(_ slot: Int, toBoundary: Bool = false) -> Bool {
        while let op = table[slot].ops.first {
            if toBoundary && !table[slot].midMessage { return false }
            if !table[slot].midMessage {
                // Between two messages: the moment to move to a new model, and to say so.
                if let from = table[slot].pendingSwitch {
                    table[slot].pendingSwitch = nil
                    switchStream(slot, from: from)
                    continue
                }
                if let announce = table[slot].announce {
                    table[slot].announce = nil
                    emit(table[slot].id, .model(from: announce.from, to: announce.to))
                    if announce.reset { emit(table[slot].id, .reset(reason: .model)) }
                }
            }
            switch op {
            case .token, .replay:
                table[slot].midMessage = true
                return true
            case .event(let event):
                emit(table[slot].id, event)
            case .clear(let reason, let announce):
                releaseWindow(slot)
                clearState(slot)
                if announce { emit(table[slot].id, .reset(reason: reason)) }
                // Drain policy: a reset is the moment to move to the current model.
                if table[slot].runtime != current { moveClean(slot) }
            case .flush:
                table[slot].endCount = table[slot].cursor.fed
                releaseWindow(slot)
                clearState(slot)
            case .answer(let seq):
                answer(slot, seq: seq)
                table[slot].midMessage = false
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

    /// One batched step of one model: advance every stream's state row in place by its head
    /// token, release the tokens whose window is full.
    private func step(_ r: ModelRuntime) {
        let B = r.batchSlots.count, C = r.model.C
        let started = metrics.stepStarted()
        let rows = r.batchRows.pointer
        for (b, slot) in r.batchSlots.enumerated() {
            rows[b] = r.row(slot)
            switch table[slot].ops.first {
            case .token(let token)?, .replay(let token, _)?: r.codes[b] = r.model.encode(token)
            default: preconditionFailure("head is not a token")
            }
        }
        r.codes.withUnsafeBufferPointer { r.stepper.step(rows: rows, tokens: $0.baseAddress!, count: B) }
        r.stepper.scores(rows: rows, count: B, seeing: r.lookahead, into: r.scores.pointer)
        var consumed = 0
        for (b, slot) in r.batchSlots.enumerated() {
            if advance(&table[slot], runtime: r, scores: r.scores.pointer + b * C) { consumed += 1 }
        }
        table.stepped(tokens: consumed)
        steps += 1
        metrics.stepped(batch: B, since: started)
    }

    /// Books the step of a stream's head token: window, replay ring, and the final tag the
    /// full window releases (scores of the final head for this stream's row). Returns whether
    /// it consumed a queued input token (not a replay).
    private func advance(_ record: inout StreamRecord, runtime: ModelRuntime, scores: UnsafePointer<Float>) -> Bool {
        let token: String
        switch record.ops.removeFirst() {
        case .token(let t):
            token = t
        case .replay(_, let position):
            // A replayed token: the oldest waiting token is due once k' followers are stepped.
            let waiting = record.cursor.released
            guard waiting < record.cursor.fed, position - waiting == runtime.lookahead else { return false }
            let emission = record.cursor.releaseOldest(scores: scores, decoder: runtime.decoder)
            record.answer.append(runtime.outputTag(emission, token: record.window.removeFirst()))
            return false
        default:
            return false
        }
        record.queuedTokens -= 1
        record.cursor.advance()
        record.window.append(token)
        record.replay.append(token)
        if let emission = record.cursor.releaseDue(scores: scores, decoder: runtime.decoder) {
            record.answer.append(runtime.outputTag(emission, token: record.window.removeFirst()))
        }
        return true
    }

    /// Final tags for the tokens still in the window, from the heads that see what they have.
    func releaseWindow(_ slot: Int) {
        windowTags.removeAll(keepingCapacity: true)
        table[slot].cursor.previousTag = decodeWindow(slot, into: &windowTags)
        table[slot].answer.append(contentsOf: windowTags)
        table[slot].window.removeAll(keepingCapacity: true)
        table[slot].cursor.releaseAll()
    }

    /// Tags for the tokens in a stream's window (oldest first), each from the head that sees
    /// the followers it has; the stream is not changed. Returns the last tag (IOB context).
    private func decodeWindow(_ slot: Int, into out: inout [OutputTag]) -> Int32 {
        let r = runtime(of: slot)
        let row = r.row(slot)
        let cursor = table[slot].cursor, window = table[slot].window
        assert(window.count == cursor.pending, "the window holds exactly the tokens not yet released")
        // Position fed - 1 is the window's last token.
        let offset = window.count - cursor.fed
        return r.stepper.decodeWindow(row: row, cursor: cursor, decoder: r.decoder, scratch: r.scores.pointer) { emission in
            out.append(r.outputTag(emission, token: window[offset + emission.position]))
        }
    }

    func clearState(_ slot: Int) {
        runtime(of: slot).zero(slot)
        table[slot].cursor.reset()
        table[slot].window.removeAll(keepingCapacity: true)
        table[slot].replay.removeAll()
    }

    private func answer(_ slot: Int, seq: UInt64) {
        let r = runtime(of: slot)
        tokensOut += table[slot].answer.count
        buffer.removeAll(keepingCapacity: true)
        if settings.partial && r.lookahead > 0 {
            windowTags.removeAll(keepingCapacity: true)
            _ = decodeWindow(slot, into: &windowTags)
            OutputEncoder.encodeTags(seq: seq, model: r.model.id, tags: table[slot].answer, partial: windowTags, into: &buffer)
        } else {
            OutputEncoder.encodeTags(seq: seq, model: r.model.id, tags: table[slot].answer, into: &buffer)
        }
        outbox.append(Outgoing(topic: table[slot].id, body: buffer, arrival: table[slot].arrivals.pop()))
        table[slot].answer.removeAll(keepingCapacity: true)
    }

    func emit(_ stream: String, _ event: OutputEvent) {
        metrics.count(event)
        buffer.removeAll(keepingCapacity: true)
        OutputEncoder.encode(event, into: &buffer)
        outbox.append(Outgoing(topic: stream, body: buffer))
    }

    func publishImmediate() {
        guard !table.immediate.isEmpty else { return }
        for (stream, event) in table.immediate { emit(stream, event) }
        table.immediate.removeAll(keepingCapacity: true)
    }
}
