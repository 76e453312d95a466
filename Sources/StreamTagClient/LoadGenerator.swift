import StreamTagWire
import StreamTagZMQ
import CZeroMQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Drives a daemon over its real sockets: N streams, K tokens per message, saturated or paced,
/// and checks every answer (`LoadVerification`). One thread; the hot paths build and read
/// messages in place (no JSON trees, no per-message arrays), so that the generator costs the
/// machine little next to the daemon it measures.
///
/// Stream ids are `PREFIX` + run number + `.` + stream number; the output socket subscribes to
/// `PREFIX` (and `$sys`) once, before the heartbeat wait, so no answer is lost to a late
/// subscription.
public final class LoadGenerator {
    public let context: ZMQContext
    private let input: ZMQSocket
    private let output: ZMQSocket
    public let prefix: String
    public let words: LoadWords
    private var runs = 0
    private let topicMessage: UnsafeMutablePointer<zmq_msg_t>
    private let bodyMessage: UnsafeMutablePointer<zmq_msg_t>
    private var outputFD: Int32 = -1
    private var topic: [UInt8] = []
    private var body: [UInt8] = []

    /// Connects to a daemon; with `security`, over CURVE (docs/security.md).
    public init(input inputEndpoint: String, output outputEndpoint: String, words: [String], prefix: String,
                security: ClientSecurity? = nil) throws {
        context = try ZMQContext()
        input = try context.socket(.pub)
        try security?.apply(to: input)
        try input.setOption(.sendHighWaterMark, 0)
        try input.connect(inputEndpoint)
        output = try context.socket(.sub)
        try security?.apply(to: output)
        try output.setOption(.receiveHighWaterMark, 0)
        try output.subscribe(Array(prefix.utf8))
        try output.subscribe(Array(OutputEncoder.systemTopic.utf8))
        try output.connect(outputEndpoint)
        self.prefix = prefix
        self.words = LoadWords(words)
        topicMessage = .allocate(capacity: 1)
        bodyMessage = .allocate(capacity: 1)
        zmq_msg_init(topicMessage)
        zmq_msg_init(bodyMessage)
        var fd: Int32 = -1
        var size = MemoryLayout<Int32>.size
        if zmq_getsockopt(try output.live("zmq_getsockopt"), ZMQ_FD, &fd, &size) == 0 { outputFD = fd }
        topic.reserveCapacity(300)
        body.reserveCapacity(1 << 16)
    }

    deinit {
        zmq_msg_close(topicMessage)
        zmq_msg_close(bodyMessage)
        topicMessage.deallocate()
        bodyMessage.deallocate()
    }

    public func close() {
        input.close()
        output.close()
    }

    /// Waits for a `$sys` heartbeat: proof that both subscriptions reached the daemon.
    public func waitForHeartbeat(timeout: Double) throws {
        let deadline = loadClockNanos() + UInt64(timeout * 1e9)
        let sys = Array(OutputEncoder.systemTopic.utf8)
        var scanner = AnswerScanner()
        while loadClockNanos() < deadline {
            while try receiveFrames() {
                let topic = UnsafeRawBufferPointer(start: zmq_msg_data(topicMessage), count: zmq_msg_size(topicMessage))
                guard topic.elementsEqual(sys) else { continue }
                let body = UnsafeRawBufferPointer(start: zmq_msg_data(bodyMessage), count: zmq_msg_size(bodyMessage))
                if scanner.scan(body), scanner.kind == .heartbeat {
                    // The input connection gets the same moment to settle.
                    usleep(50_000)
                    return
                }
            }
            waitForOutput(until: deadline)
        }
        throw ClientError("no heartbeat from the daemon within \(Int(timeout)) s")
    }

    // MARK: Running

