/// A misuse of the scoring API, such as gold and predicted sequences of different lengths.
public struct ScoringError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Code: String, Sendable, Codable {
        /// Gold and predicted (or provisional and final) sequences differ in count or length.
        case lengthMismatch
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// Throws `.lengthMismatch` unless the two counts agree.
    static func checkLengths(_ a: Int, _ b: Int, _ what: String) throws(ScoringError) {
        guard a == b else { throw ScoringError(.lengthMismatch, "\(what): \(a) gold vs \(b) predicted") }
    }
}
