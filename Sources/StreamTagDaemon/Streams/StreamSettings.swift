/// The stream rules a worker applies (docs/protocol.md#sequence-rules, docs/concepts.md): a slice of the daemon's configuration.
struct StreamSettings: Sendable, Equatable {
    /// How long an ended stream's last seq is remembered, in seconds.
    var endGrace: Double = 60
    /// Seconds without input before a stream is evicted; 0 = never.
    var idleTimeout: Double = 600
    /// Tokens a stream may have queued before a message is rejected with `overloaded`.
    var maxPendingTokens = 65_536
    /// Tokens this worker may have queued over all its streams (its share of
    /// `streams.max_pending_total`); beyond it messages are rejected with `overloaded`.
    var maxPendingTotal = 1 << 20
    /// On a gap, clear the stream first (`on_gap = "reset"`) instead of continuing.
    var resetOnGap = false
    /// Tokens kept per stream (as strings) to rebuild its state under another model.
    var replayTokens = 32
    /// Cap on the recurrent state of all streams of this worker, in bytes (0 = none).
    var maxStateBytes = 0
    /// Publish provisional tags for tokens inside the lookahead window.
    var partial = true
    /// k' ≤ the model's lookahead: how many followers a final tag waits for (nil: the model's k).
    var lookahead: Int? = nil
    /// Most streams advanced in one step.
    var maxBatch = 256
    /// Seconds the first step after an idle spell may wait for more streams to fill its batch
    /// (`batching.batch_wait`); 0 = step at once.
    var batchWait: Double = 0
    /// Under the `drain` policy, seconds a stream may stay on the old model.
    var drainTimeout: Double = 600

    init() {}

    /// The slice of `config` one of `workers` workers applies (the memory cap is shared out).
    init(_ config: DaemonConfig, workers: Int) {
        endGrace = config.streams.endGrace.seconds
        idleTimeout = config.streams.idleTimeout.seconds
        maxPendingTokens = config.streams.maxPendingTokens
        maxPendingTotal = max(1, config.streams.maxPendingTotal / max(1, workers))
        resetOnGap = config.streams.onGap == .reset
        replayTokens = config.reload.replayTokens
        maxStateBytes = config.streams.maxStateBytes / max(1, workers)
        partial = config.model.partial
        lookahead = config.model.lookahead
        maxBatch = config.batching.maxBatch
        batchWait = config.batching.batchWait.seconds
        drainTimeout = config.reload.drainTimeout.seconds
    }
}
