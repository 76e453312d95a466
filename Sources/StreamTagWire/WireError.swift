/// The `code` of an `error` event (docs/protocol.md#errors); the raw value is the wire string.
public enum WireErrorCode: String, Sendable, Hashable, CaseIterable {
    /// The message did not have exactly two frames.
    case badFrames = "bad_frames"
    /// Frame 1 is not a usable stream id.
    case badStreamID = "bad_stream_id"
    /// Frame 2 is not a strict RFC 8259 JSON object (invalid UTF-8, NaN, too deep, duplicate key…).
    case badJSON = "bad_json"
    /// `seq` is missing, not a plain non-negative integer, or above 2^53−1.
    case badSeq = "bad_seq"
    /// `tokens` is not an array of at most 4,096 strings of 1–1,024 UTF-8 bytes.
    case badTokens = "bad_tokens"
    /// `reset` or `end` is present but not a boolean.
    case badField = "bad_field"
    /// Frame 2 is longer than `max_message_bytes`.
    case tooLarge = "too_large"
    /// The stream's pending queue is full (produced by the stream layer, not by the parser).
    case overloaded = "overloaded"

    /// The raw value without a String, for the encoder.
    var staticName: StaticString {
        switch self {
        case .badFrames: "bad_frames"
        case .badStreamID: "bad_stream_id"
        case .badJSON: "bad_json"
        case .badSeq: "bad_seq"
        case .badTokens: "bad_tokens"
        case .badField: "bad_field"
        case .tooLarge: "too_large"
        case .overloaded: "overloaded"
        }
    }
}

/// A rejected input message: what to publish in the `error` event, and where.
public struct WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The wire code.
    public var code: WireErrorCode
    /// A human-readable explanation naming the problem, e.g. "tokens[3] is 1,300 bytes; the limit is 1,024".
    public var message: String
    /// The message's `seq` when it was read successfully before the problem was found.
    public var seq: UInt64?
    /// The stream the error belongs to; nil when it must go to `$sys` (wrong frame count, or the
    /// stream id itself is unusable).
    public var streamID: String?

    public init(code: WireErrorCode, message: String, seq: UInt64? = nil, streamID: String? = nil) {
        self.code = code
        self.message = message
        self.seq = seq
        self.streamID = streamID
    }

    /// The topic (frame 1) to publish the `error` event on: the stream id, or `$sys`.
    public var topic: String { streamID ?? OutputEncoder.systemTopic }

    /// The `error` event describing this rejection.
    public var event: OutputEvent { .error(code: code, message: message, seq: seq) }

    public var description: String {
        var s = "\(code.rawValue): \(message)"
        if let seq { s += " (seq \(seq))" }
        return s
    }
}

/// Decimal digits grouped by thousands for error messages ("1,300", "4,096").
func groupedDecimal<T: BinaryInteger>(_ n: T) -> String {
    let digits = String(n.magnitude)
    var out = n < 0 ? "-" : ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return out
}

/// At most `limit` bytes of `bytes`, decoded leniently (invalid UTF-8 becomes U+FFFD), for
/// quoting untrusted input inside an error message.
func preview(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int = 40) -> String {
    if bytes.count <= limit { return String(decoding: bytes, as: UTF8.self) }
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<limit]), as: UTF8.self) + "…"
}
