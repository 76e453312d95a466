import StreamTagCore

extension StreamWorker {
    /// Every open stream and tombstone, for a snapshot. Call when the worker is idle (every
    /// accepted message processed), so that each stream is between two messages.
    func exportStreams() -> (streams: [StreamSnapshot], tombstones: [TombstoneSnapshot]) {
        let now = clock()
        var streams: [StreamSnapshot] = []
        for case let r? in table.records {
            let runtime = runtimes[r.runtime]!
            streams.append(StreamSnapshot(
                id: r.id, seq: r.lastSeq, fed: r.cursor.fed, previousTag: r.cursor.previousTag, window: r.window,
                replay: r.replay.ordered, idle: max(0, now - r.lastInput), model: runtime.model.sha256,
                state: Array(UnsafeBufferPointer(start: runtime.row(r.slot), count: runtime.layout.floats))))
        }
        let tombstones = table.tombstones.map { TombstoneSnapshot(id: $0.key, seq: $0.value.seq, age: max(0, now - $0.value.ended)) }
        return (streams, tombstones)
    }

    /// Restores a stream onto the current model. A state saved under this model is taken as is;
    /// one saved under another is rebuilt from the replay tokens (positions continue, a `model`
    /// event goes out before the stream's next answer), whatever the reload policy: the old
    /// model is not loaded any more.
    func importStream(_ s: StreamSnapshot, fromModel modelID: String) {
        let runtime = currentRuntime
        let slot = table.restore(id: s.id, seq: s.seq, fed: s.fed, previousTag: s.previousTag, window: s.window,
                                 replay: s.replay, lastInput: clock() - s.idle)
        bookkeeping()
        if s.model == runtime.model.sha256 && s.state.count == runtime.layout.floats {
            runtime.row(slot).update(from: s.state, count: s.state.count)
        } else {
            // Replayed before the stream's next message, like a stream that moves on reload.
            table[slot].pendingSwitch = modelID
        }
    }

    func importTombstone(_ t: TombstoneSnapshot) {
        table.restoreTombstone(id: t.id, seq: t.seq, ended: clock() - t.age)
    }
}
