/// A JSON value for the cold paths (control requests and answers): objects keep their key
/// order so that answers read in a stable, documented order.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    /// An integer literal (no fraction or exponent) within `Int`'s range.
    case integer(Int)
    /// Any other number. Non-finite values encode as `null` (JSON has no NaN or Infinity).
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Members in order. Keys should be unique; the encoder writes what it is given.
    case object([(key: String, value: JSONValue)])

    /// The value of the first member named `key`, when this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Short name of the value's kind for messages ("a string", "null", …).
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    // MARK: Encoding

    /// Appends the compact JSON text of the value.
    public func encode(into out: inout [UInt8]) {
        switch self {
        case .null: JSONWriter.appendRaw("null", to: &out)
        case .bool(let b): b ? JSONWriter.appendRaw("true", to: &out) : JSONWriter.appendRaw("false", to: &out)
        case .integer(let n): JSONWriter.appendInteger(n, to: &out)
        case .number(let d): JSONWriter.appendDouble(d, to: &out)
        case .string(let s): JSONWriter.appendString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                item.encode(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (n, member) in members.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.appendKey(member.key, to: &out)
                member.value.encode(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The compact JSON text of the value.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    // MARK: Parsing

    /// A strict-JSON parse failure; `message` names the byte offset and the problem.
    public struct ParseError: Error, Equatable, Sendable {
        public var message: String
    }

    /// ``parse(_:)`` for callers that throw: the value, or the ``ParseError``.
    public init(parsing bytes: [UInt8]) throws(ParseError) {
        switch Self.parse(bytes) {
        case .success(let value): self = value
        case .failure(let error): throw error
        }
    }

    /// An object's members by key (keys are unique: the parser refuses duplicates), or nil for
    /// any other value.
    public var members: [String: JSONValue]? {
        guard case .object(let pairs) = self else { return nil }
        return Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    /// The value as an exact integer (a JSON integer literal within `Int`'s range), else nil.
    public var exactInteger: Int? {
        if case .integer(let n) = self { n } else { nil }
    }

    /// Parses one strict RFC 8259 JSON text (same rules as the input parser: UTF-8 validated, no
    /// lone surrogates, no duplicate keys, depth ≤ 32, whitespace only around the value).
    public static func parse(_ bytes: [UInt8]) -> Result<JSONValue, ParseError> {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(bytes: buffer)
            do throws(JSONSyntaxError) {
                if buffer.isEmpty { throw scanner.fail(.empty) }
                scanner.skipWhitespace()
                let value = try scanner.parseValue(depth: 0)
                scanner.skipWhitespace()
                guard scanner.isAtEnd else { throw scanner.fail(.trailingData) }
                return .success(value)
            } catch {
                return .failure(ParseError(message: error.message))
            }
        }
    }
}

extension JSONValue: Equatable {
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.integer(let x), .integer(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)):
            x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Keeps the literal's order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(elements.map { (key: $0.0, value: $0.1) })
    }
}

extension JSONScanner {
    /// Parses the value at `pos` into a tree; `depth` is that of the enclosing container.
    mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        switch current {
        case UInt8(ascii: "\""):
            // Scan before reading `scratch` (a call would capture `self` before the scan).
            let scanned = try scanString()
            return .string(decodedString(scanned))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let number = try scanNumber()
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[number.start..<number.end]), as: UTF8.self)
            if let n = Int(text) { return .integer(n) }
            // The grammar was checked above, so Double's parser always succeeds (maybe to ±inf).
            return .number(Double(text) ?? .nan)
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            switch try scanLiteral() {
            case .true: return .bool(true)
            case .false: return .bool(false)
            case .null: return .null
            }
        case UInt8(ascii: "["):
            guard depth + 1 <= Self.maxDepth else { throw fail(.tooDeep(limit: Self.maxDepth)) }
            pos += 1
            skipWhitespace()
            var items: [JSONValue] = []
            if current == UInt8(ascii: "]") { pos += 1; return .array(items) }
            while true {
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                if current == UInt8(ascii: ",") { pos += 1; skipWhitespace(); continue }
                if current == UInt8(ascii: "]") { pos += 1; return .array(items) }
                throw unexpected(.commaOrArrayEnd)
            }
        case UInt8(ascii: "{"):
            guard depth + 1 <= Self.maxDepth else { throw fail(.tooDeep(limit: Self.maxDepth)) }
            pos += 1
            skipWhitespace()
            var members: [(key: String, value: JSONValue)] = []
            if current == UInt8(ascii: "}") { pos += 1; return .object(members) }
            var keys = KeySet()
            while true {
                guard current == UInt8(ascii: "\"") else { throw unexpected(.key) }
                let keyStart = pos
                let scanned = try scanString()
                try insertKey(scanned, into: &keys, keyStart: keyStart)
                // Decoded now: parsing the value reuses the scratch buffer of an escaped key.
                let key = decodedString(scanned)
                skipWhitespace()
                try expect(UInt8(ascii: ":"), .colon)
                skipWhitespace()
                let value = try parseValue(depth: depth + 1)
                members.append((key: key, value: value))
                skipWhitespace()
                if current == UInt8(ascii: ",") { pos += 1; skipWhitespace(); continue }
                if current == UInt8(ascii: "}") { pos += 1; return .object(members) }
                throw unexpected(.commaOrObjectEnd)
            }
        default:
            throw unexpected(.value)
        }
    }

    private func decodedString(_ s: ScannedString) -> String {
        if s.escaped { return String(decoding: scratch, as: UTF8.self) }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[s.start..<s.end]), as: UTF8.self)
    }
}
