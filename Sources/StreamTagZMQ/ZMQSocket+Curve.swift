import CZeroMQ

/// CURVE and ZAP options (docs/security.md). Like every option that shapes connections, set
/// them before `bind(_:)` or `connect(_:)`.
extension ZMQSocket {
    /// Makes this socket a CURVE server with `secretKey` (`ZMQ_CURVE_SERVER`,
    /// `ZMQ_CURVE_SECRETKEY`), asking the ZAP handler about every client under `domain`
    /// (`ZMQ_ZAP_DOMAIN`). Bind the ZAP handler first: without one, libzmq admits every key.
    public func makeCurveServer(secretKey: CurveKey, zapDomain: String) throws {
        try setOption(.curveServer, 1)
        try setBytes(ZMQ_CURVE_SECRETKEY, secretKey.bytes)
        try setBytes(ZMQ_ZAP_DOMAIN, Array(zapDomain.utf8))
    }

    /// Makes this socket a CURVE client (`ZMQ_CURVE_SERVERKEY`, `ZMQ_CURVE_PUBLICKEY`,
    /// `ZMQ_CURVE_SECRETKEY`): it talks only to the server holding `serverKey`'s secret half.
    public func makeCurveClient(publicKey: CurveKey, secretKey: CurveKey, serverKey: CurveKey) throws {
        try setBytes(ZMQ_CURVE_SERVERKEY, serverKey.bytes)
        try setBytes(ZMQ_CURVE_PUBLICKEY, publicKey.bytes)
        try setBytes(ZMQ_CURVE_SECRETKEY, secretKey.bytes)
    }
}
