import Logging
import StreamTagCore
import StreamTagWire

/// Every setting of the daemon, as plain values (docs/configuration.md lists them all).
///
/// `DaemonConfig()` holds the defaults of the spec; `config/streamtag.yaml` lists the same
/// values (a test keeps the two equal). ``load(file:environment:overrides:)`` reads the file,
/// the `STREAMTAG_...` environment variables and command-line overrides on top of them and
/// validates the result. The dotted key of each setting is its YAML path in snake case, e.g.
/// `streams.idle_timeout` for `streams.idleTimeout`.
package struct DaemonConfig: Sendable, Equatable {
    /// The SUB socket that receives token streams (docs/protocol.md#input).
    package var input = Input()
    /// The PUB/XPUB socket that publishes tags and events (docs/protocol.md#events).
    package var output = Output()
    /// The REP socket for `status`, `reload`, `streams`, `drop`, `snapshot` (docs/protocol.md#control).
    package var control = Control()
    /// The HTTP endpoint for `/metrics`, `/healthz`, `/readyz` (docs/operations.md#metrics-health-logs).
    package var metrics = Metrics()
    /// CURVE encryption and the keys allowed on each socket (docs/security.md).
    var security = Security()
    /// Which model serves and how it is decoded and watched (docs/model-format.md, docs/concepts.md#reload-policies-retrain-and-roll-out).
    package var model = Model()
    /// What happens to streams in flight when a new model is swapped in (docs/concepts.md#reload-policies-retrain-and-roll-out).
    var reload = Reload()
    /// Per-stream limits and lifetimes (docs/protocol.md#sequence-rules, docs/concepts.md#streams-batching-persistence).
    var streams = Streams()
    /// How streams are advanced together (docs/concepts.md#streams-batching-persistence).
    var batching = Batching()
    /// The WebSocket gateway and live page (docs/websocket.md).
    var websocket = WebSocket()
    /// Period of the `heartbeat` event on `$sys`. Key `heartbeat_interval`.
    package var heartbeatInterval: Duration = .seconds(1)
    /// Period of state snapshots; zero writes one only at shutdown. Key `snapshot_interval`.
    package var snapshotInterval: Duration = .seconds(30)
    /// Where snapshots are written. Key `state_dir`; when unset or empty the loader uses
    /// ``defaultStateDir(environment:)`` (systemd's `$STATE_DIRECTORY`, else this value).
    package var stateDir: String = DaemonConfig.fallbackStateDir
    /// The lowest level of log line written to stderr. Key `log_level`.
    package var logLevel: Logger.Level = .info

    /// The spec's defaults.
    package init() {}

    /// Key `input`.
    package struct Input: Sendable, Equatable {
        /// Endpoint the SUB socket binds to when ``connect`` is empty.
        package var bind = "tcp://127.0.0.1:5560"
        /// Producers to connect to instead of binding; empty means bind.
        var connect: [String] = []
        /// Topic prefixes to subscribe to; `[""]` takes every stream (docs/operations.md#sharding-scaling-out-by-topic-prefix).
        var subscribe: [String] = [""]
        /// Receive high-water mark in messages (ZMQ_RCVHWM); 0 means no limit.
        var hwm = 100_000
        /// Largest frame 2 the daemon accepts; bigger ones get `too_large`.
        var maxMessageBytes = InputParser.defaultMaxMessageBytes
        /// ZMQ_MAXMSGSIZE, a memory guard only; `nil` means 16 × ``maxMessageBytes``.
        var maxZMQMessageBytes: Int? = nil

        /// ZMQ_MAXMSGSIZE to set on the socket: the explicit value, else 16 × max_message_bytes.
        var effectiveMaxZMQMessageBytes: Int {
            maxZMQMessageBytes ?? 16 * maxMessageBytes
        }
    }

    /// Key `output`.
    package struct Output: Sendable, Equatable {
        /// Endpoint the publishing socket binds to.
        package var bind = "tcp://127.0.0.1:5561"
        /// Send high-water mark in messages (ZMQ_SNDHWM); 0 means no limit.
        var hwm = 100_000
        /// Use an XPUB with ZMQ_XPUB_NODROP so that drops at the high-water mark are counted
        /// (`output_dropped_total`) instead of silent.
        var noDrop = false
    }

    /// Key `control`.
    package struct Control: Sendable, Equatable {
        /// Endpoint the REP socket binds to.
        package var bind = "tcp://127.0.0.1:5562"
    }

    /// Key `metrics`.
    package struct Metrics: Sendable, Equatable {
        /// `host:port` of the HTTP listener; empty disables it.
        package var listen = "127.0.0.1:5563"
        /// A connection that sends nothing for this long is closed.
        var readTimeout: Duration = .seconds(30)
        /// Most connections open at once; more are closed as soon as they are accepted.
        var maxConnections = 64
    }

    /// Key `model`.
    package struct Model: Sendable, Equatable {
        /// Model file; empty serves the built-in model.
        package var path = ""
        /// Precision of the recurrent matrices on the hot path.
        package var precision: StreamTagCore.Model.Precision = .fp32
        /// Lookahead to serve, at most the model's own; `nil` serves the model's.
        var lookahead: Int? = nil
        /// Publish provisional tags (`partial`) for tokens inside the lookahead window.
        var partial = true
        /// Reload when the model file changes.
        var watch = true
        /// Poll period for the model file when inotify is unavailable.
        var watchInterval: Duration = .seconds(2)
    }

    /// Key `reload`.
    struct Reload: Sendable, Equatable {
        /// How streams in flight move to a new model.
        var policy: Policy = .replay
        /// Tokens kept per stream and replayed through a new model (`replay` and `drain`).
        var replayTokens = 32
        /// Under `drain`, how long a stream may stay on the old model before it is replayed.
        var drainTimeout: Duration = .seconds(600)
        /// Longest a model load (read, check, test run) may take before the reload is answered
        /// as rejected and the loader is reported stuck.
        var loadTimeout: Duration = .seconds(20)

        /// `reload.policy` (docs/concepts.md#reload-policies-retrain-and-roll-out).
        enum Policy: String, Sendable, CaseIterable {
            /// Rebuild each stream's state from its last `replay_tokens` tokens.
            case replay
            /// Let streams that began on the old model finish on it.
            case drain
            /// Clear every stream's state (`reset` event, reason `model`).
            case reset
        }
    }

    /// Key `streams`.
    struct Streams: Sendable, Equatable {
        /// Evict a stream after this long without input; zero never evicts for idleness.
        var idleTimeout: Duration = .seconds(600)
        /// Total stream-state memory; above it the least recently fed streams are evicted.
        /// Zero means no limit.
        var maxStateBytes = 1 << 30
        /// Bound of one stream's pending-token queue; a message that would overflow it is
        /// rejected with `overloaded`.
        var maxPendingTokens = 65_536
        /// Bound of the tokens queued over all streams (shared out among the workers): it bounds
        /// the memory of a backlog and the work a snapshot may have to finish; a message that
        /// would overflow it is rejected with `overloaded`.
        var maxPendingTotal = 1 << 20
        /// How long an ended stream's last `seq` is remembered to recognise resends.
        var endGrace: Duration = .seconds(60)
        /// What a gap in `seq` does to the stream.
        var onGap: GapPolicy = .continue

        /// `streams.on_gap` (docs/protocol.md#sequence-rules).
        enum GapPolicy: String, Sendable, CaseIterable {
            /// Publish `gap` and keep the stream's state.
            case `continue`
            /// Publish `gap`, then clear the state (`reset`, reason `gap`).
            case reset
        }
    }

    /// Key `batching`.
    struct Batching: Sendable, Equatable {
        /// Worker threads stepping streams; 0 means one per core.
        var workers = 0
        /// Most streams advanced in one step.
        var maxBatch = 256
        /// How long the first step after an idle spell may wait for more streams to fill its
        /// batch; zero never waits.
        var batchWait: Duration = .zero
    }

    /// `state_dir` when neither the configuration nor systemd names one.
    static let fallbackStateDir = "./streamtag-state"

    /// The default `state_dir` for an environment: the first path of systemd's
    /// `$STATE_DIRECTORY` (it separates several with `:`), else ``fallbackStateDir``.
    static func defaultStateDir(environment: [String: String]) -> String {
        let fromSystemd = environment["STATE_DIRECTORY"]?
            .split(separator: ":", omittingEmptySubsequences: true)
            .first
        return fromSystemd.map(String.init) ?? fallbackStateDir
    }
}
