/// UTF-8 well-formedness per the Unicode Standard, table 3-7: no overlong forms, no encoded
/// surrogates (U+D800–DFFF), nothing above U+10FFFF, no truncated sequences.
enum UTF8Check {
    /// The length of the well-formed sequence starting at `i` (1–4), or nil if it is ill-formed.
    @inline(__always)
    static func sequenceLength(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        let b0 = p[i]
        if b0 < 0x80 { return 1 }
        // The allowed range of the second byte depends on the lead byte; later bytes are 80–BF.
        let length: Int, low: UInt8, high: UInt8
        switch b0 {
        case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
        case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, low, high) = (3, 0x80, 0xBF)
        case 0xED: (length, low, high) = (3, 0x80, 0x9F)
        case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
        case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
        case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
        default: return nil
        }
        guard i + length <= p.count else { return nil }
        let b1 = p[i + 1]
        guard b1 >= low && b1 <= high else { return nil }
        for j in 2..<length where p[i + j] & 0xC0 != 0x80 { return nil }
        return length
    }

    /// The offset of the first ill-formed byte, or nil when all of `p` is valid UTF-8.
    static func firstInvalidOffset(_ p: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        while i < p.count {
            if p[i] < 0x80 { i += 1; continue }
            guard let n = sequenceLength(p, at: i) else { return i }
            i += n
        }
        return nil
    }
}

/// The keys seen so far in one object, to refuse duplicates. Keys are compared as unescaped
/// UTF-8 bytes (so `"a"` and `"\u0061"` collide; no Unicode normalisation, as in RFC 8259 §8.3).
///
/// Small objects use a linear scan; past 16 keys a hashed set takes over, so that a body made
/// of thousands of keys costs linear time rather than quadratic (the I/O thread must not stall).
struct KeySet {
    private var small: [[UInt8]] = []
    private var large: Set<[UInt8]>?

    /// Inserts `key`; false if it was already present.
    mutating func insert(_ key: [UInt8]) -> Bool {
        if large != nil { return large!.insert(key).inserted }
        if small.contains(key) { return false }
        if small.count < 16 {
            small.append(key)
        } else {
            large = Set(small)
            large!.insert(key)
            small = []
        }
        return true
    }

    /// A key as text for an error message (lenient decoding, truncated).
    static func describe(_ key: [UInt8]) -> String {
        key.withUnsafeBufferPointer { preview($0) }
    }
}

@inline(__always) func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}
