import Testing
@testable import StreamTagDaemon

/// The systemd announcement schedule with the time given, not slept: exact counts and gaps.
/// (`SDNotifyDaemonTests` checks the same daemon over a real notify socket, loosely.)
struct WatchdogScheduleTests {
    /// Ticks every `step` seconds from `start` to `end`; `stalled` says which worker, if any,
    /// is stuck at a time. Returns the times of the pings and status lines and the ticks.
    func run(_ schedule: inout WatchdogSchedule, from start: Double = 0, to end: Double, step: Double,
             stalled: (Double) -> Int? = { _ in nil }) -> (pings: [Double], statuses: [Double], ticks: [(Double, WatchdogSchedule.Tick)]) {
        var pings: [Double] = [], statuses: [Double] = [], ticks: [(Double, WatchdogSchedule.Tick)] = []
        for i in 0...Int(((end - start) / step + 1e-9).rounded(.down)) {
            let at = start + Double(i) * step
            let tick = schedule.tick(now: at, tokens: Int(at * 1000)) {
                stalled(at).map { WatchdogSchedule.Stall(worker: $0, seconds: 1.5) }
            }
            if tick.ping { pings.append(at) }
            if tick.status { statuses.append(at) }
            ticks.append((at, tick))
        }
        return (pings, statuses, ticks)
    }

    @Test func pingsAtHalfTheWatchdogIntervalAndStatusLinesAtTheirOwn() {
        var schedule = WatchdogSchedule(watchdogInterval: 0.6, statusInterval: 0.5)
        #expect(schedule.period == 0.3)
        let ready = schedule.markReady(now: 0, tokens: 0)
        #expect(ready)
        let result = run(&schedule, to: 3, step: schedule.period)
        // A ping on every tick: at 0, 0.3, …, 3.0.
        #expect(result.pings.count == 11)
        let gaps = zip(result.pings.dropFirst(), result.pings).map { $0 - $1 }
        #expect(gaps.allSatisfy { abs($0 - 0.3) < 1e-9 }, "\(gaps)")
        // Status lines every 0.5 s at the 0.3 s ticks: 0.6, 1.2, 1.8, 2.4, 3.0 (due from 0.35 s after the last).
        #expect(result.statuses.count == 5, "\(result.statuses)")
        // 1000 tokens a second, measured between status lines.
        #expect(abs(schedule.tokensPerSecond - 1000) < 5, "\(schedule.tokensPerSecond)")
    }

    @Test func aTimerThatFiresEarlyStillPingsOnTime() {
        var schedule = WatchdogSchedule(watchdogInterval: 1.0, statusInterval: 5)
        _ = schedule.markReady(now: 0, tokens: 0)
        // Period 0.5; ticks 0.2 s early each time still ping every tick (half a period of slack).
        let result = run(&schedule, to: 5, step: 0.48)
        #expect(result.pings.count == result.ticks.count)
        // Ticks well under the period ping every other time: never more often than needed.
        var fast = WatchdogSchedule(watchdogInterval: 1.0, statusInterval: 5)
        _ = fast.markReady(now: 0, tokens: 0)
        let often = run(&fast, to: 5, step: 0.2)
        #expect(often.pings.count == (often.ticks.count + 1) / 2, "\(often.pings)")
        #expect(zip(often.pings.dropFirst(), often.pings).allSatisfy { abs($0 - $1 - 0.4) < 1e-9 })
    }

    @Test func aStalledWorkerWithholdsThePingsUntilItRecovers() {
        var schedule = WatchdogSchedule(watchdogInterval: 0.4, statusInterval: 5)
        _ = schedule.markReady(now: 0, tokens: 0)
        // Worker 1 is stuck from 1.0 s to 4.0 s.
        let result = run(&schedule, to: 6, step: 0.2) { t in t > 1.0 - 1e-9 && t < 4.0 - 1e-9 ? 1 : nil }
        #expect(!result.pings.contains { $0 > 1.0 - 1e-9 && $0 < 4.0 - 1e-9 }, "\(result.pings)")
        #expect(result.pings.contains { abs($0 - 0.8) < 1e-9 } && result.pings.contains { abs($0 - 4.0) < 1e-9 })
        // Logged once each way: the stall when found, the recovery at the first ping after it.
        let began = result.ticks.filter { $0.1.stallBegan != nil }
        #expect(began.count == 1 && abs(began[0].0 - 1.0) < 1e-9 && began[0].1.stallBegan?.worker == 1)
        let recovered = result.ticks.filter { $0.1.recovered != nil }
        #expect(recovered.count == 1 && abs(recovered[0].0 - 4.0) < 1e-9 && recovered[0].1.recovered == 1)
    }

    @Test func noWatchdogNoPings() {
        var schedule = WatchdogSchedule(watchdogInterval: nil, statusInterval: 1)
        #expect(schedule.period == 1)
        _ = schedule.markReady(now: 0, tokens: 0)
        var asked = 0
        for t in stride(from: 0.0, through: 10, by: 1) {
            let tick = schedule.tick(now: t, tokens: 0) { asked += 1; return nil }
            #expect(!tick.ping)
        }
        #expect(asked == 0, "the workers are not even looked at")
    }

    @Test func readyReloadingStoppingHappenOnceAndInOrder() {
        var schedule = WatchdogSchedule(watchdogInterval: 1, statusInterval: 1)
        let reloadBeforeReady = schedule.beginReload()
        #expect(!reloadBeforeReady, "no reload before READY")
        let ready = schedule.markReady(now: 0, tokens: 0)
        #expect(ready)
        let readyAgain = schedule.markReady(now: 1, tokens: 0)
        #expect(!readyAgain, "READY=1 once")
        let reload = schedule.beginReload()
        #expect(reload)
        let reloadAgain = schedule.beginReload()
        #expect(!reloadAgain, "RELOADING=1 once per reload")
        // No status line while reloading; pings go on.
        let during = schedule.tick(now: 5, tokens: 0) { nil }
        #expect(during.ping && !during.status)
        let end = schedule.endReload()
        #expect(end)
        let endAgain = schedule.endReload()
        #expect(!endAgain)
        let stop = schedule.markStopping()
        #expect(stop)
        let stopAgain = schedule.markStopping()
        #expect(!stopAgain)
        let reloadWhileStopping = schedule.beginReload()
        #expect(!reloadWhileStopping, "no reload once stopping")
        let stopping = schedule.tick(now: 10, tokens: 0) { nil }
        #expect(stopping.ping && !stopping.status, "pings until stopped; no status line")
        var early = WatchdogSchedule(watchdogInterval: nil, statusInterval: 1)
        let earlyStop = early.markStopping()
        #expect(earlyStop)
        let readyAfterStop = early.markReady(now: 0, tokens: 0)
        #expect(!readyAfterStop, "never READY after STOPPING")
    }

    @Test func aReloadEndedByTheStopSendsNoReady() {
        var schedule = WatchdogSchedule(watchdogInterval: nil, statusInterval: 1)
        _ = schedule.markReady(now: 0, tokens: 0)
        let reload = schedule.beginReload()
        #expect(reload)
        let stopping = schedule.markStopping()
        #expect(stopping)
        let endAfterStop = schedule.endReload()
        #expect(!endAfterStop)
    }
}