    /// Runs one phase and returns what it measured and verified. `edge` is called when the
    /// measurement interval starts (true) and ends (false), e.g. to sample CPU times.
    public func run(_ phase: LoadPhase, edge: (Bool) -> Void = { _ in }) throws -> LoadResult {
        runs += 1
        let runPrefix = Array("\(prefix)\(runs).".utf8)
        let N = phase.streams, K = phase.tokensPerMessage, W = phase.window
        var acc = LoadAccounting(streams: N, window: W, words: words)
        var result = LoadResult(phase: phase)
        var credits = CreditRing(capacity: phase.mode == .saturated ? N * W : 0)

        let start = loadClockNanos()
        if phase.mode != .open {
            acc.measureStart = start + UInt64(phase.warmup * 1e9)
            acc.measureEnd = acc.measureStart + UInt64(phase.duration * 1e9)
        }
        var lateness: [UInt64] = []
        var inWindow = false
        func checkEdge(_ now: UInt64) {
            if !inWindow && now >= acc.measureStart && now < acc.measureEnd {
                inWindow = true
                edge(true)
            }
        }

        switch phase.mode {
        case .saturated:
            for _ in 0..<W { for s in 0..<N { credits.push(s) } }
            while true {
                let now = loadClockNanos()
                if now >= acc.measureEnd { break }
                checkEdge(now)
                let received = try receiveAvailable(&acc, runPrefix: runPrefix, limit: 4096, credits: &credits)
                var sent = 0
                while sent < 512, acc.outstanding < phase.maxOutstanding, let s = credits.pop() {
                    try send(&acc, runPrefix: runPrefix, stream: s, tokens: K, end: false)
                    sent += 1
                }
                if received == 0 && sent == 0 { waitForOutput(until: min(acc.measureEnd, now + 5_000_000)) }
            }

        case .paced(let rate):
            let interval = Double(max(K, 1)) / max(rate, 1e-3) * 1e9    // ns per message
            var scheduled = 0
            while true {
                let now = loadClockNanos()
                if now >= acc.measureEnd { break }
                checkEdge(now)
                let received = try receiveAvailable(&acc, runPrefix: runPrefix, limit: 4096, credits: &credits)
                let due = Int(Double(now - start) / interval) + 1
                var sent = 0
                while scheduled < due && sent < 1024 {
                    let s = scheduled % N
                    let planned = start + UInt64(Double(scheduled) * interval)
                    scheduled += 1
                    if acc.unanswered(s) >= W || acc.outstanding >= phase.maxOutstanding {
                        result.skippedSends += 1
                        continue
                    }
                    let sentAt = try send(&acc, runPrefix: runPrefix, stream: s, tokens: K, end: false)
                    if planned >= acc.measureStart && planned < acc.measureEnd { lateness.append(sentAt &- planned) }
                    sent += 1
                }
                if received == 0 && sent == 0 {
                    let next = start + UInt64(Double(scheduled) * interval)
                    waitForOutput(until: min(acc.measureEnd, next))
                }
            }

        case .open:
            var s = 0
            while s < N {
                _ = try receiveAvailable(&acc, runPrefix: runPrefix, limit: 4096, credits: &credits)
                var sent = 0
                while s < N && sent < 512 && acc.outstanding < phase.maxOutstanding {
                    try send(&acc, runPrefix: runPrefix, stream: s, tokens: K, end: false)
                    s += 1
                    sent += 1
                }
                if sent == 0 { waitForOutput(until: loadClockNanos() + 5_000_000) }
            }
        }

        if inWindow { edge(false) }
        // Drain: no more input; wait for every answer.
        let drainDeadline = loadClockNanos() + UInt64(phase.drainTimeout * 1e9)
        result.drained = try drain(&acc, runPrefix: runPrefix, until: drainDeadline) { $0.outstanding == 0 }
        // End every stream (an empty message with `end`), which releases the lookahead window.
        if phase.endStreams && result.drained {
            var s = 0
            while s < N {
                _ = try receiveAvailable(&acc, runPrefix: runPrefix, limit: 4096, credits: &credits)
                var sent = 0
                while s < N && sent < 512 && acc.outstanding < phase.maxOutstanding {
                    try send(&acc, runPrefix: runPrefix, stream: s, tokens: 0, end: true)
                    s += 1
                    sent += 1
                }
                if sent == 0 { waitForOutput(until: loadClockNanos() + 5_000_000) }
                if loadClockNanos() > drainDeadline { break }
            }
            result.drained = try drain(&acc, runPrefix: runPrefix, until: drainDeadline) {
                $0.outstanding == 0 && $0.endsReceived >= N
            }
        }
        acc.finish(into: &result, start: start, finished: loadClockNanos())
        result.lateness = LatencySummary(nanoseconds: lateness)
        return result
    }

