import Dispatch
import Foundation

/// `/healthz` and `/readyz` (see `MetricsRoutes`): what the I/O loop, the workers and the model
/// loader last did.
extension DaemonMetrics {
    /// `/healthz`: nil when the I/O loop and every worker ticked within the last
    /// `healthMaxSilenceMilliseconds` and no model load is stuck (past `reload.load_timeout`),
    /// else the reason.
    func unhealthyReason(now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> String? {
        let limit = UInt64(healthMaxSilenceMilliseconds.load(ordering: .relaxed)) * 1_000_000
        let io = ioTick.load(ordering: .relaxed)
        guard let daemon = attachedDaemon else {
            return Self.silence(now: now, limit: limit, ioTick: io, workerTicks: []) ?? "the daemon is gone"
        }
        let workerTicks = daemon.pool.workers.map { $0.lastTick.load(ordering: .relaxed) }
        return Self.silence(now: now, limit: limit, ioTick: io, workerTicks: workerTicks)
            ?? daemon.loads.unhealthyReason(now: Double(now) / 1e9, timeout: daemon.config.reload.loadTimeout.seconds)
    }

    /// What has been silent for more than `limit` at `now`, the I/O loop first, then the
    /// workers in order: the last turn of each (nanoseconds on the uptime clock, 0 = never), or
    /// nil when all turned within it.
    static func silence(now: UInt64, limit: UInt64, ioTick: UInt64, workerTicks: [UInt64]) -> String? {
        if ioTick == 0 { return "the I/O loop has not started" }
        if now > ioTick && now - ioTick > limit { return "the I/O loop last ticked \(seconds(now - ioTick)) ago" }
        for (index, tick) in workerTicks.enumerated() {
            if tick == 0 { return "worker \(index) has not started" }
            if now > tick && now - tick > limit { return "worker \(index) last ticked \(seconds(now - tick)) ago" }
        }
        return nil
    }

    /// `/readyz`: nil once the daemon's start has finished (model loaded, sockets bound) and no
    /// stop was requested, else the reason.
    func unreadyReason() -> String? {
        guard ready.load(ordering: .acquiring) else { return "starting" }
        guard let daemon = attachedDaemon else { return "the daemon is gone" }
        if daemon.stopRequested.load(ordering: .relaxed) { return "stopping" }
        return nil
    }

    static func seconds(_ nanoseconds: UInt64) -> String {
        String(format: "%.1f s", Double(nanoseconds) / 1e9)
    }
}
