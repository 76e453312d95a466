/// A strict RFC 8259 scanner over raw bytes: the building blocks of the input parser (which
/// reads a fixed shape without building a tree) and of `JSONValue.parse` (which does build one).
///
/// Strict means: no NaN/Infinity, no trailing commas, no comments, no leading zeros, only the four
/// RFC whitespace bytes, no byte order mark, UTF-8 validated everywhere (overlong forms, encoded
/// surrogates and code points above U+10FFFF are refused), no lone surrogates in `\u` escapes,
/// no duplicate keys in any object, and containers nested at most `maxDepth` deep.
///
/// The scanner works on an `UnsafeBufferPointer` so that the hot loop has no bounds checks in
/// release builds; every read is guarded by an explicit `pos < bytes.count` instead.
struct JSONScanner {
    /// Deepest allowed container nesting; the top-level container is depth 1 (docs/protocol.md#limits).
    static let maxDepth = 32

    /// A string's location: raw bytes `start..<end` of the text, or, when it had escapes, its
    /// unescaped UTF-8 in `scratch` (valid until the next string with escapes is scanned).
    struct ScannedString {
        var start: Int
        var end: Int
        var escaped: Bool
    }

    /// A number's text span; `isPlainUnsigned` when it is digits only (no sign, fraction, exponent).
    struct ScannedNumber {
        var start: Int
        var end: Int
        var isPlainUnsigned: Bool
    }

    enum Literal { case `true`, `false`, null }

    var bytes: UnsafeBufferPointer<UInt8>
    var pos = 0
    /// Reused buffer for unescaped string contents; callers move it in and out to keep its capacity.
    var scratch: [UInt8]

    init(bytes: UnsafeBufferPointer<UInt8>, scratch: [UInt8] = []) {
        self.bytes = bytes
        self.scratch = scratch
    }

    // MARK: Basics

    /// The byte at `pos`, or 0 at the end (0 is never valid where a caller compares against it).
    @inline(__always) var current: UInt8 { pos < bytes.count ? bytes[pos] : 0 }

    @inline(__always) var isAtEnd: Bool { pos >= bytes.count }

    @inline(__always) mutating func skipWhitespace() {
        while pos < bytes.count {
            let b = bytes[pos]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            pos += 1
        }
    }

    func fail(_ reason: JSONSyntaxError.Reason, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(offset: offset ?? pos, reason: reason)
    }

    /// The error for meeting something other than `expected` at `pos`.
    func unexpected(_ expected: JSONSyntaxError.Expectation) -> JSONSyntaxError {
        isAtEnd ? fail(.unexpectedEnd) : fail(.unexpectedByte(bytes[pos], expected: expected))
    }

    @inline(__always) mutating func expect(_ byte: UInt8, _ expectation: JSONSyntaxError.Expectation) throws(JSONSyntaxError) {
        guard current == byte else { throw unexpected(expectation) }
        pos += 1
    }

    /// Calls `body` with the unescaped bytes of a scanned string, without copying.
    func withContents<R>(_ s: ScannedString, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if s.escaped { return scratch.withUnsafeBufferPointer(body) }
        return body(UnsafeBufferPointer(rebasing: bytes[s.start..<s.end]))
    }

    /// Records the key `s` in `keys`, or throws `duplicateKey` (at `keyStart`) if it is there already.
    func insertKey(_ s: ScannedString, into keys: inout KeySet, keyStart: Int) throws(JSONSyntaxError) {
        let duplicate: String? = withContents(s) { key in keys.insert(key) ? nil : KeySet.describe(key) }
        if let duplicate { throw fail(.duplicateKey(duplicate), at: keyStart) }
    }

    /// Whether the unescaped contents of `s` equal `word` (an ASCII key such as `seq`).
    func contents(_ s: ScannedString, equal word: StaticString) -> Bool {
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        if s.escaped { return scratch.elementsEqual(w) }
        return s.end - s.start == w.count && memcmpEqual(bytes.baseAddress! + s.start, w.baseAddress!, w.count)
    }

    // MARK: Scalars

    /// Scans a string starting at its opening quote; leaves `pos` after the closing quote.
    mutating func scanString() throws(JSONSyntaxError) -> ScannedString {
        pos += 1
        let start = pos
        let n = bytes.count
        // Fast path: printable ASCII and valid multi-byte UTF-8 need no copy.
        while pos < n {
            let b = bytes[pos]
            if b >= 0x20 && b < 0x80 {
                if b == 0x22 {
                    let s = ScannedString(start: start, end: pos, escaped: false)
                    pos += 1
                    return s
                }
                if b == 0x5C { return try scanEscapedString(start: start) }
                pos += 1
            } else if b < 0x20 {
                throw fail(.controlCharacterInString(b))
            } else {
                try skipUTF8Sequence()
            }
        }
        throw fail(.unexpectedEnd)
    }

