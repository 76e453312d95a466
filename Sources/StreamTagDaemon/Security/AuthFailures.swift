import Logging
import Prometheus

/// Refused connections: `streamtag_auth_failures_total{socket,reason}` (every pair present
/// from the start, at 0) and a summary line every `interval` seconds when there were any,
/// e.g. `refused 31 connection attempts in the last 10 s (input unknown_key 20, control
/// not_control 11)`. Never a line per attempt: a refused client retries every 100 ms.
/// Held by `DaemonSecurity`, which the I/O loop owns (neither is Sendable).
final class AuthFailures {
    private let counters: [Counter]
    private var totals: [Int]
    private var logged: [Int]
    private var lastSummary: Double
    let interval: Double

    init(registry: PrometheusCollectorRegistry, now: Double, interval: Double = 10) {
        let descriptor = MetricNameDescriptor(namespace: "streamtag", metricName: "auth_failures", unitName: "total",
                                              helpText: "Connections refused by CURVE authentication, by socket and reason.")
        counters = KeyRing.Socket.allCases.flatMap { socket in
            KeyRing.Refusal.allCases.map { reason in
                registry.makeCounter(descriptor: descriptor, labels: [("socket", socket.rawValue), ("reason", reason.rawValue)])
            }
        }
        totals = Array(repeating: 0, count: counters.count)
        logged = totals
        lastSummary = now
        self.interval = interval
    }

    private static func index(_ socket: KeyRing.Socket, _ reason: KeyRing.Refusal) -> Int {
        KeyRing.Socket.allCases.firstIndex(of: socket)! * KeyRing.Refusal.allCases.count
            + KeyRing.Refusal.allCases.firstIndex(of: reason)!
    }

    /// Counts one refusal.
    func count(_ socket: KeyRing.Socket, _ reason: KeyRing.Refusal) {
        let i = Self.index(socket, reason)
        totals[i] += 1
        counters[i].increment()
    }

    /// Refusals so far for `socket` and `reason`.
    func total(_ socket: KeyRing.Socket, _ reason: KeyRing.Refusal) -> Int {
        totals[Self.index(socket, reason)]
    }

    /// Logs the summary when `interval` has passed and something was refused (`force`: now,
    /// e.g. at stop).
    func summarize(now: Double, logger: Logger, force: Bool = false) {
        guard force || now - lastSummary >= interval else { return }
        let seconds = now - lastSummary
        lastSummary = now
        guard let line = Self.line(delta: zip(totals, logged).map { $0 - $1 }, seconds: seconds) else { return }
        logged = totals
        logger.warning("\(line)")
    }

    /// The summary line for the increases `delta` (by counter index) over `seconds`, or nil;
    /// worded and broken down as the daemon's other summaries (``EventLogSummary``).
    static func line(delta: [Int], seconds: Double) -> String? {
        let sum = delta.reduce(0, +)
        guard sum > 0 else { return nil }
        let parts = KeyRing.Socket.allCases.flatMap { socket in
            KeyRing.Refusal.allCases.map { reason in ("\(socket.rawValue) \(reason.rawValue)", delta[index(socket, reason)]) }
        }
        return "refused \(sum) connection attempt\(sum == 1 ? "" : "s") in the last \(EventLogSummary.span(seconds)) "
            + "(\(EventLogSummary.breakdown(parts)))"
    }
}
