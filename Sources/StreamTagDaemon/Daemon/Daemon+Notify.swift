import Dispatch
import Foundation
import Logging
import Synchronization

/// systemd integration (docs/operations.md#systemd): `READY=1` once the daemon serves, `RELOADING=1`/`READY=1`
/// around model reloads, `STOPPING=1`, `STATUS=` lines, and `WATCHDOG=1` pings that stop when
/// the I/O thread or any worker thread stops making progress.
///
/// The hooks below are called from `Daemon`'s own code; everything they need lives in
/// `DaemonNotifier`. With no notifier (not under systemd) they do nothing.
extension Daemon {
    /// Turns on systemd notifications; call before `start`. `streamtag serve` passes
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
                guard notifier.markReady() else { return }
                notifier.measureRate(tokens: pool.tokensOut, at: monotonicSeconds())
                sendNotify(["READY=1", "STATUS=" + statusLine(streams: counts.reduce(0, +))])
                notifier.startTimer { [self] in onIOThread { [self] _ in notifyTick() } }
            }
        })
    }

    /// A model reload begins (the I/O loop calls it): `RELOADING=1` with the time, as systemd wants it.
    /// Once per reload: a configuration reload sends it before the model reload that follows,
    /// which then sends nothing more until its `READY=1`.
    func notifyReloading(status: String? = nil) {
        guard let notifier, notifier.beginReload() else { return }
        sendNotify(["RELOADING=1", "MONOTONIC_USEC=\(monotonicMicroseconds())",
                    "STATUS=" + (status ?? "reloading the model from \(config.model.path)")])
    }

    /// The reload is over, whatever its outcome (the I/O loop calls it): `READY=1` again.
    func notifyReloaded() {
        guard let notifier, notifier.endReload() else { return }
        sendNotify(["READY=1", "STATUS=" + statusLine()])
    }

    /// Shutdown begins (any thread, once).
    func notifyStopping() {
        guard let notifier, notifier.markStopping() else { return }
        sendNotify(["STOPPING=1", "STATUS=stopping: finishing accepted messages, writing the snapshot"])
    }

    /// The daemon has stopped: no more pings.
    func notifyStopped() {
        notifier?.stopTimer()
    }

    /// On the I/O thread (so a stuck loop stops the pings), from the timer: the watchdog ping if everything makes progress, and the
    /// status line every `statusInterval`.
    func notifyTick() {
        guard let notifier else { return }
        let now = monotonicSeconds()
        let due = notifier.due(now: now)
        if due.ping {
            if let stall = stalledWorker(limit: notifier.settings.effectiveStallLimit) {
                if notifier.noteStall(stall.worker) {
                    logger.error("watchdog: a worker has not made progress; withholding WATCHDOG=1", metadata: [
                        "worker": "\(stall.worker)", "stalled_s": "\(String(format: "%.1f", stall.seconds))",
                    ])
                }
            } else {
                if let worker = notifier.noteProgress() {
                    logger.notice("watchdog: the worker makes progress again; WATCHDOG=1 resumes", metadata: ["worker": "\(worker)"])
                }
                sendNotify(["WATCHDOG=1"])
                notifier.pinged(at: now)
            }
        }
        if due.status {
            notifier.measureRate(tokens: pool.tokensOut, at: now)
            sendNotify(["STATUS=" + statusLine()])
        }
    }

    /// The first worker whose loop has not turned within `limit` seconds, and for how long.
    func stalledWorker(limit: Double) -> (worker: Int, seconds: Double)? {
        let now = DispatchTime.now().uptimeNanoseconds
        for w in pool.workers {
            let tick = w.lastTick.load(ordering: .relaxed)
            let idle = now > tick ? Double(now - tick) / 1e9 : 0
            if idle > limit { return (w.index, idle) }
        }
        return nil
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

/// The systemd side of a running daemon: the socket, the timer, and what has been announced.
final class DaemonNotifier: Sendable {
    let settings: SystemdSettings
    let notify: SDNotify
    private let timerQueue = DispatchQueue(label: "streamtag.sd-notify")

    private struct State {
        var ready = false
        var reloading = false
        var stopping = false
        var stopped = false
        var timer: DispatchSourceTimer?
        /// A tick is queued on the I/O thread (so a stuck loop does not pile them up).
        var tickQueued = false
        var lastPing = -Double.infinity
        var lastStatus = -Double.infinity
        var rateTokens = 0
        var rateTime = Double.nan
        var rate = 0.0
        var stalled: Int? = nil
        var failures = 0
    }
    private let state = Mutex(State())

    init(settings: SystemdSettings, notify: SDNotify) {
        self.settings = settings
        self.notify = notify
    }

    /// The timer period: half the watchdog interval (systemd's advice), or the status interval
    /// when that is shorter.
    var period: Double {
        let status = max(0.05, settings.statusInterval)
        guard let watchdog = settings.watchdogInterval else { return status }
        return max(0.001, min(watchdog / 2, status))
    }

    func markReady() -> Bool {
        state.withLock { s in
            guard !s.ready, !s.stopping else { return false }
            s.ready = true
            s.lastStatus = monotonicSeconds()
            return true
        }
    }

    func beginReload() -> Bool {
        state.withLock { s in
            guard s.ready, !s.stopping, !s.reloading else { return false }
            s.reloading = true
            return true
        }
    }

    func endReload() -> Bool {
        state.withLock { s in
            guard s.reloading else { return false }
            s.reloading = false
            return !s.stopping
        }
    }

    func markStopping() -> Bool {
        state.withLock { s in
            guard !s.stopping else { return false }
            s.stopping = true
            return true
        }
    }

    func startTimer(_ fire: @escaping @Sendable () -> Void) {
        let period = self.period
        state.withLock { s in
            guard !s.stopped, s.timer == nil else { return }
            let timer = DispatchSource.makeTimerSource(queue: timerQueue)
            timer.schedule(deadline: .now(), repeating: .nanoseconds(Int(period * 1e9)), leeway: .milliseconds(Int(min(50, period * 100))))
            timer.setEventHandler { [self] in
                let queue = state.withLock { s in
                    guard !s.tickQueued, !s.stopped else { return false }
                    s.tickQueued = true
                    return true
                }
                if queue { fire() }
            }
            s.timer = timer
            timer.resume()
        }
    }

    func stopTimer() {
        let timer = state.withLock { s in
            s.stopped = true
            defer { s.timer = nil }
            return s.timer
        }
        timer?.cancel()
    }

    /// What is due at `now` (a ping, a status line); clears the queued tick.
    func due(now: Double) -> (ping: Bool, status: Bool) {
        let half = (settings.watchdogInterval ?? 0) / 2, period = self.period
        return state.withLock { s in
            s.tickQueued = false
            let ping = settings.watchdogInterval != nil && now >= s.lastPing + half - period / 2
            let status = !s.stopping && !s.reloading && now >= s.lastStatus + settings.statusInterval - period / 2
            if status { s.lastStatus = now }
            return (ping, status)
        }
    }

    func pinged(at now: Double) {
        state.withLock { $0.lastPing = now }
    }

    /// Updates the rate with the tagged-token count at `now`.
    func measureRate(tokens: Int, at now: Double) {
        state.withLock { s in
            if !s.rateTime.isNaN, now > s.rateTime {
                s.rate = Double(max(0, tokens - s.rateTokens)) / (now - s.rateTime)
            }
            s.rateTokens = tokens
            s.rateTime = now
        }
    }

    /// Tagged tokens per second over the last status interval.
    var tokensPerSecond: Double { state.withLock { $0.rate } }

    /// Records a stalled worker: true when the stall is new (log it).
    func noteStall(_ worker: Int) -> Bool {
        state.withLock { s in
            defer { s.stalled = worker }
            return s.stalled == nil
        }
    }

    /// Records that no worker is stalled: the worker that was, if any (log the recovery).
    func noteProgress() -> Int? {
        state.withLock { s in
            defer { s.stalled = nil }
            return s.stalled
        }
    }

    /// Logs a failed notification: the first few, then every hundredth.
    func reportFailure(_ error: String, assignments: [String], logger: Logger) {
        let n = state.withLock { s in s.failures += 1; return s.failures }
        guard n <= 3 || n % 100 == 0 else { return }
        logger.warning("systemd notification failed", metadata: [
            "socket": "\(notify.socketName ?? "")", "message": "\(assignments.first ?? "")", "error": "\(error)", "failures": "\(n)",
        ])
    }
}
