import Logging

extension Daemon {
    /// Re-reads the configuration, applies what can change live, then reloads the model as
    /// ``requestReload(source:completion:)`` does. This is what SIGHUP does.
    ///
    /// - `read` loads the configuration the way the daemon was started: the same file, the
    ///   same environment, the same command-line overrides (typically a closure over
    ///   ``DaemonConfig/load(file:environment:overrides:)``). It runs on the calling thread, so
    ///   the file is read off the I/O thread.
    /// - If it throws, one error line names the key and the reason, the running configuration
    ///   stays as it is, and the model reload happens all the same.
    /// - Otherwise the settings of ``ConfigChange/liveKeys`` that changed take effect (the
    ///   workers take theirs between two steps), one info line lists them (or says `config
    ///   unchanged`), and one warning lists the changed settings that wait for a restart.
    ///   A changed `model.path` is live: the model reload that follows loads the new file (and
    ///   the watcher follows it); until that file loads, the old model keeps serving.
    ///
    /// `completion` gets the change once every worker has its new settings, or the error.
    package func reloadConfiguration(
        source: String,
        read: () throws(ConfigError) -> DaemonConfig,
        completion: (@Sendable (Result<ConfigChange, ConfigError>) -> Void)? = nil
    ) {
        let result = Result { () throws(ConfigError) in try read() }
        onIOThread { [self] in
            // A configuration reload is a reload, with or without a model file: RELOADING=1
            // now, READY=1 when the model reload that follows is answered (at once when the
            // built-in model serves).
            notifyReloading(status: "reloading the configuration")
            applyConfigReload(result, source: source, completion: completion)
            security?.reloadKeys(source: source)
            startReload(source: source, completion: nil)
        }
    }

    /// I/O thread: logs the outcome and hands the live settings out.
    private func applyConfigReload(
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
        pool.settings = settings
        pool.collect({ worker in worker.apply(settings) }, completion: { _ in completion?(.success(change)) })
    }

    /// I/O thread: the I/O side of a live change (the workers' side is `StreamWorker.apply`).
    private func adopt(_ next: DaemonConfig, replacing running: DaemonConfig) {
        configState.withLock { $0 = next }
        // Only when the file changed it: a daemon given a logger at another level (tests run
        // quiet) keeps that one. Before the reload's own log lines, so they follow it already.
        if next.logLevel != running.logLevel { logLevel.level = next.logLevel }
        let now = monotonicSeconds()
        let wanted = IOTimers(next, now: now)
        if wanted.heartbeat != timers.heartbeat {
            timers.heartbeat = wanted.heartbeat
            timers.nextHeartbeat = min(timers.nextHeartbeat, wanted.nextHeartbeat)
        }
        if wanted.watch != timers.watch {
            timers.watch = wanted.watch
            timers.nextWatchCheck = min(timers.nextWatchCheck, wanted.nextWatchCheck)
        }
        if wanted.snapshot != timers.snapshot {
            timers.snapshot = wanted.snapshot
            // A snapshot being written re-arms the timer itself when it is done.
            if !timers.snapshotInFlight { timers.armSnapshot(now: now) }
        }
        if next.model.watch != running.model.watch || next.model.path != running.model.path {
            // The loop re-points the watcher's poll slot before it next polls.
            watcher = ModelWatcher.watching(next.model)
        }
    }
}
