import Foundation
import StreamTagWire
import StreamTagClient

/// The streams of a fault drill or soak, driven through `StreamClient` and checked answer by
/// answer (`DrillCheck` says what is verified). One thread. Every message of a stream carries
/// the same number of tokens T, so message `seq` holds positions seq·T ..< (seq+1)·T and the
/// word at a position is a function of the stream and the position: a message can be sent
/// again, byte for byte, after a restart.
final class DrillStreams {
    enum Fate {
        /// The last planned message carries `end: true`.
        case end
        /// The stream falls silent after its planned messages: the daemon evicts it (`idle`).
        case idle
    }

    struct Stream {
        let id: String
        var planned: Int
        let fate: Fate
        /// Highest seq sent + 1 (over every daemon lifetime).
        var sent = 0
        var nextSeq = 0
        /// Next seq whose answer is expected in this daemon lifetime.
        var answered = 0
        /// No answer yet since the kill: the first may repeat a seq (restored queued input), up to
        /// `firstAnswerBound` (the restored position's message). `answeredBeforeKill`: at the kill.
        var lifetimeOpen = false, firstAnswerBound = Int.max, answeredBeforeKill = 0
        /// Next final position expected in this daemon lifetime; nil until the first one.
        var lifetimeNext: Int?
        /// Positions 0 ..< confirmed have a final tag (kept in `tags` until the stream is done).
        var confirmed = 0
        var tags: [Int32] = []
        var ends = 0
        var evicted = 0
        var lastAnswer = 0.0
        var done = false
        var sendingDone: Bool { nextSeq >= planned }
    }

    let client: StreamClient
    let prefix: String
    let words: [String]
    let tokensPerMessage: Int
    /// The model's lookahead: an evicted stream may leave this many positions untagged.
    let lookahead: Int
    /// Every stream of the run (the restart helpers in FaultBenchStreams+Restart.swift rewind them).
    var streams: [Stream] = []
    private var index: [String: Int] = [:]
    private var tagNames: [String: Int32] = [:]
    var check = DrillCheck()
    /// `$sys` events by name (heartbeats too).
    private(set) var system: [String: Int] = [:]
    /// The models of `model_loaded` events, in order.
    private(set) var loadedModels: [String] = []
    private(set) var messagesSent = 0
    private(set) var answers = 0
    /// Events that are expected in this drill (counted in `check.allowed`, not as problems).
    var allowedEvents: Set<String> = []
    /// Streams not yet done (and some done ones, until the next compaction), for `sendSome`.
    private(set) var active: [Int] = []
    /// Streams not yet done: still expecting something (an answer, an end, an eviction).
    private(set) var openCount = 0
    /// Round-robin cursor over `active`.
    private var cursor = 0

    init(client: StreamClient, prefix: String, words: [String], tokensPerMessage: Int, lookahead: Int) throws {
        self.client = client
        self.prefix = prefix
        self.words = words.isEmpty ? ["word"] : words
        self.tokensPerMessage = max(1, tokensPerMessage)
        self.lookahead = lookahead
        try client.follow(prefix)
    }

    @discardableResult
    func addStream(planned: Int, fate: Fate) -> Int {
        let number = streams.count
        let id = "\(prefix)\(number)"
        streams.append(Stream(id: id, planned: max(1, planned), fate: fate, lastAnswer: monotonicSeconds()))
        index[id] = number
        active.append(number)
        openCount += 1
        return number
    }

    func word(stream: Int, position: Int) -> String { words[(stream &* 7919 &+ position) % words.count] }

    /// Sends the next message of stream `s`.
    func send(_ s: Int) throws {
        let seq = streams[s].nextSeq
        let T = tokensPerMessage
        let tokens = (seq * T ..< (seq + 1) * T).map { word(stream: s, position: $0) }
        let end = streams[s].fate == .end && seq == streams[s].planned - 1
        try client.publish(stream: streams[s].id, seq: UInt64(seq), tokens: tokens, end: end)
        streams[s].nextSeq += 1
        streams[s].sent = max(streams[s].sent, streams[s].nextSeq)
        messagesSent += 1
    }

    /// Sends up to `count` messages round-robin over the streams still sending, at most
    /// `window` unanswered per stream; returns how many went out.
    func sendSome(_ count: Int, window: Int) throws -> Int {
        if active.count > 64 && active.count > 2 * openCount { active.removeAll { streams[$0].done } }
        var sent = 0, visited = 0
        while sent < count && visited < active.count {
            cursor = (cursor + 1) % active.count
            visited += 1
            let s = streams[active[cursor]]
            guard !s.done, !s.sendingDone, s.nextSeq - s.answered < window else { continue }
            try send(active[cursor])
            sent += 1
            visited = 0
        }
        return sent
    }

    /// Streams not done that still have messages to send.
    var sendingCount: Int { active.reduce(0) { $0 + (streams[$1].done || streams[$1].sendingDone ? 0 : 1) } }

    /// Receives and books everything that arrives within `timeout` s (at least one wait).
    func pump(timeout: Double) throws {
        let deadline = monotonicSeconds() + timeout
        while true {
            guard let m = try client.receive(timeout: max(0, deadline - monotonicSeconds())) else { return }
            book(m)
            if monotonicSeconds() >= deadline { break }
        }
        // Whatever is queued already.
        while let m = try client.receive(timeout: 0) { book(m) }
    }

