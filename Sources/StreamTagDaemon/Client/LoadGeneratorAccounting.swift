#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nanoseconds on the monotonic clock (the load generator's only clock).
@inline(__always)
public func loadClockNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// What the load generator checks for every stream (SPEC §4.2): one `tags` answer per message,
/// in `seq` order; final positions `i` 0, 1, 2, … with none skipped or repeated; each token echoed
/// byte for byte; one `end` event with the right token count; no other event. Every counter
/// must be zero for a clean run.
public struct LoadVerification: Sendable, Equatable {
    /// Messages sent that never got their `tags` answer (counted when the run ends).
    public var missingAnswers = 0
    /// Answers whose `seq` was already answered (or went backwards).
    public var repeatedAnswers = 0
    /// Answers that skipped ahead of the next expected `seq` (the skipped ones are missing).
    public var skippedAnswers = 0
    /// Answers for a `seq` never sent.
    public var unexpectedAnswers = 0
    /// Final positions skipped (a tag for i arrived while i−1 … were still expected).
    public var skippedPositions = 0
    /// Final positions that were repeated or went backwards.
    public var repeatedPositions = 0
    /// Final tags for a position beyond the tokens sent.
    public var unexpectedPositions = 0
    /// Tokens sent that never got a final tag (checked only when the streams were ended).
    public var missingPositions = 0
    /// Tags whose `token` differs from the token sent at that position.
    public var tokenMismatches = 0
    /// Streams that got no `end` event (when ended), or more than one.
    public var missingEnds = 0
    public var repeatedEnds = 0
    /// `end` events whose `tokens` differs from the tokens sent.
    public var endCountMismatches = 0
    /// Messages that did not have two frames or could not be read as a tags answer or event.
    public var unreadable = 0
    /// Messages on the run's topics for streams outside the run (an old run's, or bad ids).
    public var foreign = 0
    /// Every other event, by name (`gap`, `duplicate`, `error`, `evicted`, …), on the streams'
    /// topics or on `$sys` (heartbeats aside): none is expected.
    public var events: [String: Int] = [:]

    public init() {}

    /// Total of every problem counter.
    public var problems: Int {
        missingAnswers + repeatedAnswers + skippedAnswers + unexpectedAnswers + skippedPositions + repeatedPositions
            + unexpectedPositions + missingPositions + tokenMismatches + missingEnds + repeatedEnds
            + endCountMismatches + unreadable + foreign + events.values.reduce(0, +)
    }

    public var isClean: Bool { problems == 0 }

    /// The non-zero counters, for a report ("missing_answers=3 gap=1").
    public var nonZero: [(String, Int)] {
        var out: [(String, Int)] = []
        for (name, value) in [
            ("missing_answers", missingAnswers), ("repeated_answers", repeatedAnswers), ("skipped_answers", skippedAnswers),
            ("unexpected_answers", unexpectedAnswers), ("skipped_positions", skippedPositions),
            ("repeated_positions", repeatedPositions), ("unexpected_positions", unexpectedPositions),
            ("missing_positions", missingPositions), ("token_mismatches", tokenMismatches), ("missing_ends", missingEnds),
            ("repeated_ends", repeatedEnds), ("end_count_mismatches", endCountMismatches), ("unreadable", unreadable),
            ("foreign", foreign),
        ] where value != 0 { out.append((name, value)) }
        for (name, value) in events.sorted(by: { $0.key < $1.key }) { out.append(("event:" + name, value)) }
        return out
    }
}

/// The words a run sends, kept as raw bytes. Only words whose JSON form is the word itself
/// between quotes are used, so that the echo check can compare the answer's bytes directly.
public struct LoadWords: Sendable {
    let bytes: [UInt8]
    let offsets: [Int]    // count + 1 entries

    public init(_ words: [String]) {
        var bytes: [UInt8] = [], offsets = [0]
        for word in words where !word.isEmpty && word.utf8.count <= 64
            && word.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "/") }) {
            bytes.append(contentsOf: word.utf8)
            offsets.append(bytes.count)
        }
        if offsets.count == 1 {
            bytes = Array("word".utf8)
            offsets.append(bytes.count)
        }
        self.bytes = bytes
        self.offsets = offsets
    }

    public var count: Int { offsets.count - 1 }

    /// The word sent at position `position` of stream number `stream`: deterministic, so the
    /// echo can be checked without remembering what was sent.
    @inline(__always)
    func index(stream: Int, position: Int) -> Int {
        (stream &* 7919 &+ position) % count
    }

    @inline(__always)
    func range(_ index: Int) -> Range<Int> { offsets[index]..<offsets[index + 1] }

    public func word(_ index: Int) -> String {
        String(decoding: bytes[range(index)], as: UTF8.self)
    }
}

/// Per-stream bookkeeping of one run: what was sent, what came back, and the checks of
/// `LoadVerification`. Streams are numbered 0..<streams; the caller maps topics to numbers.
/// Answers are read straight from the received bytes (`AnswerScanner`), without allocating.
struct LoadAccounting {
    let streams: Int
    /// Send times kept per stream (a ring indexed by seq % window): at most `window`
    /// unanswered messages per stream.
    let window: Int
    let words: LoadWords

    var sent: [Int]
    var answered: [Int]
    var tokensSent: [Int]
    var nextPosition: [Int]
    var ends: [UInt8]
    var sendTimes: [UInt64]
    var verification = LoadVerification()

