/// A key file or key directory that cannot be used, naming the file, the reason and the fix.
public struct SecurityError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file or directory at fault.
    public var path: String
    /// What is wrong and what to do about it.
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `security: PATH: MESSAGE`.
    public var description: String { "security: \(path): \(message)" }

    static func malformed(_ path: String, _ reason: String) -> SecurityError {
        SecurityError(path: path, message: "not a CURVE certificate: \(reason) (write one with `streamtag keygen NAME`, or pyzmq's zmq.auth.create_certificates)")
    }
}
