import Testing
@testable import StreamTagDaemon
@testable import StreamTagWire

/// Frame count, stream id, size limit, token count limits and parser reuse (docs/protocol.md#frames, #limits).
@Suite struct WireFramesTests {
    static let body = Array(#"{"seq":1,"tokens":["a"]}"#.utf8)

    @Test(arguments: [0, 1, 3, 4])
    func wrongFrameCount(_ count: Int) throws {
        var parser = InputParser()
        let frames = Array(repeating: Self.body, count: count)
        let error = try #require(parser.parse(frames: frames).failureValue)
        #expect(error.code == .badFrames)
        // Frame 1 (here the body's text) is a usable stream id: the error goes to that stream.
        let id = count > 0 ? String(decoding: Self.body, as: UTF8.self) : nil
        #expect(error.streamID == id)
        #expect(error.topic == id ?? "$sys")
        #expect(error.seq == nil)
        #expect(error.message.contains("received \(count == 1 ? "1 frame" : "\(count) frames")"))
        // Only the first frames stored, the count given: still the real count.
        let counted = try #require(parser.parse(frames: Array(frames.prefix(2)), totalFrames: count).failureValue)
        #expect(count == 2 || counted.message.hasSuffix("received \(count == 1 ? "1 frame" : "\(count) frames")"))
        // An unusable frame 1 sends it to $sys.
        let sys = try #require(parser.parse(frames: [Array("$x".utf8)] + frames.dropFirst(), totalFrames: max(count, 1)).failureValue)
        #expect(sys.topic == "$sys")
    }

    struct IDCase: Sendable, CustomTestStringConvertible {
        let name: String
        let id: [UInt8]
        let valid: Bool
        var testDescription: String { name }
    }

    static let idCases: [IDCase] = [
        IDCase(name: "1 byte", id: [UInt8(ascii: "a")], valid: true),
        IDCase(name: "255 bytes", id: Array(repeating: UInt8(ascii: "a"), count: 255), valid: true),
        IDCase(name: "256 bytes", id: Array(repeating: UInt8(ascii: "a"), count: 256), valid: true),
        IDCase(name: "256 bytes of 2-byte characters", id: Array(String(repeating: "é", count: 128).utf8), valid: true),
        IDCase(name: "non-ASCII", id: Array("stream/日本/😀".utf8), valid: true),
        IDCase(name: "'$' inside", id: Array("a$sys".utf8), valid: true),
        IDCase(name: "empty", id: [], valid: false),
        IDCase(name: "257 bytes", id: Array(repeating: UInt8(ascii: "a"), count: 257), valid: false),
        IDCase(name: "'$' prefix", id: Array("$sys".utf8), valid: false),
        IDCase(name: "'$' alone", id: Array("$".utf8), valid: false),
        IDCase(name: "NUL inside", id: [UInt8(ascii: "a"), 0, UInt8(ascii: "b")], valid: false),
        IDCase(name: "NUL alone", id: [0], valid: false),
        IDCase(name: "0xFF", id: [UInt8(ascii: "a"), 0xFF], valid: false),
        IDCase(name: "overlong", id: [0xC0, 0xAF], valid: false),
        IDCase(name: "encoded surrogate", id: [0xED, 0xA0, 0x80], valid: false),
        IDCase(name: "truncated sequence", id: [UInt8(ascii: "a"), 0xE2, 0x82], valid: false),
        IDCase(name: "257 bytes split mid-character", id: Array(String(repeating: "é", count: 128).utf8) + [0xC3], valid: false),
    ]

    @Test(arguments: idCases)
    func streamID(_ row: IDCase) {
        let result = wireParse(id: row.id, body: Self.body)
        if row.valid {
            #expect(result.successValue?.streamID == String(decoding: row.id, as: UTF8.self))
            #expect(result.successValue.map { Array($0.streamID.utf8) } == row.id)
        } else {
            let error = result.failureValue
            #expect(error?.code == .badStreamID)
            #expect(error?.streamID == nil, "errors about the stream id go to $sys")
            #expect(error?.message.isEmpty == false)
        }
    }

    @Test func streamIDMessages() {
        #expect(wireParse(id: Array(repeating: 97, count: 257), body: Self.body).failureValue?.message
            == "stream id is 257 bytes; the limit is 256")
        #expect(wireParse(id: Array("$sys".utf8), body: Self.body).failureValue?.message
            == #"stream id "$sys" starts with '$', which is reserved for daemon topics"#)
        #expect(StreamID.problem("ok") == nil)
        #expect(StreamID.problem("") == "stream id is empty")
    }

    @Test func streamIDIsCheckedBeforeTheBody() {
        #expect(wireParse(id: [], body: Array("not json".utf8)).failureValue?.code == .badStreamID)
        #expect(wireParse(id: [], body: Array(repeating: 32, count: 1 << 20)).failureValue?.code == .badStreamID)
    }

