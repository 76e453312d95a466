import Foundation
import StreamTagCore

extension Daemon {
    /// Creates and binds/connects the three sockets.
    func openSockets() throws {
        input = try context.socket(.sub)
        try input.setOption(.receiveHighWaterMark, Int32(clamping: config.input.hwm))
        try input.setMaxMessageSize(Int64(config.input.effectiveMaxZMQMessageBytes))
        for prefix in config.input.subscribe { try input.subscribe(Array(prefix.utf8)) }
        if config.input.connect.isEmpty {
            try endpoint("input.bind", config.input.bind) { try input.bind($0) }
            inputEndpoint = try input.lastEndpoint
        } else {
            for target in config.input.connect { try endpoint("input.connect", target) { try input.connect($0) } }
            inputEndpoint = config.input.connect.joined(separator: ",")
        }

        output = try context.socket(config.output.noDrop ? .xpub : .pub)
        try output.setOption(.sendHighWaterMark, Int32(clamping: config.output.hwm))
        if config.output.noDrop { try output.setOption(.xpubNoDrop, 1) }
        try endpoint("output.bind", config.output.bind) { try output.bind($0) }
        outputEndpoint = try output.lastEndpoint

        control = try context.socket(.rep)
        try endpoint("control.bind", config.control.bind) { try control.bind($0) }
        controlEndpoint = try control.lastEndpoint
    }

    /// Binds or connects one configured endpoint; a failure names the key and the endpoint
    /// (`input.bind: cannot bind tcp://127.0.0.1:5560: Address already in use`).
    private func endpoint(_ key: String, _ endpoint: String, _ body: (String) throws -> Void) throws {
        do { try body(endpoint) } catch let error as ZMQError {
            throw SocketSetupError(key: key, endpoint: endpoint, error: error)
        }
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

/// A configured socket could not bind or connect: which key, which endpoint, and libzmq's reason.
public struct SocketSetupError: Error, CustomStringConvertible {
    public let key: String
    public let endpoint: String
    public let error: ZMQError

    public var description: String {
        let verb = error.call == "zmq_connect" ? "connect to" : "bind"
        return "\(key): cannot \(verb) \(endpoint): \(error.message)"
            + (error.code == EADDRINUSE ? " (another process holds it; choose another port with \(key))" : "")
    }
}
