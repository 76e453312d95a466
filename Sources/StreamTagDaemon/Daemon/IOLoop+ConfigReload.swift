import Logging
import StreamTagWire

extension IOLoop {
    /// Logs the outcome and hands the live settings out.
    func applyConfigReload(
        _ result: Result<DaemonConfig, ConfigError>, source: String,
        completion: (@Sendable (Result<ConfigChange, ConfigError>) -> Void)?
    ) {
        let next: DaemonConfig
        switch result {
        case .failure(let error):
            var metadata: Logger.Metadata = ["source": "\(source)"]
            if !error.key.isEmpty { metadata["key"] = "\(error.key)" }
            logger.error("config reload failed; the running configuration is unchanged: \(error.description)",
                         metadata: metadata)
            completion?(.failure(error))
            return
        case .success(let loaded):
            next = loaded
        }
        let running = config
        let change = ConfigChange(from: running, to: next)
        if !change.live.isEmpty { adopt(change.effective, replacing: running) }
        logger.info("\(change.summary)", metadata: ["source": "\(source)"])
        if let warning = change.restartWarning {
            logger.warning("\(warning)", metadata: ["source": "\(source)"])
        }
        // Every worker gets the settings, changed or not: the completion then means "in force".
        let settings = StreamSettings(change.effective, workers: pool.workers.count)
        self.settings = settings
        pool.collect({ worker in worker.apply(settings) }, completion: { _ in completion?(.success(change)) })
    }

    /// The I/O side of a live change (the workers' side is `StreamWorker.apply`).
    private func adopt(_ next: DaemonConfig, replacing running: DaemonConfig) {
        daemon.configState.withLock { $0 = next }
        // Only when the file changed it: a daemon given a logger at another level (tests run
        // quiet) keeps that one. Before the reload's own log lines, so they follow it already.
        if next.logLevel != running.logLevel { daemon.logLevel.level = next.logLevel }
        timers.adopt(next, now: monotonicSeconds())
        if next.model.watch != running.model.watch || next.model.path != running.model.path {
            // The loop re-points the watcher's poll slot before it next polls.
            watcher = ModelWatcher.watching(next.model)
        }
    }
}
