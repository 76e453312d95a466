import ArgumentParser
import Foundation
import StreamTagZMQ

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write a CURVE key pair: NAME.key (public) and NAME.key_secret (secret, mode 0600).",
        discussion: """
        The files are certificates in the format of czmq's zcert and pyzmq's zmq.auth \
        (create_certificates / load_certificate), so a C or Python client uses them as they are. \
        Give the daemon server.key_secret (security.server_key) and its clients server.key; put each \
        client's NAME.key in the daemon's security.clients (or security.control_clients) directory. \
        Existing files are never overwritten. See docs/security.md.
        """
    )

    @Argument(help: "Name of the key: the files are NAME.key and NAME.key_secret, and the daemon knows the client by NAME.")
    var name: String
    @Option(name: .long, help: "Directory to write into (created if missing).")
    var dir = "."

    func validate() throws {
        guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/"), !name.contains("_secret") else {
            throw ValidationError("NAME must be a plain file name, not starting with a dot, without / or \"_secret\": \(name)")
        }
    }

    func run() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let pair = try CurveKey.generatePair()
        let certificate = Certificate(publicKey: pair.public, secretKey: pair.secret, metadata: [("name", name)])
        let paths = try CertificateFile.write(certificate, name: name, directory: dir)
        print("public key \(pair.public.z85)")
        print("wrote \(paths.public) (public: give it to the other side)")
        print("wrote \(paths.secret) (secret, mode 0600: keep it here)")
    }
}
