import Testing
import StreamTagDaemon

/// Speed of the wire code, for release builds only:
///
///     STREAMTAG_WIRE_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter WireBenchTests
///
/// Disabled otherwise: debug timings mean nothing and the loops would slow the suite down.
@Suite(.enabled(if: wireBenchEnabled)) struct WireBenchTests {
    static let streamID = Array("sensor-feed/42".utf8)

    /// Fastest batch of `iterations / 100` calls among 100 batches, in ns per call. Short
    /// batches and the minimum make the figure robust to other processes sharing the cores.
    static func measure(_ name: String, iterations: Int, _ body: () -> Int) -> Double {
        // STREAMTAG_WIRE_BENCH_ONLY=text runs only the cases whose name contains it (for profiling).
        if let only = getenv("STREAMTAG_WIRE_BENCH_ONLY").map({ String(cString: $0) }), !name.contains(only) { return 0 }
        let batch = max(iterations / 100, 1)
        var best = Double.infinity
        var sink = 0
        for _ in 0..<100 {
            let start = ContinuousClock.now
            for _ in 0..<batch { sink &+= body() }
            let elapsed = ContinuousClock.now - start
            let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            best = min(best, ns / Double(batch))
        }
        print("wire bench: \(name): \(String(format: "%.1f", best)) ns (sink \(sink & 1))")
        return best
    }

    static func parseBench(_ name: String, _ text: String, iterations: Int) {
        var parser = InputParser()
        let frames = [streamID, Array(text.utf8)]
        #expect(parser.parse(frames: frames).successValue != nil)
        _ = measure(name, iterations: iterations) {
            switch parser.parse(frames: frames) {
            case .success(let m): m.tokens.count
            case .failure: -1
            }
        }
    }

    @Test func parse() {
        Self.parseBench("parse, 8 tokens", #"{"seq":123456,"tokens":["The","quick","brown","fox","jumped","over","the","fence"]}"#, iterations: 1_000_000)
        Self.parseBench("parse, 1 token", #"{"seq":123457,"tokens":["dog"]}"#, iterations: 2_000_000)
        Self.parseBench("parse, 8 tokens + unknown key", #"{"seq":123456,"ts":1733000000123,"tokens":["The","quick","brown","fox","jumped","over","the","fence"]}"#, iterations: 1_000_000)
        Self.parseBench("parse, 1 token + end", #"{"seq":123457,"tokens":["dog"],"end":true}"#, iterations: 2_000_000)
        Self.parseBench("parse, 8 tokens with escapes and non-ASCII",
                        #"{"seq":123456,"tokens":["\"Quoted\"","naïve","caf\u00e9","日本","😀","a\\b","x","enormously-long-token"]}"#, iterations: 1_000_000)
        let many = (0..<64).map { "\"token\($0)\"" }.joined(separator: ",")
        Self.parseBench("parse, 64 tokens", "{\"seq\":1,\"tokens\":[\(many)]}", iterations: 200_000)
        Self.parseBench("parse, no tokens", #"{"seq":99}"#, iterations: 2_000_000)
        var parser = InputParser()
        let bad = [Self.streamID, Array(#"{"seq":1,"tokens":["a",]}"#.utf8)]
        _ = Self.measure("reject bad_json", iterations: 1_000_000) { parser.parse(frames: bad).failureValue?.message.count ?? 0 }
    }

    @Test func encode() {
        let words = ["The", "quick", "brown", "fox", "jumped", "over", "the", "fence"]
        let tags = words.enumerated().map { OutputTag(i: 1000 + $0.offset, token: $0.element, tag: "NOUN", p: 0.98765) }
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        _ = Self.measure("encode tags, 8", iterations: 1_000_000) {
            out.removeAll(keepingCapacity: true)
            OutputEncoder.encodeTags(seq: 123456, model: "en-ewt-upos@3f2a9c1e07b4", tags: tags, into: &out)
            return out.count
        }
        let one = Array(tags.prefix(1))
        _ = Self.measure("encode tags, 1", iterations: 2_000_000) {
            out.removeAll(keepingCapacity: true)
            OutputEncoder.encodeTags(seq: 123456, model: "en-ewt-upos@3f2a9c1e07b4", tags: one, into: &out)
            return out.count
        }
        _ = Self.measure("encode gap event", iterations: 2_000_000) {
            out.removeAll(keepingCapacity: true)
            OutputEncoder.encode(.gap(expected: 42, received: 45), into: &out)
            return out.count
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private let wireBenchEnabled: Bool = {
    #if DEBUG
    false
    #else
    getenv("STREAMTAG_WIRE_BENCH").map { String(cString: $0) } == "1"
    #endif
}()