    /// The rest of a string once a backslash was seen: unescapes everything into `scratch`.
    private mutating func scanEscapedString(start: Int) throws(JSONSyntaxError) -> ScannedString {
        scratch.removeAll(keepingCapacity: true)
        var runStart = start
        let n = bytes.count
        while pos < n {
            let b = bytes[pos]
            if b == 0x22 || b == 0x5C {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<pos]))
                if b == 0x22 {
                    pos += 1
                    return ScannedString(start: start, end: pos - 1, escaped: true)
                }
                try unescape()
                runStart = pos
            } else if b < 0x20 {
                throw fail(.controlCharacterInString(b))
            } else if b < 0x80 {
                pos += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw fail(.unexpectedEnd)
    }

    /// One escape sequence at `pos` (the backslash), appended to `scratch`.
    private mutating func unescape() throws(JSONSyntaxError) {
        let escapeStart = pos
        pos += 1
        guard pos < bytes.count else { throw fail(.unexpectedEnd) }
        let e = bytes[pos]
        pos += 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(e)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try hex4()
            var scalar = unit
            if (0xD800..<0xDC00).contains(unit) {
                // A high surrogate must be followed at once by an escaped low surrogate.
                guard pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                    throw fail(.loneSurrogate(unit), at: escapeStart)
                }
                pos += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw fail(.loneSurrogate(unit), at: escapeStart) }
                scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(unit) {
                throw fail(.loneSurrogate(unit), at: escapeStart)
            }
            appendUTF8(scalar)
        default:
            throw fail(.invalidEscape(e), at: escapeStart)
        }
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw fail(.invalidHexDigit) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c &- UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c &- UInt8(ascii: "a") &+ 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c &- UInt8(ascii: "A") &+ 10)
            default: throw fail(.invalidHexDigit)
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    private mutating func appendUTF8(_ v: UInt32) {
        switch v {
        case 0..<0x80:
            scratch.append(UInt8(v))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | v >> 6))
            scratch.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | v >> 12))
            scratch.append(UInt8(0x80 | (v >> 6) & 0x3F))
            scratch.append(UInt8(0x80 | v & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | v >> 18))
            scratch.append(UInt8(0x80 | (v >> 12) & 0x3F))
            scratch.append(UInt8(0x80 | (v >> 6) & 0x3F))
            scratch.append(UInt8(0x80 | v & 0x3F))
        }
    }

    @inline(__always) private mutating func skipUTF8Sequence() throws(JSONSyntaxError) {
        guard let length = UTF8Check.sequenceLength(bytes, at: pos) else { throw fail(.invalidUTF8) }
        pos += length
    }

    /// Scans a number per the RFC grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    mutating func scanNumber() throws(JSONSyntaxError) -> ScannedNumber {
        let start = pos
        var plain = true
        if current == UInt8(ascii: "-") { plain = false; pos += 1 }
        guard isDigit(current) else { throw fail(.missingDigits) }
        if current == UInt8(ascii: "0") {
            pos += 1
            if isDigit(current) { throw fail(.leadingZero) }
        } else {
            while isDigit(current) { pos += 1 }
        }
        if current == UInt8(ascii: ".") {
            plain = false
            pos += 1
            guard isDigit(current) else { throw fail(.missingDigits) }
            while isDigit(current) { pos += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            plain = false
            pos += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { pos += 1 }
            guard isDigit(current) else { throw fail(.missingDigits) }
            while isDigit(current) { pos += 1 }
        }
        return ScannedNumber(start: start, end: pos, isPlainUnsigned: plain)
    }

    @inline(__always) private func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    /// Scans `true`, `false` or `null` at `pos`.
    mutating func scanLiteral() throws(JSONSyntaxError) -> Literal {
        let (word, literal): (StaticString, Literal)
        switch current {
        case UInt8(ascii: "t"): (word, literal) = ("true", .true)
        case UInt8(ascii: "f"): (word, literal) = ("false", .false)
        case UInt8(ascii: "n"): (word, literal) = ("null", .null)
        default: throw unexpected(.value)
        }
        let n = word.utf8CodeUnitCount
        guard pos + n <= bytes.count, memcmpEqual(bytes.baseAddress! + pos, word.utf8Start, n) else {
            throw fail(.unexpectedByte(current, expected: .literal))
        }
        pos += n
        return literal
    }
}
