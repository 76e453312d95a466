import Dispatch
import Logging
import Synchronization

/// The systemd side of a running daemon: the notify socket, the timer that ticks the
/// ``WatchdogSchedule``, and the schedule itself behind a lock (the timer fires on its own
/// queue, the ticks run on the I/O thread, a stop may be requested from any thread).
final class DaemonNotifier: Sendable {
    let settings: SystemdSettings
    let notify: SDNotify
    private let timerQueue = DispatchQueue(label: "streamtag.sd-notify")

    private struct State {
        var schedule: WatchdogSchedule
        var stopped = false
        var timer: DispatchSourceTimer?
        /// A tick is queued on the I/O thread (so a stuck loop does not pile them up).
        var tickQueued = false
        var failures = 0
    }
    private let state: Mutex<State>

    init(settings: SystemdSettings, notify: SDNotify) {
        self.settings = settings
        self.notify = notify
        state = Mutex(State(schedule: WatchdogSchedule(watchdogInterval: settings.watchdogInterval,
                                                       statusInterval: settings.statusInterval)))
    }

    /// Runs `body` on the schedule (under the lock).
    func schedule<Result>(_ body: (inout WatchdogSchedule) -> Result) -> Result {
        state.withLock { body(&$0.schedule) }
    }

    /// One tick of the schedule at `now`; clears the queued tick.
    func tick(now: Double, tokens: Int, stalledWorker: () -> WatchdogSchedule.Stall?) -> WatchdogSchedule.Tick {
        state.withLock { s in
            s.tickQueued = false
            return s.schedule.tick(now: now, tokens: tokens, stalledWorker: stalledWorker)
        }
    }

    /// Tagged tokens per second over the last status interval.
    var tokensPerSecond: Double { state.withLock { $0.schedule.tokensPerSecond } }

    /// Calls `fire` every period, at most once until the tick it queued has run (``tick``).
    func startTimer(_ fire: @escaping @Sendable () -> Void) {
        state.withLock { s in
            guard !s.stopped, s.timer == nil else { return }
            let period = s.schedule.period
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

    /// Logs a failed notification: the first few, then every hundredth.
    func reportFailure(_ error: String, assignments: [String], logger: Logger) {
        let n = state.withLock { s in s.failures += 1; return s.failures }
        guard n <= 3 || n % 100 == 0 else { return }
        logger.warning("systemd notification failed", metadata: [
            "socket": "\(notify.socketName ?? "")", "message": "\(assignments.first ?? "")", "error": "\(error)", "failures": "\(n)",
        ])
    }
}
