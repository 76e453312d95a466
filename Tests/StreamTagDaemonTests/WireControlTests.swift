import Foundation
import Testing
@testable import StreamTagDaemon
@testable import StreamTagWire

/// Control requests and answers (docs/protocol.md#control): every request gets a parse result, never a throw.
@Suite struct WireControlTests {
    static let valid: [(String, ControlRequest)] = [
        (#"{"cmd":"status"}"#, .status),
        (#" {"cmd" : "reload"} "#, .reload),
        (#"{"cmd":"snapshot"}"#, .snapshot),
        (#"{"cmd":"streams"}"#, .streams(limit: nil)),
        (#"{"cmd":"streams","limit":10}"#, .streams(limit: 10)),
        (#"{"limit":0,"cmd":"streams"}"#, .streams(limit: 0)),
        (#"{"cmd":"drop","stream":"s1"}"#, .drop(stream: "s1")),
        (#"{"cmd":"drop","stream":"caf\u00e9"}"#, .drop(stream: "café")),
        (#"{"cmd":"status","future":{"x":[1,2]}}"#, .status),
    ]

    @Test(arguments: valid)
    func parsesValidRequests(_ text: String, _ expected: ControlRequest) {
        #expect(ControlRequest.parse(Array(text.utf8)).successValue == expected)
    }

    static let invalid: [(String, String)] = [
        ("", "malformed request: invalid JSON at byte 0: the text is empty"),
        ("{", "malformed request: invalid JSON at byte 1: unexpected end of the text"),
        (#"{"cmd":"status",}"#, "malformed request"),
        (#"{"cmd":"status","cmd":"reload"}"#, "duplicate key"),
        (#"{"cmd":"\ud800"}"#, "lone surrogate"),
        ("[\"status\"]", "the request must be a JSON object, found an array"),
        ("\"status\"", "the request must be a JSON object, found a string"),
        ("{}", #"missing "cmd""#),
        (#"{"cmd":null}"#, #""cmd" must be a string, found null"#),
        (#"{"cmd":1}"#, #""cmd" must be a string, found a number"#),
        (#"{"cmd":"restart"}"#, #"unknown cmd "restart"; expected one of status, reload, streams, drop, snapshot"#),
        (#"{"cmd":"Status"}"#, "unknown cmd"),
        (#"{"cmd":"streams","limit":"10"}"#, #""limit" must be an integer ≥ 0, found a string"#),
        (#"{"cmd":"streams","limit":-1}"#, #""limit" must be an integer ≥ 0, found -1"#),
        (#"{"cmd":"streams","limit":2.5}"#, #""limit" must be an integer ≥ 0, found 2.5"#),
        (#"{"cmd":"streams","limit":null}"#, #""limit" must be an integer ≥ 0, found null"#),
        (#"{"cmd":"streams","limit":99999999999999999999}"#, #""limit" must be an integer"#),
        (#"{"cmd":"drop"}"#, #""drop" needs a "stream""#),
        (#"{"cmd":"drop","stream":5}"#, #""stream" must be a string, found a number"#),
        (#"{"cmd":"drop","stream":""}"#, "stream id is empty"),
        (#"{"cmd":"drop","stream":"$sys"}"#, "reserved for daemon topics"),
    ]

    @Test(arguments: invalid)
    func refusesInvalidRequests(_ text: String, _ fragment: String) throws {
        let error = try #require(ControlRequest.parse(Array(text.utf8)).failureValue)
        #expect(error.message.contains(fragment), "\(error.message)")
        // The answer to it is itself valid JSON with ok: false and the error.
        let answer = try JSONSerialization.jsonObject(with: Data(ControlAnswer.failure(error).encoded())) as? [String: Any]
        #expect(answer?["ok"] as? Bool == false)
        #expect(answer?["error"] as? String == error.message)
    }

    @Test func refusesInvalidBytesAndHugeFrames() {
        #expect(ControlRequest.parse([0xFF]).failureValue != nil)
        #expect(ControlRequest.parse(Array(#"{"cmd":"status","x":""#.utf8) + [0xC0, 0x80] + Array(#""}"#.utf8)).failureValue != nil)
        let huge = Array(#"{"cmd":"status","x":""#.utf8) + Array(repeating: 97, count: 70_000) + Array(#""}"#.utf8)
        #expect(ControlRequest.parse(huge).failureValue?.message == "request is 70,023 bytes; the limit is 65,536")
    }

    @Test func answersKeepOrderAndAreValidJSON() throws {
        let ok = ControlAnswer.success(["model": "en@3f2a", "streams": 3, "uptime_s": 12.5, "tokens_in": 100,
                                        "list": ["a", "b"], "nested": ["k": nil]])
        #expect(String(decoding: ok.encoded(), as: UTF8.self)
            == #"{"ok":true,"model":"en@3f2a","streams":3,"uptime_s":12.5,"tokens_in":100,"list":["a","b"],"nested":{"k":null}}"#)

        let failed = ControlAnswer.failure("unknown stream \"x\"")
        #expect(String(decoding: failed.encoded(), as: UTF8.self) == #"{"ok":false,"error":"unknown stream \"x\""}"#)
        #expect(!failed.ok)

        // Reserved keys given as fields are dropped rather than duplicated.
        let sneaky = ControlAnswer.success(fields: [(key: "ok", value: false), (key: "error", value: "x"), (key: "n", value: 1)])
        #expect(String(decoding: sneaky.encoded(), as: UTF8.self) == #"{"ok":true,"n":1}"#)
    }

    @Test func answersStayValidForAnyString() throws {
        // Every scalar class that needs care: controls, quotes, backslashes, non-ASCII, non-finite numbers.
        let strange = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) })) + "\"\\/é😀\u{2028}\u{FEFF}"
        let answer = ControlAnswer.success(fields: [(key: strange, value: .string(strange)),
                                                    (key: "nan", value: .number(.nan)), (key: "inf", value: .number(.infinity))])
        let bytes = answer.encoded()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object[strange] as? String == strange)
        #expect(object["nan"] is NSNull)
        #expect(JSONValue.parse(bytes).successValue?[strange] == .string(strange))
        #expect(JSONValue.parse(bytes).successValue?["nan"] == .null)
    }

    @Test func jsonValueRoundTrip() throws {
        let value: JSONValue = ["a": [1, -2, 2.5, true, false, nil, "s"], "b": ["c": ["d": "é\n"]], "big": .integer(Int.max)]
        #expect(JSONValue.parse(value.encoded).successValue == value)
        #expect(JSONValue.parse(Array("1e400".utf8)).successValue == .number(.infinity))
        #expect(JSONValue.parse(Array("-0".utf8)).successValue == .integer(0))
        #expect(value["b"]?["c"]?["d"] == "é\n")
        let deep = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect(JSONValue.parse(Array(deep.utf8)).successValue != nil)
        #expect(JSONValue.parse(Array(("[" + deep + "]").utf8)).failureValue?.message.contains("deeper than 32") == true)
    }
}
