import StreamTagCore

/// How streams in flight move to a newly loaded model (`reload.policy`).
typealias ReloadPolicy = DaemonConfig.Reload.Policy

extension StreamWorker {
    /// Starts serving `model`: new streams start on it; open streams move over before their
    /// next message (one answer, one model) — or, under `drain`, at their next reset or after
    /// `drainTimeout`. Costs nothing per stream here: the moves happen lazily, and a move's
    /// replay steps in the batches like ordinary tokens, so the swap never pauses the workers.
    func adopt(_ model: Model, policy: ReloadPolicy) {
        adopt(ModelRuntime(model: model, settings: settings), policy: policy)
    }

    func adopt(_ runtime: ModelRuntime, policy: ReloadPolicy) {
        let generation = runtimes.count
        runtime.generation = generation
        runtime.ensureCapacity(table.capacity)
        runtimes.append(runtime)
        setCurrent(generation)
        self.policy = policy
        markSwap(at: clock())
        table.lookahead = runtime.lookahead
        table.stateBytes = runtime.layout.bytes
        table.currentRuntime = generation
        if policy != .drain { scheduleMoves() }
    }

    /// Takes the stream rules of a config reload (on the worker's thread, between two steps).
    /// `lookahead` and `maxBatch` stay as they are: they size the runtimes' buffers and need a
    /// restart. The rest acts from here on: pending limits at the next message, idle and memory
    /// limits at the next `expire` (within a second), `replayTokens` for streams that start
    /// from now on (an open stream's replay ring keeps its size).
    func apply(_ new: StreamSettings) {
        var next = new
        next.lookahead = settings.lookahead
        next.maxBatch = settings.maxBatch
        table.settings = next
    }

    /// Marks every stream on an older model to move before its next message.
    func scheduleMoves() {
        for case let r? in table.records where r.runtime != current && r.pendingSwitch == nil {
            table[r.slot].pendingSwitch = runtimes[r.runtime]!.model.id
        }
    }

    /// Moves one stream to the current model (between two of its messages). `replay`/`drain`:
    /// the state is rebuilt from zero by stepping the stream's replay tokens through the new
    /// model ahead of its next message; positions continue, and tokens waiting for their final
    /// tag get it from the new model. `reset`: the waiting tokens are released by the old
    /// model, then the stream starts over (positions from 0).
    func switchStream(_ slot: Int, from: String) {
        let old = runtimes[table[slot].runtime], new = currentRuntime
        if policy == .reset, let old, old !== new {
            releaseWindow(slot)
            clearState(slot)
            move(slot, from: old, to: new)
            new.zero(slot)
            table[slot].cursor = LookaheadCursor(lookahead: new.lookahead)
            table[slot].announce = (from, new.model.id, true)
            return
        }
        if let old, old !== new { move(slot, from: old, to: new) }
        new.zero(slot)
        let c = table[slot].cursor
        table[slot].cursor = LookaheadCursor(lookahead: new.lookahead, fed: c.fed, released: c.released,
                                             previousTag: old.map { new.translate(tag: c.previousTag, from: $0) } ?? -1)
        let tokens = table[slot].replay.ordered
        let first = c.fed - tokens.count
        table[slot].ops.prepend(contentsOf: tokens.enumerated().map { .replay($1, position: first + $0) })
        table[slot].announce = (from, new.model.id, false)
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
        if old.streams <= 0 && old.generation != current { dropRuntime(old.generation) }
    }
}
