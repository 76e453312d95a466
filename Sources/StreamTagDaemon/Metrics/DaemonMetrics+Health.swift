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
        if io == 0 { return "the I/O loop has not started" }
        if now > io && now - io > limit { return "the I/O loop last ticked \(Self.seconds(now - io)) ago" }
        guard let daemon = attachedDaemon else { return "the daemon is gone" }
        for w in daemon.pool.workers {
            let tick = w.lastTick.load(ordering: .relaxed)
            if tick == 0 { return "worker \(w.index) has not started" }
            if now > tick && now - tick > limit { return "worker \(w.index) last ticked \(Self.seconds(now - tick)) ago" }
        }
        if let stuck = daemon.loads.unhealthyReason(now: monotonicSeconds(), timeout: daemon.config.reload.loadTimeout.seconds) {
            return stuck
        }
        return nil
    }

    /// `/readyz`: nil once `Daemon.start()` has finished (model loaded, sockets bound) and no
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
