import CZeroMQ

/// A CURVE key (public or secret): 32 bytes, written as 40 characters of Z85 in certificate
/// files and on the command line. Encoding, decoding, key generation and the public key of a
/// secret key are libzmq's own (`zmq_z85_encode`, `zmq_z85_decode`, `zmq_curve_keypair`,
/// `zmq_curve_public`), so they agree with every other ZeroMQ binding by construction.
public struct CurveKey: Hashable, Sendable, CustomStringConvertible {
    /// The 32 raw bytes, as socket options take them.
    public let bytes: [UInt8]

    /// Length of a key in bytes and in Z85 characters.
    public static let byteCount = 32
    public static let z85Count = 40

    /// A key from its raw bytes; nil unless there are exactly 32.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// A key from its 40-character Z85 text; nil for any other length or a character outside
    /// the Z85 alphabet.
    public init?(z85: String) {
        guard z85.utf8.count == Self.z85Count, z85.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        var out = [UInt8](repeating: 0, count: Self.byteCount)
        let ok = out.withUnsafeMutableBufferPointer { buffer in zmq_z85_decode(buffer.baseAddress, z85) != nil }
        guard ok else { return nil }
        bytes = out
    }

    /// The 40-character Z85 text.
    public var z85: String {
        var text = [CChar](repeating: 0, count: Self.z85Count + 1)
        bytes.withUnsafeBufferPointer { _ = zmq_z85_encode(&text, $0.baseAddress, Self.byteCount) }
        return Self.string(text)
    }

    /// The Z85 text: a public key is meant to be shown. Never print a secret key's description.
    public var description: String { z85 }

    /// The public key that belongs to this secret key (`zmq_curve_public`).
    public func publicKey() -> CurveKey? {
        var text = [CChar](repeating: 0, count: Self.z85Count + 1)
        guard zmq_curve_public(&text, z85) == 0 else { return nil }
        return CurveKey(z85: Self.string(text))
    }

    /// A fresh key pair (`zmq_curve_keypair`, libsodium's random source).
    public static func generatePair() throws -> (public: CurveKey, secret: CurveKey) {
        var pub = [CChar](repeating: 0, count: z85Count + 1)
        var sec = [CChar](repeating: 0, count: z85Count + 1)
        guard zmq_curve_keypair(&pub, &sec) == 0 else { throw ZMQError.last("zmq_curve_keypair") }
        guard let p = CurveKey(z85: string(pub)), let s = CurveKey(z85: string(sec)) else { throw ZMQError.last("zmq_curve_keypair") }
        return (p, s)
    }

    /// The Z85 text libzmq wrote into `text` (40 characters and a NUL).
    private static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix(z85Count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether this libzmq was built with CURVE (`zmq_has("curve")`).
    public static var isAvailable: Bool { zmq_has("curve") != 0 }
}
