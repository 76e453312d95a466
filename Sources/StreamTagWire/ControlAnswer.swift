/// An answer on the control REP socket: `{"ok":true,…}` or `{"ok":false,"error":"…",…}`.
///
/// `ok` always comes first and `error` second (when present); the other fields follow in the
/// order given. Fields named `ok` or `error` are dropped so that the answer never carries two
/// of them.
public struct ControlAnswer: Equatable, Sendable {
    /// Whether the request succeeded.
    public var ok: Bool
    /// The reason, when `ok` is false.
    public var error: String?
    /// The answer's other fields, in order.
    public var fields: [(key: String, value: JSONValue)]

    /// A successful answer with `fields` (e.g. `["model": "en@abc", "streams": 3]`).
    public static func success(_ fields: KeyValuePairs<String, JSONValue> = [:]) -> ControlAnswer {
        ControlAnswer(ok: true, error: nil, fields: fields.map { (key: $0.key, value: $0.value) })
    }

    /// A successful answer with fields built at run time.
    public static func success(fields: [(key: String, value: JSONValue)]) -> ControlAnswer {
        ControlAnswer(ok: true, error: nil, fields: fields)
    }

    /// A failed answer.
    public static func failure(_ message: String, fields: [(key: String, value: JSONValue)] = []) -> ControlAnswer {
        ControlAnswer(ok: false, error: message, fields: fields)
    }

    /// The answer to a request that could not be parsed.
    public static func failure(_ error: ControlRequest.ParseError) -> ControlAnswer {
        failure(error.message)
    }

    /// The answer as one JSON object.
    public var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [(key: "ok", value: .bool(ok))]
        if !ok { members.append((key: "error", value: .string(error ?? "failed"))) }
        members += fields.filter { $0.key != "ok" && $0.key != "error" }
        return .object(members)
    }

    /// The answer's frame: compact JSON, valid for any field contents.
    public func encoded() -> [UInt8] { json.encoded }

    public static func == (a: ControlAnswer, b: ControlAnswer) -> Bool { a.json == b.json }
}
