import StreamTagWire

// A control request frame (the REP socket's one frame). Checked besides "never traps": a
// parsed request is one the daemon knows, a refused one has a message, and the answer the
// daemon sends (`ControlAnswer`) is valid JSON carrying that message.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControl(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let frame = Array(UnsafeBufferPointer(start: data, count: size))
    let answer: ControlAnswer
    switch ControlRequest.parse(frame) {
    case .success(let request):
        switch request {
        case .streams(let limit?): precondition(limit >= 0, "a negative limit accepted")
        case .drop(let stream): precondition(StreamID.problem(stream) == nil, "drop of an unusable stream id accepted")
        default: break
        }
        answer = .success(fields: [("request", .string("\(request)"))])
    case .failure(let error):
        precondition(!error.message.isEmpty, "a refusal without a message")
        answer = .failure(error)
    }
    let encoded = answer.encoded()
    guard case .success(let json) = JSONValue.parse(encoded) else {
        preconditionFailure("the answer is not JSON: \(String(decoding: encoded, as: UTF8.self))")
    }
    precondition(json == answer.json, "the answer does not read back the same")
    return 0
}
