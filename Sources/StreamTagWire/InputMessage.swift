/// One accepted input message (docs/protocol.md#input): frame 1's stream id and frame 2's fields.
public struct InputMessage: Equatable, Sendable {
    /// The stream id (frame 1), validated.
    public var streamID: String
    /// The sequence number, 0 ≤ seq ≤ 2^53−1.
    public var seq: UInt64
    /// The tokens, each 1–1,024 UTF-8 bytes, at most 4,096; `[]` when the field was absent.
    public var tokens: [String]
    /// Clear the stream's state before these tokens.
    public var reset: Bool
    /// End the stream after these tokens.
    public var end: Bool
    /// When the I/O thread received it (for metrics; ignored by `==`).
    public var arrival: ArrivalTime = .now

    public init(streamID: String, seq: UInt64, tokens: [String] = [], reset: Bool = false, end: Bool = false) {
        self.streamID = streamID
        self.seq = seq
        self.tokens = tokens
        self.reset = reset
        self.end = end
    }
}