    @Test func sizeIsCheckedBeforeParsing() throws {
        // 1 MiB of something that is not JSON at all: too_large wins over bad_json.
        let huge = Array(repeating: UInt8(ascii: "x"), count: 1 << 20)
        let error = try #require(wireParse(body: huge).failureValue)
        #expect(error.code == .tooLarge)
        #expect(error.streamID == "s1")
        #expect(error.message == "frame 2 is 1,048,576 bytes; the limit is 65,536")

        // A valid body of exactly the limit passes; one byte more does not.
        let padded = { (size: Int) -> [UInt8] in
            let head = Array(#"{"seq":1,"pad":""#.utf8), tail = Array(#""}"#.utf8)
            return head + Array(repeating: UInt8(ascii: "a"), count: size - head.count - tail.count) + tail
        }
        #expect(wireParse(body: padded(65_536)).successValue?.seq == 1)
        #expect(wireParse(body: padded(65_537)).failureValue?.code == .tooLarge)
        #expect(wireParse(body: padded(100), maxMessageBytes: 99).failureValue?.code == .tooLarge)
        #expect(wireParse(body: padded(100), maxMessageBytes: 100).successValue != nil)
    }

    @Test func tokenCountLimit() throws {
        let ok = wireParse(body: wireBody(seq: 9, tokens: Array(repeating: "t", count: 4096)))
        #expect(ok.successValue?.tokens.count == 4096)

        let error = try #require(wireParse(body: wireBody(seq: 9, tokens: Array(repeating: "t", count: 4097))).failureValue)
        #expect(error.code == .badTokens)
        #expect(error.seq == 9)
        #expect(error.message == "tokens has 4,097 items; the limit is 4,096")

        // The count is reported even when a bad item comes earlier.
        var tokens = Array(repeating: "t", count: 5000)
        tokens[10] = ""
        #expect(wireParse(body: wireBody(seq: 9, tokens: tokens)).failureValue?.message == "tokens has 5,000 items; the limit is 4,096")
    }

    @Test func surrogatePairsAndLengthsAfterUnescaping() {
        // U+1F600 is 4 UTF-8 bytes: 256 of them are exactly 1,024 bytes.
        let pair = #"\ud83d\ude00"#
        let exact = #"{"seq":1,"tokens":[""# + String(repeating: pair, count: 256) + #""]}"#
        #expect(wireParse(body: Array(exact.utf8)).successValue?.tokens == [String(repeating: "😀", count: 256)])
        let over = #"{"seq":1,"tokens":["a"# + String(repeating: pair, count: 256) + #""]}"#
        #expect(wireParse(body: Array(over.utf8)).failureValue?.message == "tokens[0] is 1,025 bytes; the limit is 1,024")
    }

    @Test func oneParserReusedKeepsNoState() {
        var parser = InputParser()
        let bodies: [(String, [String])] = [
            (#"{"seq":1,"tokens":["a\nb","c"]}"#, ["a\nb", "c"]),
            (#"{"seq":2,"tokens":["x"]}"#, ["x"]),
            (#"{"seq":3,"tokens":null}"#, []),
            (#"{"seq":4,"tokens":["\u00e9","\"q\"","plain"]}"#, ["é", "\"q\"", "plain"]),
            (#"{"seq":5}"#, []),
        ]
        for _ in 0..<3 {
            for (text, tokens) in bodies {
                let result = parser.parse(frames: [Array("s".utf8), Array(text.utf8)])
                if text.contains("null") {
                    #expect(result.failureValue?.code == .badTokens)
                } else {
                    #expect(result.successValue?.tokens == tokens)
                }
            }
        }
    }

    @Test func rawPointerEntryPoint() {
        var parser = InputParser()
        let id = Array("s9".utf8), body = Array(#"{"seq":12,"tokens":["a"],"end":true}"#.utf8)
        let result = id.withUnsafeBufferPointer { i in body.withUnsafeBufferPointer { b in parser.parse(streamID: i, body: b) } }
        #expect(result.successValue == InputMessage(streamID: "s9", seq: 12, tokens: ["a"], end: true))
    }

    @Test func errorEventCarriesCodeMessageAndSeq() throws {
        let error = try #require(wireParse(body: Array(#"{"seq":7,"tokens":null}"#.utf8)).failureValue)
        #expect(error.event == .error(code: .badTokens, message: "tokens must be an array of strings, found null", seq: 7))
        #expect(error.topic == "s1")
        #expect(WireErrorCode.allCases.map(\.rawValue) ==
            ["bad_frames", "bad_stream_id", "bad_json", "bad_seq", "bad_tokens", "bad_field", "too_large", "overloaded"])
    }
}
