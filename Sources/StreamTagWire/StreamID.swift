/// Stream id rules (docs/protocol.md#frames, frame 1): UTF-8, 1–256 bytes, no NUL, not starting with `$`
/// (the `$` prefix is reserved for daemon topics such as `$sys`).
public enum StreamID {
    /// Longest allowed stream id, in UTF-8 bytes.
    public static let maxBytes = 256

    /// The stream id as a String, or a `bad_stream_id` error addressed to `$sys` (its
    /// `streamID` is nil: an unusable id cannot be a topic).
    public static func validate(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<String, WireError> {
        if let problem = problem(bytes) {
            return .failure(WireError(code: .badStreamID, message: problem))
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    /// Validates an id given as a String (e.g. in a control request); nil when it is usable,
    /// else the reason.
    public static func problem(_ id: String) -> String? {
        var id = id
        return id.withUTF8 { problem($0) }
    }

    /// Nil when `bytes` is a usable stream id, else a message naming the problem.
    static func problem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if bytes.isEmpty { return "stream id is empty" }
        if bytes.count > maxBytes {
            return "stream id is \(groupedDecimal(bytes.count)) bytes; the limit is \(maxBytes)"
        }
        if bytes[0] == UInt8(ascii: "$") {
            return "stream id \"\(preview(bytes))\" starts with '$', which is reserved for daemon topics"
        }
        // One pass for NUL and non-ASCII; the full UTF-8 check runs only when there is non-ASCII.
        var ascii = true
        for i in 0..<bytes.count {
            let b = bytes[i]
            if b == 0 { return "stream id \"\(preview(bytes))\" contains a NUL byte at byte \(i)" }
            if b >= 0x80 { ascii = false }
        }
        if !ascii, let bad = UTF8Check.firstInvalidOffset(bytes) {
            return "stream id \"\(preview(bytes))\" is not valid UTF-8 (byte \(bad))"
        }
        return nil
    }
}