    /// Receives until a `$sys` heartbeat arrives (booking everything else); false on timeout.
    func waitForHeartbeat(timeout: Double) throws -> Bool {
        let before = system["heartbeat", default: 0]
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            try pump(timeout: 0.1)
            if system["heartbeat", default: 0] > before { return true }
        }
        return false
    }

    /// Messages sent and not answered in this lifetime.
    var unanswered: Int { active.reduce(0) { $0 + (streams[$1].done ? 0 : streams[$1].nextSeq - streams[$1].answered) } }

    // MARK: booking

    private func book(_ m: StreamClient.Received) {
        if m.topic == probeID {
            if m.type == "tags", case .integer(let seq)? = m.body["seq"] { probeAnswered = max(probeAnswered, seq) }
            return
        }
        if m.topic == "$sys" {
            system[m.event ?? "message", default: 0] += 1
            if m.event == "model_loaded", case .string(let model)? = m.body["model"] { loadedModels.append(model) }
            return
        }
        guard let s = index[m.topic] else {
            if m.topic.hasPrefix(prefix) { check.foreign += 1 }
            return
        }
        if m.type == "tags" {
            bookTags(s, m.body)
            return
        }
        let event = m.event ?? "unknown"
        switch event {
        case "end":
            streams[s].ends += 1
            if streams[s].ends > 1 { check.endsRepeated += 1 }
            if case .integer(let n)? = m.body["tokens"], n != streams[s].sent * tokensPerMessage { check.endCountMismatches += 1 }
            finish(s)
        case "evicted" where streams[s].fate == .idle && allowedEvents.contains("evicted"):
            streams[s].evicted += 1
            check.allowed["evicted", default: 0] += 1
            finish(s)
        default:
            if allowedEvents.contains(event) {
                check.allowed[event, default: 0] += 1
            } else {
                check.events[event, default: 0] += 1
            }
        }
    }

    private func bookTags(_ s: Int, _ body: JSONValue) {
        answers += 1
        streams[s].lastAnswer = monotonicSeconds()
        guard case .integer(let seq)? = body["seq"] else {
            check.unreadable += 1
            return
        }
        if seq < streams[s].answeredBeforeKill { check.answersAgain += 1 }
        if streams[s].lifetimeOpen {
            // First answer since the kill: restored queued input runs first
            // (docs/concepts.md#streams-batching-persistence), so it may repeat a seq answered
            // before; then in order.
            streams[s].lifetimeOpen = false
            if seq > streams[s].firstAnswerBound { check.answersOutOfOrder += 1 }
            streams[s].answered = seq + 1
        } else if seq == streams[s].answered {
            streams[s].answered += 1
        } else {
            check.answersOutOfOrder += 1
            streams[s].answered = max(streams[s].answered, seq + 1)
        }
        guard case .array(let tags)? = body["tags"] else { return }
        for tag in tags {
            guard case .integer(let i)? = tag["i"], case .string(let token)? = tag["token"], case .string(let name)? = tag["tag"] else {
                check.unreadable += 1
                continue
            }
            bookFinal(s, position: i, token: token, tag: name)
        }
    }

    private func bookFinal(_ s: Int, position i: Int, token: String, tag: String) {
        if token != word(stream: s, position: i) { check.tokenMismatches += 1 }
        let code = tagNames[tag] ?? {
            let c = Int32(tagNames.count)
            tagNames[tag] = c
            return c
        }()
        // Order within this daemon lifetime.
        if let expected = streams[s].lifetimeNext {
            if i > expected { check.positionsSkipped += i - expected }
            if i < expected { check.positionsRepeated += 1 }
        }
        streams[s].lifetimeNext = i + 1
        // Against everything delivered before (earlier lifetimes included).
        let confirmed = streams[s].confirmed
        if i < confirmed {
            if streams[s].done || streams[s].tags.count <= i { return }
            if streams[s].tags[i] == -1 {
                // A position counted lost that came after all.
                check.positionsLost -= 1
                streams[s].tags[i] = code
            } else if streams[s].tags[i] == code {
                check.redelivered += 1
            } else {
                check.redeliveredChanged += 1
            }
        } else {
            if i > confirmed {
                // Released before the snapshot the daemon restarted from, never received.
                check.positionsLost += i - confirmed
                streams[s].tags.append(contentsOf: repeatElement(-1, count: i - confirmed))
            }
            streams[s].tags.append(code)
            streams[s].confirmed = i + 1
        }
    }

    /// A stream's last event: checks it is complete and frees its tags.
    private func finish(_ s: Int) {
        guard !streams[s].done else { return }
        let r = streams[s]
        let total = r.sent * tokensPerMessage
        check.answersMissing += max(0, r.sent - r.answered)
        if r.fate == .end || r.evicted == 0 {
            check.positionsMissing += max(0, total - r.confirmed)
        } else {
            // Eviction does not release the lookahead window.
            check.positionsMissing += max(0, total - lookahead - r.confirmed)
        }
        streams[s].done = true
        streams[s].tags = []
        openCount -= 1
        check.streamsCompleted += 1
    }

    // MARK: restarts

    private var probeSeq = 0
    private var probeAnswered = -1
    var probeID: String { prefix + "probe" }

    /// Sends probe messages (no tokens) on a stream of its own until one is answered: proof
    /// that this client's input connection reaches the daemon (after a restart, ZeroMQ
    /// reconnects on its own schedule, and a message sent before that is lost, which would
    /// make the next one a gap).
    func probe(timeout: Double) throws -> Bool {
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            let seq = probeSeq
            probeSeq += 1
            try client.publish(stream: probeID, seq: UInt64(seq), tokens: [])
            let wait = monotonicSeconds() + 0.2
            while monotonicSeconds() < wait {
                try pump(timeout: 0.02)
                if probeAnswered >= seq { return true }
            }
        }
        return false
    }
}
