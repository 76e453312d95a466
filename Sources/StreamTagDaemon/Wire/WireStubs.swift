// TEMPORARY: stand-ins for the wire types until the wire branch lands.
public struct InputMessage: Sendable, Equatable {
    public var streamID: String
    public var seq: UInt64
    public var tokens: [String]
    public var reset: Bool
    public var end: Bool
    public init(streamID: String, seq: UInt64, tokens: [String], reset: Bool = false, end: Bool = false) {
        self.streamID = streamID; self.seq = seq; self.tokens = tokens; self.reset = reset; self.end = end
    }
}

public enum WireErrorCode: String, Sendable {
    case badFrames = "bad_frames", badStreamID = "bad_stream_id", badJSON = "bad_json", badSeq = "bad_seq"
    case badTokens = "bad_tokens", badField = "bad_field", tooLarge = "too_large", overloaded
}

public struct WireError: Error, Sendable, Equatable {
    public var code: WireErrorCode
    public var message: String
    public var seq: UInt64?
    public var streamID: String?
}

public enum ResetReason: String, Sendable { case request, gap, model }
public enum EvictionReason: String, Sendable { case idle, memory, dropped }

public enum OutputEvent: Sendable, Equatable {
    case error(code: WireErrorCode, message: String, seq: UInt64?)
    case gap(expected: UInt64, received: UInt64)
    case duplicate(seq: UInt64, last: UInt64)
    case reset(reason: ResetReason)
    case end(tokens: Int)
    case evicted(reason: EvictionReason)
    case model(from: String, to: String)
    case started(model: String)
    case stopping(model: String)
    case heartbeat(model: String, streams: Int)
}

public struct TagItem: Sendable, Equatable {
    public var i: Int
    public var token: String
    public var tag: String
    public var p: Float
}

public struct OutputEncoder: Sendable {
    public init() {}
    public func encodeTags(seq: UInt64, model: String, tags: [TagItem], partial: [TagItem]?, into out: inout [UInt8]) {
        out.append(contentsOf: Array("{\"type\":\"tags\",\"seq\":\(seq),\"model\":\"\(model)\",\"tags\":[".utf8))
        for (n, t) in tags.enumerated() {
            out.append(contentsOf: Array("\(n > 0 ? "," : ""){\"i\":\(t.i),\"token\":\"\(t.token)\",\"tag\":\"\(t.tag)\",\"p\":\(t.p)}".utf8))
        }
        out.append(contentsOf: Array("]".utf8))
        if let partial {
            out.append(contentsOf: Array(",\"partial\":[".utf8))
            for (n, t) in partial.enumerated() {
                out.append(contentsOf: Array("\(n > 0 ? "," : ""){\"i\":\(t.i),\"token\":\"\(t.token)\",\"tag\":\"\(t.tag)\",\"p\":\(t.p)}".utf8))
            }
            out.append(contentsOf: Array("]".utf8))
        }
        out.append(contentsOf: Array("}".utf8))
    }
    public func encode(_ event: OutputEvent, into out: inout [UInt8]) {
        out.append(contentsOf: Array("{\"type\":\"event\",\"event\":\"\(event)\"}".utf8))
    }
}
