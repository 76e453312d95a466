import Testing
@testable import StreamTagDaemon

/// The I/O loop's timers with the time given, not slept: which timer fires at which turn.
struct IOTimersTests {
    /// A configuration with the three periods, in seconds (snapshot 0 = only at shutdown).
    func config(heartbeat: Double = 1, watch: Double = 2, snapshot: Double = 0) -> DaemonConfig {
        var config = DaemonConfig()
        config.heartbeatInterval = .milliseconds(Int64((heartbeat * 1000).rounded()))
        config.model.watchInterval = .milliseconds(Int64((watch * 1000).rounded()))
        config.snapshotInterval = .milliseconds(Int64((snapshot * 1000).rounded()))
        return config
    }

    /// The times in `stride(from:to:by:)` at which `kind` fired, the loop turning every `step`.
    func firings(_ timers: inout IOTimers, _ kind: IOTimers.Due, from start: Double = 0, to end: Double, step: Double,
                 watching: Bool = true, stopping: Bool = false) -> [Double] {
        var times: [Double] = []
        for i in 0...Int(((end - start) / step + 1e-9).rounded(.down)) {
            let now = start + Double(i) * step
            if timers.fire(now: now, watching: watching, stopping: stopping).contains(kind) { times.append(now) }
        }
        return times
    }

    @Test func unarmedTimersNeverFireAndTheLoopWaitsASecondAtMost() {
        var timers = IOTimers()
        #expect(timers.fire(now: 1e9, watching: true, stopping: false).isEmpty)
        #expect(timers.pollWait(now: 5, watching: true) == 1)
    }

    @Test func heartbeatsComeOnePeriodAfterTheTurnThatSentTheLast() {
        // Binary fractions, so the made-up times add up exactly.
        var timers = IOTimers(config(heartbeat: 0.25, watch: 100), now: 0)
        #expect(firings(&timers, .heartbeat, to: 2, step: 0.125) == [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2])
        // A late turn (the loop was busy) re-arms from when it ran: no burst of catch-up beats.
        var late = IOTimers(config(heartbeat: 1, watch: 100), now: 0)
        #expect(late.fire(now: 3.5, watching: true, stopping: false) == .heartbeat)
        #expect(late.fire(now: 4.0, watching: true, stopping: false).isEmpty)
        #expect(late.fire(now: 4.5, watching: true, stopping: false) == .heartbeat)
    }

    @Test func heartbeatPeriodIsAtLeastTenMilliseconds() {
        let timers = IOTimers(config(heartbeat: 0.001, watch: 100), now: 5)
        #expect(timers.heartbeat == 0.01)
        #expect(timers.nextHeartbeat == 5 + 0.01)
    }

    @Test func theModelCheckRunsOnlyWhileWatchingAndNotWhileStopping() {
        var timers = IOTimers(config(heartbeat: 100, watch: 2), now: 0)
        #expect(firings(&timers, .watchCheck, to: 10, step: 0.5, watching: false).isEmpty)
        #expect(firings(&timers, .watchCheck, from: 10, to: 20, step: 0.5, stopping: true).isEmpty)
        #expect(firings(&timers, .watchCheck, from: 20, to: 26, step: 0.5) == [20, 22, 24, 26])
    }

    @Test func aPeriodicSnapshotIsNotDueAgainUntilTheLastIsWritten() {
        var timers = IOTimers(config(heartbeat: 100, watch: 100, snapshot: 10), now: 0)
        #expect(!timers.snapshotInFlight)
        #expect(firings(&timers, .snapshot, to: 60, step: 1) == [10])
        #expect(timers.snapshotInFlight)
        #expect(timers.pollWait(now: 60, watching: false) == 1)
        timers.snapshotWritten(now: 61)
        #expect(!timers.snapshotInFlight)
        #expect(firings(&timers, .snapshot, from: 61, to: 75, step: 1) == [71])
    }

    @Test func noPeriodicSnapshotWithAZeroPeriodOrWhileStopping() {
        var never = IOTimers(config(heartbeat: 100, watch: 100, snapshot: 0), now: 0)
        #expect(firings(&never, .snapshot, to: 1000, step: 10).isEmpty)
        var stopping = IOTimers(config(heartbeat: 100, watch: 100, snapshot: 5), now: 0)
        #expect(firings(&stopping, .snapshot, to: 100, step: 1, stopping: true).isEmpty)
    }

    @Test func thePollWaitsUntilTheNearestDeadline() {
        let timers = IOTimers(config(heartbeat: 0.25, watch: 0.1, snapshot: 0.05), now: 10)
        #expect(abs(timers.pollWait(now: 10, watching: true) - 0.05) < 1e-9)
        #expect(timers.pollWait(now: 11, watching: true) == 0)           // overdue: poll without waiting
        let heartbeatOnly = IOTimers(config(heartbeat: 0.25, watch: 0.1), now: 10)
        #expect(abs(heartbeatOnly.pollWait(now: 10, watching: false) - 0.25) < 1e-9)
        #expect(abs(heartbeatOnly.pollWait(now: 10, watching: true) - 0.1) < 1e-9)
    }

    @Test func aReloadedShorterPeriodTakesEffectAtOnceALongerOneAfterTheNextFiring() {
        var timers = IOTimers(config(heartbeat: 10, watch: 10, snapshot: 100), now: 0)
        timers.adopt(config(heartbeat: 1, watch: 10, snapshot: 100), now: 2)
        #expect(timers.nextHeartbeat == 3)
        #expect(timers.nextWatchCheck == 10)                             // unchanged period: deadline kept
        #expect(timers.nextSnapshot == 100)
        timers.adopt(config(heartbeat: 5, watch: 10, snapshot: 100), now: 2.5)
        #expect(timers.nextHeartbeat == 3)                               // the nearer deadline stays
        #expect(timers.fire(now: 3, watching: true, stopping: false) == .heartbeat)
        #expect(timers.nextHeartbeat == 8)
    }

    @Test func aReloadedSnapshotPeriodWaitsForTheSnapshotInFlight() {
        var timers = IOTimers(config(heartbeat: 100, watch: 100, snapshot: 10), now: 0)
        #expect(timers.fire(now: 10, watching: false, stopping: false) == .snapshot)
        timers.adopt(config(heartbeat: 100, watch: 100, snapshot: 3), now: 11)
        #expect(timers.nextSnapshot == .infinity)
        timers.snapshotWritten(now: 12)
        #expect(timers.nextSnapshot == 15)
        timers.adopt(config(heartbeat: 100, watch: 100, snapshot: 0), now: 13)
        #expect(timers.nextSnapshot == .infinity)                        // turned off
    }
}
