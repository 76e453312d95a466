import StreamTagCore
import DequeModule
import StreamTagWire

/// The streams of one worker as a pure state machine: sequence numbers (gaps, duplicates,
/// the end-grace window), resets and ends, pending limits, idle and memory eviction, drops.
/// Accepting a message only queues ops on its stream; the worker executes them. Time comes
/// from the caller, so every rule is testable without sockets or sleeps.
struct StreamTable: Sendable {
    var settings: StreamSettings
    /// k' of the current model: new streams' cursors use it.
    var lookahead: Int
    /// Bytes of recurrent state per stream under the current model (for the memory cap).
    var stateBytes: Int
    /// Generation of the current model runtime: new streams start on it.
    var currentRuntime = 0

    private(set) var records: [StreamRecord?] = []
    private var index: [String: Int] = [:]
    private var freeSlots: [Int] = []
    /// Slots with queued ops, in the order they became active. A removed stream's slot stays
    /// on it (its record nil) until the next `pruneActive`, which frees it: removing from the
    /// middle at each end would cost O(active), O(active²) when thousands of streams end.
    private(set) var active: [Int] = []
    /// Removed streams' slots still on the active list: free once pruned.
    private var retired: [Int] = []
    /// Ended streams: last seq and end time, kept for `endGrace`.
    private(set) var tombstones: [String: (seq: UInt64, ended: Double)] = [:]
    /// Events for streams that have nothing queued (or no longer exist), to publish now.
    var immediate: [(stream: String, event: OutputEvent)] = []
    /// Slots whose state must be zeroed before use (new streams).
    var fresh: [Int] = []
    /// Runtime generations of streams removed since the worker last looked.
    var released: [Int] = []
    /// Streams with nothing queued and off the active list, longest idle first: the memory
    /// cap's victims, found in O(1).
    private(set) var idle = SlotList()
    /// Streams restored with queued input, held (off the active list) until `releaseHeld`.
    private var held: [Int] = []
    /// `.token` ops queued over all streams (what `maxPendingTotal` bounds): the sum of the
    /// records' `queuedTokens`, kept here so that admission is O(1).
    private(set) var pendingTokens = 0

    init(settings: StreamSettings, lookahead: Int, stateBytes: Int) {
        self.settings = settings
        self.lookahead = lookahead
        self.stateBytes = stateBytes
    }

    var count: Int { index.count }
    var capacity: Int { records.count }

    func slot(of stream: String) -> Int? { index[stream] }

    /// A stream by slot, mutated in place (a copy would duplicate its queue on write).
    subscript(slot: Int) -> StreamRecord {
        get { records[slot]! }
        _modify { yield &records[slot]! }
    }

    // MARK: input

    /// Applies the sequence rules (docs/protocol.md#sequence-rules) to an accepted (well-formed) message.
    mutating func accept(_ m: InputMessage, now: Double) {
        if let slot = index[m.streamID] {
            continueStream(slot, m, now: now)
            return
        }
        if let tomb = tombstones[m.streamID] {
            if now - tomb.ended < settings.endGrace && m.seq <= tomb.seq {
                immediate.append((m.streamID, .duplicate(seq: m.seq, last: tomb.seq)))
                return
            }
            tombstones[m.streamID] = nil
        }
        if let refusal = overload(m, queued: 0) ?? admissionRefusal(m) {
            immediate.append((m.streamID, refusal))
            return
        }
        let slot = allocate(m.streamID, seq: m.seq, now: now)
        // A new stream starts clean; `reset: true` on it has nothing to announce.
        enqueue(slot, m, clear: nil)
    }

    /// Under `maxStateBytes`, room for one more stream: the longest idle stream is evicted for
    /// it (O(1)); when every stream has input queued (none can go without losing accepted
    /// input), the new stream is refused with `overloaded` instead, so the cap holds at any
    /// arrival rate.
    private mutating func admissionRefusal(_ m: InputMessage) -> OutputEvent? {
        guard settings.maxStateBytes > 0, (count + 1) * stateBytes > settings.maxStateBytes else { return nil }
        if let victim = idle.first {
            immediate.append((records[victim]!.id, .evicted(reason: .memory)))
            remove(victim, tombstone: nil)
            return nil
        }
        return .error(code: .overloaded,
                      message: "no room for a new stream: streams.max_state_bytes is reached and every open stream has input queued; retry later",
                      seq: m.seq)
    }

