/// Internal: the line-by-line state machine behind `CoNLLUDocument.parse`.
struct CoNLLUParser {
    let file: String
    let column: CoNLLUColumn
    let policy: TagPolicy

    private(set) var sentences: [Sentence] = []
    private(set) var sentenceLines: [Int] = []
    private(set) var fields: [CoNLLUDocument.TagFields] = []

    // The sentence being read.
    private var tokens: [String] = []
    private var tags: [String] = []
    private var anyMissingTag = false
    private var firstLine = 0            // first non-comment line of the sentence (0: none yet)
    private var firstWordLine = 0
    private var lastWordID = 0
    private var rangeEnd = 0             // end of the last multiword range, and its line
    private var rangeLine = 0
    private var newDocumentPending = false
    private var startsDocument = false

    init(file: String, column: CoNLLUColumn, policy: TagPolicy) {
        self.file = file
        self.column = column
        self.policy = policy
    }

    mutating func run(_ bytes: [UInt8]) throws(CorpusError) {
        try bytes.withUnsafeBufferPointer { (buf) throws(CorpusError) in
            var lines = ByteLineScanner(buf, from: ByteFile.bodyStart(buf))
            var tabs = [Int](repeating: 0, count: 9)
            while let line = lines.next() {
                try buf.checkUTF8(line, file: file)
                if buf.isBlank(line) {
                    try finishSentence()
                } else if buf[line.start] == UInt8(ascii: "#") {
                    if Self.isNewDoc(buf, line) { newDocumentPending = true }
                } else {
                    try readFieldLine(buf, line, &tabs)
                }
            }
            try finishSentence()
        }
    }

    /// `# newdoc`, `# newdoc id = X`, also without the space after `#`.
    private static func isNewDoc(_ buf: UnsafeBufferPointer<UInt8>, _ line: ByteLine) -> Bool {
        var i = line.start + 1
        while i < line.end && (buf[i] == 0x20 || buf[i] == 0x09) { i += 1 }
        guard line.end - i >= 6, buf.matches(i, i + 6, "newdoc") else { return false }
        let after = i + 6
        return after == line.end || buf[after] == 0x20 || buf[after] == 0x09 || buf[after] == UInt8(ascii: "=")
    }

    private mutating func readFieldLine(_ buf: UnsafeBufferPointer<UInt8>, _ line: ByteLine,
                                        _ tabs: inout [Int]) throws(CorpusError) {
        var count = 0
        var i = line.start
        while i < line.end {
            if buf[i] == 0x09 {
                if count < 9 { tabs[count] = i }
                count += 1
            }
            i += 1
        }
        guard count == 9 else {
            throw error(.columnCount, line, "expected 10 tab-separated columns, found \(count + 1)")
        }
        if firstLine == 0 { firstLine = line.number }
        // Field k spans fieldStart(k)..<fieldEnd(k).
        func fieldStart(_ k: Int) -> Int { k == 0 ? line.start : tabs[k - 1] + 1 }
        func fieldEnd(_ k: Int) -> Int { k == 9 ? line.end : tabs[k] }

        let id = Self.parseID(buf, line.start, tabs[0])
        switch id {
        case .invalid:
            throw error(.badID, line, "ID '\(buf.string(line.start, tabs[0]))' is not N, N-M or N.M")
        case .range(let a, let b):
            guard a == lastWordID + 1, b > a else {
                throw error(.idSequence, line, "multiword token \(a)-\(b) must start at word \(lastWordID + 1) and span at least two words")
            }
            rangeEnd = b
            rangeLine = line.number
        case .empty(let a, _):
            guard a == lastWordID else {
                throw error(.idSequence, line, "empty node \(a).x out of sequence: expected \(lastWordID).x after word \(lastWordID)")
            }
        case .word(let n):
            guard n == lastWordID + 1 else {
                throw error(.idSequence, line, "word ID \(n) out of sequence: expected \(lastWordID + 1)")
            }
            lastWordID = n
            try readWord(buf, line, form: fieldStart(1)..<fieldEnd(1),
                         upos: fieldStart(3), xpos: fieldStart(4), xposEnd: fieldEnd(4))
        }
    }

    private mutating func readWord(_ buf: UnsafeBufferPointer<UInt8>, _ line: ByteLine, form: Range<Int>,
                                   upos: Int, xpos: Int, xposEnd: Int) throws(CorpusError) {
        guard !form.isEmpty else { throw error(.emptyField, line, "empty FORM (column 2)") }
        let span = CoNLLUDocument.TagFields(upos: upos, xpos: xpos, xposEnd: xposEnd)
        let tagRange = span.range(column)
        guard !tagRange.isEmpty else {
            throw error(.emptyField, line, "empty \(column.name) (column \(column.rawValue))")
        }
        var tag: String
        if buf.matches(tagRange.lowerBound, tagRange.upperBound, "_") {
            switch policy {
            case .required:
                throw error(.missingTag, line, "\(column.name) (column \(column.rawValue)) is '_' but gold tags are required")
            case .optional:
                tag = "_"
                anyMissingTag = true
            case .substitute(let replacement):
                tag = replacement
            }
        } else {
            tag = buf.string(tagRange.lowerBound, tagRange.upperBound)
        }
        if tokens.isEmpty {
            firstWordLine = line.number
            startsDocument = newDocumentPending
            newDocumentPending = false
        }
        tokens.append(buf.string(form.lowerBound, form.upperBound))
        tags.append(tag)
        fields.append(span)
    }

    private mutating func finishSentence() throws(CorpusError) {
        guard firstLine != 0 else { return }   // only comments (or nothing) since the last blank line
        if rangeEnd > lastWordID {
            throw CorpusError(.idSequence, file: file, line: rangeLine,
                              "multiword token ends at word \(rangeEnd) but the sentence has \(lastWordID) words")
        }
        if tokens.isEmpty {
            throw CorpusError(.idSequence, file: file, line: firstLine, "sentence has no word lines")
        }
        sentences.append(Sentence(tokens: tokens, tags: anyMissingTag ? [] : tags, startsDocument: startsDocument))
        sentenceLines.append(firstWordLine)
        tokens.removeAll(keepingCapacity: true)
        tags.removeAll(keepingCapacity: true)
        anyMissingTag = false
        firstLine = 0
        lastWordID = 0
        rangeEnd = 0
        startsDocument = false
    }

    private func error(_ code: CorpusError.Code, _ line: ByteLine, _ message: String) -> CorpusError {
        CorpusError(code, file: file, line: line.number, message)
    }

    enum ID {
        case word(Int)
        case range(Int, Int)
        case empty(Int, Int)
        case invalid
    }

    /// Parses `N`, `N-M` or `N.M` (decimal, at most 9 digits each so nothing overflows).
    static func parseID(_ buf: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> ID {
        func number(_ from: Int, _ to: Int) -> Int? {
            guard to > from, to - from <= 9 else { return nil }
            var value = 0
            for k in from..<to {
                let d = Int(buf[k]) &- 48
                guard d >= 0 && d <= 9 else { return nil }
                value = value * 10 + d
            }
            return value
        }
        var sep = start
        while sep < end && buf[sep] != UInt8(ascii: "-") && buf[sep] != UInt8(ascii: ".") { sep += 1 }
        guard let first = number(start, sep) else { return .invalid }
        if sep == end { return first >= 1 ? .word(first) : .invalid }
        guard let second = number(sep + 1, end) else { return .invalid }
        return buf[sep] == UInt8(ascii: "-") ? .range(first, second) : (second >= 1 ? .empty(first, second) : .invalid)
    }
}
