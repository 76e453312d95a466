import Prometheus
import Synchronization
import StreamTagWire

/// The gateway's metrics, in the daemon's registry (served at `/metrics`):
///
/// | metric | type | labels | meaning |
/// |---|---|---|---|
/// | `streamtag_ws_connections` | gauge | | open WebSocket connections |
/// | `streamtag_ws_connections_accepted_total` | counter | | WebSocket connections accepted (upgraded) |
/// | `streamtag_ws_frames_in_total` | counter | | WebSocket messages received (input bodies) |
/// | `streamtag_ws_frames_out_total` | counter | | WebSocket messages sent (answers and events) |
/// | `streamtag_ws_errors_total` | counter | `code` | `error` events sent to WebSocket clients, by the ZeroMQ side's codes, and the gateway's refusals and closes: `unauthorized`, `conflict`, `too_many_connections`, `bad_stream_id`, `not_found`, `bad_method`, `upgrade_required`, `frame_too_large`, `slow_consumer`, `no_pong`, `bad_frame` |
///
/// Counters are the library's atomics, bumped per WebSocket message (never per token).
final class GatewayMetrics: Sendable {
    /// The gateway's own codes, after the wire's.
    static let gatewayCodes = ["unauthorized", "conflict", "too_many_connections", "not_found", "bad_method",
                               "upgrade_required", "frame_too_large", "slow_consumer", "no_pong", "bad_frame"]
    static let codes: [String] = WireErrorCode.allCases.map(\.rawValue) + gatewayCodes

    let connections: Gauge
    let connectionsTotal: Counter
    let framesIn: Counter
    let framesOut: Counter
    private let errors: [String: Counter]
    /// Open connections (the gauge is set from it).
    private let open = Atomic<Int>(0)

    init(registry: PrometheusCollectorRegistry) {
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "streamtag", metricName: metric, unitName: unit, helpText: help)
        }
        connections = registry.makeGauge(descriptor: name("ws_connections", "", "Open WebSocket connections."))
        connectionsTotal = registry.makeCounter(descriptor: name("ws_connections_accepted", "total", "WebSocket connections accepted."))
        framesIn = registry.makeCounter(descriptor: name("ws_frames_in", "total", "WebSocket messages received."))
        framesOut = registry.makeCounter(descriptor: name("ws_frames_out", "total", "WebSocket messages sent."))
        let help = name("ws_errors", "total", "Errors sent to WebSocket clients and the gateway's refusals, by code.")
        var errors: [String: Counter] = [:]
        for code in Self.codes { errors[code] = registry.makeCounter(descriptor: help, labels: [("code", code)]) }
        self.errors = errors
    }

    func opened() {
        connectionsTotal.increment()
        connections.set(to: Double(open.add(1, ordering: .relaxed).newValue))
    }

    func closed() {
        connections.set(to: Double(open.subtract(1, ordering: .relaxed).newValue))
    }

    func error(_ code: String) { errors[code]?.increment() }

    /// The error code of an `error` event body, without parsing the rest (the encoder writes
    /// `{"type":"event","event":"error","code":"CODE",…`), or nil for anything else.
    static func errorCode(_ body: [UInt8]) -> String? {
        let prefix = #"{"type":"event","event":"error","code":""#.utf8
        guard body.count > prefix.count, body.starts(with: prefix) else { return nil }
        let rest = body[prefix.count...]
        guard let end = rest.firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: rest[..<end], as: UTF8.self)
    }
}
