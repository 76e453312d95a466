import ArgumentParser
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

    /// What the command connects with: the file given by `--client-config` (read once; an
    /// empty one without the flag) under the flags.
    func resolve() throws -> ClientConnection {
        var file = ClientConfigFile()
        if let clientConfig {
            do {
                file = try ClientConfigFile.load(path: clientConfig)
            } catch {
                throw ValidationError("--client-config \(error)")
            }
        }
        let security: ClientSecurity?
        do {
            security = try ClientSecurity.fromOptions(clientKey: clientKey ?? file.clientKey, serverKey: serverKey ?? file.serverKey)
        } catch {
            throw ValidationError("\(error)")
        }
        return ClientConnection(file: file, security: security)
    }
}

/// The client side of a command, resolved from its flags and its client configuration file.
struct ClientConnection {
    let file: ClientConfigFile
    /// The keys, or nil for plaintext.
    let security: ClientSecurity?

    /// An endpoint: the flag's value, else the file's, else `fallback`.
    func endpoint(_ flag: String?, _ fromFile: KeyPath<ClientConfigFile, String?>, default fallback: String) -> String {
        flag ?? file[keyPath: fromFile] ?? fallback
    }
}
