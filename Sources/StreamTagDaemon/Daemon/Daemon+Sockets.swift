import Foundation
import StreamTagCore

extension Daemon {
    /// Creates and binds/connects the three sockets.
    func openSockets() throws {
        if config.security.isEnabled {
            // The ZAP handler is bound here, before any socket it guards can take a connection.
            security = try DaemonSecurity(config.security, context: context, registry: metrics.registry, logger: logger,
                                          now: monotonicSeconds(), onIOThread: { [weak self] task in self?.onIOThread(task) })
        }
        input = try context.socket(.sub)
        try security?.secure(input, as: .input)
        try input.setOption(.receiveHighWaterMark, Int32(clamping: config.input.hwm))
        try input.setMaxMessageSize(Int64(config.input.effectiveMaxZMQMessageBytes))
        for prefix in config.input.subscribe { try input.subscribe(Array(prefix.utf8)) }
        if config.input.connect.isEmpty {
            try input.bind(config.input.bind)
            inputEndpoint = try input.lastEndpoint
        } else {
            for endpoint in config.input.connect { try input.connect(endpoint) }
            inputEndpoint = config.input.connect.joined(separator: ",")
        }

        output = try context.socket(config.output.noDrop ? .xpub : .pub)
        try security?.secure(output, as: .output)
        try output.setOption(.sendHighWaterMark, Int32(clamping: config.output.hwm))
        if config.output.noDrop { try output.setOption(.xpubNoDrop, 1) }
        try output.bind(config.output.bind)
        outputEndpoint = try output.lastEndpoint

        control = try context.socket(.rep)
        try security?.secure(control, as: .control)
        try control.bind(config.control.bind)
        controlEndpoint = try control.lastEndpoint
    }

    /// Restores streams from the last snapshot: raw state under the same model, replay under
    /// another one.
    func restoreSnapshot() {
        guard let snapshot = snapshots.load(logger: logger) else { return }
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
        logger.info("snapshot restored", metadata: [
            "path": "\(snapshots.path)", "streams": "\(snapshot.streams.count)", "tombstones": "\(snapshot.tombstones.count)",
            "model": "\(snapshot.modelID)", "replayed": "\(!sameModel)",
        ])
    }

    /// Collects every worker's streams (after finishing what they have queued) and writes the
    /// snapshot; `completion` gets the number of streams or the error (off the I/O thread).
    func takeSnapshot(completion: @escaping @Sendable (Result<Int, any Error>) -> Void) {
        let model = self.model, store = snapshots
        pool.collect({ worker -> ([StreamSnapshot], [TombstoneSnapshot]) in
            worker.runUntilIdle()
            let exported = worker.exportStreams()
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
