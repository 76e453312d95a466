// How a token becomes feature bucket ids. The hash and the normalisations are part of the
// model file format (a model trained elsewhere must compute the same buckets), so they are
// spelled out here and in docs/model-format.md#features: FNV-1a 64 (`fnv1a64`) over UTF-8
// bytes, bucket = hash % buckets.

public enum TokenFeatures {
    /// The lowercased form used for vocabulary lookups and affixes. ASCII is lowered in place
    /// without Foundation; anything else goes through Unicode's full lowercase mapping.
    public static func lowercased(_ token: String) -> String {
        var hasUpper = false
        var ascii = true
        for byte in token.utf8 {
            if byte >= 0x80 { ascii = false; break }
            if byte >= 0x41 && byte <= 0x5A { hasUpper = true }
        }
        if ascii {
            guard hasUpper else { return token }
            return String(decoding: token.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        }
        return token.lowercased()
    }

    /// Word shape: uppercase letters become `X`, other letters `x`, digits `d`, anything else
    /// stays itself; runs of one symbol are cut at 2 so that length barely matters.
    /// Examples: "Hello" → "Xxx", "USA" → "XX", "3.14" → "d.dd", "e-mail" → "x-xx".
    public static func shape(_ token: String) -> String {
        var out = String.UnicodeScalarView()
        var last: Unicode.Scalar = "\0"
        var run = 0
        for scalar in token.unicodeScalars {
            let props = scalar.properties
            let mapped: Unicode.Scalar
            if props.isUppercase { mapped = "X" }
            else if props.isAlphabetic { mapped = "x" }
            else if props.numericType != nil { mapped = "d" }
            else { mapped = scalar }
            if mapped == last { run += 1 } else { run = 1; last = mapped }
            if run <= 2 { out.append(mapped) }
        }
        return String(out)
    }

    /// The string a feature hashes for a token (exposed for tests and documentation).
    public static func value(of spec: FeatureSpec, token: String, lowered: String) -> String {
        switch spec.kind {
        case .prefix: return String(String.UnicodeScalarView(lowered.unicodeScalars.prefix(spec.length)))
        case .suffix: return String(String.UnicodeScalarView(lowered.unicodeScalars.suffix(spec.length)))
        case .shape: return shape(token)
        case .lower: return lowered
        case .lexicon: return ""  // a lookup, not a hashed value: see `Lexicon.mask`
        case .ngram: return ngrams(lowered, length: spec.length).joined(separator: " ")
        }
    }

    /// The character n-grams an `ngram` feature hashes: runs of `length` Unicode scalars of
    /// `<` + lowered + `>`, in order, at most `FeatureSpec.ngramSlots` ("dog", 3 → `<do`, `dog`,
    /// `og>`). A token shorter than `length` − 2 has none.
    public static func ngrams(_ lowered: String, length: Int) -> [String] {
        let scalars = ["<"] + Array(lowered.unicodeScalars) + [">"]
        guard scalars.count >= length else { return [] }
        return (0...(scalars.count - length)).prefix(FeatureSpec.ngramSlots).map {
            String(String.UnicodeScalarView(scalars[$0..<($0 + length)]))
        }
    }

    /// The buckets of `ngrams(lowered, length:)` into `FeatureSpec.ngramSlots` slots, -1 in the
    /// slots left over: hashed from the token's bytes in place (an unknown token in the daemon
    /// allocates nothing for its n-grams).
    static func ngramBuckets(_ lowered: String, length n: Int, buckets: Int, into out: UnsafeMutablePointer<Int32>) {
        var lowered = lowered
        lowered.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: utf8.count + 1) { starts in
                // starts[i]: byte offset of scalar i; starts[m] = the end.
                var m = 0
                for (offset, byte) in utf8.enumerated() where byte & 0xC0 != 0x80 {
                    starts[m] = offset
                    m += 1
                }
                starts[m] = utf8.count
                // Marked scalars 0...m+1: `<`, the token's m scalars, `>`.
                let windows = max(0, m + 3 - n)
                for w in 0..<FeatureSpec.ngramSlots {
                    guard w < windows else { out[w] = -1; continue }
                    // FNV-1a over `<`?, the window's bytes, `>`?, as one run of bytes.
                    var hash = fnv1a64(EmptyCollection<UInt8>())
                    if w == 0 { hash = fnv1a64(CollectionOfOne(UInt8(ascii: "<")), seed: hash) }
                    let first = max(w, 1) - 1, last = min(w + n, m + 1) - 1    // token scalars first..<last
                    if first < last { hash = fnv1a64(UnsafeBufferPointer(rebasing: utf8[starts[first]..<starts[last]]), seed: hash) }
                    if w + n == m + 2 { hash = fnv1a64(CollectionOfOne(UInt8(ascii: ">")), seed: hash) }
                    out[w] = Int32(truncatingIfNeeded: hash % UInt64(buckets))
                }
            }
        }
    }

    /// Bucket of a feature value: FNV-1a 64 of its UTF-8 bytes, modulo the bucket count.
    public static func bucket(_ value: String, buckets: Int) -> Int32 {
        Int32(truncatingIfNeeded: fnv1a64(value.utf8) % UInt64(buckets))
    }

    /// Bucket ids of all features of `token` into `specs.slotCount` slots, in config order.
    /// A `lexicon` feature's bucket is the token's class mask in `lexicon` (0 without one); an
    /// `ngram` feature fills one slot per n-gram and -1 (no row) in the slots left over.
    public static func buckets(for token: String, specs: [FeatureSpec], lexicon: Lexicon? = nil,
                               into out: UnsafeMutablePointer<Int32>) {
        guard !specs.isEmpty else { return }
        let lowered = lowercased(token)
        var slot = 0
        for spec in specs {
            switch spec.kind {
            case .lexicon: out[slot] = Int32(lexicon?.mask(of: token) ?? 0)
            case .ngram: ngramBuckets(lowered, length: spec.length, buckets: spec.buckets, into: out + slot)
            default: out[slot] = bucket(value(of: spec, token: token, lowered: lowered), buckets: spec.buckets)
            }
            slot += spec.slots
        }
    }
}
