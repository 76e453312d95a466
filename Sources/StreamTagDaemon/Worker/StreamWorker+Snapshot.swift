import StreamTagCore

extension StreamWorker {
    /// Every open stream and tombstone, for a snapshot. Call when the worker is idle (every
    /// accepted message processed), so that each stream is between two messages.
    func exportStreams() -> (streams: [StreamSnapshot], tombstones: [TombstoneSnapshot]) {
        let now = clock()
        let S = layout.floats
        var streams: [StreamSnapshot] = []
        for case let r? in table.records {
            let row = slab.pointer + r.slot * S
            streams.append(StreamSnapshot(
                id: r.id, seq: r.lastSeq, fed: r.cursor.fed, previousTag: r.cursor.previousTag, window: r.window,
                replay: r.replay.ordered, idle: max(0, now - r.lastInput),
                state: Array(UnsafeBufferPointer(start: row, count: S))))
        }
        let tombstones = table.tombstones.map { TombstoneSnapshot(id: $0.key, seq: $0.value.seq, age: max(0, now - $0.value.ended)) }
        return (streams, tombstones)
    }

    /// Restores a stream. With `sameModel` the state row is taken as is; otherwise it is
    /// rebuilt by running the replay tokens through this worker's model (positions continue).
    func importStream(_ s: StreamSnapshot, sameModel: Bool) {
        let now = clock()
        let slot = table.restore(id: s.id, seq: s.seq, fed: s.fed, previousTag: s.previousTag, window: s.window,
                                 replay: s.replay, lastInput: now - s.idle)
        prepareNewStreams()
        let S = layout.floats
        if sameModel && s.state.count == S {
            (slab.pointer + slot * S).update(from: s.state, count: S)
        } else {
            replay(slot, tokens: s.replay)
        }
    }

    func importTombstone(_ t: TombstoneSnapshot) {
        table.restoreTombstone(id: t.id, seq: t.seq, ended: clock() - t.age)
    }

    /// Rebuilds a stream's state from zero by stepping its replay tokens one by one.
    func replay(_ slot: Int, tokens: [String]) {
        let S = layout.floats
        let row = batch.pointer
        row.update(repeating: 0, count: S)
        for token in tokens {
            var code = model.encode(token)
            stepper.step(states: row, tokens: &code, count: 1)
        }
        (slab.pointer + slot * S).update(from: row, count: S)
    }
}
