/// Writes JSON pieces into memory reserved in advance, with no per-write capacity or
/// uniqueness checks: the output encoder's fast path.
///
/// Appending to `[UInt8]` piece by piece costs a capacity and a uniqueness check per call, and a
/// tag entry is about twenty pieces. `write(into:bound:_:)` instead reserves an upper bound of
/// what the body will write once (`Array.append(addingCapacity:initializingWith:)`, which
/// neither zero-fills nor reallocates a buffer that is already big enough), hands out a cursor
/// over that uninitialized memory, and commits only the bytes written.
@usableFromInline
struct ByteCursor {
    private let base: UnsafeMutablePointer<UInt8>
    private let bound: Int
    private(set) var count = 0

    private init(base: UnsafeMutablePointer<UInt8>, bound: Int) {
        self.base = base
        self.bound = bound
    }

    /// Debug builds (the tests) stop at the write that would pass the bound, before any byte
    /// lands outside the reserved memory; release builds check once, after the body.
    @inline(__always)
    private func willWrite(_ n: Int) {
        assert(count + n <= bound, "ByteCursor would overrun its bound of \(bound) bytes")
    }

    /// Runs `body` with a cursor over `bound` bytes of new capacity at the end of `out`, then
    /// appends what it wrote. `body` must write at most `bound` bytes: every caller computes its
    /// bound from the worst case of each piece (debug builds check every write; release builds
    /// check after the body, trapping on overrun).
    @inline(__always)
    static func write(into out: inout [UInt8], bound: Int, _ body: (inout ByteCursor) -> Void) {
        guard bound > 0 else { return }
        out.append(addingCapacity: bound) { span in
            span.withUnsafeMutableBufferPointer { buffer, initialized in
                var cursor = ByteCursor(base: buffer.baseAddress!, bound: bound)
                body(&cursor)
                precondition(cursor.count <= bound, "ByteCursor overran its bound")
                initialized = cursor.count
            }
        }
    }

    // MARK: Bounds

    /// Most bytes `string(_:)` writes for `s`: quotes plus six bytes (`\u00XX`) per input byte.
    @inline(__always)
    static func stringBound(_ s: String) -> Int { 2 + 6 * s.utf8.count }

    /// Most bytes an integer takes (`-9223372036854775808` or `18446744073709551615`).
    static let integerBound = 20

    // MARK: Writing

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        willWrite(1)
        base[count] = b
        count += 1
    }

    @inline(__always)
    mutating func raw(_ text: StaticString) {
        willWrite(text.utf8CodeUnitCount)
        (base + count).update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        count += text.utf8CodeUnitCount
    }

    /// Writes `s` as a JSON string literal, quotes included (see `JSONWriter` for the rules).
    @inline(__always)
    mutating func string(_ s: String) {
        byte(UInt8(ascii: "\""))
        if s.utf8.withContiguousStorageIfAvailable({ escaped($0) }) == nil {
            Array(s.utf8).withUnsafeBufferPointer { escaped($0) }
        }
        byte(UInt8(ascii: "\""))
    }

    /// Writes UTF-8 escaped for inside a string literal: plain runs are copied in one go.
    mutating func escaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        var runStart = 0
        for i in 0..<bytes.count {
            let b = source[i]
            guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
            copy(source + runStart, i - runStart)
            byte(UInt8(ascii: "\\"))
            if b >= 0x20 {
                byte(b)
            } else {
                raw("u00")
                byte(Self.hexDigit(b >> 4))
                byte(Self.hexDigit(b & 0xF))
            }
            runStart = i + 1
        }
        copy(source + runStart, bytes.count - runStart)
    }

    @inline(__always)
    private mutating func copy(_ source: UnsafePointer<UInt8>, _ n: Int) {
        guard n > 0 else { return }
        willWrite(n)
        (base + count).update(from: source, count: n)
        count += n
    }

    @inline(__always)
    private static func hexDigit(_ v: UInt8) -> UInt8 {
        v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "a") + v - 10
    }

    /// Writes the decimal digits of `n`.
    @inline(__always)
    mutating func integer(_ n: UInt64) {
        var digits = 1
        var v = n
        while v >= 10 { v /= 10; digits += 1 }
        v = n
        willWrite(digits)
        var i = count + digits
        count = i
        repeat {
            i -= 1
            base[i] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: v % 10)
            v /= 10
        } while v > 0
    }

    @inline(__always)
    mutating func integer(_ n: Int) {
        if n < 0 { byte(UInt8(ascii: "-")) }
        integer(UInt64(n.magnitude))
    }

    /// Writes a probability rounded to 4 decimals in its shortest form (see `JSONWriter`); at most 6 bytes.
    @inline(__always)
    mutating func probability(_ p: Double) {
        // p×10⁴ rounded half away from zero, in binary floating point; NaN counts as 0.
        // Truncating x + 0.5 is an inline instruction where `rounded()` is a libm call; the
        // correction undoes the one case where adding 0.5 itself rounds up (x just below n + ½).
        let x = p.isNaN ? 0 : min(max(p, 0), 1) * 10_000
        var units = Int(x + 0.5)
        if x < Double(units) - 0.5 { units -= 1 }
        if units == 0 { byte(UInt8(ascii: "0")); return }
        if units >= 10_000 { byte(UInt8(ascii: "1")); return }
        // Strip trailing zeros: 5000 is "0.5", 1 is "0.0001".
        var q = units, decimals = 4
        while q % 10 == 0 { q /= 10; decimals -= 1 }
        byte(UInt8(ascii: "0"))
        byte(UInt8(ascii: "."))
        willWrite(decimals)
        var i = count + decimals
        count = i
        for _ in 0..<decimals {
            i -= 1
            base[i] = UInt8(ascii: "0") + UInt8(q % 10)
            q /= 10
        }
    }
}
