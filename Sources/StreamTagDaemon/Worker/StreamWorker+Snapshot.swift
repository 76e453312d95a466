import StreamTagCore

extension StreamWorker {
    /// Every open stream and tombstone, for a snapshot, without computing the backlog: the
    /// messages streams are in the middle of are finished (at most one each), then each stream
    /// is saved between two messages with what it has queued as input. `halt` (the shutdown
    /// snapshot) stops the worker from running anything after: that input is the snapshot's.
    func exportStreams(halt: Bool = false) -> (streams: [StreamSnapshot], tombstones: [TombstoneSnapshot]) {
        finishMessagesInProgress()
        if halt { halted = true }
        let now = clock()
        var streams: [StreamSnapshot] = []
        for case let r? in table.records {
            let runtime = runtimes[r.runtime]!
            streams.append(StreamSnapshot(
                id: r.id, seq: r.lastSeq, fed: r.cursor.fed, previousTag: r.cursor.previousTag, window: r.window,
                replay: r.replay.ordered, idle: max(0, now - r.lastInput), model: runtime.model.sha256,
                state: Array(UnsafeBufferPointer(start: runtime.row(r.slot), count: runtime.layout.floats)),
                queued: r.ops.compactMap(QueuedOp.init), ending: r.ending, endCount: r.endCount))
        }
        let tombstones = table.tombstones.map { TombstoneSnapshot(id: $0.key, seq: $0.value.seq, age: max(0, now - $0.value.ended)) }
        return (streams, tombstones)
    }

    /// Restores a stream onto the current model (its record checked by the snapshot reader
    /// against this model: `SnapshotLimits`). A state saved under this model is taken as is;
    /// one saved under another is rebuilt from the replay tokens (positions continue, a `model`
    /// event goes out before the stream's next answer), whatever the reload policy: the old
    /// model is not loaded any more. Its queued input waits for `releaseRestoredInput`.
    func importStream(_ s: StreamSnapshot, fromModel modelID: String) {
        let runtime = currentRuntime
        let raw = s.model == runtime.model.sha256 && s.state.count == runtime.layout.floats
        // The IOB context of another model's tag set means nothing here.
        let slot = table.restore(s, previousTag: raw ? s.previousTag : -1, lastInput: clock() - s.idle)
        bookkeeping()
        if raw {
            runtime.row(slot).update(from: s.state, count: s.state.count)
        } else {
            // Replayed before the stream's next message, like a stream that moves on reload.
            table[slot].pendingSwitch = modelID
        }
    }

    func importTombstone(_ t: TombstoneSnapshot) {
        table.restoreTombstone(id: t.id, seq: t.seq, ended: clock() - t.age)
    }

    /// Runs the input restored streams had queued. The daemon calls it once subscribers had a
    /// heartbeat to join on, so that the answers are not published to nobody.
    func releaseRestoredInput() {
        table.releaseHeld()
    }
}
