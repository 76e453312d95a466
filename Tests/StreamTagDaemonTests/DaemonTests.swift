import Foundation
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagWire
@testable import StreamTagZMQ

/// The daemon over real loopback sockets.
@Suite(.serialized) struct DaemonTests {
    static let words = ["the", "cat", "sat", "on", "a", "mat", ".", "dog", "ran", "Fast", "unknown-word", "2024"]

    /// Deterministic pseudo-random texts.
    static func texts(_ count: Int, seed: UInt64) -> [[String]] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in (0..<(5 + Int(rng.next() % 120))).map { _ in words[Int(rng.next() % UInt64(words.count))] } }
    }

    /// With `batch_wait` the first step after an idle spell waits up to 2 ms for company.
    @Test(arguments: [0, 2], [0, 2])
    func streamedTagsEqualOfflineTags(lookahead: Int, batchWaitMilliseconds: Int) async throws {
        let model = try testModel(lookahead: lookahead)
        try await DaemonHarness.with(model: model, configure: { $0.batching.batchWait = .milliseconds(batchWaitMilliseconds) }) { h in
            let texts = Self.texts(12, seed: UInt64(lookahead + 1))
            // Each text is sent in messages of 1..50 tokens; every fourth stream also resets halfway,
            // so its expected tags are those of the two halves as separate sequences.
            var expectedSequences: [String: [[String]]] = [:]
            var rng = SplitMix64(seed: 9)
            var plan: [(stream: String, seq: UInt64, tokens: [String], reset: Bool, end: Bool)] = []
            for (s, text) in texts.enumerated() {
                let stream = "stream-\(s)"
                let cut = s % 4 == 0 ? text.count / 2 : 0
                expectedSequences[stream] = cut > 0 ? [Array(text[..<cut]), Array(text[cut...])] : [text]
                var offset = 0, seq: UInt64 = 1000
                var cutDone = cut == 0
                while offset < text.count {
                    var n = min(1 + Int(rng.next() % 50), text.count - offset)
                    let reset = !cutDone && offset == cut
                    if reset { cutDone = true }
                    if !cutDone && offset + n > cut { n = cut - offset }
                    let tokens = Array(text[offset..<(offset + n)])
                    offset += tokens.count
                    plan.append((stream, seq, tokens, reset, offset == text.count))
                    seq += 1
                }
            }
            // Interleave the streams' messages, keeping each stream's order.
            var queues = Dictionary(grouping: plan, by: \.stream)
            var order: [String] = queues.keys.sorted()
            while !order.isEmpty {
                for stream in order {
                    let m = queues[stream]!.removeFirst()
                    try h.client.publish(stream: m.stream, seq: m.seq, tokens: m.tokens, reset: m.reset, end: m.end)
                }
                order.removeAll { queues[$0]!.isEmpty }
            }
            let received = try h.collect { all in all.filter { $0.event == "end" }.count == texts.count }
            var tagger = SequenceTagger(model: model)
            for (stream, sequences) in expectedSequences {
                let mine = received.filter { $0.topic == stream }
                let answers = mine.filter { $0.type == "tags" }
                #expect(answers.map(\.seq) == plan.filter { $0.stream == stream }.map { Int($0.seq) }, "one answer per message, in order")
                let finals = answers.flatMap(\.finals)
                let expected = tagger.tag(sequences).map { $0.map { model.tags[Int($0.tag)] } }
                #expect(finals.map(\.2) == expected.flatMap { $0 }, "\(stream) tags")
                #expect(finals.map(\.0) == sequences.flatMap { Array(0..<$0.count) }, "\(stream) positions")
                #expect(finals.map(\.1) == sequences.flatMap { $0 }, "\(stream) tokens echoed")
                #expect(mine.last?.event == "end")
                #expect(mine.allSatisfy { $0.string("model") == nil || $0.string("model") == model.id })
            }
        }
    }

    @Test func malformedInputIsRejectedAndGoodStreamsAreUntouched() async throws {
        let model = try testModel(lookahead: 2)
        try await DaemonHarness.with(model: model) { h in
            let good = ["the", "cat", "sat", "on", "the", "mat", "."]
            let bad: [(frames: [[UInt8]], topic: String, code: String)] = [
                // A usable stream id in frame 1: the frame-count error goes to that stream.
                ([Array("only-one-frame".utf8)], "only-one-frame", "bad_frames"),
                ([Array("a".utf8), Array("{}".utf8), Array("x".utf8)], "a", "bad_frames"),
                ([Array("$three".utf8), Array("{}".utf8), Array("x".utf8)], "$sys", "bad_frames"),
                ([Array(repeating: UInt8(ascii: "x"), count: 300), Array(#"{"seq":1}"#.utf8)], "$sys", "bad_stream_id"),
                ([Array("$evil".utf8), Array(#"{"seq":1}"#.utf8)], "$sys", "bad_stream_id"),
                ([[0xff, 0xfe], Array(#"{"seq":1}"#.utf8)], "$sys", "bad_stream_id"),
                ([Array("bad-json".utf8), Array("{not json".utf8)], "bad-json", "bad_json"),
                ([Array("bad-utf8".utf8), [0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]], "bad-utf8", "bad_json"),
                ([Array("nan".utf8), Array(#"{"seq":1,"x":NaN}"#.utf8)], "nan", "bad_json"),
                ([Array("big".utf8), Array(repeating: UInt8(ascii: " "), count: 1 << 20)], "big", "too_large"),
                ([Array("float-seq".utf8), Array(#"{"seq":1.0}"#.utf8)], "float-seq", "bad_seq"),
                ([Array("string-seq".utf8), Array(#"{"seq":"1"}"#.utf8)], "string-seq", "bad_seq"),
                ([Array("negative-seq".utf8), Array(#"{"seq":-1}"#.utf8)], "negative-seq", "bad_seq"),
                ([Array("huge-seq".utf8), Array(#"{"seq":9007199254740992}"#.utf8)], "huge-seq", "bad_seq"),
                ([Array("numbers".utf8), Array(#"{"seq":1,"tokens":[1,2]}"#.utf8)], "numbers", "bad_tokens"),
                ([Array("null-end".utf8), Array(#"{"seq":1,"end":null}"#.utf8)], "null-end", "bad_field"),
            ]
            for (n, token) in good.enumerated() {
                try h.client.publish(stream: "good", seq: UInt64(n), tokens: [token], end: n == good.count - 1)
                if n < bad.count { try h.client.publishRaw(bad[n].frames) }
            }
            for b in bad.dropFirst(good.count) { try h.client.publishRaw(b.frames) }
            let received = try h.collect { all in
                all.contains { $0.topic == "good" && $0.event == "end" } && all.filter { $0.event == "error" }.count >= bad.count
            }
            let errors = received.filter { $0.event == "error" }
            for b in bad {
                #expect(errors.contains { $0.topic == b.topic && $0.string("code") == b.code }, "\(b.code) on \(b.topic)")
            }
            let finals = received.filter { $0.topic == "good" }.flatMap(\.finals)
            var tagger = SequenceTagger(model: model)
            #expect(finals.map(\.2) == tagger.tag([good])[0].map { model.tags[Int($0.tag)] })
            // Still up and answering.
            #expect(try h.control(["cmd": "status"])["ok"] == .bool(true))
        }
    }

    @Test func controlCommands() async throws {
        let model = try testModel(lookahead: 0)
        try await DaemonHarness.with(model: model) { h in
            try h.client.publish(stream: "a", seq: 1, tokens: ["the", "cat"])
            try h.client.publish(stream: "b", seq: 1, tokens: ["a", "dog"])
            try h.client.publishRaw([Array("c".utf8), Array(#"{"seq":-1,"tokens":["x"]}"#.utf8)])   // bad_seq
            _ = try h.collect { $0.filter { $0.type == "tags" }.count == 2 && $0.contains { $0.event == "error" } }
            let status = try h.control(["cmd": "status"])
            #expect(status["ok"] == .bool(true))
            #expect(status["model"] == .string(model.id))
            #expect(status["streams"] == .integer(2))
            #expect(status["tokens_in"] == .integer(4))
            #expect(status["messages_in"] == .integer(2) && status["errors_in"] == .integer(1))
            #expect(status["output_dropped"] == .integer(0))
            let streams = try h.control(["cmd": "streams", "limit": 1])
            guard case .array(let list)? = streams["streams"] else { Issue.record("no list"); return }
            #expect(list.count == 1)
            #expect(streams["count"] == .integer(2))
            #expect(try h.control(["cmd": "drop", "stream": "a"])["ok"] == .bool(true))
            #expect(try h.control(["cmd": "drop", "stream": "a"])["ok"] == .bool(false))
            let evicted = try h.collect { $0.contains { $0.event == "evicted" } }
            #expect(evicted.contains { $0.topic == "a" && $0.string("reason") == "dropped" })
            let snapshot = try h.control(["cmd": "snapshot"])
            #expect(snapshot["ok"] == .bool(true))
            #expect(snapshot["streams"] == .integer(1))
            #expect(FileManager.default.fileExists(atPath: h.stateDir + "/snapshot.bin"))
            // Malformed requests still get an answer.
            for raw in ["not json", "{}", #"{"cmd":"fly"}"#, #"{"cmd":"drop"}"#] {
                let answer = try controlRaw(raw, endpoint: h.daemon.controlEndpoint)
                #expect(answer["ok"] == .bool(false), "\(raw)")
                if case .string? = answer["error"] {} else { Issue.record("no error text for \(raw)") }
            }
        }
    }

    @Test func snapshotOnStopRestoresOnStart() async throws {
        let model = try testModel(lookahead: 2)
        let text = Self.texts(1, seed: 5)[0]
        let cut = text.count / 2
        // Uninterrupted.
        let expected = try await DaemonHarness.with(model: model) { whole in
            try whole.client.publish(stream: "s", seq: 1, tokens: Array(text[..<cut]))
            try whole.client.publish(stream: "s", seq: 2, tokens: Array(text[cut...]), end: true)
            return try whole.collect { $0.contains { $0.event == "end" } }.filter { $0.topic == "s" }.flatMap(\.finals)
        }
        // Stopped after the first half, restarted from the snapshot in the same state dir.
        let (firstHalf, stateDir) = try await DaemonHarness.with(model: model) { first in
            try first.client.publish(stream: "s", seq: 1, tokens: Array(text[..<cut]))
            let got = try first.collect { $0.contains { $0.type == "tags" } }.filter { $0.topic == "s" }.flatMap(\.finals)
            try await first.stop(removeStateDir: false)
            return (got, first.stateDir)
        }
        var got = firstHalf
        try await DaemonHarness.with(model: model, configure: { $0.stateDir = stateDir }) { second in
            try second.client.publish(stream: "s", seq: 2, tokens: Array(text[cut...]), end: true)
            got += try second.collect { $0.contains { $0.event == "end" } }.filter { $0.topic == "s" }.flatMap(\.finals)
            #expect(got.map(\.0) == expected.map(\.0))
            #expect(got.map(\.2) == expected.map(\.2))
        }
    }
}

/// Sequence and lifecycle rules over real sockets.
@Suite(.serialized) struct DaemonStreamRuleTests {
    @Test func gapsDuplicatesEndGraceAndEvictions() async throws {
        let model = try testModel(lookahead: 1)
        let layoutBytes = StateLayout(config: model.config).bytes
        try await DaemonHarness.with(model: model, configure: { config in
            config.streams.idleTimeout = .milliseconds(300)
            config.streams.endGrace = .seconds(30)
            config.batching.workers = 1
            config.streams.maxStateBytes = 3 * layoutBytes     // three streams fit
        }) { h in
            let c = h.client
            try c.publish(stream: "g", seq: 1, tokens: ["the"])
            try c.publish(stream: "g", seq: 4, tokens: ["cat"])          // gap
            try c.publish(stream: "g", seq: 4, tokens: ["cat"])          // duplicate
            try c.publish(stream: "g", seq: 5, tokens: ["sat"], end: true)
            try c.publish(stream: "g", seq: 5, tokens: ["sat"], end: true)  // resent after end: duplicate
            var got = try h.collect { $0.filter { $0.topic == "g" && $0.event == "duplicate" }.count == 2 }.filter { $0.topic == "g" }
            let kinds = got.map { $0.type == "tags" ? "tags \($0.seq!)" : $0.event! }
            #expect(kinds == ["tags 1", "gap", "tags 4", "duplicate", "tags 5", "end", "duplicate"])
            #expect(got[1].body["expected"] == .integer(2) && got[1].body["received"] == .integer(4))
            #expect(got[3].body["seq"] == .integer(4) && got[3].body["last"] == .integer(4))
            // Positions continue across the gap: the, cat, sat = 0, 1, 2.
            #expect(got.flatMap(\.finals).map(\.0) == [0, 1, 2])

            // Memory cap: a fourth stream evicts the least recently fed one.
            for (n, s) in ["m1", "m2", "m3"].enumerated() {
                try c.publish(stream: s, seq: 1, tokens: ["a"])
                _ = try h.collect { $0.contains { $0.topic == s && $0.type == "tags" } }
                _ = n
            }
            try c.publish(stream: "m4", seq: 1, tokens: ["a"])
            got = try h.collect { $0.contains { $0.event == "evicted" } }
            #expect(got.contains { $0.topic == "m1" && $0.event == "evicted" && $0.string("reason") == "memory" })

            // Idle: everything left goes after 300 ms without input.
            got = try h.collect(timeout: 5) { $0.filter { $0.event == "evicted" && $0.string("reason") == "idle" }.count >= 3 }
            #expect(Set(got.filter { $0.string("reason") == "idle" }.map(\.topic)) == ["m2", "m3", "m4"])
            #expect(try h.control(["cmd": "status"])["streams"] == .integer(0))
        }
    }
}
