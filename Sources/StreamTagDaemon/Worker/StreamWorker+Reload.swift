import StreamTagCore

/// How streams in flight move to a newly loaded model (`reload.policy`).
typealias ReloadPolicy = DaemonConfig.Reload.Policy

extension StreamWorker {
    /// Starts serving `model`: new streams start on it; open streams move over per `policy` —
    /// at once when they are between two messages, else right after the message in progress
    /// is answered (one answer, one model). Under `drain` they stay until their next reset or
    /// `drainTimeout`. Runs between two steps.
    func adopt(_ model: Model, policy: ReloadPolicy) {
        let generation = runtimes.count
        let runtime = ModelRuntime(generation: generation, model: model, lookahead: settings.lookahead,
                                   maxBatch: settings.maxBatch, capacity: table.capacity)
        runtimes.append(runtime)
        setCurrent(generation)
        self.policy = policy
        markSwap(at: clock())
        table.lookahead = runtime.lookahead
        table.stateBytes = runtime.layout.bytes
        table.currentRuntime = generation
        guard policy != .drain else { return }
        for case let r? in table.records where r.runtime != generation {
            if r.midMessage {
                table[r.slot].switchPending = true
            } else {
                switchStream(r.slot)
            }
        }
        freeUnusedRuntimesNow()
    }

    /// Moves one stream to the current model. `replay`/`drain`: the state is rebuilt from zero by
    /// running the stream's replay tokens through the new model; positions continue, and tokens
    /// still waiting for their final tag get it from the new model. `reset`: the waiting tokens
    /// are released by the old model, then the stream starts over (positions from 0).
    func switchStream(_ slot: Int) {
        let old = runtime(of: slot), new = currentRuntime
        guard old !== new else { return }
        let from = old.model.id
        if policy == .reset {
            releaseWindow(slot)
            clearState(slot)
            move(slot, from: old, to: new)
            new.zero(slot)
            table[slot].cursor = LookaheadCursor(lookahead: new.lookahead)
            table[slot].announce = (from, new.model.id, true)
        } else {
            move(slot, from: old, to: new)
            let c = table[slot].cursor
            table[slot].cursor = LookaheadCursor(lookahead: new.lookahead, fed: c.fed, released: c.released,
                                                 previousTag: new.translate(tag: c.previousTag, from: old))
            rebuild(slot, in: new)
            table[slot].announce = (from, new.model.id, false)
        }
    }

    /// Under `drain`, a reset moves a stream to the current model: its state is cleared anyway.
    func moveClean(_ slot: Int) {
        let old = runtime(of: slot), new = currentRuntime
        guard old !== new else { return }
        move(slot, from: old, to: new)
        new.zero(slot)
        table[slot].cursor = LookaheadCursor(lookahead: new.lookahead)
        table[slot].announce = (old.model.id, new.model.id, false)
    }

    private func move(_ slot: Int, from old: ModelRuntime, to new: ModelRuntime) {
        new.ensureCapacity(table.capacity)
        table[slot].runtime = new.generation
        old.streams -= 1
        new.streams += 1
    }

    /// Rebuilds a stream's state in `runtime` from its replay tokens (oldest first). While
    /// replaying, a waiting token whose window fills under this model's k' gets its final tag,
    /// exactly as if the stream had run on this model all along; it goes out in the next answer.
    func rebuild(_ slot: Int, in runtime: ModelRuntime) {
        let tokens = table[slot].replay.ordered
        let S = runtime.layout.floats
        let row = runtime.batch.pointer
        row.update(repeating: 0, count: S)
        let fed = table[slot].cursor.fed
        let first = fed - tokens.count          // position of tokens[0]
        for (i, token) in tokens.enumerated() {
            var code = runtime.model.encode(token)
            runtime.stepper.step(states: row, tokens: &code, count: 1)
            // The oldest waiting token is due once k' followers have been stepped.
            let waiting = table[slot].cursor.released
            guard waiting < fed, first + i - waiting == runtime.lookahead else { continue }
            runtime.stepper.scores(states: row, count: 1, seeing: runtime.lookahead, into: runtime.scores.pointer)
            let (tag, name, p) = runtime.decode(runtime.scores.pointer, previous: table[slot].cursor.previousTag)
            table[slot].cursor = LookaheadCursor(lookahead: runtime.lookahead, fed: fed, released: waiting + 1, previousTag: tag)
            table[slot].answer.append(OutputTag(i: waiting, token: table[slot].window.removeFirst(), tag: name, p: p))
        }
        runtime.row(slot).update(from: row, count: S)
    }

    /// Drops runtimes that no stream uses any more (not the current one).
    func freeUnusedRuntimesNow() {
        bookkeeping()
        for case let r? in runtimes where r.generation != current && r.streams <= 0 { dropRuntime(r.generation) }
    }
}
