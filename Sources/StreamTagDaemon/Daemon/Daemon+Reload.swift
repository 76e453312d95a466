import Dispatch
import Foundation
import StreamTagCore
import Synchronization

extension Daemon {
    /// Reloads the model file (any thread): on SIGHUP, the control `reload`, or when the
    /// watcher sees the file change. `completion` gets the control answer once the outcome is
    /// known. Requests that arrive while a load runs share its outcome, and the file is looked
    /// at again right after (it may have changed meanwhile).
    public func requestReload(source: String, completion: (@Sendable (ControlAnswer) -> Void)? = nil) {
        onIOThread { [self] in startReload(source: source, completion: completion) }
    }

    /// I/O thread.
    func startReload(source: String, completion: (@Sendable (ControlAnswer) -> Void)?) {
        if let completion { reloadWaiters.append(completion) }
        guard !reloadInFlight else {
            // Look again once this load is done: the file may have changed since it started.
            reloadAgain = true
            return
        }
        let path = config.model.path
        guard !path.isEmpty else {
            finishReload(.rejected("no model path is configured (model.path): the built-in model is serving"),
                         prepared: [], source: source, quiet: true)
            return
        }
        reloadInFlight = true
        notifyReloading()
        watcher?.markSeen()
        let current = model, precision = config.model.precision
        let replayTokens = config.reload.replayTokens, lookahead = config.model.lookahead
        let settings = pool.settings, workers = pool.workers.count
        loader.async { [self] in
            let outcome = ModelLoader.load(path: path, current: current, precision: precision,
                                           replayTokens: replayTokens, lookahead: lookahead)
            // The workers' runtimes are built here too (their buffers take a moment), so that
            // neither the I/O thread nor a worker waits for them; a worker only plugs its in.
            let prepared: [ModelRuntime] = if case .loaded(let next) = outcome {
                (0..<workers).map { _ in ModelRuntime(model: next, settings: settings) }
            } else {
                []
            }
            onIOThread { [self] in finishReload(outcome, prepared: prepared, source: source, quiet: false) }
        }
    }

    /// I/O thread: swaps on success, reports the outcome.
    private func finishReload(_ outcome: ModelLoader.Outcome, prepared: [ModelRuntime], source: String, quiet: Bool) {
        switch outcome {
        case .unchanged:
            reloads.unchanged.add(1, ordering: .relaxed)
            logger.info("reload: the model file is unchanged", metadata: ["source": "\(source)", "model": "\(model.id)"])
            answerReload(.success(fields: [("model", .string(model.id)), ("changed", .bool(false))]))
        case .rejected(let reason):
            if !quiet {
                reloads.rejected.add(1, ordering: .relaxed)
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
            }, completion: { [self] pauses in
                onIOThread { [self] in
                    model = next
                    metrics.modelChanged(to: next.id)
                    reloads.loaded.add(1, ordering: .relaxed)
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
            })
            return
        }
    }

    private func answerReload(_ answer: ControlAnswer) {
        reloadInFlight = false
        notifyReloaded()
        let waiters = reloadWaiters
        reloadWaiters.removeAll()
        for w in waiters { w(answer) }
        if reloadAgain {
            reloadAgain = false
            startReload(source: "file changed during the last load", completion: nil)
        }
    }

    /// Counters of reload outcomes (for status and metrics).
    final class ReloadCounters: Sendable {
        let loaded = Atomic<Int>(0)
        let rejected = Atomic<Int>(0)
        let unchanged = Atomic<Int>(0)
    }
}
