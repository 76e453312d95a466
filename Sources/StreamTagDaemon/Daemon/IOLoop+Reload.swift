import Dispatch
import Foundation
import StreamTagCore
import Synchronization
import StreamTagWire

extension IOLoop {
    /// Reloads the model file (`Daemon.requestReload`, the control `reload`, the watcher).
    /// Requests that arrive while a load runs share its outcome, and the file is looked at
    /// again right after (it may have changed meanwhile).
    func startReload(source: String, completion: (@Sendable (ControlAnswer) -> Void)?) {
        guard reloadRound == nil else {
            // Look again once this load is done: the file may have changed since it started.
            reloadRound?.lookAgain = true
            if let completion { reloadRound?.later.append(completion) }
            return
        }
        beginReload(source: source, waiters: completion.map { [$0] } ?? [])
    }

    /// No reload under way: starts one, answered to `waiters`.
    private func beginReload(source: String, waiters: [@Sendable (ControlAnswer) -> Void]) {
        reloadRound = ReloadRound(waiters: waiters)
        let path = config.model.path
        guard !path.isEmpty else {
            finishReload(.rejected("no model path is configured (model.path): the built-in model is serving"),
                         prepared: [], source: source, quiet: true)
            return
        }
        let loads = daemon.loads
        if loads.stuckCount >= LoadTracker.maxStuck {
            // Each stuck load holds a thread blocked in the kernel: do not add one more.
            finishReload(.rejected("\(loads.stuckCount) earlier loads of the model file are still stuck (see /healthz); not starting another"),
                         prepared: [], source: source, quiet: false)
            return
        }
        daemon.notifyReloading()
        watcher?.markSeen()
        reloadRound?.file = (path, ModelWatcher.identity(of: path))
        let current = model, precision = config.model.precision
        let replayTokens = config.reload.replayTokens, lookahead = config.model.lookahead
        let timeout = config.reload.loadTimeout.seconds
        let settings = self.settings, workers = pool.workers.count
        let load = loads.begin(path: path, now: monotonicSeconds())
        #if DEBUG
        let stall = loads.debugStallNextLoad.withLock { s in defer { s = 0 }; return s }
        #else
        let stall = 0.0
        #endif
        // A thread per load, not a serial queue: a load stuck in the kernel (a hung network file
        // system) must not hold up the next one.
        let thread = Thread { [daemon] in
            if stall > 0 { Thread.sleep(forTimeInterval: stall) }
            let outcome = ModelLoader.load(path: path, current: current, precision: precision,
                                           replayTokens: replayTokens, lookahead: lookahead, timeLimit: timeout)
            // The workers' runtimes are built here too (their buffers take a moment), so that
            // neither the I/O thread nor a worker waits for them; a worker only plugs its in.
            let prepared: [ModelRuntime] = if case .loaded(let next) = outcome {
                (0..<workers).map { _ in ModelRuntime(model: next, settings: settings) }
            } else {
                []
            }
            daemon.onIOThread { loop in loop.loadEnded(load, outcome, prepared: prepared, source: source) }
        }
        thread.name = "streamtag-model-loader"
        thread.start()
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [daemon] in
            daemon.onIOThread { loop in loop.loadOverran(load, timeout: timeout, source: source) }
        }
    }

    /// A load ended. Its outcome counts unless its deadline passed first.
    private func loadEnded(_ load: LoadTracker.Load, _ outcome: ModelLoader.Outcome, prepared: [ModelRuntime], source: String) {
        switch daemon.loads.finish(load.generation) {
        case .current:
            finishReload(outcome, prepared: prepared, source: source, quiet: false)
        case .stuck(let stuck):
            logger.warning("reload: a model load given up on has ended; its outcome is discarded", metadata: [
                "path": "\(stuck.path)", "seconds": "\(String(format: "%.1f", monotonicSeconds() - stuck.started))",
            ])
        case .unknown:
            break
        }
    }

    /// The load's deadline passed. If it is still running, it is given up on: the
    /// reload is answered as rejected, and the next reload starts a load of its own.
    private func loadOverran(_ load: LoadTracker.Load, timeout: Double, source: String) {
        guard daemon.loads.markStuck(load.generation) else { return }
        let reason = "loading \(load.path) timed out after \(LoadTracker.seconds(timeout)) (reload.load_timeout); "
            + "the loader is stuck (shown in /healthz until it ends)"
        logger.error("reload: the model loader is stuck", metadata: ["path": "\(load.path)", "timeout_s": "\(timeout)"])
        finishReload(.rejected(reason), prepared: [], source: source, quiet: false)
    }

    /// Swaps on success, reports the outcome.
    private func finishReload(_ outcome: ModelLoader.Outcome, prepared: [ModelRuntime], source: String, quiet: Bool) {
        switch outcome {
        case .unchanged:
            daemon.reloads.unchanged.add(1, ordering: .relaxed)
            logger.info("reload: the model file is unchanged", metadata: ["source": "\(source)", "model": "\(model.id)"])
            answerReload(.success(fields: [("model", .string(model.id)), ("changed", .bool(false))]))
        case .rejected(let reason):
            if !quiet {
                daemon.reloads.rejected.add(1, ordering: .relaxed)
                publishSystem(.modelRejected(path: config.model.path, reason: reason))
                logger.error("reload: model rejected; the current model keeps serving", metadata: [
                    "source": "\(source)", "path": "\(config.model.path)", "reason": "\(reason)", "model": "\(model.id)",
                ])
            }
            answerReload(.failure(reason, fields: [("model", .string(model.id))]))
        case .loaded(let next):
            let previous = model
            let policy = config.reload.policy
            let started = monotonicSeconds()
            pool.collect({ worker -> Double in
                // Time the worker spends switching between two of its steps: the swap pause.
                let t = monotonicSeconds()
                worker.adopt(prepared[worker.index], policy: policy)
                return monotonicSeconds() - t
            }, completion: { [daemon] pauses in
                daemon.onIOThread { loop in loop.swapped(to: next, from: previous, policy: policy, source: source,
                                                         started: started, pauses: pauses) }
            })
        }
    }

    /// Every worker has adopted the loaded model: it is the daemon's from now on.
    private func swapped(to next: Model, from previous: Model, policy: ReloadPolicy, source: String,
                         started: Double, pauses: [Double]) {
        daemon.modelState.withLock { $0 = next }
        metrics.modelChanged(to: next.id)
        daemon.reloads.loaded.add(1, ordering: .relaxed)
        publishSystem(.modelLoaded(model: next.id, previous: previous.id))
        logger.info("reload: model loaded", metadata: [
            "source": "\(source)", "model": "\(next.id)", "previous": "\(previous.id)", "policy": "\(policy.rawValue)",
            "tags_changed": "\(next.tags != previous.tags)",
            "swap_ms": "\(String(format: "%.2f", (monotonicSeconds() - started) * 1000))",
            "pause_ms": "\(String(format: "%.3f", (pauses.max() ?? 0) * 1000))",
        ])
        answerReload(.success(fields: [("model", .string(next.id)), ("changed", .bool(true)),
                                       ("previous", .string(previous.id)),
                                       ("pause_ms", .number(((pauses.max() ?? 0) * 1e6).rounded() / 1000))]))
    }

    /// The round is over; answers its waiters, and starts the next round for the
    /// requests that came meanwhile if the file changed since this load began (the same file is
    /// never read twice). They get that round's outcome (a `ctl reload` sent after writing a file
    /// must see that file), else this one's.
    private func answerReload(_ answer: ControlAnswer) {
        let round = reloadRound
        reloadRound = nil
        daemon.notifyReloaded()
        for w in round?.waiters ?? [] { w(answer) }
        guard let round, round.lookAgain else { return }
        let path = config.model.path
        if round.file?.path != path || ModelWatcher.identity(of: path) != round.file?.identity {
            beginReload(source: "file changed during the last load", waiters: round.later)
        } else {
            for w in round.later { w(answer) }
        }
    }

    /// A model reload from its request to its answer. Requests that arrive during
    /// it share its outcome, or the next round's if the file changed meanwhile.
    struct ReloadRound {
        /// Answered with this round's outcome.
        var waiters: [@Sendable (ControlAnswer) -> Void]
        /// The path and version of the file the load began with; nil until it begins (and for
        /// a reload answered without a load).
        var file: (path: String, identity: ModelWatcher.FileIdentity?)?
        /// Requests that came during this round (the watcher's have no completion).
        var later: [@Sendable (ControlAnswer) -> Void] = []
        /// Whether a request came during this round: the file is looked at again after it.
        var lookAgain = false

        init(waiters: [@Sendable (ControlAnswer) -> Void]) { self.waiters = waiters }
    }
}
