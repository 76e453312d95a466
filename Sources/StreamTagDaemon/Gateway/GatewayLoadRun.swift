import NIOCore

/// One phase of ``GatewayLoadGenerator``, on its event loop (the group's only thread, so every
/// callback that touches it runs there): sends, answers, timing and checks.
final class GatewayLoadRun: @unchecked Sendable {
    private let phase: LoadPhase
    private let words: LoadWords
    private var clients: [GatewayClient] = []
    private var done: EventLoopPromise<LoadResult>?
    private var scanner = AnswerScanner()
    private var body: [UInt8] = []

    // Per stream.
    private var nextSeq: [Int]
    private var answered: [Int]          // answers received = next expected answer seq
    private var nextPosition: [Int]      // next final position expected
    private var tokensSent: [Int]
    private var ended: [Bool]
    private var sendTimes: [UInt64]      // stream * window + seq % window

    private var start: UInt64 = 0
    private var measureStart: UInt64 = 0
    private var measureEnd: UInt64 = 0
    private var sending = true
    private var ending = false
    private var outstanding = 0
    private var endsPending = 0
    private var pacedTask: RepeatedTask?
    private var pacedSent = 0
    private var cursor = 0
    private var latencies: [UInt64] = []
    private var result: LoadResult

    init(phase: LoadPhase, words: LoadWords) {
        self.phase = phase
        self.words = words
        let n = phase.streams
        nextSeq = Array(repeating: 0, count: n)
        answered = nextSeq
        nextPosition = nextSeq
        tokensSent = nextSeq
        ended = Array(repeating: false, count: n)
        sendTimes = Array(repeating: 0, count: n * phase.window)
        result = LoadResult(phase: phase)
    }

    func start(clients: [GatewayClient], done: EventLoopPromise<LoadResult>) {
        self.clients = clients
        self.done = done
        start = loadClockNanos()
        measureStart = start + UInt64(phase.warmup * 1e9)
        measureEnd = measureStart + UInt64(phase.duration * 1e9)
        let loop = done.futureResult.eventLoop
        // Relative delays: NIO's deadlines need not be on this clock.
        loop.scheduleTask(in: .nanoseconds(Int64(measureEnd - start))) { [self] in stopSending() }
        switch phase.mode {
        case .saturated, .open:
            for s in 0..<phase.streams {
                for _ in 0..<(phase.mode == .open ? 1 : phase.window) { send(s, end: false) }
            }
            if phase.mode == .open { stopSending() }
        case .paced(let rate):
            pacedTask = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { [self] _ in pace(rate) }
        }
        loop.scheduleTask(in: .nanoseconds(Int64(measureEnd - start) + Int64(phase.drainTimeout * 1e9))) { [self] in finish() }
    }

    private func pace(_ rate: Double) {
        guard sending else { return }
        let due = Int(Double(loadClockNanos() - start) * 1e-9 * rate) / max(1, phase.tokensPerMessage)
        while pacedSent < due {
            pacedSent += 1
            let s = cursor
            cursor = (cursor + 1) % phase.streams
            if nextSeq[s] - answered[s] >= phase.window { result.skippedSends += 1; continue }
            send(s, end: false)
        }
    }

