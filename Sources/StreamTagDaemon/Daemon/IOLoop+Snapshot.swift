import Foundation
import StreamTagCore

extension IOLoop {
    /// Restores streams from the last snapshot: raw state under the same model, replay under
    /// another one. Records that fail their checks are left out, each logged with its reason
    /// and counted (`streamtag_snapshot_records_dropped_total`). Queued input is held until
    /// `releaseRestoredInput` (after the first heartbeat).
    func restoreSnapshot() {
        let snapshots = daemon.snapshots
        guard let snapshot = snapshots.load(logger: logger, limits: .serving(model, settings: settings)) else { return }
        let sameModel = snapshot.modelSHA256 == model.sha256
        let snapshotModel = snapshot.modelID
        var perWorker = Array(repeating: [StreamSnapshot](), count: pool.workers.count)
        for s in snapshot.streams { perWorker[pool.worker(for: s.id)].append(s) }
        var tombs = Array(repeating: [TombstoneSnapshot](), count: pool.workers.count)
        for t in snapshot.tombstones { tombs[pool.worker(for: t.id)].append(t) }
        for (i, w) in pool.workers.enumerated() {
            let streams = perWorker[i], tombstones = tombs[i]
            w.submit([.run { worker in
                for s in streams { worker.importStream(s, fromModel: snapshotModel) }
                for t in tombstones { worker.importTombstone(t) }
            }])
        }
        // A file full of bad records must not flood the log: the first few in full, then a count.
        for d in snapshot.dropped.prefix(20) {
            logger.error("snapshot record dropped", metadata: [
                "path": "\(snapshots.path)", "stream": "\(d.id.debugDescription.prefix(80))", "reason": "\(d.reason.rawValue)",
                "detail": "\(d.detail)",
            ])
        }
        if snapshot.dropped.count > 20 {
            logger.error("snapshot: \(snapshot.dropped.count - 20) more records dropped", metadata: ["path": "\(snapshots.path)"])
        }
        for (i, reason) in SnapshotDropReason.allCases.enumerated() {
            let n = snapshot.dropped.count { $0.reason == reason }
            if n > 0 { metrics.snapshotRecordsDropped[i].increment(by: Int64(n)) }
        }
        logger.info("snapshot restored", metadata: [
            "path": "\(snapshots.path)", "streams": "\(snapshot.streams.count)", "tombstones": "\(snapshot.tombstones.count)",
            "dropped": "\(snapshot.dropped.count)", "queued_tokens": "\(snapshot.streams.reduce(0) { $0 + $1.queuedTokens })",
            "model": "\(snapshot.modelID)", "replayed": "\(!sameModel)",
        ])
    }

    /// Runs the restored streams' queued input (once the first heartbeat is out:
    /// subscribers had the join signal, so the answers reach them).
    func releaseRestoredInput() {
        for w in pool.workers { w.submit([.run { $0.releaseRestoredInput() }]) }
    }

    /// Collects every worker's streams and writes the snapshot; `completion` gets the number of
    /// streams or the error (off the I/O thread). The workers finish the messages streams are
    /// in the middle of, not the backlog: queued input is saved as input, so the time this
    /// takes does not grow with the backlog. `halt` (at shutdown) stops the workers from
    /// running anything after it.
    func takeSnapshot(halt: Bool = false, completion: @escaping @Sendable (Result<Int, any Error>) -> Void) {
        let model = self.model, store = daemon.snapshots
        pool.collect({ worker -> ([StreamSnapshot], [TombstoneSnapshot]) in
            let exported = worker.exportStreams(halt: halt)
            return (exported.streams, exported.tombstones)
        }, completion: { parts in
            let file = SnapshotFile(modelID: model.id, modelSHA256: model.sha256,
                                    streams: parts.flatMap(\.0), tombstones: parts.flatMap(\.1))
            do {
                try store.save(file)
                completion(.success(file.streams.count))
            } catch {
                completion(.failure(error))
            }
        })
    }
}