    /// Messages sent and answers received, all streams.
    private(set) var messagesSent = 0
    private(set) var answers = 0
    private(set) var tagsReceived = 0
    private(set) var tokensSentTotal = 0
    private(set) var endsReceived = 0

    /// The measurement interval: answers received in it count towards throughput; latency
    /// samples are taken for messages sent and answered inside it.
    var measureStart: UInt64 = .max
    var measureEnd: UInt64 = .max
    private(set) var tagsInWindow = 0
    private(set) var answersInWindow = 0
    private(set) var tokensSentInWindow = 0
    /// Send-to-answer latencies, nanoseconds.
    var latencies: [UInt64] = []

    private var scanner = AnswerScanner()

    init(streams: Int, window: Int, words: LoadWords) {
        self.streams = streams
        self.window = max(1, window)
        self.words = words
        sent = Array(repeating: 0, count: streams)
        answered = Array(repeating: 0, count: streams)
        tokensSent = Array(repeating: 0, count: streams)
        nextPosition = Array(repeating: 0, count: streams)
        ends = Array(repeating: 0, count: streams)
        sendTimes = Array(repeating: 0, count: streams * self.window)
    }

    /// Messages sent and not yet answered, all streams.
    var outstanding: Int { messagesSent - answers }

    @inline(__always)
    func unanswered(_ stream: Int) -> Int { sent[stream] - answered[stream] }

    /// Books a message about to be sent: returns its seq and the stream position of its first token.
    @inline(__always)
    mutating func recordSend(stream s: Int, tokens: Int, at time: UInt64) -> (seq: Int, position: Int) {
        let seq = sent[s], position = tokensSent[s]
        sendTimes[s * window + seq % window] = time
        sent[s] += 1
        tokensSent[s] += tokens
        messagesSent += 1
        tokensSentTotal += tokens
        if time >= measureStart && time < measureEnd { tokensSentInWindow += tokens }
        return (seq, position)
    }

    enum Outcome {
        /// An in-order answer: the stream may send again.
        case answer
        /// An `end` event.
        case end
        /// Anything else (booked as a problem, or a heartbeat).
        case other
    }

    /// Books a message for stream `s` received at `time`.
    mutating func receive(stream s: Int, body: UnsafeRawBufferPointer, at time: UInt64) -> Outcome {
        guard scanner.scan(body) else {
            verification.unreadable += 1
            return .other
        }
        switch scanner.kind {
        case .tags:
            return receiveTags(s, body: body, at: time)
        case .end:
            endsReceived += 1
            if ends[s] > 0 { verification.repeatedEnds += 1 }
            ends[s] &+= 1
            if scanner.endTokens != tokensSent[s] { verification.endCountMismatches += 1 }
            return .end
        case .event:
            verification.events[scanner.eventName, default: 0] += 1
            return .other
        case .heartbeat, .unknown:
            verification.unreadable += scanner.kind == .unknown ? 1 : 0
            return .other
        }
    }

    /// Books a message on `$sys`: heartbeats are fine, anything else is a problem.
    mutating func receiveSystem(body: UnsafeRawBufferPointer) {
        guard scanner.scan(body) else {
            verification.unreadable += 1
            return
        }
        if scanner.kind == .heartbeat { return }
        verification.events["$sys:" + (scanner.kind == .event ? scanner.eventName : "message"), default: 0] += 1
    }

    private mutating func receiveTags(_ s: Int, body: UnsafeRawBufferPointer, at time: UInt64) -> Outcome {
        let seq = scanner.seq
        var inOrder = false
        if seq == answered[s] && seq < sent[s] {
            inOrder = true
            let sentAt = sendTimes[s * window + seq % window]
            if sentAt >= measureStart && time < measureEnd { latencies.append(time &- sentAt) }
            answered[s] += 1
        } else if seq < answered[s] {
            verification.repeatedAnswers += 1
        } else if seq >= sent[s] {
            verification.unexpectedAnswers += 1
        } else {
            verification.skippedAnswers += 1
            answered[s] = seq + 1
        }
        answers += 1
        let count = scanner.tagCount
        tagsReceived += count
        if time >= measureStart && time < measureEnd {
            tagsInWindow += count
            answersInWindow += 1
        }
        body.withMemoryRebound(to: UInt8.self) { bytes in
            for t in 0..<count {
                let (i, tokenStart, tokenEnd) = scanner.tag(t)
                let expected = nextPosition[s]
                if i >= tokensSent[s] {
                    verification.unexpectedPositions += 1
                    continue
                }
                if i == expected {
                    nextPosition[s] = i + 1
                } else if i > expected {
                    verification.skippedPositions += i - expected
                    nextPosition[s] = i + 1
                } else {
                    verification.repeatedPositions += 1
                }
                let range = words.range(words.index(stream: s, position: i))
                let length = tokenEnd - tokenStart
                let same = length == range.count && words.bytes.withUnsafeBufferPointer { w in
                    memcmp(w.baseAddress! + range.lowerBound, bytes.baseAddress! + tokenStart, length) == 0
                }
                if !same { verification.tokenMismatches += 1 }
            }
        }
        return inOrder ? .answer : .other
    }

    /// Closes the books: every message answered; with `ended`, every token tagged and every
    /// stream ended exactly once.
    mutating func finish(ended: Bool) {
        for s in 0..<streams {
            verification.missingAnswers += max(0, sent[s] - answered[s])
            if ended {
                verification.missingPositions += max(0, tokensSent[s] - nextPosition[s])
                if ends[s] == 0 { verification.missingEnds += 1 }
            }
        }
    }
}

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