    /// Receives until `done` or the deadline; true if done.
    private func drain(_ acc: inout LoadAccounting, runPrefix: [UInt8], until deadline: UInt64,
                       done: (LoadAccounting) -> Bool) throws -> Bool {
        var none = CreditRing(capacity: 0)
        while !done(acc) {
            let now = loadClockNanos()
            if now >= deadline { return false }
            if try receiveAvailable(&acc, runPrefix: runPrefix, limit: 4096, credits: &none) == 0 {
                waitForOutput(until: min(deadline, now + 20_000_000))
            }
        }
        return true
    }

    // MARK: Messages

    /// Builds and publishes the next message of stream `s`; returns its send time.
    @discardableResult
    private func send(_ acc: inout LoadAccounting, runPrefix: [UInt8], stream s: Int, tokens k: Int, end: Bool) throws -> UInt64 {
        let time = loadClockNanos()
        acc.writeMessage(stream: s, tokens: k, end: end, at: time, into: &body)
        topic.removeAll(keepingCapacity: true)
        topic.append(contentsOf: runPrefix)
        JSONWriter.appendInteger(s, to: &topic)
        _ = try input.send(topic, body)
        return time
    }

    /// Receives one two-frame message into `topicMessage`/`bodyMessage`; false if none waits.
    /// Messages with another frame count are skipped (and counted by the caller as unreadable
    /// through an empty body).
    private func receiveFrames() throws -> Bool {
        let socket = try output.live("zmq_msg_recv")
        while zmq_msg_recv(topicMessage, socket, ZMQ_DONTWAIT) < 0 {
            let code = zmq_errno()
            if code == EINTR { continue }
            if code == EAGAIN { return false }
            throw ZMQError(code: code, call: "zmq_msg_recv")
        }
        guard zmq_msg_more(topicMessage) != 0 else {
            zmq_msg_close(bodyMessage)
            zmq_msg_init(bodyMessage)
            return true
        }
        while zmq_msg_recv(bodyMessage, socket, ZMQ_DONTWAIT) < 0 {
            let code = zmq_errno()
            if code == EINTR { continue }
            throw ZMQError(code: code, call: "zmq_msg_recv")
        }
        if zmq_msg_more(bodyMessage) != 0 {
            // Extra frames: read and drop them; the body is made unreadable on purpose.
            let extra = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
            zmq_msg_init(extra)
            repeat { _ = zmq_msg_recv(extra, socket, ZMQ_DONTWAIT) } while zmq_msg_more(extra) != 0
            zmq_msg_close(extra)
            extra.deallocate()
            zmq_msg_close(bodyMessage)
            zmq_msg_init(bodyMessage)
        }
        return true
    }

