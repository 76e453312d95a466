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
/// Keys are kept in one flat byte buffer, so a reused set costs no allocation per key (the input
/// parser keeps one for the top-level object's unknown keys). Past 16 keys a hashed set takes
/// over, so that a body made of thousands of keys costs linear time rather than quadratic: the
/// I/O thread must not stall on a hostile message.
struct KeySet {
    private var bytes: [UInt8] = []
    /// End offset in `bytes` of each key, in insertion order.
    private var ends: [Int] = []
    private var large: Set<[UInt8]>?

    static let linearLimit = 16

    /// Forgets every key, keeping the buffers' capacity.
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        large = nil
    }

    /// Inserts `key`; false if it was already present.
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        if large != nil { return large!.insert(Array(key)).inserted }
        let found = bytes.withUnsafeBufferPointer { all -> Bool in
            var start = 0
            for end in ends {
                if end - start == key.count && (key.isEmpty || memcmpEqual(all.baseAddress! + start, key.baseAddress!, key.count)) {
                    return true
                }
                start = end
            }
            return false
        }
        if found { return false }
        if ends.count < Self.linearLimit {
            bytes.append(contentsOf: key)
            ends.append(bytes.count)
        } else {
            var set = Set<[UInt8]>()
            var start = 0
            for end in ends {
                set.insert(Array(bytes[start..<end]))
                start = end
            }
            set.insert(Array(key))
            large = set
        }
        return true
    }

    /// A key as text for an error message (lenient decoding, truncated).
    static func describe(_ key: UnsafeBufferPointer<UInt8>) -> String { preview(key) }
}

@inline(__always) func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}
