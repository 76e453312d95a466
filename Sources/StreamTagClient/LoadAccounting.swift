import StreamTagWire
import StreamTagZMQ
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

/// Per-stream bookkeeping of one run: what was sent, what came back, and the checks of
/// `LoadVerification`. Streams are numbered 0..<streams; the caller maps topics to numbers.
/// Answers are read straight from the received bytes (`AnswerScanner`), without allocating.
package struct LoadAccounting {
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
    package private(set) var endsReceived = 0

    /// The measurement interval: answers received in it count towards throughput; latency
    /// samples are taken for messages sent and answered inside it.
    package var measureStart: UInt64 = .max
    package var measureEnd: UInt64 = .max
    private(set) var tagsInWindow = 0
    private(set) var answersInWindow = 0
    private(set) var tokensSentInWindow = 0
    /// Send-to-answer latencies, nanoseconds.
    var latencies: [UInt64] = []

    private var scanner = AnswerScanner()

    package init(streams: Int, window: Int, words: LoadWords) {
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
    package var outstanding: Int { messagesSent - answers }

    @inline(__always)
    package func unanswered(_ stream: Int) -> Int { sent[stream] - answered[stream] }

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

    /// Books the next message of stream `s` (`recordSend`) and writes its JSON body into `body`
    /// (emptied first): `{"seq":N,"tokens":[…]}`, with `"end":true` when `end`. Both transports
    /// of the load generator send exactly these bytes.
    package mutating func writeMessage(stream s: Int, tokens k: Int, end: Bool, at time: UInt64, into body: inout [UInt8]) {
        let (seq, position) = recordSend(stream: s, tokens: k, at: time)
        body.removeAll(keepingCapacity: true)
        JSONWriter.appendRaw(#"{"seq":"#, to: &body)
        JSONWriter.appendInteger(seq, to: &body)
        JSONWriter.appendRaw(#","tokens":["#, to: &body)
        for j in 0..<k {
            if j > 0 { body.append(UInt8(ascii: ",")) }
            body.append(UInt8(ascii: "\""))
            let range = words.range(words.index(stream: s, position: position + j))
            words.bytes.withUnsafeBufferPointer { body.append(contentsOf: UnsafeBufferPointer(rebasing: $0[range])) }
            body.append(UInt8(ascii: "\""))
        }
        body.append(UInt8(ascii: "]"))
        if end { JSONWriter.appendRaw(#","end":true"#, to: &body) }
        body.append(UInt8(ascii: "}"))
    }

    package enum Outcome {
        /// An in-order answer: the stream may send again.
        case answer
        /// An `end` event.
        case end
        /// Anything else (booked as a problem, or a heartbeat).
        case other
    }

    /// Books a message for stream `s` received at `time`.
    package mutating func receive(stream s: Int, body: UnsafeRawBufferPointer, at time: UInt64) -> Outcome {
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

    /// Closes the books (`finish`, with the phase's `endStreams`) and writes what they hold into
    /// `result`: totals, latencies, checks, and rates over the part of the measurement interval
    /// that the run (`start` to `finished`) covered (none without an interval, as in `open` runs).
    package mutating func finish(into result: inout LoadResult, start: UInt64, finished: UInt64) {
        finish(ended: result.phase.endStreams)
        let measured = Double(min(finished, measureEnd) - min(measureStart, finished)) / 1e9
        result.measuredSeconds = measured
        if measured > 0 {
            result.tagsPerSecond = Double(tagsInWindow) / measured
            result.tokensSentPerSecond = Double(tokensSentInWindow) / measured
            result.answersPerSecond = Double(answersInWindow) / measured
        }
        result.latency = LatencySummary(nanoseconds: latencies)
        result.messagesSent = messagesSent
        result.answers = answers
        result.tokensSent = tokensSentTotal
        result.tagsReceived = tagsReceived
        result.endsReceived = endsReceived
        result.totalSeconds = Double(finished - start) / 1e9
        result.verification = verification
    }
}
