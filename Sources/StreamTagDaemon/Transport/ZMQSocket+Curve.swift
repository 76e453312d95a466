import CZeroMQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// CURVE and ZAP options (README "Security"). Like every option that shapes connections, set
/// them before `bind(_:)` or `connect(_:)`.
extension ZMQSocket {
    /// Makes this socket a CURVE server with `secretKey` (`ZMQ_CURVE_SERVER`,
    /// `ZMQ_CURVE_SECRETKEY`), asking the ZAP handler about every client under `domain`
    /// (`ZMQ_ZAP_DOMAIN`). Bind the ZAP handler first: without one, libzmq admits every key.
    public func makeCurveServer(secretKey: CurveKey, zapDomain: String) throws {
        try setIntOption(ZMQ_CURVE_SERVER, 1)
        try setByteOption(ZMQ_CURVE_SECRETKEY, secretKey.bytes)
        try setByteOption(ZMQ_ZAP_DOMAIN, Array(zapDomain.utf8))
    }

    /// Makes this socket a CURVE client (`ZMQ_CURVE_SERVERKEY`, `ZMQ_CURVE_PUBLICKEY`,
    /// `ZMQ_CURVE_SECRETKEY`): it talks only to the server holding `serverKey`'s secret half.
    public func makeCurveClient(publicKey: CurveKey, secretKey: CurveKey, serverKey: CurveKey) throws {
        try setByteOption(ZMQ_CURVE_SERVERKEY, serverKey.bytes)
        try setByteOption(ZMQ_CURVE_PUBLICKEY, publicKey.bytes)
        try setByteOption(ZMQ_CURVE_SECRETKEY, secretKey.bytes)
    }

    /// `ZMQ_MECHANISM`: 0 null (plaintext), 1 plain, 2 CURVE.
    public var mechanism: Int32 {
        get throws {
            var value: Int32 = 0
            var size = MemoryLayout<Int32>.size
            let socket = try live("zmq_getsockopt")
            if zmq_getsockopt(socket, ZMQ_MECHANISM, &value, &size) != 0 { throw ZMQError.last("zmq_getsockopt") }
            return value
        }
    }

    private func setIntOption(_ name: Int32, _ value: Int32) throws {
        var value = value
        let socket = try live("zmq_setsockopt")
        if zmq_setsockopt(socket, name, &value, MemoryLayout<Int32>.size) != 0 {
            throw ZMQError.last("zmq_setsockopt")
        }
    }

    private func setByteOption(_ name: Int32, _ bytes: [UInt8]) throws {
        let socket = try live("zmq_setsockopt")
        let result = bytes.withUnsafeBytes { zmq_setsockopt(socket, name, $0.baseAddress, $0.count) }
        if result != 0 { throw ZMQError.last("zmq_setsockopt") }
    }
}