    /// Receives and books what is waiting (up to `limit` messages); returns how many. In-order
    /// answers give their stream a credit back when `credits` has room for them.
    private func receiveAvailable(_ acc: inout LoadAccounting, runPrefix: [UInt8], limit: Int, credits: inout CreditRing) throws -> Int {
        var count = 0
        while count < limit, try receiveFrames() {
            count += 1
            let time = loadClockNanos()
            let topic = UnsafeRawBufferPointer(start: zmq_msg_data(topicMessage), count: zmq_msg_size(topicMessage))
            let body = UnsafeRawBufferPointer(start: zmq_msg_data(bodyMessage), count: zmq_msg_size(bodyMessage))
            guard let s = streamNumber(topic, runPrefix: runPrefix, streams: acc.streams) else {
                if topic.count == 4 && topic.elementsEqual(OutputEncoder.systemTopic.utf8) {
                    acc.receiveSystem(body: body)
                } else {
                    acc.verification.foreign += 1
                }
                continue
            }
            if acc.receive(stream: s, body: body, at: time) == .answer && credits.capacity > 0 { credits.push(s) }
        }
        return count
    }

    /// The stream number in a topic of this run, or nil.
    private func streamNumber(_ topic: UnsafeRawBufferPointer, runPrefix: [UInt8], streams: Int) -> Int? {
        let p = runPrefix.count
        guard topic.count > p, topic.count <= p + 9 else { return nil }
        let same = runPrefix.withUnsafeBytes { memcmp($0.baseAddress!, topic.baseAddress!, p) == 0 }
        guard same else { return nil }
        var value = 0
        for i in p..<topic.count {
            let b = topic[i]
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(b - UInt8(ascii: "0"))
        }
        return value < streams ? value : nil
    }

    /// Sleeps until the output socket may have something, or `deadline` (nanoseconds).
    /// Uses the socket's `ZMQ_FD` with `ppoll`, so that waits are finer than `zmq_poll`'s
    /// milliseconds (paced sends) and an answer wakes the generator at once (latency).
    private func waitForOutput(until deadline: UInt64) {
        guard let socket = try? output.live("zmq_getsockopt") else { return }
        var events: Int32 = 0
        var size = MemoryLayout<Int32>.size
        // Reading ZMQ_EVENTS also processes pending commands and re-arms the edge-triggered fd.
        if zmq_getsockopt(socket, ZMQ_EVENTS, &events, &size) == 0 && events & Int32(ZMQ_POLLIN) != 0 { return }
        let now = loadClockNanos()
        guard deadline > now else { return }
        let wait = deadline - now
        if outputFD < 0 {
            usleep(UInt32(min(wait / 1000, 1000)))
            return
        }
        var fds = pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)
        if let ppoll = preciseWait {
            var timeout = timespec(tv_sec: Int(wait / 1_000_000_000), tv_nsec: Int(wait % 1_000_000_000))
            _ = ppoll(&fds, 1, &timeout, nil)
        } else {
            _ = poll(&fds, 1, Int32(max(1, wait / 1_000_000)))
        }
    }
}

/// `ppoll(2)`: like `poll` with a nanosecond timeout. Glibc declares it only under
/// `_GNU_SOURCE`, which Swift's Glibc module does not define, so it is looked up at run time.
private typealias PPoll = @convention(c) (UnsafeMutablePointer<pollfd>?, nfds_t, UnsafePointer<timespec>?, UnsafeRawPointer?) -> Int32
private let preciseWait: PPoll? = {
    guard let symbol = dlsym(nil, "ppoll") else { return nil }   // RTLD_DEFAULT
    return unsafeBitCast(symbol, to: PPoll.self)
}()

/// A FIFO of stream numbers that may send (saturated runs): each in-order answer gives its
/// stream one credit back, so each stream keeps at most `window` messages unanswered and the
/// streams take turns fairly.
struct CreditRing {
    private var slots: [Int32]
    private var head = 0
    private var count = 0

    init(capacity: Int) { slots = Array(repeating: 0, count: capacity) }

    var capacity: Int { slots.count }

    mutating func push(_ stream: Int) {
        guard count < slots.count else { return }
        slots[(head + count) % slots.count] = Int32(stream)
        count += 1
    }

    mutating func pop() -> Int? {
        guard count > 0 else { return nil }
        let value = slots[head]
        head = (head + 1) % slots.count
        count -= 1
        return Int(value)
    }
}
