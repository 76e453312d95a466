/// A problem in a corpus file (or in tags handed to a corpus writer), located by file and line.
///
/// `description` is `FILE:LINE: message`, the form editors and terminals recognise; when the
/// problem is not about one line (`line == 0`, e.g. an unreadable file) it is `FILE: message`.
public struct CorpusError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What kind of problem it is, for callers that react differently (tests, the CLI's exit code).
    public enum Code: String, Sendable, Codable {
        /// The file could not be read.
        case io
        /// A line is not valid UTF-8.
        case invalidUTF8
        /// A line has the wrong number of columns.
        case columnCount
        /// A column that must hold something is empty (FORM, the tag column, an IOB token).
        case emptyField
        /// A CoNLL-U ID that is not `N`, `N-M` or `N.M`.
        case badID
        /// CoNLL-U IDs that do not run 1, 2, 3, ... within a sentence.
        case idSequence
        /// `_` where a gold tag is required.
        case missingTag
        /// A tag that is not `O`, `B-X` or `I-X` in a file read as IOB.
        case badTag
        /// Gold tags were required from a format that has none (plain text).
        case noTags
        /// Tags handed to a writer do not match the sentences (count or length).
        case shapeMismatch
        /// A token or tag handed to a writer would break the output format (tab, newline, empty).
        case badOutput
    }

    public var code: Code
    /// The file name as the caller gave it (`<input>` for text parsed from memory by default).
    public var file: String
    /// 1-based line number, or 0 when the problem is not about one line.
    public var line: Int
    public var message: String

    public init(_ code: Code, file: String, line: Int, _ message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)"
    }
}
