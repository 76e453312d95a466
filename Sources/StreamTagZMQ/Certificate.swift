import StreamTagWire
import Foundation

/// A CURVE certificate file in the format of czmq's `zcert` and pyzmq's
/// `zmq.auth.create_certificates` / `load_certificate`: a `metadata` section and a `curve`
/// section with `public-key = "…"` (and `secret-key = "…"` in the secret file), Z85, in
/// ZeroMQ's property-language layout (sections at column 0, entries indented four spaces).
/// `NAME.key` holds the public key, `NAME.key_secret` both.
public struct Certificate: Sendable, Equatable {
    public var publicKey: CurveKey
    /// Present in a secret certificate (`NAME.key_secret`) only.
    public var secretKey: CurveKey?
    /// The `metadata` section's entries, in file order.
    public var metadata: [(key: String, value: String)]

    public init(publicKey: CurveKey, secretKey: CurveKey? = nil, metadata: [(key: String, value: String)] = []) {
        self.publicKey = publicKey
        self.secretKey = secretKey
        self.metadata = metadata
    }

    public static func == (a: Certificate, b: Certificate) -> Bool {
        a.publicKey == b.publicKey && a.secretKey == b.secretKey
            && a.metadata.map(\.key) == b.metadata.map(\.key) && a.metadata.map(\.value) == b.metadata.map(\.value)
    }

    /// Parses a certificate's text. `path` only names the file in errors.
    public static func parse(_ text: String, path: String) throws(SecurityError) -> Certificate {
        var section = ""
        var metadata: [(key: String, value: String)] = []
        var publicText: String?, secretText: String?
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let eq = trimmed.firstIndex(of: "=") else {
                // A section name; only "metadata" and "curve" mean something here.
                section = trimmed
                continue
            }
            let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
            switch (section, key) {
            case ("curve", "public-key"): publicText = value
            case ("curve", "secret-key"): secretText = value
            case ("metadata", _): metadata.append((key, value))
            case ("curve", _): break
            default:
                throw SecurityError.malformed(path, "line \(number + 1): \(String(key).quotedForMessage) is outside the metadata and curve sections")
            }
        }
        guard let publicText else {
            throw SecurityError.malformed(path, "no public-key in a curve section")
        }
        guard let publicKey = CurveKey(z85: publicText) else {
            throw SecurityError.malformed(path, "public-key is not 40 characters of Z85")
        }
        var secretKey: CurveKey?
        if let secretText {
            guard let secret = CurveKey(z85: secretText) else {
                throw SecurityError.malformed(path, "secret-key is not 40 characters of Z85")
            }
            guard secret.publicKey() == publicKey else {
                throw SecurityError.malformed(path, "public-key does not belong to secret-key (the file was edited or mixed up)")
            }
            secretKey = secret
        }
        return Certificate(publicKey: publicKey, secretKey: secretKey, metadata: metadata)
    }

    /// The file's text: the secret one when `includingSecret` (and there is a secret key).
    public func text(includingSecret: Bool, generated: String = Certificate.timestamp()) -> String {
        let secret = includingSecret && secretKey != nil
        var out = "#   ****  Generated on \(generated) by streamtag  ****\n"
        if secret {
            out += "#   ZeroMQ CURVE **Secret** Certificate\n"
            out += "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\n"
        } else {
            out += "#   ZeroMQ CURVE Public Certificate\n"
            out += "#   Exchange securely, or use a secure mechanism to verify the contents\n"
            out += "#   of this file after exchange.\n\n"
        }
        out += "metadata\n"
        for (key, value) in metadata { out += "    \(key) = \"\(value)\"\n" }
        out += "curve\n"
        out += "    public-key = \"\(publicKey.z85)\"\n"
        if secret, let secretKey { out += "    secret-key = \"\(secretKey.z85)\"\n" }
        return out
    }

    /// Now, as the banner line shows it.
    public static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: Date())
    }
}
