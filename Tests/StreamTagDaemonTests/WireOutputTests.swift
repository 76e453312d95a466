import Foundation
import Testing
@testable import StreamTagDaemon
@testable import StreamTagWire

/// Output messages (docs/protocol.md#the-tags-answer, #events): exact bytes, and validity proven by parsing them back with
/// Foundation's JSONSerialization and with our own strict parser.
@Suite struct WireOutputTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Parses with Foundation (an independent parser) and checks our strict parser agrees it is valid.
    private func foundationObject(_ bytes: [UInt8]) throws -> [String: Any] {
        #expect(JSONValue.parse(bytes).successValue != nil, "our parser refused \(text(bytes))")
        let object = try JSONSerialization.jsonObject(with: Data(bytes))
        return try #require(object as? [String: Any])
    }

    @Test func tagsMessageMatchesTheSpecExample() {
        var out: [UInt8] = []
        OutputEncoder.encodeTags(seq: 41, model: "en-ewt-upos@3f2a9c1e07b4",
                                 tags: [OutputTag(i: 17, token: "The", tag: "DET", p: 0.99123)], into: &out)
        #expect(text(out) == #"{"type":"tags","seq":41,"model":"en-ewt-upos@3f2a9c1e07b4","tags":[{"i":17,"token":"The","tag":"DET","p":0.9912}]}"#)

        out.removeAll(keepingCapacity: true)
        OutputEncoder.encodeTags(seq: 41, model: "m@1", tags: [OutputTag](),
                                 partial: [OutputTag(i: 19, token: "sat", tag: "VERB", p: 0.62),
                                           OutputTag(i: 20, token: ".", tag: "PUNCT", p: 1)], into: &out)
        #expect(text(out) == #"{"type":"tags","seq":41,"model":"m@1","tags":[],"partial":[{"i":19,"token":"sat","tag":"VERB","p":0.62},{"i":20,"token":".","tag":"PUNCT","p":1}]}"#)
    }

    @Test func encodingAppendsToTheBuffer() {
        var out = Array("x".utf8)
        OutputEncoder.encode(.reset(reason: .gap), into: &out)
        #expect(text(out) == #"x{"type":"event","event":"reset","reason":"gap"}"#)
    }

    @Test(arguments: [
        (0.99123, "0.9912"), (0.99126, "0.9913"), (1.0, "1"), (0.99996, "1"), (0.5, "0.5"), (0.12, "0.12"),
        (0.1, "0.1"), (0.01, "0.01"), (0.0001, "0.0001"), (0.00006, "0.0001"), (0.00004, "0"), (0.0, "0"),
        (-0.0, "0"), (1e-300, "0"), (-0.3, "0"), (1.7, "1"), (.nan, "0"), (.infinity, "1"), (-.infinity, "0"),
        (0.49999999999999994 / 10_000, "0"), (0.00005, "0.0001"), (0.99995, "1"), (0.12345, "0.1235"),
        (0.3333333, "0.3333"), (0.6666666, "0.6667"), (0.1234, "0.1234"), (0.1230, "0.123"), (0.9, "0.9"),
    ] as [(Double, String)])
    func probability(_ p: Double, _ expected: String) {
        var out: [UInt8] = []
        JSONWriter.appendProbability(p, to: &out)
        #expect(text(out) == expected)
    }

    @Test func everyProbabilityIsAValidShortNumber() throws {
        // All 10,001 rounded values: no exponent, no trailing zero, and they read back exactly.
        for units in 0...10_000 {
            var out: [UInt8] = []
            JSONWriter.appendProbability(Double(units) / 10_000, to: &out)
            let s = text(out)
            #expect(!s.contains("e") && !s.contains("E"))
            #expect(s == "0" || s == "1" || (s.hasPrefix("0.") && !s.hasSuffix("0") && s.count <= 6), "\(s)")
            #expect(Double(s).map { ($0 * 10_000).rounded() } == Double(units), "\(units) → \(s)")
        }
    }

    @Test func probabilityRoundingMatchesRoundedHalfAwayFromZero() {
        // Random values and values just around every tie: same result as Double.rounded().
        var rng = WireRandom(seed: 9)
        var values = (0..<20_000).map { _ in Double(rng.next() >> 11) / Double(1 << 53) }
        for units in stride(from: 0, through: 10_000, by: 7) {
            let tie = (Double(units) + 0.5) / 10_000
            values += [tie, tie.nextUp, tie.nextDown]
        }
        for p in values {
            var out: [UInt8] = []
            JSONWriter.appendProbability(p, to: &out)
            let expected = Int((p * 10_000).rounded())
            #expect(Double(text(out)).map { Int(($0 * 10_000).rounded()) } == expected, "\(p)")
        }
    }

    @Test func everyControlCharacterIsEscaped() throws {
        let controls = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        let tricky = "q\"b\\s/ é 日本 😀 \u{7f} \u{2028}" + controls
        var out: [UInt8] = []
        OutputEncoder.encodeTags(seq: 1, model: "m", tags: [OutputTag(i: 0, token: tricky, tag: "X", p: 0.5)], into: &out)
        let json = text(out)
        for c in 0..<0x20 { #expect(json.contains(String(format: "\\u%04x", c))) }
        #expect(!out.contains { $0 < 0x20 }, "no raw control byte")
        #expect(json.contains(#"q\"b\\s/ é 日本 😀"#), "non-ASCII passes through as UTF-8")

        let object = try foundationObject(out)
        let tags = try #require(object["tags"] as? [[String: Any]])
        #expect(tags.first?["token"] as? String == tricky)
    }

    @Test func tagsRoundTripThroughFoundation() throws {
        let tags = [OutputTag(i: 0, token: "The", tag: "DET", p: 0.9912), OutputTag(i: 1, token: "\"cat\"", tag: "NOUN", p: 0.0001),
                    OutputTag(i: 9_007_199_254_740_991, token: "\\", tag: "X", p: 0)]
        var out: [UInt8] = []
        OutputEncoder.encodeTags(seq: 9_007_199_254_740_991, model: "a@b", tags: tags, partial: tags.prefix(1), into: &out)
        let object = try foundationObject(out)
        #expect(object["type"] as? String == "tags")
        #expect((object["seq"] as? NSNumber)?.uint64Value == 9_007_199_254_740_991)
        let decoded = try #require(object["tags"] as? [[String: Any]])
        #expect(decoded.map { $0["token"] as? String } == tags.map(\.token))
        #expect(decoded.map { ($0["i"] as? NSNumber)?.intValue } == tags.map(\.i))
        #expect(decoded.map { ($0["p"] as? NSNumber)?.doubleValue } == tags.map(\.p))
        #expect((object["partial"] as? [Any])?.count == 1)
    }

    static let events: [(OutputEvent, String)] = [
        (.error(code: .badTokens, message: "tokens[3] is 1,300 bytes; the limit is 1,024", seq: 41),
         #"{"type":"event","event":"error","code":"bad_tokens","message":"tokens[3] is 1,300 bytes; the limit is 1,024","seq":41}"#),
        (.error(code: .badFrames, message: "say \"hi\"\n", seq: nil),
         #"{"type":"event","event":"error","code":"bad_frames","message":"say \"hi\"\u000a"}"#),
        (.gap(expected: 42, received: 45), #"{"type":"event","event":"gap","expected":42,"received":45}"#),
        (.duplicate(seq: 40, last: 41), #"{"type":"event","event":"duplicate","seq":40,"last":41}"#),
        (.reset(reason: .request), #"{"type":"event","event":"reset","reason":"request"}"#),
        (.reset(reason: .gap), #"{"type":"event","event":"reset","reason":"gap"}"#),
        (.reset(reason: .model), #"{"type":"event","event":"reset","reason":"model"}"#),
        (.end(tokens: 120), #"{"type":"event","event":"end","tokens":120}"#),
        (.evicted(reason: .idle), #"{"type":"event","event":"evicted","reason":"idle"}"#),
        (.evicted(reason: .memory), #"{"type":"event","event":"evicted","reason":"memory"}"#),
        (.evicted(reason: .dropped), #"{"type":"event","event":"evicted","reason":"dropped"}"#),
        (.model(from: "a@1", to: "b@2"), #"{"type":"event","event":"model","from":"a@1","to":"b@2"}"#),
        (.started(model: "a@1"), #"{"type":"event","event":"started","model":"a@1"}"#),
        (.stopping(model: "a@1"), #"{"type":"event","event":"stopping","model":"a@1"}"#),
        (.modelLoaded(model: "b@2", previous: "a@1"), #"{"type":"event","event":"model_loaded","model":"b@2","previous":"a@1"}"#),
        (.modelLoaded(model: "b@2", previous: nil), #"{"type":"event","event":"model_loaded","model":"b@2","previous":null}"#),
        (.modelRejected(path: "/m/x.safetensors", reason: "bad header"),
         #"{"type":"event","event":"model_rejected","path":"/m/x.safetensors","reason":"bad header"}"#),
        (.heartbeat(model: "a@1", streams: 3, instance: 42), #"{"type":"event","event":"heartbeat","model":"a@1","streams":3,"instance":42}"#),
    ]

    @Test func everyEventEncodesExactlyAndValidly() throws {
        for (event, expected) in Self.events {
            let bytes = OutputEncoder.encoded(event)
            #expect(text(bytes) == expected)
            let object = try foundationObject(bytes)
            #expect(object["type"] as? String == "event")
            #expect(object["event"] as? String == event.name)
        }
    }

    @Test func codeNamesMatchRawValues() {
        for code in WireErrorCode.allCases {
            #expect(code.staticName.description == code.rawValue)
            #expect(text(OutputEncoder.encoded(.error(code: code, message: "m", seq: nil))).contains("\"code\":\"\(code.rawValue)\""))
        }
    }

    @Test func worstCaseStringsFitTheirBounds() throws {
        // Every byte a control character: each becomes six bytes, the bound's worst case.
        let nasty = String(repeating: "\u{1}", count: 1024)
        var out: [UInt8] = []
        OutputEncoder.encodeTags(seq: UInt64.max, model: nasty, tags: [OutputTag(i: Int.min, token: nasty, tag: nasty, p: 0.1234)],
                                 partial: [OutputTag(i: Int.max, token: nasty, tag: nasty, p: 0.5)], into: &out)
        OutputEncoder.encode(.modelRejected(path: nasty, reason: nasty), into: &out)
        #expect(out.count > 6 * 1024 * 6)
        let events: [OutputEvent] = [.error(code: .badJSON, message: nasty, seq: .max), .model(from: nasty, to: nasty),
                                     .modelLoaded(model: nasty, previous: nasty), .heartbeat(model: nasty, streams: .min, instance: .max),
                                     .gap(expected: .max, received: .max), .duplicate(seq: .max, last: .max), .end(tokens: .min)]
        for event in events { _ = try foundationObject(OutputEncoder.encoded(event)) }
    }

    @Test func systemWideEvents() {
        #expect(OutputEvent.heartbeat(model: "m", streams: 0, instance: 1).isSystemWide)
        #expect(OutputEvent.modelRejected(path: "p", reason: "r").isSystemWide)
        #expect(!OutputEvent.gap(expected: 1, received: 2).isSystemWide)
        #expect(OutputEncoder.systemTopic == "$sys")
    }

    @Test func outputParsesBackThroughTheInputScanner() throws {
        // Our encoder's strings are accepted by our strict input rules too (same escaping both ways).
        let tokens = ["plain", "é", "😀", "a\u{0}b", "\u{1f}", "\"\\/", String(repeating: "x", count: 1024)]
        let message = try #require(wireParse(body: wireBody(seq: 3, tokens: tokens)).successValue)
        #expect(message.tokens == tokens)
    }

    @Test func doublesAndIntegers() {
        var out: [UInt8] = []
        for d in [0.1, 1e-5, 1.5e300, -2.0, .nan, .infinity] {
            JSONWriter.appendDouble(d, to: &out)
            out.append(UInt8(ascii: " "))
        }
        JSONWriter.appendInteger(Int.min, to: &out)
        out.append(UInt8(ascii: " "))
        JSONWriter.appendInteger(UInt64.max, to: &out)
        #expect(text(out) == "0.1 1e-05 1.5e+300 -2.0 null null -9223372036854775808 18446744073709551615")
    }
}
