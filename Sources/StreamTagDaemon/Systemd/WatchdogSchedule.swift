/// What the daemon announces to systemd, and when: `WATCHDOG=1` pings at half the watchdog
/// interval while every worker makes progress, a `STATUS=` line every status interval, and the
/// state (ready, reloading, stopping) that decides which announcements still make sense.
///
/// A plain value driven by the time it is given (seconds on any monotonic clock), so tests step
/// it through minutes of pings and stalls without sleeping. `DaemonNotifier` holds one behind
/// a lock and feeds it the real clock; `Daemon+Notify.swift` sends what it decides.
struct WatchdogSchedule {
    /// `WATCHDOG_USEC` in seconds; nil = no pings.
    let watchdogInterval: Double?
    let statusInterval: Double

    private(set) var ready = false
    private(set) var reloading = false
    private(set) var stopping = false
    private var lastPing = -Double.infinity
    private var lastStatus = -Double.infinity
    /// The worker found stalled at the last due ping, nil when all made progress.
    private var stalled: Int? = nil
    private var rateTokens = 0
    private var rateTime = Double.nan
    /// Tagged tokens per second over the last status interval.
    private(set) var tokensPerSecond = 0.0

    init(watchdogInterval: Double?, statusInterval: Double) {
        self.watchdogInterval = watchdogInterval
        self.statusInterval = statusInterval
    }

    /// How often to tick: half the watchdog interval (systemd's advice), or the status interval
    /// when that is shorter.
    var period: Double {
        let status = max(0.05, statusInterval)
        guard let watchdogInterval else { return status }
        return max(0.001, min(watchdogInterval / 2, status))
    }

    /// A worker whose loop has not turned for longer than the stall limit.
    struct Stall: Equatable {
        var worker: Int
        /// Since its last turn.
        var seconds: Double
    }

    /// What one tick asks for.
    struct Tick: Equatable {
        /// Send `WATCHDOG=1`.
        var ping = false
        /// Send a `STATUS=` line (the rate is already measured).
        var status = false
        /// A worker has just been found stalled: log that the pings are withheld.
        var stallBegan: Stall? = nil
        /// This worker, stalled until now, makes progress again: log that the pings resume.
        var recovered: Int? = nil
    }

    /// One tick at `now`. `stalledWorker` is asked only when a ping is due (it reads every
    /// worker's last turn); a stalled worker withholds the ping, so systemd restarts a daemon
    /// that stays stuck. `tokens` is the tagged-token count, for the rate in the status line.
    mutating func tick(now: Double, tokens: Int, stalledWorker: () -> Stall?) -> Tick {
        var tick = Tick()
        // Half a period of slack: a timer that fires a little early still pings on time.
        if let watchdogInterval, now >= lastPing + watchdogInterval / 2 - period / 2 {
            if let stall = stalledWorker() {
                if stalled == nil { tick.stallBegan = stall }
                stalled = stall.worker
            } else {
                tick.recovered = stalled
                stalled = nil
                tick.ping = true
                lastPing = now
            }
        }
        if !stopping && !reloading && now >= lastStatus + statusInterval - period / 2 {
            lastStatus = now
            measureRate(tokens: tokens, at: now)
            tick.status = true
        }
        return tick
    }

    /// The daemon serves (once): true when `READY=1` should go out now.
    mutating func markReady(now: Double, tokens: Int) -> Bool {
        guard !ready, !stopping else { return false }
        ready = true
        lastStatus = now
        measureRate(tokens: tokens, at: now)
        return true
    }

    /// A reload begins: true when `RELOADING=1` should go out (ready, not already reloading
    /// or stopping).
    mutating func beginReload() -> Bool {
        guard ready, !stopping, !reloading else { return false }
        reloading = true
        return true
    }

    /// The reload is over: true when `READY=1` should go out again (not while stopping).
    mutating func endReload() -> Bool {
        guard reloading else { return false }
        reloading = false
        return !stopping
    }

    /// The stop begins: true the first time (`STOPPING=1`).
    mutating func markStopping() -> Bool {
        guard !stopping else { return false }
        stopping = true
        return true
    }

    private mutating func measureRate(tokens: Int, at now: Double) {
        if !rateTime.isNaN, now > rateTime {
            tokensPerSecond = Double(max(0, tokens - rateTokens)) / (now - rateTime)
        }
        rateTokens = tokens
        rateTime = now
    }
}
