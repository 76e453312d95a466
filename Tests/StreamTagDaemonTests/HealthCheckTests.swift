import Testing
@testable import StreamTagDaemon

/// `/healthz`'s verdict from the last turns of the I/O loop and the workers, with the time
/// given: exact, no thread held up and no sleep (`MetricsHTTPTests` checks it over HTTP).
struct HealthCheckTests {
    let second: UInt64 = 1_000_000_000
    let limit: UInt64 = 2_000_000_000

    @Test func allTurnedWithinTheLimitIsHealthy() {
        let now = 100 * second
        #expect(DaemonMetrics.silence(now: now, limit: limit, ioTick: now - second, workerTicks: [now - second, now]) == nil)
        // Exactly at the limit still counts as within it; a tick "after" now (another core's
        // clock read) is not silence.
        #expect(DaemonMetrics.silence(now: now, limit: limit, ioTick: now - limit, workerTicks: [now + 5]) == nil)
    }

    @Test func theFirstSilentPartIsNamedWithItsSilence() {
        let now = 100 * second
        let stuckWorker = DaemonMetrics.silence(now: now, limit: limit, ioTick: now,
                                                workerTicks: [now, now - 3 * second - second / 2, now - 9 * second])
        #expect(stuckWorker == "worker 1 last ticked 3.5 s ago")
        let stuckLoop = DaemonMetrics.silence(now: now, limit: limit, ioTick: now - 2 * second - 1, workerTicks: [now - 9 * second])
        #expect(stuckLoop == "the I/O loop last ticked 2.0 s ago", "the I/O loop before the workers")
    }

    @Test func notStartedIsUnhealthy() {
        let now = 100 * second
        #expect(DaemonMetrics.silence(now: now, limit: limit, ioTick: 0, workerTicks: [now]) == "the I/O loop has not started")
        #expect(DaemonMetrics.silence(now: now, limit: limit, ioTick: now, workerTicks: [now, 0]) == "worker 1 has not started")
    }
}
