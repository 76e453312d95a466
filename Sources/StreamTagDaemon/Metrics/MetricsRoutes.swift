import NIOHTTP1

/// The metrics listener's routes: `GET /metrics`, `GET /healthz`, `GET /readyz`; 404 for any
/// other path, 405 (with `Allow: GET`) for another method on these paths.
enum MetricsRoutes {
    static let exposition = "text/plain; version=0.0.4; charset=utf-8"

    static func respond(to head: HTTPRequestHead, metrics: DaemonMetrics?) -> MetricsResponse {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard ["/metrics", "/healthz", "/readyz"].contains(path) else {
            return MetricsResponse(.notFound, "not found: \(path) (try /metrics, /healthz or /readyz)\n")
        }
        guard head.method == .GET else {
            return MetricsResponse(.methodNotAllowed, "method \(head.method.rawValue) not allowed; use GET\n",
                                   headers: [("Allow", "GET")])
        }
        guard let metrics else { return MetricsResponse(.serviceUnavailable, "the daemon is gone\n") }
        switch path {
        case "/metrics":
            return MetricsResponse(status: .ok, contentType: exposition, body: metrics.render())
        case "/healthz":
            if let reason = metrics.unhealthyReason() {
                return MetricsResponse(.serviceUnavailable, "unhealthy: \(reason)\n")
            }
            return MetricsResponse(.ok, "ok\n")
        default:
            if let reason = metrics.unreadyReason() {
                return MetricsResponse(.serviceUnavailable, "not ready: \(reason)\n")
            }
            return MetricsResponse(.ok, "ready\n")
        }
    }

    /// Splits a validated `metrics.listen` (`host:port`, `[v6]:port`) into host and port.
    static func parseListen(_ listen: String) -> (host: String, port: Int)? {
        guard let (host, port) = EndpointSyntax.hostPort(listen), !host.isEmpty,
              let number = Int(port), (0...65_535).contains(number) else { return nil }
        return (host, number)
    }
}
