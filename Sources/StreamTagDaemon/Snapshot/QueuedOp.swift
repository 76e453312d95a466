import StreamTagWire
/// A stream's queued input as a snapshot keeps it: the ops of the messages accepted and not yet
/// run (see `StreamOp`), so that a stop never has to compute a backlog first. A restart runs
/// them as if they had just arrived.
///
/// JSON: a token is a bare string (nearly every op); the rest are one-key objects:
/// `{"gap":[expected,received]}`, `{"duplicate":[seq,last]}`,
/// `{"error":CODE,"message":TEXT,"seq":N|null}`, `{"clear":REASON,"announce":BOOL}`,
/// `{"flush":true}`, `{"answer":SEQ}`, `{"end":true}`.
struct QueuedOp: Sendable, Equatable, Codable {
    /// The op, as the stream's queue runs it: only the kinds input queues (`init?(_:)`).
    let streamOp: StreamOp

    /// The snapshot form of `op`; nil for a replay (never queued between two messages) or an
    /// event that input never queues.
    init?(_ op: StreamOp) {
        switch op {
        case .replay: return nil
        case .event(.gap), .event(.duplicate), .event(.error): streamOp = op
        case .event: return nil
        default: streamOp = op
        }
    }

    private enum Key: String, CodingKey {
        case gap, duplicate, error, message, seq, clear, announce, flush, answer, end
    }

    init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let token = try? single.decode(String.self) {
            streamOp = .token(token)
            return
        }
        let c = try decoder.container(keyedBy: Key.self)
        if let pair = try c.decodeIfPresent([UInt64].self, forKey: .gap) {
            guard pair.count == 2 else { throw Self.bad(c, .gap, "gap takes [expected, received]") }
            streamOp = .event(.gap(expected: pair[0], received: pair[1]))
        } else if let pair = try c.decodeIfPresent([UInt64].self, forKey: .duplicate) {
            guard pair.count == 2 else { throw Self.bad(c, .duplicate, "duplicate takes [seq, last]") }
            streamOp = .event(.duplicate(seq: pair[0], last: pair[1]))
        } else if let code = try c.decodeIfPresent(String.self, forKey: .error) {
            guard let wire = WireErrorCode(rawValue: code) else { throw Self.bad(c, .error, "unknown error code \(code)") }
            streamOp = .event(.error(code: wire, message: try c.decode(String.self, forKey: .message),
                                     seq: try c.decodeIfPresent(UInt64.self, forKey: .seq)))
        } else if let reason = try c.decodeIfPresent(String.self, forKey: .clear) {
            guard let why = OutputEvent.ResetReason(rawValue: reason) else { throw Self.bad(c, .clear, "unknown reset reason \(reason)") }
            streamOp = .clear(reason: why, announce: try c.decode(Bool.self, forKey: .announce))
        } else if try c.decodeIfPresent(Bool.self, forKey: .flush) == true {
            streamOp = .flush
        } else if let seq = try c.decodeIfPresent(UInt64.self, forKey: .answer) {
            streamOp = .answer(seq: seq)
        } else if try c.decodeIfPresent(Bool.self, forKey: .end) == true {
            streamOp = .end
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown queued op"))
        }
    }

    func encode(to encoder: any Encoder) throws {
        if case .token(let token) = streamOp {
            var c = encoder.singleValueContainer()
            try c.encode(token)
            return
        }
        var c = encoder.container(keyedBy: Key.self)
        switch streamOp {
        case .event(.gap(let expected, let received)): try c.encode([expected, received], forKey: .gap)
        case .event(.duplicate(let seq, let last)): try c.encode([seq, last], forKey: .duplicate)
        case .event(.error(let code, let message, let seq)):
            try c.encode(code.rawValue, forKey: .error)
            try c.encode(message, forKey: .message)
            try c.encode(seq, forKey: .seq)
        case .clear(let reason, let announce):
            try c.encode(reason.rawValue, forKey: .clear)
            try c.encode(announce, forKey: .announce)
        case .flush: try c.encode(true, forKey: .flush)
        case .answer(let seq): try c.encode(seq, forKey: .answer)
        case .end: try c.encode(true, forKey: .end)
        case .token, .replay, .event: break          // a token is above; init?(_:) admits no other
        }
    }

    private static func bad(_ c: KeyedDecodingContainer<Key>, _ key: Key, _ why: String) -> DecodingError {
        .dataCorruptedError(forKey: key, in: c, debugDescription: why)
    }
}
