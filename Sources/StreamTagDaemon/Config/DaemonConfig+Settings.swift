import Logging
import StreamTagWire

extension DaemonConfig {
    /// ZeroMQ takes high-water marks as a C `int`.
    static let maxHWM = Int(Int32.max)

    /// Every setting, in the order of `config/streamtag.yaml` and of `describe()`.
    static let settings: [ConfigSetting] = [
        .bindEndpoint("input.bind", \.input.bind,
                      "endpoint the input SUB socket binds to (unless input.connect is set)"),
        .list("input.connect", \.input.connect,
              "producer endpoints to connect to instead of binding; empty = bind",
              check: checkConnectList),
        .list("input.subscribe", \.input.subscribe,
              "topic (stream id) prefixes to take; [\"\"] = every stream",
              check: checkSubscribeList),
        .integer("input.hwm", \.input.hwm,
                 "receive high-water mark in messages; 0 = no limit", range: 0...maxHWM),
        .size("input.max_message_bytes", \.input.maxMessageBytes,
              "largest accepted frame 2; larger messages get a too_large error", range: (1 << 10)...(16 << 20)),
        .optionalSize("input.max_zmq_message_bytes", \.input.maxZMQMessageBytes,
                      "ZMQ_MAXMSGSIZE memory guard; ~ = 16 × max_message_bytes", range: (1 << 10)...Int(Int64.max)),
        .bindEndpoint("output.bind", \.output.bind, "endpoint the output PUB socket binds to"),
        .integer("output.hwm", \.output.hwm,
                 "send high-water mark in messages; 0 = no limit", range: 0...maxHWM),
        .flag("output.no_drop", \.output.noDrop,
              "use an XPUB with ZMQ_XPUB_NODROP and count drops instead of dropping silently"),
        .bindEndpoint("control.bind", \.control.bind, "endpoint the control REP socket binds to"),
        .text("metrics.listen", \.metrics.listen,
              "host:port of the HTTP /metrics, /healthz, /readyz listener; \"\" = disabled",
              check: { (value: String) throws(ValueProblem) in
                  if !value.isEmpty { try EndpointSyntax.checkListen(value) }
              }),
        .duration("metrics.read_timeout", \.metrics.readTimeout,
                  "close a metrics connection that sends nothing for this long", allowZero: false),
        .integer("metrics.max_connections", \.metrics.maxConnections,
                 "most metrics connections open at once; more are closed at once", range: 1...65_536),
        .text("security.server_key", \.security.serverKey,
              "the daemon's secret certificate (NAME.key_secret, mode 0600); \"\" = no CURVE (plaintext)"),
        .text("security.clients", \.security.clients,
              "directory of public certificates allowed on input and output; \"\" = none"),
        .text("security.control_clients", \.security.controlClients,
              "directory of public certificates allowed on every socket, control included; \"\" = none"),
        .flag("security.allow_plaintext", \.security.allowPlaintext,
              "allow a non-loopback bind or connect without CURVE"),
        .text("model.path", \.model.path, "model file to serve; \"\" = the built-in model"),
        .choice("model.precision", \.model.precision, "recurrent weight precision: fp32 or bf16"),
        .optionalInteger("model.lookahead", \.model.lookahead,
                         "lookahead k to serve, at most the model's; ~ = the model's", range: 0...Int.max),
        .flag("model.partial", \.model.partial, "publish provisional tags for tokens inside the lookahead"),
        .flag("model.watch", \.model.watch, "reload when the model file changes"),
        .duration("model.watch_interval", \.model.watchInterval,
                  "poll period for the model file when inotify is unavailable", allowZero: false),
        .choice("reload.policy", \.reload.policy, "streams in flight on reload: replay, drain or reset"),
        .integer("reload.replay_tokens", \.reload.replayTokens,
                 "tokens per stream replayed through a new model", range: 0...4096),
        .duration("reload.drain_timeout", \.reload.drainTimeout,
                  "under drain, longest time a stream stays on the old model"),
        .duration("reload.load_timeout", \.reload.loadTimeout,
                  "longest a model load may take; then the reload is rejected and the loader reported stuck",
                  allowZero: false),
        .duration("streams.idle_timeout", \.streams.idleTimeout,
                  "evict a stream after this long without input; 0 = never"),
        .size("streams.max_state_bytes", \.streams.maxStateBytes,
              "memory for all stream states; least recently fed evicted above it; 0 = no limit",
              range: 0...Int.max),
        .integer("streams.max_pending_tokens", \.streams.maxPendingTokens,
                 "per-stream pending-token bound; overflow is rejected as overloaded", range: 1...Int.max),
        .integer("streams.max_pending_total", \.streams.maxPendingTotal,
                 "daemon-wide pending-token bound (all streams); overflow is rejected as overloaded", range: 1...Int.max),
        .duration("streams.end_grace", \.streams.endGrace,
                  "how long an ended stream's last seq is remembered to spot resends"),
        .choice("streams.on_gap", \.streams.onGap, "on a seq gap: continue, or reset the stream"),
        .integer("batching.workers", \.batching.workers,
                 "worker threads stepping streams; 0 = one per core", range: 0...256),
        .integer("batching.max_batch", \.batching.maxBatch,
                 "most streams advanced in one step", range: 1...4096),
        // Capped at 1 s: a bare number is seconds, so "batch_wait: 5" meaning 5 ms would
        // otherwise add five seconds to every token.
        .duration("batching.batch_wait", \.batching.batchWait,
                  "longest wait of the first step after an idle spell to fill its batch; 0 = never wait",
                  maximum: .seconds(1)),
        // WebSocket gateway (Sources/StreamTagDaemon/Gateway); restart-only.
        .text("websocket.listen", \.websocket.listen,
              "host:port (or a bare port: loopback) of the WebSocket gateway and live page; \"\" = off",
              check: DaemonConfig.WebSocket.checkListen),
        .list("websocket.tokens", \.websocket.tokens,
              "bearer tokens a client must present; empty (and no token_file) = no authentication",
              check: DaemonConfig.WebSocket.checkTokens)
            .secret { $0.websocket.tokens.isEmpty ? nil : "[]  # \($0.websocket.tokens.count) token(s) set, not shown" },
        .text("websocket.token_file", \.websocket.tokenFile,
              "file with one bearer token per line, added to websocket.tokens; \"\" = none"),
        .integer("websocket.max_connections", \.websocket.maxConnections,
                 "most open WebSocket connections; more are refused with 503", range: 1...1_000_000),
        .size("websocket.max_frame_bytes", \.websocket.maxFrameBytes,
              "largest WebSocket message; larger ones close the connection (1009)", range: (1 << 10)...(16 << 20)),
        .size("websocket.max_buffered_bytes", \.websocket.maxBufferedBytes,
              "answers buffered for a client that does not read; above it the connection is closed (1008)",
              range: (64 << 10)...Int.max),
        .duration("websocket.ping_interval", \.websocket.pingInterval,
                  "ping period; a connection that answers nothing for two periods is closed; 0 = no pings"),
        .choice("websocket.on_close", \.websocket.onClose,
                "when a connection closes, end its stream (end) or leave it open for a later connection (keep)"),
        .duration("heartbeat_interval", \.heartbeatInterval,
                  "period of the heartbeat event on $sys", allowZero: false),
        .duration("snapshot_interval", \.snapshotInterval,
                  "period of state snapshots; 0 = only at shutdown"),
        .text("state_dir", \.stateDir,
              "snapshot directory; \"\" = $STATE_DIRECTORY (first path) or ./streamtag-state"),
        .choice("log_level", \.logLevel,
                "lowest level logged: trace, debug, info, notice, warning, error, critical"),
    ]

