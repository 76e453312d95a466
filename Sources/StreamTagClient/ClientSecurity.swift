import StreamTagWire
import StreamTagZMQ
/// A client's CURVE settings: its own key pair and the daemon's public key
/// (docs/security.md). Given to ``StreamClient``, ``LoadGenerator`` and `controlRequest`, it makes
/// every socket they open a CURVE client; without it they speak plaintext.
public struct ClientSecurity: Sendable, Equatable {
    public var publicKey: CurveKey
    public var secretKey: CurveKey
    /// The daemon's public key: the client talks to no one else.
    public var serverKey: CurveKey

    public init(publicKey: CurveKey, secretKey: CurveKey, serverKey: CurveKey) {
        self.publicKey = publicKey
        self.secretKey = secretKey
        self.serverKey = serverKey
    }

    /// Reads the client's secret certificate (`--client-key`, mode 0600) and the daemon's
    /// public certificate (`--server-key`; its secret certificate works too, for a client on
    /// the daemon's own machine).
    public init(clientKeyFile: String, serverKeyFile: String) throws(SecurityError) {
        let client = try CertificateFile.loadSecret(clientKeyFile)
        let server = try CertificateFile.loadPublic(serverKeyFile)
        self.init(publicKey: client.publicKey, secretKey: client.secretKey!, serverKey: server.publicKey)
    }

    /// Both files or neither: the command-line options `--client-key` and `--server-key`.
    /// nil (plaintext) when neither is given.
    public static func fromOptions(clientKey: String?, serverKey: String?) throws(SecurityError) -> ClientSecurity? {
        switch (clientKey, serverKey) {
        case (nil, nil): return nil
        case (let client?, let server?): return try ClientSecurity(clientKeyFile: client, serverKeyFile: server)
        case (nil, let server?):
            throw SecurityError(path: server, message: "--server-key needs --client-key too: the client's own secret certificate (streamtag keygen NAME)")
        case (let client?, nil):
            throw SecurityError(path: client, message: "--client-key needs --server-key too: the daemon's public certificate (server.key)")
        }
    }

    /// Makes `socket` a CURVE client with these keys. Before it connects.
    public func apply(to socket: ZMQSocket) throws {
        try socket.makeCurveClient(publicKey: publicKey, secretKey: secretKey, serverKey: serverKey)
    }
}
