import ArgumentParser
import StreamTagDaemon
import StreamTagClient

/// `--client-key` and `--server-key`: talk to a daemon that runs CURVE (docs/security.md).
struct ClientKeyOptions: ParsableArguments {
    @Option(name: .long, help: "This client's secret certificate (NAME.key_secret, mode 0600), for a daemon with CURVE; needs --server-key.")
    var clientKey: String?
    @Option(name: .long, help: "The daemon's public certificate (server.key), for a daemon with CURVE; needs --client-key.")
    var serverKey: String?

    /// The keys, or nil for plaintext; a usage error names the file at fault.
    func security() throws -> ClientSecurity? {
        do {
            return try ClientSecurity.fromOptions(clientKey: clientKey, serverKey: serverKey)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
