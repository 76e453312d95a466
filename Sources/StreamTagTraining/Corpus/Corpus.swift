/// The file formats the readers understand.
public enum CorpusFormat: String, Sendable, Codable, CaseIterable {
    /// Universal Dependencies CoNLL-U (`CoNLLUDocument`).
    case conllu
    /// Two columns, `token<TAB>tag` (`IOBFormat`).
    case iob
    /// One sentence per line, whitespace-tokenised, no tags (`PlainTextDocument`).
    case plainText = "text"
}

/// How `Corpus.read` reads a file.
public struct CorpusReadOptions: Sendable, Hashable {
    /// CoNLL-U: which column holds the gold tag.
    public var column: CoNLLUColumn
    /// CoNLL-U: what `_` in the tag column means. `.required` also rejects plain text, which
    /// has no tags at all; use `.optional` when only tagging.
    public var tags: TagPolicy
    /// Two-column files: require every tag to be `O`, `B-X` or `I-X`.
    public var validatesIOB: Bool

    public init(column: CoNLLUColumn = .upos, tags: TagPolicy = .required, validatesIOB: Bool = true) {
        self.column = column
        self.tags = tags
        self.validatesIOB = validatesIOB
    }
}

/// A list of sentences and the format they were read from: what the trainer and `eval` consume.
public struct Corpus: Sendable {
    /// Source file name (for messages and the model's `training` metadata).
    public var file: String
    public var format: CorpusFormat
    public var sentences: [Sentence]

    public init(file: String, format: CorpusFormat, sentences: [Sentence]) {
        self.file = file
        self.format = format
        self.sentences = sentences
    }

    /// Total number of tokens.
    public var tokenCount: Int { sentences.reduce(0) { $0 + $1.count } }

    /// The distinct gold tags, sorted.
    public var tagSet: [String] {
        var seen = Set<String>()
        for sentence in sentences { seen.formUnion(sentence.tags) }
        return seen.sorted()
    }

    /// Whether the gold tags form an IOB tag set (`IOBTag.isIOBTagSet`): score such a corpus
    /// with `EntityScores` as well as `TagScores`.
    public var isIOB: Bool { IOBTag.isIOBTagSet(tagSet) }

    /// Reads a file in `format`, or in the format `detectFormat` finds when `format` is nil.
    public static func read(path: String, format: CorpusFormat? = nil,
                            options: CorpusReadOptions = .init()) throws(CorpusError) -> Corpus {
        let bytes = try ByteFile.load(path: path)
        return try parse(bytes: bytes, file: path, format: format ?? detectFormat(path: path, bytes: bytes),
                         options: options)
    }

    /// Parses bytes held in memory in the given format.
    public static func parse(bytes: [UInt8], file: String = "<input>", format: CorpusFormat,
                             options: CorpusReadOptions = .init()) throws(CorpusError) -> Corpus {
        switch format {
        case .conllu:
            return try CoNLLUDocument.parse(bytes: bytes, file: file, column: options.column, tags: options.tags).corpus
        case .iob:
            return try IOBFormat.parse(bytes: bytes, file: file, validatesTags: options.validatesIOB)
        case .plainText:
            if options.tags == .required {
                throw CorpusError(.noTags, file: file, line: 0,
                                  "plain text has no gold tags (give a CoNLL-U or two-column file)")
            }
            return try PlainTextDocument.parse(bytes: bytes, file: file).corpus
        }
    }

    /// Guesses a file's format: the extension `.conllu` means CoNLL-U; otherwise the first
    /// 64 KiB decide. If every non-blank line there has 10 tab-separated fields (lines starting
    /// with `#` may be anything) it is CoNLL-U; if every one has exactly 2 (`-DOCSTART-` lines
    /// may be anything) it is two-column IOB; anything else is plain text. Space-separated
    /// two-column files therefore read as plain text unless the format is given.
    public static func detectFormat(path: String, bytes: [UInt8]) -> CorpusFormat {
        if path.lowercased().hasSuffix(".conllu") { return .conllu }
        return bytes.withUnsafeBufferPointer { all in
            var limit = min(all.count, 1 << 16)
            // Judge whole lines only: cut back to the last newline in the sample.
            if limit < all.count, let cut = all[..<limit].lastIndex(of: 0x0A) { limit = cut }
            let buf = UnsafeBufferPointer(rebasing: all[..<limit])
            var lines = ByteLineScanner(buf, from: ByteFile.bodyStart(buf))
            // Counts of lines that rule each format out, and of lines that speak for it.
            var ten = 0, notCoNLLU = 0, two = 0, notIOB = 0
            while let line = lines.next() {
                if buf.isBlank(line) { continue }
                var tabs = 0
                for i in line.start..<line.end where buf[i] == 0x09 { tabs += 1 }
                if tabs == 9 { ten += 1 } else if buf[line.start] != UInt8(ascii: "#") { notCoNLLU += 1 }
                if tabs == 1 { two += 1 } else if !buf.matches(line.start, min(line.end, line.start + 10), "-DOCSTART-") { notIOB += 1 }
            }
            if ten > 0 && notCoNLLU == 0 { return .conllu }
            if two > 0 && notIOB == 0 { return .iob }
            return .plainText
        }
    }

    /// `detectFormat` on a file.
    public static func detectFormat(path: String) throws(CorpusError) -> CorpusFormat {
        detectFormat(path: path, bytes: try ByteFile.load(path: path))
    }
}
