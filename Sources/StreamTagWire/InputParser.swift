/// Parses and validates input messages (docs/protocol.md) straight from the received bytes.
///
/// It runs on the I/O thread for every message, so it scans the body once, builds no JSON tree
/// and allocates only the result (the token array and any token or stream id too long for
/// Swift's inline small-string form). Its scratch buffers are kept between calls: keep one
/// parser per I/O thread and reuse it.
///
/// Checks, in this order (the first failing one decides the error):
/// 1. `bad_frames`: not exactly two frames (addressed to the stream when frame 1 is a usable
///    stream id, else to `$sys`).
/// 2. `bad_stream_id`: frame 1 is not a usable stream id (addressed to `$sys`).
/// 3. `too_large`: frame 2 is longer than `maxMessageBytes` (checked before parsing).
/// 4. `bad_json`: frame 2 is not one strict RFC 8259 JSON object (see `JSONScanner`). This is
///    checked over the whole body before the field rules, so a body that is invalid JSON is
///    always `bad_json`, even if `seq` or `tokens` were also wrong.
/// 5. `bad_seq`, then `bad_tokens`, then `bad_field`: a fixed priority, independent of key order.
///
/// Decisions where the spec is silent:
/// - A `seq` with a leading zero (`041`) is not JSON at all, so it is `bad_json`; any *valid*
///   JSON number that is not a plain digit string (`-1`, `41.0`, `4.1e1`, `-0`) is `bad_seq`.
/// - Nesting depth counts containers only: the top-level object is 1, `tokens`' array is 2.
/// - A byte order mark is refused (`bad_json`), as is an empty or whitespace-only body.
/// - Tokens may contain any Unicode scalar, including escaped control characters and `\u0000`;
///   their length is counted in UTF-8 bytes after unescaping.
/// - When `tokens` has more than 4,096 items, that is reported rather than a bad item before it.
/// - Errors after a successfully read `seq` (including `bad_json`) carry it; a number glued to
///   more characters is no seq, so `{"seq":0x1}` is `bad_json` without one.
public struct InputParser: Sendable {
    /// Most tokens in one message.
    public static let maxTokens = 4_096
    /// Longest token, in UTF-8 bytes after unescaping.
    public static let maxTokenBytes = 1_024
    /// `max_message_bytes`' default.
    public static let defaultMaxMessageBytes = 65_536
    /// Largest allowed `seq`: 2^53−1, so that every client's JSON library reads it exactly.
    public static let maxSeq: UInt64 = (1 << 53) - 1

    /// Frame 2 longer than this is rejected with `too_large` without being parsed.
    public var maxMessageBytes: Int

    private var reader = BodyReader()

    public init(maxMessageBytes: Int = InputParser.defaultMaxMessageBytes) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Parses the frames of one received message. `totalFrames` is how many frames the message
    /// had, when the receiver stored only the first few of them (`frames.count` by default).
    public mutating func parse(frames: [[UInt8]], totalFrames: Int? = nil) -> Result<InputMessage, WireError> {
        let total = max(totalFrames ?? frames.count, frames.count)
        guard total == 2, frames.count == 2 else {
            let what = total == 1 ? "1 frame" : "\(total) frames"
            // Reported on the stream's own topic when frame 1 is a usable stream id.
            let stream = frames.first.flatMap { first in
                first.withUnsafeBufferPointer { try? StreamID.validate($0).get() }
            }
            return .failure(WireError(code: .badFrames, message: "expected 2 frames (stream id, JSON body), received \(what)",
                                      streamID: stream))
        }
        return frames[0].withUnsafeBufferPointer { id in
            frames[1].withUnsafeBufferPointer { body in parse(streamID: id, body: body) }
        }
    }

    /// Parses a two-frame message given as its frames' bytes (e.g. straight from `zmq_msg_data`,
    /// without copying). The frame count must already have been checked. `defaultSeq` is the
    /// seq of a body without one (the WebSocket gateway numbers messages); nil: `seq` is required.
    public mutating func parse(streamID idBytes: UnsafeBufferPointer<UInt8>, body: UnsafeBufferPointer<UInt8>,
                               defaultSeq: UInt64? = nil) -> Result<InputMessage, WireError> {
        let streamID: String
        switch StreamID.validate(idBytes) {
        case .success(let id): streamID = id
        case .failure(let error): return .failure(error)
        }
        guard body.count <= maxMessageBytes else {
            let message = "frame 2 is \(groupedDecimal(body.count)) bytes; the limit is \(groupedDecimal(maxMessageBytes))"
            return .failure(WireError(code: .tooLarge, message: message, streamID: streamID))
        }

        reader.start(bytes: body)
        defer { reader.finish() }

        do {
            try reader.readObject()
        } catch {
            return .failure(WireError(code: .badJSON, message: error.message, seq: reader.seq, streamID: streamID))
        }
        if let problem = reader.seqProblem {
            return .failure(WireError(code: .badSeq, message: problem.message, streamID: streamID))
        }
        guard let seq = reader.seq ?? defaultSeq else {
            return .failure(WireError(code: .badSeq, message: "seq is missing; every message needs one", streamID: streamID))
        }
        if let problem = reader.tokensProblem {
            return .failure(WireError(code: .badTokens, message: problem.message, seq: seq, streamID: streamID))
        }
        if let message = reader.fieldProblem {
            return .failure(WireError(code: .badField, message: message, seq: seq, streamID: streamID))
        }
        return .success(InputMessage(streamID: streamID, seq: seq, tokens: reader.makeTokens(),
                                     reset: reader.reset, end: reader.end))
    }
}

// MARK: - Field problems

/// Why `seq` was refused; the message is built only when reported.
enum SeqProblem: Equatable {
    case wrongKind(String)
    case notPlain(String)
    case tooLarge(String)

    var message: String {
        switch self {
        case .wrongKind(let kind):
            "seq must be a non-negative integer, found \(kind)"
        case .notPlain(let text):
            "seq must be a plain non-negative integer (digits only: no sign, fraction or exponent), found \(text)"
        case .tooLarge(let text):
            "seq \(text) is above the limit 2^53−1 (\(groupedDecimal(InputParser.maxSeq)))"
        }
    }
}

/// Why `tokens` was refused.
enum TokensProblem: Equatable {
    case notArray(String)
    case notString(index: Int, kind: String)
    case empty(index: Int)
    case tooLong(index: Int, bytes: Int)
    case tooMany(Int)

    var message: String {
        switch self {
        case .notArray(let kind):
            "tokens must be an array of strings, found \(kind)"
        case .notString(let index, let kind):
            "tokens[\(index)] is \(kind), not a string"
        case .empty(let index):
            "tokens[\(index)] is empty; a token is 1 to \(groupedDecimal(InputParser.maxTokenBytes)) bytes"
        case .tooLong(let index, let bytes):
            "tokens[\(index)] is \(groupedDecimal(bytes)) bytes; the limit is \(groupedDecimal(InputParser.maxTokenBytes))"
        case .tooMany(let count):
            "tokens has \(groupedDecimal(count)) items; the limit is \(groupedDecimal(InputParser.maxTokens))"
        }
    }
}

/// How a value that starts with `byte` reads in a message ("a string", "null", …).
func jsonKindName(startingWith byte: UInt8) -> String {
    switch byte {
    case UInt8(ascii: "\""): "a string"
    case UInt8(ascii: "["): "an array"
    case UInt8(ascii: "{"): "an object"
    case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
    case UInt8(ascii: "n"): "null"
    default: "a number"
    }
}
