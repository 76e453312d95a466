import Foundation
import StreamTagWire

// Input messages as the I/O thread sees them: frame 1 (stream id) and frame 2 (JSON body).
// Fuzz input layout: byte 0 = the stream id's length n (clamped to what follows), the next n
// bytes the id, the rest the body.
//
// Checked besides "never traps": an accepted message obeys the protocol's limits and is JSON
// that Foundation reads the same way (the parser is never laxer than Foundation); whatever the
// outcome, the event the daemon would publish (tags echoing the tokens, or the error naming
// the problem) is valid JSON that reads back the same.

nonisolated(unsafe) var parser = InputParser(maxMessageBytes: 8_192)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let first = bytes.first else { return 0 }
    let idEnd = 1 + min(Int(first), size - 1)
    let id = UnsafeBufferPointer(rebasing: bytes[1..<idEnd])
    let body = UnsafeBufferPointer(rebasing: bytes[idEnd...])
    var out: [UInt8] = []
    switch parser.parse(streamID: id, body: body) {
    case .success(let message):
        precondition(message.seq <= InputParser.maxSeq, "seq \(message.seq) above 2^53-1 accepted")
        precondition(message.tokens.count <= InputParser.maxTokens, "\(message.tokens.count) tokens accepted")
        for token in message.tokens {
            precondition((1...InputParser.maxTokenBytes).contains(token.utf8.count), "a token of \(token.utf8.count) bytes accepted")
        }
        precondition(StreamID.problem(message.streamID) == nil, "an unusable stream id accepted")
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            preconditionFailure("accepted a body Foundation refuses")
        }
        precondition((object["seq"] as? NSNumber)?.uint64Value == message.seq, "Foundation reads another seq")
        precondition((object["tokens"] as? [String] ?? []) == message.tokens, "Foundation reads other tokens")
        let tags = message.tokens.enumerated().map { OutputTag(i: $0.offset, token: $0.element, tag: "X", p: 0.5) }
        OutputEncoder.encodeTags(seq: message.seq, model: "m@1", tags: tags, into: &out)
        guard case .success(let event) = JSONValue.parse(out), case .array(let list)? = event["tags"] else {
            preconditionFailure("the tags event is not JSON: \(String(decoding: out, as: UTF8.self))")
        }
        let echoed = list.map { tag -> String? in if case .string(let s)? = tag["token"] { s } else { nil } }
        precondition(echoed == message.tokens, "the tags event does not echo the tokens")
    case .failure(let error):
        precondition(!error.message.isEmpty, "an error without a message")
        OutputEncoder.encode(.error(code: error.code, message: error.message, seq: error.seq), into: &out)
        guard case .success(let event) = JSONValue.parse(out), case .string(let text)? = event["message"] else {
            preconditionFailure("the error event is not JSON: \(String(decoding: out, as: UTF8.self))")
        }
        precondition(text == error.message, "the error event does not carry the message")
    }
    return 0
}
