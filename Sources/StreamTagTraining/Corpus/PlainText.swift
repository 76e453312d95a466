/// Plain text to be tagged: one sentence per line, tokens separated by spaces and tabs.
///
/// The tokenisation rule is exactly the one `streamtag send` uses (split on U+0020 and U+0009,
/// drop empty pieces), so offline tagging and the daemon see the same tokens. Other whitespace
/// (no-break space, form feed, ...) stays inside tokens. A line with no tokens yields no
/// sentence but is remembered, so `slashTagged` writes it back as an empty line. Lines end at
/// `\n`; a `\r` before it is dropped.
public struct PlainTextDocument: Sendable {
    /// The file name used in error messages.
    public let file: String
    /// The non-empty lines as sentences (no tags).
    public let sentences: [Sentence]
    /// For each input line, the index of its sentence in `sentences`, or nil for a line
    /// without tokens.
    public let lineSentences: [Int?]

    /// Splits a line into tokens: on spaces and tabs, empty pieces dropped.
    public static func tokenize(_ line: some StringProtocol) -> [String] {
        line.utf8.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Parses plain-text bytes. `file` only names the source in errors (invalid UTF-8).
    public static func parse(bytes: [UInt8], file: String = "<input>") throws(CorpusError) -> PlainTextDocument {
        var sentences: [Sentence] = []
        var lineSentences: [Int?] = []
        try bytes.withUnsafeBufferPointer { (buf) throws(CorpusError) in
            var lines = ByteLineScanner(buf, from: ByteFile.bodyStart(buf))
            var tokens: [String] = []
            while let line = lines.next() {
                try buf.checkUTF8(line, file: file)
                var i = line.start
                while i < line.end {
                    while i < line.end && (buf[i] == 0x20 || buf[i] == 0x09) { i += 1 }
                    let start = i
                    while i < line.end && buf[i] != 0x20 && buf[i] != 0x09 { i += 1 }
                    if i > start { tokens.append(buf.string(start, i)) }
                }
                if tokens.isEmpty {
                    lineSentences.append(nil)
                } else {
                    lineSentences.append(sentences.count)
                    sentences.append(Sentence(tokens: tokens))
                    tokens.removeAll(keepingCapacity: true)
                }
            }
        }
        return PlainTextDocument(file: file, sentences: sentences, lineSentences: lineSentences)
    }

    /// Parses plain text held in memory.
    public static func parse(_ text: String, file: String = "<input>") throws(CorpusError) -> PlainTextDocument {
        try parse(bytes: Array(text.utf8), file: file)
    }

    /// Reads and parses a plain-text file; errors name `path`.
    public static func read(path: String) throws(CorpusError) -> PlainTextDocument {
        try parse(bytes: ByteFile.load(path: path), file: path)
    }

    /// The sentences as a `Corpus` (no gold tags).
    public var corpus: Corpus { Corpus(file: file, format: .plainText, sentences: sentences) }

    /// One output line per input line: `token/TAG` pairs joined by single spaces, and an empty
    /// line wherever the input had a line without tokens. Every line ends with `\n`.
    public func slashTagged(_ tags: [[String]]) throws(CorpusError) -> String {
        try checkShape(tags)
        var out = ""
        for index in lineSentences {
            if let index {
                let sentence = sentences[index]
                for k in 0..<sentence.count {
                    let tag = tags[index][k]
                    if let problem = ColumnText.problem(tag) ?? (tag.utf8.contains(0x20) ? "contains a space" : nil) {
                        throw CorpusError(.badOutput, file: file, line: 0, "tag for '\(sentence.tokens[k])' \(problem)")
                    }
                    if k > 0 { out += " " }
                    out += sentence.tokens[k]
                    out += "/"
                    out += tag
                }
            }
            out += "\n"
        }
        return out
    }

    /// `token<TAB>tag` lines with a blank line after each sentence (`IOBFormat.write`); input
    /// lines without tokens leave no trace in this form.
    public func columns(_ tags: [[String]]) throws(CorpusError) -> String {
        try checkShape(tags)
        return try IOBFormat.write(sentences, tags: tags)
    }

    private func checkShape(_ tags: [[String]]) throws(CorpusError) {
        guard tags.count == sentences.count else {
            throw CorpusError(.shapeMismatch, file: file, line: 0,
                              "got tags for \(tags.count) sentences, the file has \(sentences.count)")
        }
        for (n, index) in lineSentences.enumerated() {
            guard let index else { continue }
            guard tags[index].count == sentences[index].count else {
                throw CorpusError(.shapeMismatch, file: file, line: n + 1,
                                  "line has \(sentences[index].count) tokens but got \(tags[index].count) tags")
            }
        }
    }
}
