/// Why a model could not be built, loaded or saved. `code` is stable for programs;
/// `message` names the problem for people.
public struct ModelError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case io
        case truncated
        case badHeader = "bad_header"
        case badJSON = "bad_json"
        case badDType = "bad_dtype"
        case badShape = "bad_shape"
        case badOffsets = "bad_offsets"
        case missingTensor = "missing_tensor"
        case unexpectedTensor = "unexpected_tensor"
        case badMetadata = "bad_metadata"
        case badConfig = "bad_config"
        case unsupportedFeature = "unsupported_feature"
        case badValues = "bad_values"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
