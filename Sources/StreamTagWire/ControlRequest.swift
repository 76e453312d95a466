/// One request on the control REP socket (docs/protocol.md#control).
///
/// Parsing never throws: REP must answer every request, so a malformed one comes back as
/// `.failure` with a message ready for `ControlAnswer.failure`.
///
/// Decisions where the spec is silent: unknown extra keys are ignored (as on input); `null` is
/// not "absent" (`"limit": null` is an error, as on input); `limit` must be an integer ≥ 0;
/// `stream` must be a valid stream id (an invalid one could never name a stream); the frame is
/// limited to `maxBytes`.
public enum ControlRequest: Equatable, Sendable {
    case status
    case reload
    /// List streams, at most `limit` of them when given.
    case streams(limit: Int?)
    /// Discard a stream's pending input and evict it.
    case drop(stream: String)
    case snapshot

    /// Why a request could not be understood.
    public struct ParseError: Error, Equatable, Sendable {
        public var message: String
        public init(_ message: String) { self.message = message }
    }

    /// Largest accepted request frame.
    public static let maxBytes = 65_536

    /// The commands, as written in `cmd`.
    public static let commandNames = ["status", "reload", "streams", "drop", "snapshot"]

    /// Parses one request frame.
    public static func parse(_ frame: [UInt8]) -> Result<ControlRequest, ParseError> {
        guard frame.count <= maxBytes else {
            return .failure(ParseError("request is \(groupedDecimal(frame.count)) bytes; the limit is \(groupedDecimal(maxBytes))"))
        }
        let value: JSONValue
        switch JSONValue.parse(frame) {
        case .success(let v): value = v
        case .failure(let error): return .failure(ParseError("malformed request: \(error.message)"))
        }
        guard case .object = value else {
            return .failure(ParseError("the request must be a JSON object, found \(value.kindName)"))
        }
        guard let cmd = value["cmd"] else {
            return .failure(ParseError("missing \"cmd\"; expected one of \(commandNames.joined(separator: ", "))"))
        }
        guard case .string(let name) = cmd else {
            return .failure(ParseError("\"cmd\" must be a string, found \(cmd.kindName)"))
        }
        switch name {
        case "status": return .success(.status)
        case "reload": return .success(.reload)
        case "snapshot": return .success(.snapshot)
        case "streams":
            guard let limit = value["limit"] else { return .success(.streams(limit: nil)) }
            guard case .integer(let n) = limit, n >= 0 else {
                let found: String
                if case .number(let d) = limit { found = "\(d)" } else if case .integer(let n) = limit { found = "\(n)" } else { found = limit.kindName }
                return .failure(ParseError("\"limit\" must be an integer ≥ 0, found \(found)"))
            }
            return .success(.streams(limit: n))
        case "drop":
            guard let stream = value["stream"] else { return .failure(ParseError("\"drop\" needs a \"stream\"")) }
            guard case .string(let id) = stream else {
                return .failure(ParseError("\"stream\" must be a string, found \(stream.kindName)"))
            }
            if let problem = StreamID.problem(id) { return .failure(ParseError(problem)) }
            return .success(.drop(stream: id))
        default:
            return .failure(ParseError("unknown cmd \"\(name)\"; expected one of \(commandNames.joined(separator: ", "))"))
        }
    }
}
