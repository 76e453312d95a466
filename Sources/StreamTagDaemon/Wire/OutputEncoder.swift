/// One final or provisional tag in a `tags` message.
public struct OutputTag: Equatable, Sendable {
    /// Position in the stream since its start or last reset.
    public var i: Int
    /// The input token, echoed byte for byte.
    public var token: String
    /// The tag's name.
    public var tag: String
    /// Probability of the tag; written rounded to 4 decimals.
    public var p: Double

    public init(i: Int, token: String, tag: String, p: Double) {
        self.i = i
        self.token = token
        self.tag = tag
        self.p = p
    }
}

/// Encodes output messages (frame 2, SPEC §4.2) as compact JSON, appending to a caller-owned
/// buffer: keep one `[UInt8]` per publisher, `removeAll(keepingCapacity: true)` before each
/// message, and encoding allocates nothing once the buffer has grown to size.
///
/// Field order follows the spec's examples; keys carry no whitespace.
public enum OutputEncoder {
    /// Frame 1 of daemon-wide events and of errors without a usable stream id.
    public static let systemTopic = "$sys"

    /// Appends `{"type":"tags","seq":…,"model":…,"tags":[…]}`.
    public static func encodeTags<Tags: Sequence<OutputTag>>(seq: UInt64, model: String, tags: Tags, into out: inout [UInt8]) {
        beginTags(seq: seq, model: model, tags: tags, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Appends a `tags` message with its `partial` list (provisional tags in the lookahead window).
    public static func encodeTags<Tags: Sequence<OutputTag>, Partial: Sequence<OutputTag>>(
        seq: UInt64, model: String, tags: Tags, partial: Partial, into out: inout [UInt8]
    ) {
        beginTags(seq: seq, model: model, tags: tags, into: &out)
        JSONWriter.appendRaw(#","partial":"#, to: &out)
        appendTagList(partial, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    private static func beginTags<Tags: Sequence<OutputTag>>(seq: UInt64, model: String, tags: Tags, into out: inout [UInt8]) {
        JSONWriter.appendRaw(#"{"type":"tags","seq":"#, to: &out)
        JSONWriter.appendInteger(seq, to: &out)
        JSONWriter.appendRaw(#","model":"#, to: &out)
        JSONWriter.appendString(model, to: &out)
        JSONWriter.appendRaw(#","tags":"#, to: &out)
        appendTagList(tags, to: &out)
    }

    private static func appendTagList<Tags: Sequence<OutputTag>>(_ tags: Tags, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        var first = true
        for tag in tags {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.appendRaw(#"{"i":"#, to: &out)
            JSONWriter.appendInteger(tag.i, to: &out)
            JSONWriter.appendRaw(#","token":"#, to: &out)
            JSONWriter.appendString(tag.token, to: &out)
            JSONWriter.appendRaw(#","tag":"#, to: &out)
            JSONWriter.appendString(tag.tag, to: &out)
            JSONWriter.appendRaw(#","p":"#, to: &out)
            JSONWriter.appendProbability(tag.p, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Appends `{"type":"event","event":NAME,…}`.
    public static func encode(_ event: OutputEvent, into out: inout [UInt8]) {
        JSONWriter.appendRaw(#"{"type":"event","event":"#, to: &out)
        JSONWriter.appendString(event.name, to: &out)
        switch event {
        case .error(let code, let message, let seq):
            string("code", code.rawValue, &out)
            string("message", message, &out)
            if let seq { integer("seq", seq, &out) }
        case .gap(let expected, let received):
            integer("expected", expected, &out)
            integer("received", received, &out)
        case .duplicate(let seq, let last):
            integer("seq", seq, &out)
            integer("last", last, &out)
        case .reset(let reason):
            string("reason", reason.rawValue, &out)
        case .end(let tokens):
            integer("tokens", UInt64(max(tokens, 0)), &out)
        case .evicted(let reason):
            string("reason", reason.rawValue, &out)
        case .model(let from, let to):
            string("from", from, &out)
            string("to", to, &out)
        case .started(let model), .stopping(let model):
            string("model", model, &out)
        case .modelLoaded(let model, let previous):
            string("model", model, &out)
            if let previous {
                string("previous", previous, &out)
            } else {
                JSONWriter.appendRaw(#","previous":null"#, to: &out)
            }
        case .modelRejected(let path, let reason):
            string("path", path, &out)
            string("reason", reason, &out)
        case .heartbeat(let model, let streams):
            string("model", model, &out)
            integer("streams", UInt64(max(streams, 0)), &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The encoded event as a new buffer (convenience for tests and cold paths).
    public static func encoded(_ event: OutputEvent) -> [UInt8] {
        var out: [UInt8] = []
        encode(event, into: &out)
        return out
    }

    @inline(__always) private static func string(_ key: StaticString, _ value: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        out.append(UInt8(ascii: "\""))
        JSONWriter.appendRaw(key, to: &out)
        JSONWriter.appendRaw(#"":"#, to: &out)
        JSONWriter.appendString(value, to: &out)
    }

    @inline(__always) private static func integer(_ key: StaticString, _ value: UInt64, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        out.append(UInt8(ascii: "\""))
        JSONWriter.appendRaw(key, to: &out)
        JSONWriter.appendRaw(#"":"#, to: &out)
        JSONWriter.appendInteger(value, to: &out)
    }
}
