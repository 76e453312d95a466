/// One sentence of a corpus: its tokens, its gold tags when the source has them, and whether the
/// source marks it as the first sentence of a document.
public struct Sentence: Sendable, Hashable, Codable {
    /// The tokens, byte for byte as in the source (CoNLL-U FORM, IOB column 1, plain-text words).
    public var tokens: [String]
    /// Gold tags, one per token; empty when the source has none (plain text, or `_` in CoNLL-U
    /// read with `TagPolicy.optional`). Never partially filled.
    public var tags: [String]
    /// True when the source marks a document boundary before this sentence (`# newdoc` in
    /// CoNLL-U, a `-DOCSTART-` line in IOB). Nothing is inferred: the first sentence of a file
    /// without markers has `false`; streaming evaluation treats sentence 0 as a start anyway.
    public var startsDocument: Bool

    public init(tokens: [String], tags: [String] = [], startsDocument: Bool = false) {
        precondition(tags.isEmpty || tags.count == tokens.count, "tags must be empty or one per token")
        self.tokens = tokens
        self.tags = tags
        self.startsDocument = startsDocument
    }

    /// Number of tokens.
    public var count: Int { tokens.count }

    /// Whether gold tags are present.
    public var hasTags: Bool { !tags.isEmpty || tokens.isEmpty }
}

/// What a reader does with `_` (no value) in the tag column of a CoNLL-U word line.
public enum TagPolicy: Sendable, Hashable {
    /// `_` is an error (`CorpusError.Code.missingTag`): training and evaluation need every tag.
    case required
    /// Tags are not needed (tagging): a sentence with any `_` gets empty `tags`; sentences whose
    /// tags are all present keep them.
    case optional
    /// `_` is read as this tag (e.g. `"X"`), so every sentence has tags.
    case substitute(String)
}