    private func send(_ s: Int, end: Bool) {
        let k = end ? 0 : phase.tokensPerMessage
        let seq = nextSeq[s]
        nextSeq[s] += 1
        let time = loadClockNanos()
        sendTimes[s * phase.window + seq % phase.window] = time
        body.removeAll(keepingCapacity: true)
        JSONWriter.appendRaw(#"{"seq":"#, to: &body)
        JSONWriter.appendInteger(seq, to: &body)
        JSONWriter.appendRaw(#","tokens":["#, to: &body)
        for j in 0..<k {
            if j > 0 { body.append(UInt8(ascii: ",")) }
            body.append(UInt8(ascii: "\""))
            let range = words.range(words.index(stream: s, position: tokensSent[s] + j))
            body.append(contentsOf: words.bytes[range])
            body.append(UInt8(ascii: "\""))
        }
        body.append(UInt8(ascii: "]"))
        if end { JSONWriter.appendRaw(#","end":true"#, to: &body) }
        body.append(UInt8(ascii: "}"))
        tokensSent[s] += k
        outstanding += 1
        result.messagesSent += 1
        result.tokensSent += k
        if time >= measureStart && time < measureEnd { result.tokensSentPerSecond += Double(k) }
        clients[s].send(bytes: body)
    }

    func received(stream s: Int, _ bytes: [UInt8]) {
        let time = loadClockNanos()
        let ok = bytes.withUnsafeBytes { scanner.scan($0) }
        guard ok else { result.verification.unreadable += 1; return }
        switch scanner.kind {
        case .tags:
            let seq = scanner.seq
            if seq == answered[s] {
                answered[s] += 1
            } else if seq < answered[s] {
                result.verification.repeatedAnswers += 1
            } else if seq < nextSeq[s] {
                result.verification.skippedAnswers += seq - answered[s]
                answered[s] = seq + 1
            } else {
                result.verification.unexpectedAnswers += 1
            }
            outstanding -= 1
            result.answers += 1
            let sentAt = sendTimes[s * phase.window + seq % phase.window]
            let inside = time >= measureStart && time < measureEnd
            if sentAt >= measureStart && inside { latencies.append(time &- sentAt) }
            for t in 0..<scanner.tagCount {
                let tag = scanner.tag(t)
                if tag.i == nextPosition[s] {
                    nextPosition[s] += 1
                } else if tag.i > nextPosition[s] {
                    result.verification.skippedPositions += tag.i - nextPosition[s]
                    nextPosition[s] = tag.i + 1
                } else {
                    result.verification.repeatedPositions += 1
                }
                if tag.i >= tokensSent[s] { result.verification.unexpectedPositions += 1; continue }
                let expected = words.range(words.index(stream: s, position: tag.i))
                if !bytes[tag.start..<tag.end].elementsEqual(words.bytes[expected]) { result.verification.tokenMismatches += 1 }
            }
            result.tagsReceived += scanner.tagCount
            if inside {
                result.tagsPerSecond += Double(scanner.tagCount)
                result.answersPerSecond += 1
            }
            if sending && phase.mode == .saturated { send(s, end: false) }
            checkDone()
        case .end:
            if ended[s] { result.verification.repeatedEnds += 1 }
            ended[s] = true
            result.endsReceived += 1
            if scanner.endTokens != tokensSent[s] { result.verification.endCountMismatches += 1 }
            endsPending -= 1
            checkDone()
        case .heartbeat:
            break
        case .event, .unknown:
            result.verification.events[scanner.eventName.isEmpty ? "unknown" : scanner.eventName, default: 0] += 1
        }
    }

    private func stopSending() {
        guard sending else { return }
        sending = false
        pacedTask?.cancel()
        checkDone()
    }

    /// After the sends stop and every answer is in: end the streams, then finish.
    private func checkDone() {
        guard !sending, outstanding == 0 else { return }
        if !ending && phase.endStreams {
            ending = true
            endsPending = phase.streams
            for s in 0..<phase.streams { send(s, end: true) }
            return
        }
        if !phase.endStreams || endsPending == 0 { finish() }
    }

    private func finish() {
        guard let done else { return }
        self.done = nil
        let seconds = Double(measureEnd - measureStart) / 1e9
        result.measuredSeconds = seconds
        result.tagsPerSecond /= seconds
        result.answersPerSecond /= seconds
        result.tokensSentPerSecond /= seconds
        result.latency = LatencySummary(nanoseconds: latencies)
        result.totalSeconds = Double(loadClockNanos() - start) / 1e9
        result.drained = outstanding == 0 && endsPending == 0
        for s in 0..<phase.streams {
            result.verification.missingAnswers += nextSeq[s] - answered[s]
            if phase.endStreams {
                if !ended[s] { result.verification.missingEnds += 1 }
                result.verification.missingPositions += max(0, tokensSent[s] - nextPosition[s])
            }
        }
        done.succeed(result)
    }
}
