/// One sub-word feature of a token. Each feature value is hashed into one of `buckets` rows of
/// its own embedding table (`features.{i}.weight`, [buckets, E]); the row is added to the word
/// embedding (an `ngram` feature adds one row per n-gram). Everything is computed from the
/// token itself.
///
/// JSON form (an entry of the `features` config array):
/// `{"kind": "suffix", "length": 3, "buckets": 4096}`, `{"kind": "prefix", "length": 2, ...}`,
/// `{"kind": "shape", "buckets": 512}`, `{"kind": "lower", "buckets": 16384}`,
/// `{"kind": "ngram", "length": 3, "buckets": 8192}`.
public struct FeatureSpec: Codable, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// The first `length` Unicode scalars of the lowercased token.
        case prefix
        /// The last `length` Unicode scalars of the lowercased token.
        case suffix
        /// Letter case, digit and punctuation pattern: `Xx` for "Hello", `d.d` for "3.14".
        case shape
        /// The whole lowercased token: with a cased vocabulary, "Apple" still shares with "apple".
        case lower
        /// The token's open word classes in the model's lexicon (`Lexicon`, metadata `lexicon`):
        /// a 4-bit mask (`buckets` 16), or 5 bits with the name bit (`buckets` 32). A model with
        /// this feature carries a lexicon.
        case lexicon
        /// A bag of character n-grams: every run of `length` Unicode scalars of the lowercased
        /// token between boundary marks, `<` + token + `>` (the first `ngramSlots` of them),
        /// each hashed to a row of one shared table; their rows are summed.
        case ngram

        /// Whether the kind takes a `length` (an affix or n-gram length in scalars).
        public var hasLength: Bool { self == .prefix || self == .suffix || self == .ngram }

        /// The kinds' names, for messages: `prefix, suffix, …`.
        public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
    }

    /// Most n-grams of one token an `ngram` feature adds (a longer token's first ones).
    public static let ngramSlots = 16

    public var kind: Kind
    /// Affix or n-gram length in Unicode scalars (prefix, suffix and ngram only).
    public var length: Int
    public var buckets: Int

    public init(_ kind: Kind, length: Int = 0, buckets: Int) {
        self.kind = kind
        self.length = length
        self.buckets = buckets
    }

    /// Bucket slots the feature fills in a token's code: `ngramSlots` for an n-gram bag, else 1.
    public var slots: Int { kind == .ngram ? FeatureSpec.ngramSlots : 1 }

    enum CodingKeys: String, CodingKey { case kind, length, buckets }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let raw = try c.decode(String.self, forKey: .kind)
        guard let kind = Kind(rawValue: raw) else {
            throw ModelError(.unsupportedFeature, "unknown feature kind \"\(raw)\" (known: \(Kind.names))")
        }
        self.kind = kind
        length = try c.decodeIfPresent(Int.self, forKey: .length) ?? 0
        buckets = try c.decode(Int.self, forKey: .buckets)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind.rawValue, forKey: .kind)
        if kind.hasLength { try c.encode(length, forKey: .length) }
        try c.encode(buckets, forKey: .buckets)
    }

    func validate() throws(ModelError) {
        guard (1...(1 << 24)).contains(buckets) else {
            throw ModelError(.badConfig, "buckets must be 1...16777216, got \(buckets)")
        }
        if kind == .lexicon {
            guard buckets == 16 || buckets == Lexicon.classes else {
                throw ModelError(.badConfig, "lexicon buckets must be 16 (word classes) or 32 (with names), got \(buckets)")
            }
        }
        if kind == .prefix || kind == .suffix {
            guard (1...16).contains(length) else {
                throw ModelError(.badConfig, "\(kind.rawValue) length must be 1...16, got \(length)")
            }
        }
        if kind == .ngram {
            guard (1...8).contains(length) else {
                throw ModelError(.badConfig, "ngram length must be 1...8, got \(length)")
            }
        }
    }

    /// Short name for logs and tables: `suffix3`, `prefix2`, `shape`, `ngram3`.
    public var description: String { kind.hasLength ? "\(kind.rawValue)\(length)" : kind.rawValue }
}

extension [FeatureSpec] {
    /// Bucket slots of a token's code: one per feature, `ngramSlots` for an n-gram bag.
    public var slotCount: Int { reduce(0) { $0 + $1.slots } }

    /// The feature (and table) behind each bucket slot, in config order.
    public var slotFeatures: [Int] {
        var out: [Int] = []
        for (f, spec) in enumerated() { out += [Int](repeating: f, count: spec.slots) }
        return out
    }
}