    /// The setting for a dotted key, if there is one.
    static func setting(forKey key: String) -> ConfigSetting? {
        settings.first { $0.key == key }
    }

    /// Section names (`input`, `streams`, ...): keys that hold settings rather than a value.
    static let sections: Set<String> = Set(settings.compactMap { setting in
        setting.key.split(separator: ".").count > 1 ? String(setting.key.split(separator: ".")[0]) : nil
    })

    /// `input.connect`: endpoints to connect to; one empty entry (an empty environment
    /// variable) means none.
    private static func checkConnectList(_ items: [String]) throws(ValueProblem) -> [String] {
        if items == [""] { return [] }
        var seen: Set<String> = []
        for item in items {
            guard !item.isEmpty else { throw ValueProblem("has an empty endpoint") }
            try EndpointSyntax.check(item, connecting: true)
            guard seen.insert(item).inserted else {
                throw ValueProblem("lists \(item.quotedForMessage) twice")
            }
        }
        return items
    }

    /// `input.subscribe`: at least one prefix, none longer than a stream id can be.
    private static func checkSubscribeList(_ items: [String]) throws(ValueProblem) -> [String] {
        guard !items.isEmpty else {
            throw ValueProblem("subscribes to nothing; use [\"\"] for every stream")
        }
        for item in items where item.utf8.count > StreamID.maxBytes {
            throw ValueProblem("has a prefix of \(item.utf8.count) bytes; stream ids have at most \(StreamID.maxBytes)")
        }
        return items
    }
}
