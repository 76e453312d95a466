import StreamTagWire
import StreamTagZMQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the daemon's output messages in place: the message kind, `seq`, the `tags` list's
/// positions and token byte ranges, an event's name and (for `end`) `tokens`. A small strict
/// JSON walker: field order and whitespace do not matter; unknown fields (`model`, `partial`,
/// `tag`, `p`, …) are skipped. Keys with escapes are not recognised (the daemon writes none).
struct AnswerScanner {
    enum Kind { case tags, end, heartbeat, event, unknown }

    private(set) var kind: Kind = .unknown
    private(set) var seq = -1
    private(set) var endTokens = -1
    /// Name of an event other than end/heartbeat.
    private(set) var eventName = ""
    /// (i, token start, token end) triples, flattened; body offsets.
    private var tags: [Int] = []

    var tagCount: Int { tags.count / 3 }

    func tag(_ t: Int) -> (i: Int, start: Int, end: Int) { (tags[3 * t], tags[3 * t + 1], tags[3 * t + 2]) }

    private var p: UnsafePointer<UInt8> = UnsafePointer(bitPattern: 1)!
    private var n = 0
    private var at = 0

    /// Scans one body; false if it is not a JSON object of the expected shape.
    mutating func scan(_ body: UnsafeRawBufferPointer) -> Bool {
        kind = .unknown
        seq = -1
        endTokens = -1
        eventName = ""
        tags.removeAll(keepingCapacity: true)
        guard let base = body.baseAddress, body.count > 1 else { return false }
        p = base.assumingMemoryBound(to: UInt8.self)
        n = body.count
        at = 0
        var type: Kind = .unknown
        var isEvent = false
        var event = (start: 0, end: 0)
        guard skipSpace(), expect(UInt8(ascii: "{")) else { return false }
        guard skipSpace() else { return false }
        if peek == UInt8(ascii: "}") { return false }
        while true {
            guard skipSpace(), let key = readString(), skipSpace(), expect(UInt8(ascii: ":")), skipSpace() else { return false }
            if matches(key, "type") {
                guard let value = readString() else { return false }
                if matches(value, "tags") { type = .tags } else if matches(value, "event") { isEvent = true }
            } else if matches(key, "seq") {
                guard let v = readInteger() else { return false }
                seq = v
            } else if matches(key, "event") {
                guard let value = readString() else { return false }
                event = value
            } else if matches(key, "tokens") {
                guard let v = readInteger() else { return false }
                endTokens = v
            } else if matches(key, "tags") {
                guard readTags() else { return false }
            } else {
                guard skipValue(depth: 1) else { return false }
            }
            guard skipSpace() else { return false }
            if peek == UInt8(ascii: ",") { at += 1; continue }
            guard expect(UInt8(ascii: "}")) else { return false }
            break
        }
        if isEvent {
            if matches(event, "end") {
                kind = .end
            } else if matches(event, "heartbeat") {
                kind = .heartbeat
            } else {
                kind = .event
                eventName = String(decoding: UnsafeBufferPointer(start: p + event.start, count: event.end - event.start), as: UTF8.self)
            }
        } else {
            kind = type
            if type == .tags && seq < 0 { return false }
        }
        return true
    }

    private var peek: UInt8 { p[at] }

    private mutating func expect(_ byte: UInt8) -> Bool {
        guard at < n, p[at] == byte else { return false }
        at += 1
        return true
    }

    /// Skips whitespace; false at the end of the body.
    private mutating func skipSpace() -> Bool {
        while at < n {
            let b = p[at]
            if b != 0x20 && b != 0x0a && b != 0x0d && b != 0x09 { return true }
            at += 1
        }
        return false
    }

    private func matches(_ range: (start: Int, end: Int), _ text: StaticString) -> Bool {
        let length = text.utf8CodeUnitCount
        return range.end - range.start == length && memcmp(p + range.start, text.utf8Start, length) == 0
    }

    /// A string's raw contents (between the quotes, escapes left as they are).
    private mutating func readString() -> (start: Int, end: Int)? {
        guard expect(UInt8(ascii: "\"")) else { return nil }
        let start = at
        while at < n {
            let b = p[at]
            if b == UInt8(ascii: "\"") {
                at += 1
                return (start, at - 1)
            }
            at += b == UInt8(ascii: "\\") ? 2 : 1
        }
        return nil
    }

    /// A non-negative integer literal.
    private mutating func readInteger() -> Int? {
        var value = 0, digits = 0
        while at < n, p[at] >= UInt8(ascii: "0"), p[at] <= UInt8(ascii: "9") {
            value = value &* 10 &+ Int(p[at] &- UInt8(ascii: "0"))
            at += 1
            digits += 1
        }
        guard digits > 0, digits <= 18 else { return nil }
        if at < n, p[at] == UInt8(ascii: ".") || p[at] == UInt8(ascii: "e") || p[at] == UInt8(ascii: "E") { return nil }
        return value
    }

    /// `[{"i":…,"token":"…",…},…]`
    private mutating func readTags() -> Bool {
        guard expect(UInt8(ascii: "[")), skipSpace() else { return false }
        if peek == UInt8(ascii: "]") { at += 1; return true }
        while true {
            guard skipSpace(), expect(UInt8(ascii: "{")) else { return false }
            var i = -1
            var token = (start: -1, end: -1)
            while true {
                guard skipSpace(), let key = readString(), skipSpace(), expect(UInt8(ascii: ":")), skipSpace() else { return false }
                if matches(key, "i") {
                    guard let v = readInteger() else { return false }
                    i = v
                } else if matches(key, "token") {
                    guard let v = readString() else { return false }
                    token = v
                } else {
                    guard skipValue(depth: 3) else { return false }
                }
                guard skipSpace() else { return false }
                if peek == UInt8(ascii: ",") { at += 1; continue }
                guard expect(UInt8(ascii: "}")) else { return false }
                break
            }
            guard i >= 0, token.start >= 0 else { return false }
            tags.append(i)
            tags.append(token.start)
            tags.append(token.end)
            guard skipSpace() else { return false }
            if peek == UInt8(ascii: ",") { at += 1; continue }
            return expect(UInt8(ascii: "]"))
        }
    }

    /// Skips any JSON value (not validating numbers and literals beyond their characters).
    private mutating func skipValue(depth: Int) -> Bool {
        guard depth <= 64, skipSpace() else { return false }
        switch peek {
        case UInt8(ascii: "\""):
            return readString() != nil
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            let object = peek == UInt8(ascii: "{")
            let close = object ? UInt8(ascii: "}") : UInt8(ascii: "]")
            at += 1
            guard skipSpace() else { return false }
            if peek == close { at += 1; return true }
            while true {
                if object {
                    guard skipSpace(), readString() != nil, skipSpace(), expect(UInt8(ascii: ":")) else { return false }
                }
                guard skipValue(depth: depth + 1), skipSpace() else { return false }
                if peek == UInt8(ascii: ",") { at += 1; continue }
                return expect(close)
            }
        default:
            let start = at
            while at < n {
                let b = p[at]
                if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") || b == 0x20 || b == 0x0a
                    || b == 0x0d || b == 0x09 { break }
                at += 1
            }
            return at > start
        }
    }
}
