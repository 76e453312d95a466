/// The CoNLL-U column that holds the gold tag.
public enum CoNLLUColumn: Int, Sendable, Codable, CaseIterable {
    /// Column 4, universal part of speech (the default).
    case upos = 4
    /// Column 5, language-specific part of speech (Penn tags in English-EWT).
    case xpos = 5

    /// 0-based index among the 10 tab-separated fields.
    var fieldIndex: Int { rawValue - 1 }

    var name: String { self == .upos ? "UPOS" : "XPOS" }
}

/// A CoNLL-U file: its sentences plus everything needed to write it back byte for byte with
/// only the tag column of word lines replaced.
///
/// What the reader accepts, and why:
/// - Every line that is not blank and not a comment has exactly 10 tab-separated fields.
/// - Comment lines (`#...`) are kept verbatim; `# newdoc` (with or without `id = ...`) marks
///   the next sentence as `startsDocument`. A comment between word lines is tolerated (kept
///   verbatim) since it harms nothing here, although UD's validator rejects it.
/// - Multiword-token lines (`1-2`) and empty nodes (`1.1`) are kept verbatim and are not tokens;
///   their IDs are checked against the word IDs (a range starts at the next word, an empty node
///   follows the word it is numbered after).
/// - Word IDs run 1, 2, 3, ... within a sentence. A blank line (or one of only spaces and tabs)
///   ends a sentence; a last sentence without a blank line after it still counts.
/// - `\r\n` endings, a missing final newline, a UTF-8 byte order mark and runs of blank lines are
///   all reproduced exactly by `rewrite`, since it copies every byte it does not replace.
public struct CoNLLUDocument: Sendable {
    /// The file name used in error messages.
    public let file: String
    /// The column the gold tags were read from.
    public let column: CoNLLUColumn
    /// The sentences, in file order.
    public let sentences: [Sentence]
    /// For each sentence, the 1-based line number of its first word line.
    public let sentenceLines: [Int]

    /// The input exactly as read.
    let bytes: [UInt8]
    /// For each token in file order, where its UPOS and XPOS fields sit in `bytes`.
    let fields: [TagFields]

    /// Byte offsets of the two tag fields of one word line: UPOS is `upos..<xpos - 1`,
    /// XPOS is `xpos..<xposEnd` (they are adjacent, separated by one tab).
    struct TagFields: Sendable {
        var upos: Int
        var xpos: Int
        var xposEnd: Int

        func range(_ column: CoNLLUColumn) -> Range<Int> {
            column == .upos ? upos..<(xpos - 1) : xpos..<xposEnd
        }
    }

    init(file: String, column: CoNLLUColumn, sentences: [Sentence], sentenceLines: [Int],
         bytes: [UInt8], fields: [TagFields]) {
        self.file = file
        self.column = column
        self.sentences = sentences
        self.sentenceLines = sentenceLines
        self.bytes = bytes
        self.fields = fields
    }

    /// Parses CoNLL-U bytes. `file` only names the source in errors.
    public static func parse(bytes: [UInt8], file: String = "<input>", column: CoNLLUColumn = .upos,
                             tags: TagPolicy = .required) throws(CorpusError) -> CoNLLUDocument {
        var parser = CoNLLUParser(file: file, column: column, policy: tags)
        try parser.run(bytes)
        return CoNLLUDocument(file: file, column: column, sentences: parser.sentences,
                              sentenceLines: parser.sentenceLines, bytes: bytes, fields: parser.fields)
    }

    /// Parses CoNLL-U text held in memory.
    public static func parse(_ text: String, file: String = "<input>", column: CoNLLUColumn = .upos,
                             tags: TagPolicy = .required) throws(CorpusError) -> CoNLLUDocument {
        try parse(bytes: Array(text.utf8), file: file, column: column, tags: tags)
    }

    /// Reads and parses a CoNLL-U file; errors name `path`.
    public static func read(path: String, column: CoNLLUColumn = .upos,
                            tags: TagPolicy = .required) throws(CorpusError) -> CoNLLUDocument {
        try parse(bytes: ByteFile.load(path: path), file: path, column: column, tags: tags)
    }

    /// Number of tokens (word lines) in the file.
    public var tokenCount: Int { fields.count }

    /// The sentences as a `Corpus`.
    public var corpus: Corpus { Corpus(file: file, format: .conllu, sentences: sentences) }

    /// The input with the tag column of every word line replaced by `tags` (one array per
    /// sentence, one tag per token), and every other byte unchanged. `column` defaults to the
    /// column the gold tags were read from.
    public func rewrite(replacingTagsWith tags: [[String]], column: CoNLLUColumn? = nil) throws(CorpusError) -> String {
        // The input was validated as UTF-8 line by line and the tags are Strings, so decoding
        // the result cannot alter anything.
        String(decoding: try rewrittenBytes(replacingTagsWith: tags, column: column), as: UTF8.self)
    }

    /// `rewrite` as bytes, for writing straight to a file.
    public func rewrittenBytes(replacingTagsWith tags: [[String]], column: CoNLLUColumn? = nil) throws(CorpusError) -> [UInt8] {
        let column = column ?? self.column
        guard tags.count == sentences.count else {
            throw CorpusError(.shapeMismatch, file: file, line: 0,
                              "got tags for \(tags.count) sentences, the file has \(sentences.count)")
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8)
        var cursor = 0
        var token = 0
        for (s, sentenceTags) in tags.enumerated() {
            guard sentenceTags.count == sentences[s].count else {
                throw CorpusError(.shapeMismatch, file: file, line: sentenceLines[s],
                                  "sentence \(s + 1) has \(sentences[s].count) tokens but got \(sentenceTags.count) tags")
            }
            for (k, tag) in sentenceTags.enumerated() {
                if let problem = ColumnText.problem(tag) {
                    throw CorpusError(.badOutput, file: file, line: sentenceLines[s],
                                      "tag for token \(k + 1) of sentence \(s + 1) \(problem)")
                }
                let range = fields[token].range(column)
                out.append(contentsOf: bytes[cursor..<range.lowerBound])
                out.append(contentsOf: tag.utf8)
                cursor = range.upperBound
                token += 1
            }
        }
        out.append(contentsOf: bytes[cursor...])
        return out
    }
}

/// Internal: checks that a token or tag can be written into a column format.
enum ColumnText {
    /// nil when `text` is fine as one field; else why not ("is empty", "contains a tab", ...).
    static func problem(_ text: String) -> String? {
        if text.isEmpty { return "is empty" }
        for b in text.utf8 {
            switch b {
            case 0x09: return "contains a tab"
            case 0x0A, 0x0D: return "contains a line break"
            default: continue
            }
        }
        return nil
    }
}