    private mutating func continueStream(_ slot: Int, _ m: InputMessage, now: Double) {
        let last = self[slot].lastSeq
        if m.seq <= last {
            self[slot].ops.append(.event(.duplicate(seq: m.seq, last: last)))
            activate(slot)
            return
        }
        if let refused = self[slot].refusedSeq, m.seq > refused {
            self[slot].ops.append(.event(.error(
                code: .overloaded,
                message: "seq \(m.seq) comes after seq \(refused), which was refused as overloaded: resend from seq \(refused), in order",
                seq: m.seq)))
            activate(slot)
            return
        }
        if let refusal = overload(m, queued: self[slot].queuedTokens) {
            self[slot].refusedSeq = m.seq
            self[slot].ops.append(.event(refusal))
            activate(slot)
            return
        }
        if let refused = self[slot].refusedSeq, m.seq >= refused { self[slot].refusedSeq = nil }
        self[slot].lastInput = now
        var clear: (OutputEvent.ResetReason, Bool)? = nil
        if self[slot].ending {
            // The stream ended (its `end` is still queued): a later seq starts a new stream
            // behind it, from a clean state and with no gap or reset to report.
            self[slot].ending = false
            clear = (.request, false)
        } else if m.seq > last + 1 {
            self[slot].ops.append(.event(.gap(expected: last + 1, received: m.seq)))
            if settings.resetOnGap { clear = (.gap, true) }
        }
        if clear == nil && m.reset { clear = (.request, true) }
        self[slot].lastSeq = m.seq
        enqueue(slot, m, clear: clear)
    }

    private mutating func enqueue(_ slot: Int, _ m: InputMessage, clear: (OutputEvent.ResetReason, Bool)?) {
        if let (reason, announce) = clear { self[slot].ops.append(.clear(reason: reason, announce: announce)) }
        // One access to the record and one reservation of the queue for the whole message.
        self[slot].ops.append(contentsOf: m.tokens.lazy.map(StreamOp.token))
        self[slot].queuedTokens += m.tokens.count
        pendingTokens += m.tokens.count
        if m.end {
            self[slot].ops.append(.flush)
            self[slot].ending = true
        }
        self[slot].ops.append(.answer(seq: m.seq))
        self[slot].arrivals.push(m.arrival.nanoseconds)
        if m.end { self[slot].ops.append(.end) }
        activate(slot)
    }

    /// The worker stepped `count` queued input tokens (each taken off its record's
    /// `queuedTokens` as it ran): they leave the daemon-wide budget.
    mutating func stepped(tokens count: Int) {
        pendingTokens -= count
    }

    /// A malformed message for a usable stream id: its error is published in the stream's
    /// order (after what earlier messages still owe), and nothing else changes.
    mutating func reject(stream: String, error: OutputEvent) {
        if let slot = index[stream] {
            records[slot]!.ops.append(.event(error))
            activate(slot)
        } else {
            immediate.append((stream, error))
        }
    }

    /// `overloaded` when `m`'s tokens overflow the stream's queue (`queued` tokens already) or
    /// the worker's share of the daemon-wide budget; nil when they fit.
    private func overload(_ m: InputMessage, queued: Int) -> OutputEvent? {
        if queued + m.tokens.count > settings.maxPendingTokens {
            return .error(code: .overloaded,
                          message: "the stream's pending queue is full (\(settings.maxPendingTokens) tokens); slow down or raise streams.max_pending_tokens",
                          seq: m.seq)
        }
        if pendingTokens + m.tokens.count > settings.maxPendingTotal {
            return .error(code: .overloaded,
                          message: "the daemon's pending input is full (\(pendingTokens) tokens queued on this worker, its share of streams.max_pending_total); slow down",
                          seq: m.seq)
        }
        return nil
    }

    // MARK: lifecycle

    private mutating func allocate(_ id: String, seq: UInt64, now: Double) -> Int {
        let slot = freeSlots.popLast() ?? records.count
        let record = StreamRecord(id: id, slot: slot, seq: seq, lookahead: lookahead,
                                  replayTokens: settings.replayTokens, now: now, runtime: currentRuntime)
        if slot == records.count { records.append(record) } else { records[slot] = record }
        index[id] = slot
        fresh.append(slot)
        return slot
    }

