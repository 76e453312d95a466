/// The stream rules a worker applies (SPEC §4.1, §5): a slice of the daemon's configuration.
public struct StreamSettings: Sendable, Equatable {
    /// How long an ended stream's last seq is remembered, in seconds.
    public var endGrace: Double = 60
    /// Seconds without input before a stream is evicted; 0 = never.
    public var idleTimeout: Double = 600
    /// Tokens a stream may have queued before a message is rejected with `overloaded`.
    public var maxPendingTokens = 65_536
    /// On a gap, clear the stream first (`on_gap = "reset"`) instead of continuing.
    public var resetOnGap = false
    /// Tokens kept per stream (as strings) to rebuild its state under another model.
    public var replayTokens = 32
    /// Cap on the recurrent state of all streams of this worker, in bytes (0 = none).
    public var maxStateBytes = 0
    /// Publish provisional tags for tokens inside the lookahead window.
    public var partial = true
    /// k' ≤ the model's lookahead: how many followers a final tag waits for (nil: the model's k).
    public var lookahead: Int? = nil
    /// Most streams advanced in one step.
    public var maxBatch = 256

    public init() {}
}
