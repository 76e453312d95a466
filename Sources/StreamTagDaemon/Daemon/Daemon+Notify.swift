import Dispatch
import Foundation
import Logging
import Synchronization
import StreamTagWire

/// systemd integration (docs/operations.md#systemd): `READY=1` once the daemon serves, `RELOADING=1`/`READY=1`
/// around model reloads, `STOPPING=1`, `STATUS=` lines, and `WATCHDOG=1` pings that stop when
/// the I/O thread or any worker thread stops making progress.
///
/// The hooks below are called from `Daemon`'s own code; everything they need lives in
/// `DaemonNotifier`. With no notifier (not under systemd) they do nothing.
extension Daemon {
    /// Turns on systemd notifications; call before ``run()``. `streamtag serve` passes
    /// `SystemdSettings.fromEnvironment`; tests pass their own socket and intervals.
    package func enableSystemd(_ settings: SystemdSettings) {
        guard settings.isActive else { return }
        do {
            let notify = try SDNotify(socket: settings.notifySocket)
            notifierState.withLock { $0 = DaemonNotifier(settings: settings, notify: notify) }
            logger.debug("systemd notifications on", metadata: [
                "socket": "\(settings.notifySocket ?? "")",
                "watchdog_s": "\(settings.watchdogInterval.map { "\($0)" } ?? "off")",
            ])
        } catch {
            logger.warning("systemd notifications off", metadata: ["reason": "\(error)"])
        }
    }

    /// After `start`: `READY=1` once every worker has run what `start` queued (the snapshot
    /// import), sent from the I/O thread (so the loop runs); then the watchdog and status timer.
    func notifyStarted() {
        guard let notifier else { return }
        pool.collect({ worker in worker.streamCount }, completion: { [self] counts in
            onIOThread { [self] _ in
                guard notifier.schedule({ $0.markReady(now: monotonicSeconds(), tokens: pool.tokensOut) }) else { return }
                sendNotify(["READY=1", "STATUS=" + statusLine(streams: counts.reduce(0, +))])
                notifier.startTimer { [self] in onIOThread { [self] _ in notifyTick() } }
            }
        })
    }

    /// A model reload begins (the I/O loop calls it): `RELOADING=1` with the time, as systemd wants it.
    /// Once per reload: a configuration reload sends it before the model reload that follows,
    /// which then sends nothing more until its `READY=1`.
    func notifyReloading(status: String? = nil) {
        guard let notifier, notifier.schedule({ $0.beginReload() }) else { return }
        sendNotify(["RELOADING=1", "MONOTONIC_USEC=\(monotonicMicroseconds())",
                    "STATUS=" + (status ?? "reloading the model from \(config.model.path)")])
    }

    /// The reload is over, whatever its outcome (the I/O loop calls it): `READY=1` again.
    func notifyReloaded() {
        guard let notifier, notifier.schedule({ $0.endReload() }) else { return }
        sendNotify(["READY=1", "STATUS=" + statusLine()])
    }

    /// Shutdown begins (any thread, once).
    func notifyStopping() {
        guard let notifier, notifier.schedule({ $0.markStopping() }) else { return }
        sendNotify(["STOPPING=1", "STATUS=stopping: finishing accepted messages, writing the snapshot"])
    }

    /// The daemon has stopped: no more pings.
    func notifyStopped() {
        notifier?.stopTimer()
    }

    /// From the timer, on the I/O thread (so a stuck loop stops the pings): what the schedule
    /// says is due, a ping if every worker makes progress and a status line.
    func notifyTick() {
        guard let notifier else { return }
        let now = monotonicSeconds()
        let limit = notifier.settings.effectiveStallLimit
        let tick = notifier.tick(now: now, tokens: pool.tokensOut) { pool.stalledWorker(limit: limit, now: now) }
        if let stall = tick.stallBegan {
            logger.error("watchdog: a worker has not made progress; withholding WATCHDOG=1", metadata: [
                "worker": "\(stall.worker)", "stalled_s": "\(String(format: "%.1f", stall.seconds))",
            ])
        }
        if let worker = tick.recovered {
            logger.notice("watchdog: the worker makes progress again; WATCHDOG=1 resumes", metadata: ["worker": "\(worker)"])
        }
        if tick.ping { sendNotify(["WATCHDOG=1"]) }
        if tick.status { sendNotify(["STATUS=" + statusLine()]) }
    }

    /// `serving MODEL, N streams, X tokens/s`; the rate is the tagged tokens per
    /// second over the last status interval.
    func statusLine(streams: Int? = nil) -> String {
        let streams = streams ?? pool.streams, rate = notifier?.tokensPerSecond ?? 0
        return "serving \(model.id), \(streams) stream\(streams == 1 ? "" : "s"), \(Int(rate.rounded())) tokens/s"
    }

    private func sendNotify(_ assignments: [String]) {
        guard let notifier else { return }
        if let error = notifier.notify.send(assignments) {
            notifier.reportFailure(error, assignments: assignments, logger: logger)
        }
    }
}
