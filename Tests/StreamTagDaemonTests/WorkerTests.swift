import Foundation
import Testing
@testable import StreamTagCore
@testable import StreamTagDaemon
@testable import StreamTagWire

@Suite struct WorkerTests {
    static let texts: [[String]] = [
        ["the", "cat", "sat", "on", "the", "mat", "."],
        ["a", "dog", "ran", "Fast", "!", "?"],
        ["x"],
        Array(repeating: ["the", "dog", "sat", "on", "a", "cat"], count: 9).flatMap { $0 },
    ]

    /// Interleaved streams, messages of 1..7 tokens, ending with `end`: the tags equal what the
    /// offline tagger gives each text as one sequence.
    @Test(arguments: [0, 2])
    func streamedTagsEqualOfflineTags(lookahead: Int) throws {
        let model = try testModel(lookahead: lookahead)
        let h = WorkerHarness(model: model)
        var offsets = Array(repeating: 0, count: Self.texts.count)
        var seqs = Array(repeating: UInt64(100), count: Self.texts.count)
        var size = 1
        while offsets.enumerated().contains(where: { $0.element < Self.texts[$0.offset].count }) {
            for (s, text) in Self.texts.enumerated() where offsets[s] < text.count {
                let n = min(size, text.count - offsets[s])
                let chunk = Array(text[offsets[s]..<(offsets[s] + n)])
                offsets[s] += n
                h.send("s\(s)", seqs[s], chunk, end: offsets[s] == text.count)
                seqs[s] += 1
                size = size % 7 + 1
            }
            h.worker.runOnce()      // interleave steps with arrivals
        }
        h.worker.runUntilIdle()
        var tagger = SequenceTagger(model: model)
        let offline = tagger.tag(Self.texts)
        for (s, text) in Self.texts.enumerated() {
            let streamed = h.finals("s\(s)")
            #expect(streamed.map(\.0) == Array(0..<text.count), "positions in order, each once")
            #expect(streamed.map(\.1) == text, "tokens echoed")
            #expect(streamed.map(\.2) == offline[s].map { model.tags[Int($0.tag)] }, "stream \(s)")
            // One answer per message, in seq order, then `end`.
            let answers = h.published.filter { $0.stream == "s\(s)" && $0.json["type"] as? String == "tags" }
            #expect(answers.map { $0.json["seq"] as! Int } == Array(100..<(100 + answers.count)))
        }
        #expect(h.worker.streamCount == 0)
    }

    @Test func resetFlushesTheWindowIntoThatAnswer() throws {
        let model = try testModel(lookahead: 2)
        let h = WorkerHarness(model: model)
        h.send("a", 1, ["the", "cat", "sat"])
        h.send("a", 2, ["on", "the"], reset: true)
        h.worker.runUntilIdle()
        let answers = h.published.filter { $0.json["type"] as? String == "tags" }
        #expect(answers.count == 2)
        // Message 1 releases position 0; message 2 releases 1 and 2 (flushed by the reset),
        // and its own tokens start again at position 0 (still waiting: k = 2).
        #expect((answers[0].json["tags"] as! [[String: Any]]).map { $0["i"] as! Int } == [0])
        #expect((answers[1].json["tags"] as! [[String: Any]]).map { $0["i"] as! Int } == [1, 2])
        let partial = answers[1].json["partial"] as! [[String: Any]]
        #expect(partial.map { $0["i"] as! Int } == [0, 1])
        #expect(partial.map { $0["token"] as! String } == ["on", "the"])
    }
}
