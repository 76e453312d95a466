/// A misuse of the metrics API, such as gold and predicted sequences of different lengths.
public struct MetricsError: Error, CustomStringConvertible, Equatable, Sendable {
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
    static func checkLengths(_ a: Int, _ b: Int, _ what: String) throws(MetricsError) {
        guard a == b else { throw MetricsError(.lengthMismatch, "\(what): \(a) gold vs \(b) predicted") }
    }
}
