import ArgumentParser
import StreamTagDaemon
import StreamTagClient

/// How a client command reaches a daemon: `--client-key` and `--server-key` for a daemon that
/// runs CURVE (docs/security.md), and `--client-config FILE` with the same keys and the
/// endpoints in a file (``ClientConfigFile``). A flag wins over the file.
struct ClientKeyOptions: ParsableArguments {
    @Option(name: .long, help: "This client's secret certificate (NAME.key_secret, mode 0600), for a daemon with CURVE; needs --server-key.")
    var clientKey: String?
    @Option(name: .long, help: "The daemon's public certificate (server.key), for a daemon with CURVE; needs --client-key.")
    var serverKey: String?
    @Option(name: .long, help: "A client configuration file: input, output, control and security.client_key/server_key (YAML); flags win over it.")
    var clientConfig: String?

    /// The file given by `--client-config`, or an empty one.
    func file() throws -> ClientConfigFile {
        guard let clientConfig else { return ClientConfigFile() }
        do {
            return try ClientConfigFile.load(path: clientConfig)
        } catch {
            throw ValidationError("--client-config \(error)")
        }
    }

    /// The keys, or nil for plaintext; a usage error names the file at fault.
    func security() throws -> ClientSecurity? {
        let file = try file()
        do {
            return try ClientSecurity.fromOptions(clientKey: clientKey ?? file.clientKey, serverKey: serverKey ?? file.serverKey)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// An endpoint: the flag's value, else the file's, else `fallback`.
    func endpoint(_ flag: String?, _ fromFile: KeyPath<ClientConfigFile, String?>, default fallback: String) throws -> String {
        try flag ?? file()[keyPath: fromFile] ?? fallback
    }
}
