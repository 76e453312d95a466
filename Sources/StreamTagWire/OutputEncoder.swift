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

/// Encodes output messages (frame 2, docs/protocol.md#the-tags-answer and #events) as compact JSON, appending to a caller-owned
/// buffer: keep one `[UInt8]` per publisher, `removeAll(keepingCapacity: true)` before each
/// message, and encoding allocates nothing once the buffer has grown to size.
///
/// Field order follows the spec's examples; there is no whitespace.
public enum OutputEncoder {
    /// Frame 1 of daemon-wide events and of errors without a usable stream id.
    public static let systemTopic = "$sys"

    /// Appends `{"type":"tags","seq":…,"model":…,"tags":[…]}`.
    @inlinable
    public static func encodeTags<Tags: Sequence<OutputTag>>(seq: UInt64, model: String, tags: Tags, into out: inout [UInt8]) {
        beginTags(seq: seq, model: model, into: &out)
        appendTagList(tags, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Appends a `tags` message with its `partial` list (provisional tags in the lookahead window).
    @inlinable
    public static func encodeTags<Tags: Sequence<OutputTag>, Partial: Sequence<OutputTag>>(
        seq: UInt64, model: String, tags: Tags, partial: Partial, into out: inout [UInt8]
    ) {
        beginTags(seq: seq, model: model, into: &out)
        appendTagList(tags, to: &out)
        JSONWriter.appendRaw(#","partial":"#, to: &out)
        appendTagList(partial, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    // Only the loop over the caller's sequence is inlinable (so that it is specialized for the
    // caller's collection type); each entry is written by one ordinary call.
    @inlinable
    static func appendTagList<Tags: Sequence<OutputTag>>(_ tags: Tags, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        var first = true
        for tag in tags {
            appendTag(tag, comma: !first, to: &out)
            first = false
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Writes `{"type":"tags","seq":N,"model":"…","tags":`.
    @usableFromInline
    static func beginTags(seq: UInt64, model: String, into out: inout [UInt8]) {
        ByteCursor.write(into: &out, bound: 64 + ByteCursor.stringBound(model)) { c in
            c.raw(#"{"type":"tags","seq":"#)
            c.integer(seq)
            c.raw(#","model":"#)
            c.string(model)
            c.raw(#","tags":"#)
        }
    }

    /// Writes `{"i":…,"token":…,"tag":…,"p":…}`, preceded by a comma unless first.
    @usableFromInline
    static func appendTag(_ tag: OutputTag, comma: Bool, to out: inout [UInt8]) {
        let bound = 64 + ByteCursor.stringBound(tag.token) + ByteCursor.stringBound(tag.tag)
        ByteCursor.write(into: &out, bound: bound) { c in
            if comma { c.byte(UInt8(ascii: ",")) }
            c.raw(#"{"i":"#)
            c.integer(tag.i)
            c.raw(#","token":"#)
            c.string(tag.token)
            c.raw(#","tag":"#)
            c.string(tag.tag)
            c.raw(#","p":"#)
            c.probability(tag.p)
            c.byte(UInt8(ascii: "}"))
        }
    }

    /// Appends `{"type":"event","event":NAME,…}`.
    public static func encode(_ event: OutputEvent, into out: inout [UInt8]) {
        ByteCursor.write(into: &out, bound: bound(of: event)) { c in
            c.raw(#"{"type":"event","event":""#)
            c.raw(event.staticName)
            c.byte(UInt8(ascii: "\""))
            switch event {
            case .error(let code, let message, let seq):
                c.raw(#","code":""#)
                c.raw(code.staticName)
                c.raw(#"","message":"#)
                c.string(message)
                if let seq {
                    c.raw(#","seq":"#)
                    c.integer(seq)
                }
            case .gap(let expected, let received):
                c.raw(#","expected":"#)
                c.integer(expected)
                c.raw(#","received":"#)
                c.integer(received)
            case .duplicate(let seq, let last):
                c.raw(#","seq":"#)
                c.integer(seq)
                c.raw(#","last":"#)
                c.integer(last)
            case .reset(let reason):
                c.raw(#","reason":"#)
                c.string(reason.rawValue)
            case .end(let tokens):
                c.raw(#","tokens":"#)
                c.integer(tokens)
            case .evicted(let reason):
                c.raw(#","reason":"#)
                c.string(reason.rawValue)
            case .model(let from, let to):
                c.raw(#","from":"#)
                c.string(from)
                c.raw(#","to":"#)
                c.string(to)
            case .started(let model), .stopping(let model, nil):
                c.raw(#","model":"#)
                c.string(model)
            case .stopping(let model, let snapshotError?):
                c.raw(#","model":"#)
                c.string(model)
                c.raw(#","snapshot_error":"#)
                c.string(snapshotError)
            case .modelLoaded(let model, let previous):
                c.raw(#","model":"#)
                c.string(model)
                c.raw(#","previous":"#)
                if let previous { c.string(previous) } else { c.raw("null") }
            case .modelRejected(let path, let reason):
                c.raw(#","path":"#)
                c.string(path)
                c.raw(#","reason":"#)
                c.string(reason)
            case .heartbeat(let model, let streams, let instance):
                c.raw(#","model":"#)
                c.string(model)
                c.raw(#","streams":"#)
                c.integer(streams)
                c.raw(#","instance":"#)
                c.integer(instance)
            }
            c.byte(UInt8(ascii: "}"))
        }
    }

    /// The encoded event as a new buffer (convenience for tests and cold paths).
    public static func encoded(_ event: OutputEvent) -> [UInt8] {
        var out: [UInt8] = []
        encode(event, into: &out)
        return out
    }

    /// An upper bound of the event's encoded size: the fixed text (under 128 bytes for every
    /// event, including two 20-digit integers) plus the worst case of each string.
    private static func bound(of event: OutputEvent) -> Int {
        let strings: Int
        switch event {
        case .error(_, let message, _): strings = ByteCursor.stringBound(message)
        case .model(let from, let to): strings = ByteCursor.stringBound(from) + ByteCursor.stringBound(to)
        case .started(let model), .heartbeat(let model, _, _): strings = ByteCursor.stringBound(model)
        case .stopping(let model, let error): strings = ByteCursor.stringBound(model) + ByteCursor.stringBound(error ?? "")
        case .modelLoaded(let model, let previous):
            strings = ByteCursor.stringBound(model) + ByteCursor.stringBound(previous ?? "")
        case .modelRejected(let path, let reason): strings = ByteCursor.stringBound(path) + ByteCursor.stringBound(reason)
        case .gap, .duplicate, .reset, .end, .evicted: strings = 0
        }
        return 128 + strings
    }
}
