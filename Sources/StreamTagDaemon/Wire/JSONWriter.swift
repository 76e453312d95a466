/// Appends JSON fragments to a byte buffer without intermediate Strings: the building blocks of
/// `OutputEncoder` and `JSONValue`'s encoder.
///
/// Output is always valid JSON text: strings are escaped per RFC 8259 (quote, backslash, and
/// every control character below U+0020 as `\u00XX`; everything else, including non-ASCII, is
/// copied as UTF-8, which Swift Strings always hold validly).
public enum JSONWriter {
    /// Appends `s` as a JSON string literal, quotes included.
    @inline(__always)
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        if s.utf8.withContiguousStorageIfAvailable({ appendEscaped($0, to: &out) }) == nil {
            // Non-contiguous strings (bridged or lazily-built) are copied once.
            Array(s.utf8).withUnsafeBufferPointer { appendEscaped($0, to: &out) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `bytes` (valid UTF-8) escaped for inside a JSON string literal.
    public static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var runStart = 0
        for i in 0..<bytes.count {
            let b = bytes[i]
            guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
            // Copy the plain run before this byte in one go, then its escape.
            if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
            out.append(UInt8(ascii: "\\"))
            if b >= 0x20 {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "u"))
                out.append(UInt8(ascii: "0"))
                out.append(UInt8(ascii: "0"))
                out.append(hexDigit(b >> 4))
                out.append(hexDigit(b & 0xF))
            }
            runStart = i + 1
        }
        if runStart < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...])) }
    }

    @inline(__always) private static func hexDigit(_ v: UInt8) -> UInt8 {
        v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "a") + v - 10
    }

    /// Appends the decimal digits of `n`.
    @inline(__always)
    public static func appendInteger(_ n: UInt64, to out: inout [UInt8]) {
        let start = out.count
        var v = n
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: v % 10))
            v /= 10
        } while v > 0
        out[start...].reverse()
    }

    /// Appends the decimal form of a signed integer.
    @inline(__always)
    public static func appendInteger(_ n: Int, to out: inout [UInt8]) {
        if n < 0 { out.append(UInt8(ascii: "-")) }
        appendInteger(UInt64(n.magnitude), to: &out)
    }

    /// Appends a probability rounded to 4 decimals in its shortest form: `0.9912`, `1`, `0.5`,
    /// `0.0001`, `0`. Never an exponent. Values are clamped to [0, 1]; NaN is written as 0
    /// (JSON has no NaN, and a broken score must not break the message).
    @inline(__always)
    public static func appendProbability(_ p: Double, to out: inout [UInt8]) {
        // p×10⁴ rounded half away from zero, in binary floating point.
        let scaled = p.isNaN ? 0 : (min(max(p, 0), 1) * 10_000).rounded()
        let units = Int(scaled)
        if units == 0 { out.append(UInt8(ascii: "0")); return }
        if units >= 10_000 { out.append(UInt8(ascii: "1")); return }
        // Strip trailing zeros: q = 5000 is "0.5", q = 1 is "0.0001".
        var q = units, decimals = 4
        while q % 10 == 0 { q /= 10; decimals -= 1 }
        out.append(UInt8(ascii: "0"))
        out.append(UInt8(ascii: "."))
        var divisor = 1
        for _ in 1..<decimals { divisor *= 10 }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(q / divisor % 10))
            divisor /= 10
        }
    }

    /// Appends a finite Double in Swift's shortest round-trip form (e.g. `0.1`, `1e-05`,
    /// `1.5e+300`, all valid JSON numbers); NaN and infinities, which JSON cannot express, as `null`.
    public static func appendDouble(_ d: Double, to out: inout [UInt8]) {
        guard d.isFinite else { out.append(contentsOf: "null".utf8); return }
        out.append(contentsOf: d.description.utf8)
    }

    /// Appends `"key":` (the key escaped).
    @inline(__always)
    public static func appendKey(_ key: String, to out: inout [UInt8]) {
        appendString(key, to: &out)
        out.append(UInt8(ascii: ":"))
    }

    /// Appends raw ASCII known at compile time (structural text such as `{"type":"event"`).
    @inline(__always)
    public static func appendRaw(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
