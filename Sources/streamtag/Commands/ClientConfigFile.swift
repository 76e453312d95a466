import StreamTagCore
import Yams

/// A client's configuration file (`--client-config FILE`): where a daemon is and the CURVE keys
/// to reach it, for `send`, `ctl` and `bench e2e --connect`. Every key is optional; a flag given
/// on the command line wins over the file:
///
///     input: tcp://tagger.example:5560      # send
///     output: tcp://tagger.example:5561     # send
///     control: tcp://tagger.example:5562    # ctl
///     security:
///       client_key: /etc/streamtag/client/alice.key_secret   # this client's secret certificate
///       server_key: /etc/streamtag/client/server.key         # the daemon's public certificate
///
/// `security:` has the daemon's section name, with the client's two keys (docs/security.md).
/// The file is hostile input like any other: only a regular file of at most 64 KiB is read,
/// and an unknown key or a value that is not a string is refused with its name.
struct ClientConfigFile: Equatable {
    var input: String?
    var output: String?
    var control: String?
    var clientKey: String?
    var serverKey: String?

    static let maxFileBytes = 64 << 10

    /// Reads and checks `path`; the error names the file and the key at fault.
    static func load(path: String) throws(ClientConfigError) -> ClientConfigFile {
        let bytes: [UInt8]
        do {
            bytes = try AtomicFile.read(path: path, limit: maxFileBytes)
        } catch {
            throw ClientConfigError("\(error.message)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ClientConfigError("\(path): is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// The settings in `text` (YAML); `path` names the file in errors.
    static func parse(_ text: String, path: String) throws(ClientConfigError) -> ClientConfigFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ClientConfigError("\(path): not valid YAML: \(error)")
        }
        var config = ClientConfigFile()
        guard let root else { return config }      // empty, or only comments
        guard let top = root.mapping else {
            throw ClientConfigError("\(path): expected `key: value` lines (input, output, control, security)")
        }
        for (key, value) in top {
            switch key.string {
            case "input": config.input = try string(value, "input", path)
            case "output": config.output = try string(value, "output", path)
            case "control": config.control = try string(value, "control", path)
            case "security":
                guard let section = value.mapping else {
                    throw ClientConfigError("\(path): security: expected client_key and server_key under it")
                }
                for (inner, innerValue) in section {
                    switch inner.string {
                    case "client_key": config.clientKey = try string(innerValue, "security.client_key", path)
                    case "server_key": config.serverKey = try string(innerValue, "security.server_key", path)
                    default:
                        throw ClientConfigError("\(path): security.\(inner.string ?? "?"): unknown key (a client has client_key and server_key)")
                    }
                }
            default:
                throw ClientConfigError("\(path): \(key.string ?? "?"): unknown key (a client config has input, output, control, security)")
            }
        }
        return config
    }

    private static func string(_ node: Node, _ key: String, _ path: String) throws(ClientConfigError) -> String {
        guard let scalar = node.scalar, !scalar.string.isEmpty else {
            throw ClientConfigError("\(path): \(key): expected a non-empty string")
        }
        return scalar.string
    }
}

/// A client configuration file that cannot be used, and why.
struct ClientConfigError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
