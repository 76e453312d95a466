import Testing
@testable import StreamTagDaemon

/// Every input rule of docs/protocol.md#input on frame 2, one table row per rule or edge case.
@Suite struct WireInputTests {
    static let cases: [WireCase] = accepted + badJSON + badSeq + badTokens + badField + priority

    static let accepted: [WireCase] = [
        .ok("spec example", #"{"seq": 41, "tokens": ["The", "cat", "sat"], "end": false, "reset": false}"#,
            seq: 41, tokens: ["The", "cat", "sat"]),
        .ok("seq only", #"{"seq":41}"#, seq: 41, tokens: []),
        .ok("seq 0", #"{"seq":0}"#, seq: 0),
        .ok("seq 2^53-1", #"{"seq":9007199254740991}"#, seq: 9_007_199_254_740_991),
        .ok("empty tokens", #"{"tokens":[],"seq":1}"#, seq: 1, tokens: []),
        .ok("whitespace everywhere", " \t\r\n{ \"seq\" :\n41 ,\t\"tokens\" : [ \"a\" ,\r\n\"b\" ] , \"end\" : true } \n\t",
            seq: 41, tokens: ["a", "b"], end: true),
        .ok("reset and end true", #"{"seq":3,"reset":true,"end":true}"#, seq: 3, reset: true, end: true),
        .ok("unknown keys of every kind", #"{"seq":1,"x":{"a":[1,-2.5e-3,{"b":null}],"c":"\u00e9"},"y":true,"z":[],"w":{}}"#, seq: 1),
        .ok("escapes decoded", #"{"seq":1,"tokens":["a\"b","\\","\/","\b\f\n\r\t","\u00e9","\ud83d\ude00","\u20AC"]}"#,
            seq: 1, tokens: ["a\"b", "\\", "/", "\u{8}\u{c}\n\r\t", "é", "😀", "€"]),
        .ok("raw non-ASCII tokens", #"{"seq":1,"tokens":["é","日本","😀"]}"#, seq: 1, tokens: ["é", "日本", "😀"]),
        .ok("escaped NUL is a token", #"{"seq":1,"tokens":["a\u0000b"]}"#, seq: 1, tokens: ["a\u{0}b"]),
        .ok("escaped key names", #"{"\u0073eq":5,"tok\u0065ns":["x"]}"#, seq: 5, tokens: ["x"]),
        .ok("U+2028 raw in a token", "{\"seq\":1,\"tokens\":[\"a\u{2028}b\"]}", seq: 1, tokens: ["a\u{2028}b"]),
        .ok("DEL raw in a token", "{\"seq\":1,\"tokens\":[\"a\u{7f}\"]}", seq: 1, tokens: ["a\u{7f}"]),
        .ok("1,024-byte token", #"{"seq":1,"tokens":[""# + String(repeating: "a", count: 1024) + "\"]}",
            seq: 1, tokens: [String(repeating: "a", count: 1024)]),
        .ok("escapes counted after unescaping", #"{"seq":1,"tokens":[""# + String(repeating: #"\u0041"#, count: 1024) + "\"]}",
            seq: 1, tokens: [String(repeating: "A", count: 1024)]),
        .ok("depth 32 in an ignored field", #"{"seq":1,"x":"# + nested(30) + "}", seq: 1),
        .ok("depth 32 with objects", #"{"seq":1,"x":"# + nestedObjects(30) + "}", seq: 1),
        .ok("keys differing only in case", #"{"seq":1,"Seq":"x","SEQ":2}"#, seq: 1),
        .ok("empty and escaped unknown keys", #"{"":0,"seq":1,"\u00e9":1,"e\u0301":2,"x":{"":1,"\"":2}}"#, seq: 1),
        .ok("many distinct unknown keys", "{\"seq\":1" + (0..<100).map { ",\"k\($0)\":\($0)" }.joined() + "}", seq: 1),
    ]

    static let badJSON: [WireCase] = [
        .bad("empty body", "", .badJSON, message: "invalid JSON at byte 0: the text is empty"),
        .bad("whitespace only", "  \n", .badJSON),
        .bad("array", "[]", .badJSON, message: "invalid JSON at byte 0: expected a JSON object, found '['"),
        .bad("string", #""x""#, .badJSON),
        .bad("number", "41", .badJSON),
        .bad("null", "null", .badJSON),
        .bad("unclosed", "{", .badJSON),
        .bad("truncated after seq", #"{"seq":1"#, .badJSON, seq: 1),
        .bad("trailing comma in object", #"{"seq":1,}"#, .badJSON, seq: 1),
        .bad("trailing comma in tokens", #"{"seq":1,"tokens":["a",]}"#, .badJSON, seq: 1),
        .bad("lone comma", "{,}", .badJSON),
        .bad("missing comma", #"{"seq":1 "end":true}"#, .badJSON, seq: 1),
        .bad("missing colon", #"{"seq" 1}"#, .badJSON),
        .bad("trailing garbage", #"{"seq":1}x"#, .badJSON, seq: 1, message: "invalid JSON at byte 9: unexpected data after the JSON object"),
        .bad("two objects", #"{"seq":1}{}"#, .badJSON, seq: 1),
        .bad("trailing NUL", Array(#"{"seq":1}"#.utf8) + [0], .badJSON, seq: 1),
        .bad("block comment", #"{"seq":1/*c*/}"#, .badJSON, seq: 1),
        .bad("line comment", "{\"seq\":1 // c\n}", .badJSON, seq: 1),
        .bad("NaN", #"{"seq":1,"x":NaN}"#, .badJSON, seq: 1),
        .bad("Infinity", #"{"seq":1,"x":Infinity}"#, .badJSON, seq: 1),
        .bad("-Infinity", #"{"seq":1,"x":-Infinity}"#, .badJSON, seq: 1),
        .bad("NaN as seq", #"{"seq":NaN}"#, .badJSON),
        .bad("single quotes", "{'seq':1}", .badJSON),
        .bad("unquoted key", "{seq:1}", .badJSON),
        .bad("seq with leading zero", #"{"seq":041}"#, .badJSON, message: "invalid JSON at byte 8: a number may not have a leading zero"),
        .bad("leading zero in ignored field", #"{"seq":1,"x":00}"#, .badJSON, seq: 1),
        .bad("bare fraction point", #"{"seq":1,"x":1.}"#, .badJSON, seq: 1),
        .bad("fraction without integer", #"{"seq":1,"x":.5}"#, .badJSON, seq: 1),
        .bad("plus sign", #"{"seq":+1}"#, .badJSON),
        .bad("exponent without digits", #"{"seq":1,"x":1e}"#, .badJSON, seq: 1),
        .bad("hex number", #"{"seq":0x10}"#, .badJSON),     // no seq: 0x10 is not seq 0
        .bad("truncated literal", #"{"seq":1,"end":tru}"#, .badJSON, seq: 1),
        .bad("literal with a tail", #"{"seq":1,"end":truex}"#, .badJSON, seq: 1),
        .bad("capitalised literal", #"{"seq":1,"end":True}"#, .badJSON, seq: 1),
        .bad("lone high surrogate", #"{"seq":1,"tokens":["\ud800"]}"#, .badJSON, seq: 1,
             message: "invalid JSON at byte 20: lone surrogate \\ud800 in a string"),
        .bad("lone low surrogate", #"{"seq":1,"tokens":["\udc00"]}"#, .badJSON, seq: 1),
        .bad("high surrogate then letter", #"{"seq":1,"tokens":["\ud800\u0041"]}"#, .badJSON, seq: 1),
        .bad("swapped surrogates", #"{"seq":1,"tokens":["\ude00\ud83d"]}"#, .badJSON, seq: 1),
        .bad("lone surrogate in ignored key", #"{"seq":1,"\ud800":1}"#, .badJSON, seq: 1),
        .bad("invalid escape", #"{"seq":1,"tokens":["\x"]}"#, .badJSON, seq: 1),
        .bad("short \\u escape", #"{"seq":1,"tokens":["\u12"]}"#, .badJSON, seq: 1),
        .bad("non-hex \\u escape", #"{"seq":1,"tokens":["\u12g4"]}"#, .badJSON, seq: 1),
        .bad("raw tab in a string", "{\"seq\":1,\"tokens\":[\"a\tb\"]}", .badJSON, seq: 1),
        .bad("raw newline in a string", "{\"seq\":1,\"tokens\":[\"a\nb\"]}", .badJSON, seq: 1),
        .bad("raw 0x1F in a string", Array(#"{"seq":1,"tokens":["a"#.utf8) + [0x1F] + Array(#""]}"#.utf8), .badJSON, seq: 1),
        .bad("0xFF in a string", Array(#"{"seq":1,"tokens":["a"#.utf8) + [0xFF] + Array(#""]}"#.utf8), .badJSON, seq: 1),
        .bad("overlong NUL in a string", Array(#"{"seq":1,"tokens":["a"#.utf8) + [0xC0, 0x80] + Array(#""]}"#.utf8), .badJSON, seq: 1),
        .bad("overlong 3-byte in a string", Array(#"{"seq":1,"tokens":["a"#.utf8) + [0xE0, 0x80, 0xAF] + Array(#""]}"#.utf8), .badJSON, seq: 1),
        .bad("encoded surrogate in a string", Array(#"{"seq":1,"tokens":["a"#.utf8) + [0xED, 0xA0, 0x80] + Array(#""]}"#.utf8), .badJSON, seq: 1),
        .bad("above U+10FFFF in a string", Array(#"{"seq":1,"tokens":["a"#.utf8) + [0xF4, 0x90, 0x80, 0x80] + Array(#""]}"#.utf8), .badJSON, seq: 1),
        .bad("truncated sequence in a string", Array(#"{"seq":1,"tokens":["a"#.utf8) + [0xE2, 0x82] + Array(#""]}"#.utf8), .badJSON, seq: 1),
        .bad("stray continuation byte", Array(#"{"seq":1,"tokens":["a"#.utf8) + [0x80] + Array(#""]}"#.utf8), .badJSON, seq: 1),
        .bad("invalid UTF-8 in an ignored value", Array(#"{"seq":1,"x":""#.utf8) + [0xFE] + Array(#""}"#.utf8), .badJSON, seq: 1),
        .bad("invalid UTF-8 outside strings", Array(#"{"seq":1,"tokens":["a","#.utf8) + [0xFF] + Array(#""b"]}"#.utf8), .badJSON, seq: 1),
        .bad("byte order mark", [0xEF, 0xBB, 0xBF] + Array(#"{"seq":1}"#.utf8), .badJSON),
        .bad("no-break space as whitespace", "{\"seq\":1,\u{a0}\"end\":true}", .badJSON, seq: 1),
        .bad("form feed as whitespace", "{\"seq\":1,\u{c}\"end\":true}", .badJSON, seq: 1),
        .bad("depth 33 in an ignored field", #"{"seq":1,"x":"# + nested(31) + "}", .badJSON, seq: 1,
             message: "invalid JSON at byte 44: nesting deeper than 32 levels"),
        .bad("depth 33 with objects", #"{"seq":1,"x":"# + nestedObjects(31) + "}", .badJSON, seq: 1),
        .bad("depth 33 inside tokens", #"{"seq":1,"tokens":"# + nested(31) + "}", .badJSON, seq: 1),
        .bad("very deep nesting stops early", #"{"seq":1,"x":"# + String(repeating: "[", count: 60_000), .badJSON, seq: 1),
        .bad("duplicate seq", #"{"seq":1,"seq":2}"#, .badJSON, seq: 1, message: #"invalid JSON at byte 9: duplicate key "seq""#),
        .bad("duplicate tokens", #"{"seq":1,"tokens":[],"tokens":["a"]}"#, .badJSON, seq: 1),
        .bad("duplicate end", #"{"seq":1,"end":true,"end":true}"#, .badJSON, seq: 1),
        .bad("duplicate unknown key", #"{"seq":1,"x":1,"x":1}"#, .badJSON, seq: 1),
        .bad("duplicate via escape", #"{"seq":1,"\u0073eq":2}"#, .badJSON, seq: 1),
        .bad("duplicate in nested object", #"{"seq":1,"x":{"a":1,"b":{},"a":2}}"#, .badJSON, seq: 1),
        .bad("duplicate in object inside array", #"{"seq":1,"x":[{"a":1,"a":1}]}"#, .badJSON, seq: 1),
        .bad("duplicate among many keys", "{\"seq\":1" + (0..<40).map { ",\"k\($0)\":0" }.joined() + ",\"k7\":1}", .badJSON, seq: 1),
        .bad("duplicate empty key", #"{"seq":1,"":1,"":2}"#, .badJSON, seq: 1),
        .bad("duplicate of the 17th unknown key", "{\"seq\":1" + (0..<17).map { ",\"k\($0)\":0" }.joined() + ",\"k16\":1}", .badJSON, seq: 1),
        .bad("duplicate of the first key after 17", "{\"seq\":1" + (0..<17).map { ",\"k\($0)\":0" }.joined() + ",\"k0\":1}", .badJSON, seq: 1),
        .bad("duplicate escaped nested key", #"{"seq":1,"x":{"\u00e9":1,"é":2}}"#, .badJSON, seq: 1),
        .bad("bad JSON wins over bad seq", #"{"seq":"x","y":NaN}"#, .badJSON),
        .bad("bad JSON wins over bad tokens", #"{"seq":1,"tokens":null,"y":01}"#, .badJSON, seq: 1),
    ]

    static let badSeq: [WireCase] = [
        .bad("seq missing", "{}", .badSeq, message: "seq is missing; every message needs one"),
        .bad("seq missing with tokens", #"{"tokens":["a"]}"#, .badSeq),
        .bad("seq 41.0", #"{"seq":41.0}"#, .badSeq,
             message: "seq must be a plain non-negative integer (digits only: no sign, fraction or exponent), found 41.0"),
        .bad("seq 4.1e1", #"{"seq":4.1e1}"#, .badSeq),
        .bad("seq 1E2", #"{"seq":1E2}"#, .badSeq),
        .bad("seq -1", #"{"seq":-1}"#, .badSeq),
        .bad("seq -0", #"{"seq":-0}"#, .badSeq),
        .bad("seq string", #"{"seq":"41"}"#, .badSeq, message: "seq must be a non-negative integer, found a string"),
        .bad("seq true", #"{"seq":true}"#, .badSeq),
        .bad("seq false", #"{"seq":false}"#, .badSeq),
        .bad("seq null", #"{"seq":null}"#, .badSeq, message: "seq must be a non-negative integer, found null"),
        .bad("seq array", #"{"seq":[41]}"#, .badSeq),
        .bad("seq object", #"{"seq":{"v":41}}"#, .badSeq),
        .bad("seq 2^53", #"{"seq":9007199254740992}"#, .badSeq,
             message: "seq 9007199254740992 is above the limit 2^53−1 (9,007,199,254,740,991)"),
        .bad("seq 10^16", #"{"seq":10000000000000000}"#, .badSeq),
        .bad("seq 99999999999999999999999", #"{"seq":99999999999999999999999}"#, .badSeq),
    ]

    static let badTokens: [WireCase] = [
        .bad("tokens null", #"{"seq":7,"tokens":null}"#, .badTokens, seq: 7, message: "tokens must be an array of strings, found null"),
        .bad("tokens number", #"{"seq":7,"tokens":3}"#, .badTokens, seq: 7),
        .bad("tokens string", #"{"seq":7,"tokens":"The cat"}"#, .badTokens, seq: 7),
        .bad("tokens object", #"{"seq":7,"tokens":{"0":"a"}}"#, .badTokens, seq: 7),
        .bad("tokens true", #"{"seq":7,"tokens":true}"#, .badTokens, seq: 7),
        .bad("array of numbers", #"{"seq":7,"tokens":[1,2]}"#, .badTokens, seq: 7, message: "tokens[0] is a number, not a string"),
        .bad("number after strings", #"{"seq":7,"tokens":["a","b",3]}"#, .badTokens, seq: 7, message: "tokens[2] is a number, not a string"),
        .bad("null item", #"{"seq":7,"tokens":["a",null]}"#, .badTokens, seq: 7),
        .bad("nested array item", #"{"seq":7,"tokens":[["a"]]}"#, .badTokens, seq: 7),
        .bad("empty token", #"{"seq":7,"tokens":["a",""]}"#, .badTokens, seq: 7,
             message: "tokens[1] is empty; a token is 1 to 1,024 bytes"),
        .bad("1,025-byte token", #"{"seq":7,"tokens":[""# + String(repeating: "a", count: 1025) + "\"]}", .badTokens, seq: 7,
             message: "tokens[0] is 1,025 bytes; the limit is 1,024"),
        .bad("1,300-byte token at index 3", #"{"seq":7,"tokens":["a","b","c",""# + String(repeating: "é", count: 650) + "\"]}",
             .badTokens, seq: 7, message: "tokens[3] is 1,300 bytes; the limit is 1,024"),
        .bad("1,025 bytes after unescaping", #"{"seq":7,"tokens":[""# + String(repeating: "a", count: 1023) + #"\u00e9"]}"#,
             .badTokens, seq: 7),
        .bad("depth 32 inside tokens is valid JSON", #"{"seq":7,"tokens":"# + nested(30) + "}", .badTokens, seq: 7),
        .bad("tokens before seq still carry seq", #"{"tokens":null,"seq":7}"#, .badTokens, seq: 7),
    ]

    static let badField: [WireCase] = [
        .bad("end null", #"{"seq":7,"end":null}"#, .badField, seq: 7, message: "end must be a boolean, found null"),
        .bad("reset null", #"{"seq":7,"reset":null}"#, .badField, seq: 7, message: "reset must be a boolean, found null"),
        .bad("end number", #"{"seq":7,"end":1}"#, .badField, seq: 7),
        .bad("end string", #"{"seq":7,"end":"true"}"#, .badField, seq: 7),
        .bad("reset array", #"{"seq":7,"reset":[]}"#, .badField, seq: 7),
        .bad("reset object", #"{"seq":7,"reset":{}}"#, .badField, seq: 7),
    ]

    static let priority: [WireCase] = [
        .bad("bad seq before bad tokens and field", #"{"end":null,"tokens":null,"seq":-1}"#, .badSeq),
        .bad("bad tokens before bad field", #"{"end":null,"tokens":null,"seq":1}"#, .badTokens, seq: 1),
        .bad("first bad field named", #"{"seq":1,"end":0,"reset":null}"#, .badField, seq: 1, message: "end must be a boolean, found a number"),
    ]

    /// `n` nested arrays around an empty one: the innermost sits at depth n+2 inside a member.
    static func nested(_ n: Int) -> String { String(repeating: "[", count: n) + "[]" + String(repeating: "]", count: n) }

    static func nestedObjects(_ n: Int) -> String { String(repeating: #"{"a":"#, count: n) + "{}" + String(repeating: "}", count: n) }

    @Test(arguments: cases)
    func body(_ row: WireCase) {
        let result = wireParse(body: row.body)
        switch (row.expectation, result) {
        case (.accepted(let seq, let tokens, let reset, let end), .success(let message)):
            #expect(message.streamID == "s1")
            #expect(message.seq == seq)
            if let tokens { #expect(message.tokens == tokens) }
            #expect(message.reset == reset)
            #expect(message.end == end)
        case (.rejected(let code, let seq, let text), .failure(let error)):
            #expect(error.code == code, "\(error.message)")
            #expect(error.seq == seq)
            #expect(error.streamID == "s1")
            #expect(!error.message.isEmpty)
            if let text { #expect(error.message == text) }
        case (_, .success(let message)):
            Issue.record("accepted: \(message)")
        case (_, .failure(let error)):
            Issue.record("rejected: \(error)")
        }
    }

    @Test func caseNamesAreUnique() {
        #expect(Set(Self.cases.map(\.name)).count == Self.cases.count)
    }
}