    /// Re-creates a stream from a snapshot (between two of its messages), with the input it
    /// had queued (held until `releaseHeld`).
    mutating func restore(_ s: StreamSnapshot, previousTag: Int32, lastInput: Double) -> Int {
        if let old = index[s.id] { remove(old, tombstone: nil) }
        let slot = allocate(s.id, seq: s.seq, now: lastInput)
        var r = records[slot]!
        r.cursor = LookaheadCursor(lookahead: lookahead, fed: s.fed, released: s.fed - s.window.count, previousTag: previousTag)
        r.window = s.window
        for token in s.replay { r.replay.append(token) }
        for op in s.queued {
            let op = op.streamOp
            r.ops.append(op)
            if case .token = op { r.queuedTokens += 1 }
            if case .answer = op { r.arrivals.push(ArrivalTime.now.nanoseconds) }
        }
        r.ending = s.ending
        r.endCount = s.endCount
        pendingTokens += r.queuedTokens
        records[slot] = r
        if r.ops.isEmpty { idle.append(slot) } else { held.append(slot) }
        return slot
    }

    /// Puts the restored streams' queued input to work.
    mutating func releaseHeld() {
        for slot in held where records[slot].map({ !$0.ops.isEmpty }) ?? false { activate(slot) }
        held.removeAll()
    }

    mutating func restoreTombstone(id: String, seq: UInt64, ended: Double) {
        guard index[id] == nil else { return }
        tombstones[id] = (seq, ended)
    }

    /// Forgets a stream; its slot is reused.
    mutating func remove(_ slot: Int, tombstone now: Double?) {
        guard let r = records[slot] else { return }
        if let now { tombstones[r.id] = (r.lastSeq, now) }
        released.append(r.runtime)
        pendingTokens -= r.queuedTokens
        idle.remove(slot)
        index[r.id] = nil
        records[slot] = nil
        // A slot still on the active list is reused only once pruned from it, so that it never
        // appears there twice.
        if r.isActive { retired.append(slot) } else { freeSlots.append(slot) }
    }

    mutating func activate(_ slot: Int) {
        guard !records[slot]!.isActive else { return }
        records[slot]!.isActive = true
        idle.remove(slot)
        active.append(slot)
    }

    /// Drops slots that have nothing left to do (or are gone) from the active list, and frees
    /// the slots of removed streams.
    mutating func pruneActive() {
        active.removeAll { slot in
            guard let r = records[slot] else { return true }
            if r.ops.isEmpty {
                records[slot]!.isActive = false
                idle.append(slot)
                return true
            }
            return false
        }
        freeSlots.append(contentsOf: retired)
        retired.removeAll(keepingCapacity: true)
    }

    /// Control `drop`: discards queued input and frees the stream (`evicted`, reason dropped).
    mutating func drop(_ stream: String) -> Bool {
        guard let slot = index[stream] else { return false }
        immediate.append((stream, .evicted(reason: .dropped)))
        remove(slot, tombstone: nil)
        return true
    }

    // MARK: eviction

    /// Idle streams (nothing queued, no input for `idleTimeout`) are evicted; old tombstones
    /// are forgotten.
    mutating func expire(now: Double) {
        if settings.idleTimeout > 0 {
            for case let r? in records where r.ops.isEmpty && now - r.lastInput >= settings.idleTimeout {
                immediate.append((r.id, .evicted(reason: .idle)))
                remove(r.slot, tombstone: nil)
            }
        }
        if !tombstones.isEmpty {
            tombstones = tombstones.filter { now - $0.value.ended < settings.endGrace }
        }
        evictForMemory()
    }

    /// Over `maxStateBytes` (a lower cap from a config reload, a bigger model, a restore),
    /// evicts the longest idle streams until under it, O(1) each; streams with queued input
    /// stay (new ones are refused meanwhile).
    mutating func evictForMemory() {
        guard settings.maxStateBytes > 0 else { return }
        while count * stateBytes > settings.maxStateBytes, let victim = idle.first {
            immediate.append((records[victim]!.id, .evicted(reason: .memory)))
            remove(victim, tombstone: nil)
        }
    }
}
