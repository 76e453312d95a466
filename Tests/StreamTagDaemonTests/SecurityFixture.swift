import Foundation
@testable import StreamTagDaemon
@testable import StreamTagZMQ
@testable import StreamTagClient

/// Keys on disk for CURVE tests: a server key, a producer key in `clients/`, an operator key
/// in `control/`, and a stranger's key in neither. Removed by `remove()`.
struct SecurityFixture {
    let directory: String
    let server: Certificate
    let producer: Certificate
    let admin: Certificate
    let stranger: Certificate

    var serverKeyPath: String { directory + "/server.key_secret" }
    var clientsDir: String { directory + "/clients" }
    var controlDir: String { directory + "/control" }

    init() throws {
        directory = NSTemporaryDirectory() + "streamtag-security-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/clients", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/control", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/private", withIntermediateDirectories: true)
        server = try Self.make("server", in: directory)
        producer = try Self.make("producer", in: directory + "/private")
        admin = try Self.make("admin", in: directory + "/private")
        stranger = try Self.make("stranger", in: directory + "/private")
        try Self.copyPublic("producer", from: directory + "/private", to: directory + "/clients")
        try Self.copyPublic("admin", from: directory + "/private", to: directory + "/control")
    }

    static func make(_ name: String, in directory: String) throws -> Certificate {
        let pair = try CurveKey.generatePair()
        let certificate = Certificate(publicKey: pair.public, secretKey: pair.secret, metadata: [("name", name)])
        try CertificateFile.write(certificate, name: name, directory: directory)
        return certificate
    }

    static func copyPublic(_ name: String, from: String, to: String) throws {
        try FileManager.default.copyItem(atPath: "\(from)/\(name).key", toPath: "\(to)/\(name).key")
    }

    /// A client security for `certificate`, talking to this fixture's server (or `serverKey`).
    func client(_ certificate: Certificate, serverKey: CurveKey? = nil) -> ClientSecurity {
        ClientSecurity(publicKey: certificate.publicKey, secretKey: certificate.secretKey!, serverKey: serverKey ?? server.publicKey)
    }

    /// `config` with CURVE on: this fixture's server key and directories.
    func secure(_ config: inout DaemonConfig) {
        config.security.serverKey = serverKeyPath
        config.security.clients = clientsDir
        config.security.controlClients = controlDir
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
