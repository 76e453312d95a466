import StreamTagCore
import StreamTagDaemon
import Testing
import StreamTagWire

// Shared helpers for the Wire*Tests files.

/// What a body is expected to parse to.
enum WireExpectation: Sendable {
    case accepted(seq: UInt64, tokens: [String]?, reset: Bool, end: Bool)
    case rejected(WireErrorCode, seq: UInt64?, message: String?)
}

/// One row of a table-driven test: a named body (frame 2) and its expected outcome.
struct WireCase: Sendable, CustomTestStringConvertible {
    let name: String
    let body: [UInt8]
    let expectation: WireExpectation
    var testDescription: String { name }

    static func ok(_ name: String, _ text: String, seq: UInt64, tokens: [String]? = nil, reset: Bool = false, end: Bool = false) -> WireCase {
        WireCase(name: name, body: Array(text.utf8), expectation: .accepted(seq: seq, tokens: tokens, reset: reset, end: end))
    }

    static func bad(_ name: String, _ text: String, _ code: WireErrorCode, seq: UInt64? = nil, message: String? = nil) -> WireCase {
        bad(name, Array(text.utf8), code, seq: seq, message: message)
    }

    static func bad(_ name: String, _ bytes: [UInt8], _ code: WireErrorCode, seq: UInt64? = nil, message: String? = nil) -> WireCase {
        WireCase(name: name, body: bytes, expectation: .rejected(code, seq: seq, message: message))
    }
}

/// Parses one message with a fresh parser.
func wireParse(id: [UInt8] = Array("s1".utf8), body: [UInt8], maxMessageBytes: Int = InputParser.defaultMaxMessageBytes) -> Result<InputMessage, WireError> {
    var parser = InputParser(maxMessageBytes: maxMessageBytes)
    return parser.parse(frames: [id, body])
}

/// `{"seq":N,"tokens":[…]}` with the tokens JSON-escaped by the output writer.
func wireBody(seq: UInt64, tokens: [String], extra: String = "") -> [UInt8] {
    var out = Array(#"{"seq":"#.utf8)
    JSONWriter.appendInteger(seq, to: &out)
    out += Array(#","tokens":["#.utf8)
    for (n, token) in tokens.enumerated() {
        if n > 0 { out.append(UInt8(ascii: ",")) }
        JSONWriter.appendString(token, to: &out)
    }
    out += Array("]\(extra)}".utf8)
    return out
}

/// A small deterministic generator (Core's), so that randomized tests are reproducible.
typealias WireRandom = SplitMix64

extension Result {
    var failureValue: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }

    var successValue: Success? {
        if case .success(let v) = self { return v }
        return nil
    }
}
