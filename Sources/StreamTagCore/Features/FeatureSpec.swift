/// One sub-word feature of a token. Each feature value is hashed into one of `buckets` rows of
/// its own embedding table (`features.{i}.weight`, [buckets, E]); the row is added to the word
/// embedding. Everything is computed from the token itself.
///
/// JSON form (an entry of the `features` config array):
/// `{"kind": "suffix", "length": 3, "buckets": 4096}`, `{"kind": "prefix", "length": 2, ...}`,
/// `{"kind": "shape", "buckets": 512}`, `{"kind": "lower", "buckets": 16384}`.
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
    }

    public var kind: Kind
    /// Affix length in Unicode scalars (prefix and suffix only).
    public var length: Int
    public var buckets: Int

    public init(_ kind: Kind, length: Int = 0, buckets: Int) {
        self.kind = kind
        self.length = length
        self.buckets = buckets
    }

    enum CodingKeys: String, CodingKey { case kind, length, buckets }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let raw = try c.decode(String.self, forKey: .kind)
        guard let kind = Kind(rawValue: raw) else {
            throw ModelError(.unsupportedFeature, "unknown feature kind \"\(raw)\" (known: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.kind = kind
        length = try c.decodeIfPresent(Int.self, forKey: .length) ?? 0
        buckets = try c.decode(Int.self, forKey: .buckets)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind.rawValue, forKey: .kind)
        if kind == .prefix || kind == .suffix { try c.encode(length, forKey: .length) }
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
    }

    /// Short name for logs and tables: `suffix3`, `prefix2`, `shape`.
    public var description: String { kind == .prefix || kind == .suffix ? "\(kind.rawValue)\(length)" : kind.rawValue }
}
