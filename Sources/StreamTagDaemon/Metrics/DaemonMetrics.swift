import Dispatch
import Foundation
import Prometheus
import Synchronization
import StreamTagWire

/// The daemon's Prometheus metrics (docs/operations.md#metrics-health-logs), served as text at `GET /metrics` on
/// `metrics.listen` (see ``MetricsServer``, ``MetricsRoutes``).
///
/// The daemon's start (in `Daemon.run()`, not the `serve` command) starts the listener, so
/// every embedding of the daemon has it; `metrics.listen: ""` disables it, port 0 picks a free
/// port (`Daemon.metricsPort`). Besides `/metrics`: `/healthz` is 200 `ok` while the I/O loop and
/// every worker have ticked within the last 5 s and no model load has overrun
/// `reload.load_timeout`, else 503 with the reason; `/readyz` is 200 once the start has
/// finished (model loaded, sockets bound, snapshot restored, and healthy) and until a stop is
/// requested, else 503 (`starting`, `stopping`). Other paths 404, other methods 405.
///
/// | metric | type | labels | meaning |
/// |---|---|---|---|
/// | `streamtag_messages_in_total` | counter | | well-formed input messages handed to the workers (duplicates and `overloaded` ones included; rejected ones are in `streamtag_errors_total`) |
/// | `streamtag_messages_out_total` | counter | | messages published on stream topics: one `tags` answer per accepted message plus the streams' events (`$sys` events not included) |
/// | `streamtag_tokens_in_total` | counter | | tokens in well-formed input messages (as `tokens_in` of `ctl status`) |
/// | `streamtag_tokens_out_total` | counter | | final tags published (as `tokens_out` of `ctl status`) |
/// | `streamtag_errors_total` | counter | `code` | rejected input messages by error code; every wire error code is always present: `bad_frames`, `bad_stream_id`, `bad_json`, `bad_seq`, `bad_tokens`, `bad_field`, `too_large`, `overloaded` |
/// | `streamtag_gaps_total` | counter | | input messages whose `seq` skipped ahead (`gap` events) |
/// | `streamtag_duplicates_total` | counter | | input messages dropped as duplicates (`duplicate` events) |
/// | `streamtag_resets_total` | counter | `reason` | stream states cleared with a `reset` event: `request`, `gap`, `model` |
/// | `streamtag_evictions_total` | counter | `reason` | streams freed without `end`: `idle` (idle timeout), `memory` (`max_state_bytes`), `dropped` (`ctl drop`) |
/// | `streamtag_streams` | gauge | | open streams |
/// | `streamtag_state_bytes` | gauge | | bytes of recurrent state held for the open streams (what `streams.max_state_bytes` caps) |
/// | `streamtag_pending_tokens` | gauge | | input tokens queued over all streams (what `streams.max_pending_total` caps) |
/// | `streamtag_snapshot_records_dropped_total` | counter | `reason` | snapshot records not restored at start: `bad_id`, `duplicate_id`, `bad_seq`, `bad_position`, `bad_tag`, `bad_state`, `bad_time`, `bad_input` |
/// | `streamtag_batch_size` | histogram | | streams advanced together per batched step (buckets 1, 2, 4, … 1024) |
/// | `streamtag_step_duration_seconds` | histogram | | wall time of one batched step: gather, recurrent step, head, decode, scatter (10 µs … 1 s) |
/// | `streamtag_token_to_tag_latency_seconds` | histogram | | per `tags` answer: from the input message's arrival at the I/O thread to the answer's hand-over to the output socket (the answer that releases its tokens; 50 µs … 10 s) |
/// | `streamtag_reloads_total` | counter | `outcome` | model reloads by outcome: `loaded`, `rejected`, `unchanged` (a reload asked for while no `model.path` is set is answered, not counted) |
/// | `streamtag_output_dropped_total` | counter | | output messages the socket did not take (XPUB no-drop at the high-water mark, or a send error) |
/// | `streamtag_http_connections_closed_total` | counter | `reason` | metrics listener connections the daemon closed: `over_cap` (`metrics.max_connections`), `idle_timeout` (`metrics.read_timeout`) |
/// | `streamtag_input_disconnects_total` | counter | | input connections closed: a producer went away, or sent a frame over `input.max_zmq_message_bytes` (libzmq drops such a frame by closing the connection, and does not say which it was) |
/// | `streamtag_fd_exhaustion_total` | counter | `source` | connections that could not be accepted for want of file descriptors (EMFILE, ENFILE): `http`, `zmq` |
/// | `streamtag_model_info` | gauge | `model` | 1, labelled with the serving model's `NAME@HASH`; the old series disappears on reload |
/// | `streamtag_start_time_seconds` | gauge | | Unix time the daemon started |
///
/// No lock and no allocation per token. The I/O thread and the workers bump relaxed atomics
/// for events (per message or rarer: errors, gaps, duplicates, resets, evictions); tokens and
/// streams are the workers' own counters, already published once per worker loop; the two
/// step histograms take one `record` (one uncontended lock) each per batched step, the latency
/// histogram one per answer on the I/O thread. Histograms are in seconds as `Double`: the
/// library's `Duration` histogram costs about three times as much per record. Counters and
/// gauges are brought up to date from those atomics when a scrape asks (deltas, so they stay
/// monotonic), so a scrape costs the same with 10 or 100,000 streams.
///
/// Cost, release build: the step hooks take about 110 ns in isolation (two clock reads, two
/// records); a worker stepping the reference model (H=256) lost 0.3 µs per step at B=1 (13.1
/// against 12.8 µs, 2–3 %) and nothing measurable at B=64 (389 against 388 µs). Per message
/// 25 ns for the arrival stamp; per answer about 5 ns in the worker and 20–50 ns on the I/O
/// thread. `streamtag bench kernel` does not run this code.
final class DaemonMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// Event counts, by `EventCount` index (written by the I/O thread and the workers).
    let counts = AtomicCounters(count: EventCount.total)

    // Fed directly.
    let batchSize: ValueHistogram
    let stepDuration: ValueHistogram
    let tagLatency: ValueHistogram

    // Brought up to date at scrape time.
    private let messagesIn: Counter
    private let messagesOut: Counter
    private let tokensIn: Counter
    private let tokensOut: Counter
    private let errors: [Counter]
    private let gaps: Counter
    private let duplicates: Counter
    private let resets: [Counter]
    private let evictions: [Counter]
    private let reloads: [Counter]
    private let outputDropped: Counter
    private let httpClosed: [Counter]
    private let fdExhaustion: [Counter]
    private let inputDisconnects: Counter
    private let streams: Gauge
    private let stateBytes: Gauge
    private let startTime: Gauge
    private let pendingTokens: Gauge
    /// Snapshot records left out at start, by `SnapshotDropReason` (counted once, at restore).
    let snapshotRecordsDropped: [Counter]

    /// Monotonic nanoseconds of the I/O loop's last iteration (0: not started).
    let ioTick = Atomic<UInt64>(0)
    /// The daemon's start has finished (`Daemon.ready()` returns).
    let ready = Atomic<Bool>(false)
    /// `/healthz` fails when the I/O loop or a worker has not ticked for this long (both tick at
    /// least once a second when idle).
    let healthMaxSilenceMilliseconds = Atomic<Int>(5000)
    /// A model id the I/O thread has switched to; the next scrape relabels `streamtag_model_info`.
    private let pendingModel = Mutex<String?>(nil)
    /// Scrape-side state: what the daemon exposes, what the counters were synced to.
    private let scrape = Mutex<ScrapeState>(ScrapeState())
    /// The HTTP listener and the log summary, while the daemon runs.
    let services = Mutex<(server: MetricsServer?, summary: EventLogSummary?)>((nil, nil))

    static let modelInfoName = "streamtag_model_info"
    static let modelInfoHelp = "The serving model (NAME@HASH in the label model); the value is always 1."
    static let reloadOutcomes = ["loaded", "rejected", "unchanged"]
    /// Labels of `streamtag_http_connections_closed_total` (EventCount.httpRefused, .httpIdleClosed).
    static let httpCloseReasons = ["over_cap", "idle_timeout"]
    /// Labels of `streamtag_fd_exhaustion_total` (EventCount.fdExhaustedHTTP, .fdExhaustedZMQ).
    static let fdSources = ["http", "zmq"]

    // The histograms' upper bounds. Constants rather than literals at the call: the registry
    // keeps its copy of the list in an enum whose case tag sits in the array pointer's spare
    // bits, where LeakSanitizer does not recognise the pointer and reports the list as leaked
    // when the process exits. A constant keeps a plain reference to the same storage.
    static let batchSizeBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
    static let stepDurationBuckets: [Double] = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
    static let tagLatencyBuckets: [Double] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// Where the scrape reads what the daemon counts. `daemon` is weak: the HTTP server must not
    /// keep a stopped daemon alive.
    struct Sources {
        weak var daemon: Daemon?
        var workers: [WorkerGauges] = []
    }

    private struct ScrapeState {
        var sources = Sources()
        /// Totals already added to each synced counter, by `SyncSlot`.
        var synced = [Int](repeating: 0, count: SyncSlot.total)
        var modelInfo: Gauge?
        var buffer: [UInt8] = []
    }

    /// Counters synced from totals that live elsewhere (the workers' and the reloads' atomics).
    private enum SyncSlot {
        static let tokensIn = 0, tokensOut = 1
        static let reloadBase = 2
        static let eventBase = reloadBase + 3
        static let total = eventBase + EventCount.total
    }

    init() {
        let r = registry
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "streamtag", metricName: metric, unitName: unit, helpText: help)
        }
        messagesIn = r.makeCounter(descriptor: name("messages_in", "total",
            "Well-formed input messages handed to the workers (duplicates included; rejected ones are in streamtag_errors_total)."))
        messagesOut = r.makeCounter(descriptor: name("messages_out", "total",
            "Messages published on stream topics: tags answers and stream events ($sys events not included)."))
        tokensIn = r.makeCounter(descriptor: name("tokens_in", "total", "Tokens in well-formed input messages."))
        tokensOut = r.makeCounter(descriptor: name("tokens_out", "total", "Final tags published."))
        let errorHelp = name("errors", "total", "Rejected input messages by error code.")
        errors = WireErrorCode.allCases.map { r.makeCounter(descriptor: errorHelp, labels: [("code", $0.rawValue)]) }
        gaps = r.makeCounter(descriptor: name("gaps", "total", "Input messages whose seq skipped ahead (gap events)."))
        duplicates = r.makeCounter(descriptor: name("duplicates", "total", "Input messages dropped as duplicates."))
        let resetHelp = name("resets", "total", "Stream states cleared with a reset event, by reason.")
        resets = OutputEvent.ResetReason.allCases.map { r.makeCounter(descriptor: resetHelp, labels: [("reason", $0.rawValue)]) }
        let evictionHelp = name("evictions", "total", "Streams freed without end, by reason (idle timeout, memory cap, ctl drop).")
        evictions = OutputEvent.EvictionReason.allCases.map {
            r.makeCounter(descriptor: evictionHelp, labels: [("reason", $0.rawValue)])
        }
        let reloadHelp = name("reloads", "total", "Model reloads by outcome.")
        reloads = Self.reloadOutcomes.map { r.makeCounter(descriptor: reloadHelp, labels: [("outcome", $0)]) }
        outputDropped = r.makeCounter(descriptor: name("output_dropped", "total",
            "Output messages the socket did not take (no-drop XPUB at the high-water mark, or a send error)."))
        let httpHelp = name("http_connections_closed", "total",
            "Metrics listener connections closed by the daemon: over metrics.max_connections, or silent for metrics.read_timeout.")
        httpClosed = Self.httpCloseReasons.map { r.makeCounter(descriptor: httpHelp, labels: [("reason", $0)]) }
        let fdHelp = name("fd_exhaustion", "total",
            "Connections that could not be accepted for want of file descriptors (EMFILE, ENFILE), by listener.")
        fdExhaustion = Self.fdSources.map { r.makeCounter(descriptor: fdHelp, labels: [("source", $0)]) }
        inputDisconnects = r.makeCounter(descriptor: name("input_disconnects", "total",
            "Input connections closed: a producer went away, or sent a frame over input.max_zmq_message_bytes (ZeroMQ drops it by closing the connection)."))
        streams = r.makeGauge(descriptor: name("streams", "", "Open streams."))
        stateBytes = r.makeGauge(descriptor: name("state", "bytes", "Bytes of recurrent state held for the open streams."))
        startTime = r.makeGauge(descriptor: name("start_time", "seconds", "Unix time the daemon started."))
        pendingTokens = r.makeGauge(descriptor: name("pending", "tokens", "Input tokens queued over all streams (bounded by streams.max_pending_total)."))
        let droppedHelp = name("snapshot_records_dropped", "total", "Snapshot records not restored at start, by reason.")
        snapshotRecordsDropped = SnapshotDropReason.allCases.map { r.makeCounter(descriptor: droppedHelp, labels: [("reason", $0.rawValue)]) }
        batchSize = r.makeValueHistogram(descriptor: name("batch", "size", "Streams advanced together per batched step."),
                                         buckets: Self.batchSizeBuckets)
        // Seconds as Double: the library's Duration histogram costs about three times as much
        // per record (Duration arithmetic), and these are recorded per step and per answer.
        stepDuration = r.makeValueHistogram(descriptor: name("step_duration", "seconds", "Wall time of one batched step."),
                                            buckets: Self.stepDurationBuckets)
        tagLatency = r.makeValueHistogram(descriptor: name("token_to_tag_latency", "seconds",
            "Per tags answer: from the input message's arrival at the I/O thread to the answer's hand-over to the output socket."),
            buckets: Self.tagLatencyBuckets)
    }

    deinit {
        // A daemon whose start failed half-way never stops: let its listener go.
        services.withLock { services in
            services.server?.shutdownLater()
            services.summary?.cancel()
        }
    }

    // MARK: wiring (before serving)

    /// Connects the scrape to a daemon and its workers, and names the serving model.
    func attach(daemon: Daemon, workers: [WorkerGauges], model: String) {
        startTime.set(to: Date().timeIntervalSince1970)
        pendingModel.withLock { $0 = model }
        scrape.withLock { state in
            state.sources = Sources(daemon: daemon, workers: workers)
        }
    }

    /// The daemon the scrape reads, while it exists.
    var attachedDaemon: Daemon? { scrape.withLock { $0.sources.daemon } }

    // MARK: hooks (hot paths: atomics only)

    /// I/O thread: a message was rejected by the parser.
    @inline(__always)
    func rejected(_ code: WireErrorCode) {
        counts.add(EventCount.error(code))
    }

    /// Messages the parser rejected: every error code but `overloaded`, which the workers give.
    var parseErrors: Int {
        WireErrorCode.allCases.reduce(0) { $0 + ($1 == .overloaded ? 0 : counts.load(EventCount.error($1))) }
    }

    /// I/O thread, once per loop iteration, after the workers' output went to the socket:
    /// liveness tick, messages out, and the token-to-tag latency of each answer among them.
    func published(_ messages: [Outgoing]) {
        let now = DispatchTime.now().uptimeNanoseconds
        ioTick.store(now, ordering: .relaxed)
        guard !messages.isEmpty else { return }
        counts.add(EventCount.messagesOut, messages.count)
        var answers = 0
        for message in messages where message.arrival != 0 {
            answers += 1
            tagLatency.record(Double(now &- message.arrival) * 1e-9)
        }
        if answers > 0 { counts.add(EventCount.answers, answers) }
    }

    /// I/O thread: the serving model changed (applied to `streamtag_model_info` at the next scrape).
    func modelChanged(to id: String) {
        pendingModel.withLock { $0 = id }
    }

    /// A worker published an event: counts the ones with a metric. Parse errors were counted by
    /// the I/O thread already; the worker's own is `overloaded`.
    @inline(__always)
    func count(_ event: OutputEvent) {
        switch event {
        case .gap: counts.add(EventCount.gaps)
        case .duplicate: counts.add(EventCount.duplicates)
        case .evicted(let reason): counts.add(EventCount.eviction(reason))
        case .reset(let reason): counts.add(EventCount.reset(reason))
        case .error(code: .overloaded, _, _): counts.add(EventCount.error(.overloaded))
        default: break
        }
    }

    // MARK: scrape

    /// The exposition text (Prometheus text format 0.0.4), with every counter and gauge brought
    /// up to date first. Runs on the metrics server's thread; reads atomics only.
    func render() -> [UInt8] {
        let model = pendingModel.withLock { pending -> String? in defer { pending = nil }; return pending }
        return scrape.withLock { state in
            if let model {
                let next = registry.makeGauge(descriptor: MetricNameDescriptor(
                    metricName: Self.modelInfoName, unitName: "", helpText: Self.modelInfoHelp), labels: [("model", model)])
                next.set(to: 1)
                if let old = state.modelInfo, old !== next { registry.unregisterGauge(old) }
                state.modelInfo = next
            }
            if let daemon = state.sources.daemon {
                sync(tokensIn, SyncSlot.tokensIn, daemon.pool.tokensIn, &state)
                sync(tokensOut, SyncSlot.tokensOut, daemon.pool.tokensOut, &state)
                let r = daemon.reloads
                sync(reloads[0], SyncSlot.reloadBase, r.loaded.load(ordering: .relaxed), &state)
                sync(reloads[1], SyncSlot.reloadBase + 1, r.rejected.load(ordering: .relaxed), &state)
                sync(reloads[2], SyncSlot.reloadBase + 2, r.unchanged.load(ordering: .relaxed), &state)
                streams.set(to: Double(daemon.pool.streams))
            }
            stateBytes.set(to: Double(state.sources.workers.reduce(0) { $0 + $1.stateBytes.load(ordering: .relaxed) }))
            pendingTokens.set(to: Double(state.sources.workers.reduce(0) { $0 + $1.pendingTokens.load(ordering: .relaxed) }))
            for (i, code) in WireErrorCode.allCases.enumerated() {
                syncEvent(errors[i], EventCount.error(code), &state)
            }
            syncEvent(gaps, EventCount.gaps, &state)
            syncEvent(duplicates, EventCount.duplicates, &state)
            syncEvent(messagesOut, EventCount.messagesOut, &state)
            syncEvent(messagesIn, EventCount.messagesIn, &state)
            syncEvent(outputDropped, EventCount.outputDropped, &state)
            syncEvent(httpClosed[0], EventCount.httpRefused, &state)
            syncEvent(httpClosed[1], EventCount.httpIdleClosed, &state)
            syncEvent(fdExhaustion[0], EventCount.fdExhaustedHTTP, &state)
            syncEvent(fdExhaustion[1], EventCount.fdExhaustedZMQ, &state)
            syncEvent(inputDisconnects, EventCount.inputDisconnects, &state)
            for (i, reason) in OutputEvent.EvictionReason.allCases.enumerated() {
                syncEvent(evictions[i], EventCount.eviction(reason), &state)
            }
            for (i, reason) in OutputEvent.ResetReason.allCases.enumerated() {
                syncEvent(resets[i], EventCount.reset(reason), &state)
            }
            state.buffer.removeAll(keepingCapacity: true)
            registry.emit(into: &state.buffer)
            return state.buffer
        }
    }

    private func syncEvent(_ counter: Counter, _ index: Int, _ state: inout ScrapeState) {
        sync(counter, SyncSlot.eventBase + index, counts.load(index), &state)
    }

    private func sync(_ counter: Counter, _ slot: Int, _ total: Int, _ state: inout ScrapeState) {
        let delta = total - state.synced[slot]
        guard delta > 0 else { return }
        counter.increment(by: Int64(delta))
        state.synced[slot] = total
    }
}

/// A worker's gauges, written by its thread once per loop iteration, summed by the scrape.
final class WorkerGauges: Sendable {
    let stateBytes = Atomic<Int>(0)
    let pendingTokens = Atomic<Int>(0)
}
