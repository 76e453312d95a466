/// Appends JSON fragments to a byte buffer without intermediate Strings: the public face of the
/// rules `OutputEncoder` and `JSONValue`'s encoder follow (both write through `ByteCursor`).
///
/// Output is always valid JSON text: strings are escaped per RFC 8259 (quote, backslash, and
/// every control character below U+0020 as `\u00XX`; everything else, including non-ASCII, DEL
/// and U+2028, is copied as UTF-8, which Swift Strings always hold validly).
public enum JSONWriter {
    /// Appends `s` as a JSON string literal, quotes included.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        ByteCursor.write(into: &out, bound: ByteCursor.stringBound(s)) { $0.string(s) }
    }

    /// `s` as a JSON string literal, quotes included (for text built as a String, and for
    /// error messages that show a value exactly).
    public static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        appendString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the decimal digits of `n`.
    public static func appendInteger(_ n: UInt64, to out: inout [UInt8]) {
        ByteCursor.write(into: &out, bound: ByteCursor.integerBound) { $0.integer(n) }
    }

    /// Appends the decimal form of a signed integer.
    public static func appendInteger(_ n: Int, to out: inout [UInt8]) {
        ByteCursor.write(into: &out, bound: ByteCursor.integerBound) { $0.integer(n) }
    }

    /// Appends a probability rounded to 4 decimals in its shortest form: `0.9912`, `1`, `0.5`,
    /// `0.0001`, `0`. Never an exponent. Values are clamped to [0, 1] and NaN is written as 0
    /// (JSON has no NaN, and one broken score must not make the whole message invalid).
    /// Rounding is half away from zero of p×10⁴ computed in binary floating point.
    public static func appendProbability(_ p: Double, to out: inout [UInt8]) {
        ByteCursor.write(into: &out, bound: 6) { $0.probability(p) }
    }

    /// Appends a finite Double in Swift's shortest round-trip form (e.g. `0.1`, `1e-05`,
    /// `1.5e+300`, all valid JSON numbers); NaN and infinities, which JSON cannot express, as `null`.
    public static func appendDouble(_ d: Double, to out: inout [UInt8]) {
        guard d.isFinite else { out.append(contentsOf: "null".utf8); return }
        out.append(contentsOf: d.description.utf8)
    }

    /// Appends `"key":` (the key escaped).
    public static func appendKey(_ key: String, to out: inout [UInt8]) {
        appendString(key, to: &out)
        out.append(UInt8(ascii: ":"))
    }

    /// Appends raw ASCII known at compile time (structural text such as `{"type":"event"`).
    public static func appendRaw(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
