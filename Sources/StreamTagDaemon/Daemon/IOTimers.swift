/// The I/O loop's timers: heartbeat, model-file check and periodic snapshot. A pure state
/// machine over monotonic seconds: the loop passes the time in, so every rule here is tested
/// with made-up clocks (`IOTimersTests`), without sockets or sleeps.
struct IOTimers {
    /// What is due at one turn of the loop.
    struct Due: OptionSet {
        let rawValue: UInt8
        /// Publish a heartbeat (and run what rides on it).
        static let heartbeat = Due(rawValue: 1)
        /// Stat the model file for a change.
        static let watchCheck = Due(rawValue: 2)
        /// Start a periodic snapshot.
        static let snapshot = Due(rawValue: 4)
    }

    /// `heartbeat_interval`, at least 10 ms.
    private(set) var heartbeat = 1.0
    private(set) var nextHeartbeat = Double.infinity
    /// `model.watch_interval`: the stat check of the model file.
    private(set) var watch = 2.0
    private(set) var nextWatchCheck = Double.infinity
    /// `snapshot_interval`; 0 = only at shutdown.
    private(set) var snapshot = 0.0
    /// When the next periodic snapshot is due: never with no period, nor while one is written.
    private(set) var nextSnapshot = Double.infinity
    /// A periodic snapshot is being written; ``snapshotWritten(now:)`` re-arms the deadline.
    private(set) var snapshotInFlight = false

    /// No timer armed (the loop's value before it runs).
    init() {}

    /// Every timer armed one period from `now`.
    init(_ config: DaemonConfig, now: Double) {
        heartbeat = Self.heartbeatPeriod(config)
        nextHeartbeat = now + heartbeat
        watch = config.model.watchInterval.seconds
        nextWatchCheck = now + watch
        snapshot = config.snapshotInterval.seconds
        armSnapshot(now: now)
    }

    /// How long the loop may wait in `poll` at `now`: until the next deadline, at most a second
    /// (so a stop request or a clock jump is never waited on longer), never negative. The model
    /// check counts only while a watcher runs.
    func pollWait(now: Double, watching: Bool) -> Double {
        let watchDeadline = watching ? nextWatchCheck : now + 1
        return max(0, min(nextHeartbeat, nextSnapshot, watchDeadline, now + 1) - now)
    }

    /// What is due at `now`; each due timer is re-armed one period from `now` (a snapshot only
    /// when written). While stopping, the model check and periodic snapshots are off; the
    /// heartbeat keeps going until the loop ends.
    mutating func fire(now: Double, watching: Bool, stopping: Bool) -> Due {
        var due: Due = []
        if watching && !stopping && now >= nextWatchCheck {
            nextWatchCheck = now + watch
            due.insert(.watchCheck)
        }
        if now >= nextHeartbeat {
            nextHeartbeat = now + heartbeat
            due.insert(.heartbeat)
        }
        if !stopping && now >= nextSnapshot {
            nextSnapshot = .infinity
            snapshotInFlight = true
            due.insert(.snapshot)
        }
        return due
    }

    /// The periodic snapshot is done (written or failed): the next one is a period from `now`,
    /// with the period in force now (a config reload may have changed it meanwhile).
    mutating func snapshotWritten(now: Double) {
        snapshotInFlight = false
        armSnapshot(now: now)
    }

    /// A config reload's periods, from `now`. A shorter period takes effect at once (the next
    /// deadline is the nearer of the old one and a new period from now); an unchanged period
    /// leaves its deadline alone.
    mutating func adopt(_ config: DaemonConfig, now: Double) {
        let wanted = IOTimers(config, now: now)
        if wanted.heartbeat != heartbeat {
            heartbeat = wanted.heartbeat
            nextHeartbeat = min(nextHeartbeat, wanted.nextHeartbeat)
        }
        if wanted.watch != watch {
            watch = wanted.watch
            nextWatchCheck = min(nextWatchCheck, wanted.nextWatchCheck)
        }
        if wanted.snapshot != snapshot {
            snapshot = wanted.snapshot
            // A snapshot being written re-arms the timer itself when it is done.
            if !snapshotInFlight { armSnapshot(now: now) }
        }
    }

    private static func heartbeatPeriod(_ config: DaemonConfig) -> Double {
        max(0.01, config.heartbeatInterval.seconds)
    }

    private mutating func armSnapshot(now: Double) {
        nextSnapshot = snapshot > 0 ? now + snapshot : .infinity
    }
}
