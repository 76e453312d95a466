/// Two-column files, one `token<TAB>tag` line per token and a blank line between sentences,
/// as in WNUT-17 and most NER data sets.
///
/// Reading rules, and why:
/// - Columns are separated by one tab. A line with no tab at all may separate its two columns
///   with one space instead (hand-written files, CoNLL-style exports); a tab-separated token may
///   itself contain spaces. Any other column count is an error naming the line.
/// - A line of only spaces and tabs ends a sentence like an empty one: WNUT-17's train file
///   separates most of its sentences with a lone tab.
/// - A line whose first column is `-DOCSTART-` is skipped; it ends any open sentence and marks
///   the next one `startsDocument`.
/// - With `validatesTags` (the default: the file is declared IOB) every tag must be `O`,
///   `B-TYPE` or `I-TYPE`; turn it off to read other two-column data (e.g. token + POS).
public enum IOBFormat {
    /// Parses two-column bytes into a corpus. `file` only names the source in errors.
    public static func parse(bytes: [UInt8], file: String = "<input>",
                             validatesTags: Bool = true) throws(CorpusError) -> Corpus {
        var sentences: [Sentence] = []
        try bytes.withUnsafeBufferPointer { (buf) throws(CorpusError) in
            var tokens: [String] = []
            var tags: [String] = []
            var documentPending = false
            var startsDocument = false
            func finish() {
                guard !tokens.isEmpty else { return }
                sentences.append(Sentence(tokens: tokens, tags: tags, startsDocument: startsDocument))
                tokens.removeAll(keepingCapacity: true)
                tags.removeAll(keepingCapacity: true)
            }
            var lines = ByteLineScanner(buf, from: ByteFile.bodyStart(buf))
            while let line = lines.next() {
                try buf.checkUTF8(line, file: file)
                if buf.isBlank(line) {
                    finish()
                    continue
                }
                // Tab-separated when the line has a tab, else space-separated.
                var separator: UInt8 = 0x20
                var columns = 1
                var firstEnd = line.end
                for i in line.start..<line.end where buf[i] == 0x09 { separator = 0x09; break }
                for i in line.start..<line.end where buf[i] == separator {
                    if columns == 1 { firstEnd = i }
                    columns += 1
                }
                if buf.matches(line.start, firstEnd, "-DOCSTART-") {
                    finish()
                    documentPending = true
                    continue
                }
                guard columns == 2 else {
                    throw CorpusError(.columnCount, file: file, line: line.number,
                                      "expected 2 columns (token<TAB>tag), found \(columns)")
                }
                guard firstEnd > line.start else {
                    throw CorpusError(.emptyField, file: file, line: line.number, "empty token (column 1)")
                }
                guard line.end > firstEnd + 1 else {
                    throw CorpusError(.emptyField, file: file, line: line.number, "empty tag (column 2)")
                }
                let tag = buf.string(firstEnd + 1, line.end)
                if validatesTags && IOBTag(tag) == nil {
                    throw CorpusError(.badTag, file: file, line: line.number,
                                      "tag '\(tag)' is not O, B-TYPE or I-TYPE")
                }
                if tokens.isEmpty {
                    startsDocument = documentPending
                    documentPending = false
                }
                tokens.append(buf.string(line.start, firstEnd))
                tags.append(tag)
            }
            finish()
        }
        return Corpus(file: file, format: .iob, sentences: sentences)
    }

    /// Parses two-column text held in memory.
    public static func parse(_ text: String, file: String = "<input>",
                             validatesTags: Bool = true) throws(CorpusError) -> Corpus {
        try parse(bytes: Array(text.utf8), file: file, validatesTags: validatesTags)
    }

    /// Reads and parses a two-column file; errors name `path`.
    public static func read(path: String, validatesTags: Bool = true) throws(CorpusError) -> Corpus {
        try parse(bytes: ByteFile.load(path: path), file: path, validatesTags: validatesTags)
    }

    /// Writes sentences as `token<TAB>tag` lines, each sentence followed by one blank line
    /// (WNUT-17's dev layout), `\n` endings. `tags` (one array per sentence) replaces the
    /// sentences' own tags when given. With `documentMarkers`, a `-DOCSTART-<TAB>O` line and a
    /// blank line precede every sentence that `startsDocument`.
    public static func write(_ sentences: [Sentence], tags: [[String]]? = nil,
                             documentMarkers: Bool = false) throws(CorpusError) -> String {
        if let tags, tags.count != sentences.count {
            throw CorpusError(.shapeMismatch, file: "<output>", line: 0,
                              "got tags for \(tags.count) sentences, have \(sentences.count) sentences")
        }
        var out = ""
        out.reserveCapacity(sentences.reduce(0) { $0 + $1.count * 12 + 1 })
        for (s, sentence) in sentences.enumerated() {
            let sentenceTags = tags?[s] ?? sentence.tags
            guard sentenceTags.count == sentence.count else {
                throw CorpusError(.shapeMismatch, file: "<output>", line: 0,
                                  "sentence \(s + 1) has \(sentence.count) tokens but \(sentenceTags.count) tags")
            }
            if documentMarkers && sentence.startsDocument { out += "-DOCSTART-\tO\n\n" }
            for (token, tag) in zip(sentence.tokens, sentenceTags) {
                if let problem = ColumnText.problem(token) {
                    throw CorpusError(.badOutput, file: "<output>", line: 0, "token in sentence \(s + 1) \(problem)")
                }
                if let problem = ColumnText.problem(tag) {
                    throw CorpusError(.badOutput, file: "<output>", line: 0, "tag in sentence \(s + 1) \(problem)")
                }
                out += token
                out += "\t"
                out += tag
                out += "\n"
            }
            out += "\n"
        }
        return out
    }
}
