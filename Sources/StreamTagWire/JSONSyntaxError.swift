/// Why a byte sequence is not strict RFC 8259 JSON, and where.
///
/// The reason is an enum rather than a string so that the scanner allocates nothing until a
/// caller actually wants the message (rejections are counted on the I/O thread at full rate).
struct JSONSyntaxError: Error, Equatable, Sendable {
    enum Reason: Equatable, Sendable {
        case unexpectedEnd
        case unexpectedByte(UInt8, expected: Expectation)
        case invalidUTF8
        case controlCharacterInString(UInt8)
        case invalidEscape(UInt8)
        case invalidHexDigit
        case loneSurrogate(UInt32)
        case leadingZero
        case missingDigits
        case tooDeep(limit: Int)
        case duplicateKey(String)
        case trailingData
        case empty
    }

    /// What the scanner was looking for when it met an unexpected byte.
    enum Expectation: Equatable, Sendable {
        case value, key, colon, commaOrObjectEnd, commaOrArrayEnd, literal, object

        var text: String {
            switch self {
            case .value: "a value"
            case .key: "a key string"
            case .colon: "':' after the key"
            case .commaOrObjectEnd: "',' or '}'"
            case .commaOrArrayEnd: "',' or ']'"
            case .literal: "true, false or null"
            case .object: "a JSON object"
            }
        }
    }

    /// Byte offset (0-based) into the scanned text.
    var offset: Int
    var reason: Reason

    /// E.g. "invalid JSON at byte 17: expected ',' or '}', found 'x'".
    var message: String {
        let what: String
        switch reason {
        case .unexpectedEnd: what = "unexpected end of the text"
        case .unexpectedByte(let b, let expected): what = "expected \(expected.text), found \(Self.describe(b))"
        case .invalidUTF8: what = "invalid UTF-8"
        case .controlCharacterInString(let b): what = "unescaped control character \(Self.hex(b)) in a string"
        case .invalidEscape(let b): what = "invalid escape '\\\(Self.printable(b))'"
        case .invalidHexDigit: what = "a \\u escape needs four hex digits"
        case .loneSurrogate(let u): what = "lone surrogate \\u\(String(u, radix: 16, uppercase: false)) in a string"
        case .leadingZero: what = "a number may not have a leading zero"
        case .missingDigits: what = "a number is missing its digits"
        case .tooDeep(let limit): what = "nesting deeper than \(limit) levels"
        case .duplicateKey(let key): what = "duplicate key \"\(key)\""
        case .trailingData: what = "unexpected data after the JSON object"
        case .empty: what = "the text is empty"
        }
        return "invalid JSON at byte \(offset): \(what)"
    }

    private static func hex(_ b: UInt8) -> String {
        let h = String(b, radix: 16, uppercase: true)
        return "0x" + (h.count < 2 ? "0" + h : h)
    }

    private static func printable(_ b: UInt8) -> String {
        (0x21..<0x7F).contains(b) ? String(UnicodeScalar(b)) : hex(b)
    }

    private static func describe(_ b: UInt8) -> String {
        (0x21..<0x7F).contains(b) ? "'\(String(UnicodeScalar(b)))'" : "byte \(hex(b))"
    }
}
