import Foundation
import Testing
@testable import StreamTagDaemon
@testable import StreamTagWire

/// Randomized: mutate valid messages thousands of times. The parser must never crash, and
/// every outcome must be consistent with an independent parser (Foundation's JSONSerialization):
/// - accepted ⇒ Foundation reads the same seq, tokens and flags, and re-encoding the message
///   parses back to the same message;
/// - rejected ⇒ a parser error code with a message, and Foundation refusing the text ⇒ `bad_json`
///   (we are stricter than Foundation, never laxer).
@Suite struct WireFuzzTests {
    static let seeds: [String] = [
        #"{"seq":41,"tokens":["The","cat","sat"],"end":false,"reset":false}"#,
        #"{"seq": 0, "tokens": ["a\"b", "\\", "\u00e9", "\ud83d\ude00", "é"], "x": {"y": [1, 2.5e-3, null]}}"#,
        #"{"tokens":["日本","語"],"seq":9007199254740991,"reset":true}"#,
        #"{"seq":7}"#,
        #"{"seq":12,"meta":{"a":{"b":{"c":[true,false,null,"s"]}}},"tokens":["x","y","z"],"end":true}"#,
    ]

    /// Bytes that are likely to change the meaning of JSON text when inserted.
    static let interesting: [UInt8] = Array(#"{}[]",:\/ 0123456789-+.eEtfnulrsaNI"#.utf8) + [0x00, 0x09, 0x0A, 0x1F, 0x7F, 0x80, 0xC3, 0xE2, 0xED, 0xF0, 0xFF]

    static func mutate(_ bytes: [UInt8], _ rng: inout WireRandom) -> [UInt8] {
        var b = bytes
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            let i = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
            switch rng.next() % 6 {
            case 0 where !b.isEmpty: b[i] = UInt8(truncatingIfNeeded: rng.next())
            case 1 where !b.isEmpty: b[i] = interesting[Int(rng.next() % UInt64(interesting.count))]
            case 2: b.insert(interesting[Int(rng.next() % UInt64(interesting.count))], at: i)
            case 3 where !b.isEmpty: b.remove(at: i)
            case 4: b = Array(b.prefix(i))
            default: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)
            }
        }
        return b
    }

    @Test func mutatedMessagesNeverCrashAndAgreeWithFoundation() throws {
        var rng = WireRandom(seed: 0x5EED_2024)
        var parser = InputParser()
        var accepted = 0
        var codes: [WireErrorCode: Int] = [:]
        let parserCodes: Set<WireErrorCode> = [.badJSON, .badSeq, .badTokens, .badField]
        for round in 0..<6000 {
            let seed = Array(Self.seeds[round % Self.seeds.count].utf8)
            let body = Self.mutate(seed, &rng)
            let foundation = try? JSONSerialization.jsonObject(with: Data(body))
            switch parser.parse(frames: [Array("s".utf8), body]) {
            case .success(let message):
                accepted += 1
                let object = try #require(foundation as? [String: Any], "accepted what Foundation refuses: \(String(decoding: body, as: UTF8.self))")
                #expect((object["seq"] as? NSNumber)?.uint64Value == message.seq)
                #expect((object["tokens"] as? [String] ?? []) == message.tokens)
                // Re-encode and re-parse: the same message comes back.
                var again = InputParser()
                let reencoded = wireBody(seq: message.seq, tokens: message.tokens,
                                         extra: ",\"reset\":\(message.reset),\"end\":\(message.end)")
                #expect(again.parse(frames: [Array("s".utf8), reencoded]).successValue == message)
            case .failure(let error):
                codes[error.code, default: 0] += 1
                #expect(parserCodes.contains(error.code))
                #expect(!error.message.isEmpty)
                #expect(error.streamID == "s")
                if foundation == nil && error.code != .badJSON {
                    #expect(Self.hasNumberOutOfDoubleRange(body), "\(error) for \(String(decoding: body, as: UTF8.self))")
                }
            }
        }
        // The mutations must exercise both outcomes and several codes, or the test proves little.
        #expect(accepted > 100)
        #expect(codes[.badJSON, default: 0] > 1000)
        #expect(codes.count >= 3, "\(codes)")
    }

    /// Foundation refuses numbers beyond Double's range (`9e999`), which RFC 8259 allows; such a
    /// body may rightly be `bad_seq` (e.g. a `seq` written with an exponent) rather than `bad_json`.
    static func hasNumberOutOfDoubleRange(_ body: [UInt8]) -> Bool {
        let text = String(decoding: body, as: UTF8.self)
        let pattern = /-?(0|[1-9][0-9]*)(\.[0-9]+)?[eE][+-]?[0-9]+/
        return text.matches(of: pattern).contains { Double(String($0.output.0))?.isInfinite ?? false }
    }

    @Test func everyTruncationOfAValidMessageIsBadJSON() {
        for seed in Self.seeds {
            let bytes = Array(seed.utf8)
            for length in 0..<bytes.count {
                let result = wireParse(body: Array(bytes.prefix(length)))
                #expect(result.failureValue?.code == .badJSON, "prefix \(length) of \(seed)")
            }
        }
    }

    @Test func randomBytesNeverCrash() {
        var rng = WireRandom(seed: 77)
        var parser = InputParser()
        for _ in 0..<2000 {
            let count = Int(rng.next() % 64)
            let bytes = (0..<count).map { _ in Self.interesting[Int(rng.next() % UInt64(Self.interesting.count))] }
            if case .failure(let error) = parser.parse(frames: [Array("s".utf8), bytes]) {
                #expect(!error.message.isEmpty)
            }
            _ = ControlRequest.parse(bytes)
            _ = JSONValue.parse(bytes)
        }
    }
}
