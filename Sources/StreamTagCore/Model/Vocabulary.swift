/// Words ↔ rows of `embedding.weight`. Row 0 is the unknown word: anything not listed maps
/// there, so its embedding (plus the token's sub-word features) stands for unseen words.
public struct Vocabulary: Sendable, Equatable {
    /// The words; index i is row i of the embedding. `words[0]` is the unknown-word marker.
    public let words: [String]
    private let index: [String: Int32]
    /// Whether lookups lowercase the token first (config `lowercase`).
    public let lowercase: Bool

    public static let unknown = "<unk>"

    /// Builds a vocabulary from its word list (as stored in a model file). Duplicates keep their
    /// first index, so a file's row order always wins.
    public init(words: [String], lowercase: Bool) {
        self.words = words
        self.lowercase = lowercase
        var index = [String: Int32](minimumCapacity: words.count)
        for (i, word) in words.enumerated().dropFirst() where index[word] == nil {
            index[word] = Int32(i)
        }
        self.index = index
    }

    public var count: Int { words.count }

    /// The row for a token: its entry, or 0 when unknown.
    public func id(of token: String) -> Int32 {
        index[lowercase ? TokenFeatures.lowercased(token) : token] ?? 0
    }

    public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
        a.words == b.words && a.lowercase == b.lowercase
    }
}
