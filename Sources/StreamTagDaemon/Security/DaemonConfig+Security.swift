extension DaemonConfig {
    /// Key `security`: CURVE encryption and who may connect (docs/security.md).
    struct Security: Sendable, Equatable {
        /// The daemon's secret certificate (`NAME.key_secret`, mode 0600); empty = plaintext.
        var serverKey = ""
        /// Directory of public certificates allowed on the input and output sockets.
        var clients = ""
        /// Directory of public certificates allowed on every socket, control included.
        var controlClients = ""
        /// Allow binding (or connecting to) a non-loopback address without CURVE.
        var allowPlaintext = false

        /// Whether CURVE is on.
        var isEnabled: Bool { !serverKey.isEmpty }
    }

    /// The security settings that depend on each other and on the sockets: key directories
    /// need a server key and the other way round, and without CURVE no socket may face the
    /// network unless `security.allow_plaintext` says the operator means it.
    func validateSecurity() throws(ConfigError) {
        if security.isEnabled {
            if security.clients.isEmpty && security.controlClients.isEmpty {
                throw ConfigError(key: "security.clients", message: "is empty, and so is security.control_clients: with security.server_key set, no client could connect; set a directory of allowed public keys (docs/security.md)")
            }
            return
        }
        for (key, value) in [("security.clients", security.clients), ("security.control_clients", security.controlClients)]
        where !value.isEmpty {
            throw ConfigError(key: key, message: "\(value.quotedForMessage) has no effect without security.server_key: set the daemon's secret key file too (streamtag keygen server)")
        }
        guard !security.allowPlaintext else { return }
        var endpoints: [(String, String)] = [("output.bind", output.bind), ("control.bind", control.bind)]
        if input.connect.isEmpty {
            endpoints.insert(("input.bind", input.bind), at: 0)
        } else {
            endpoints.insert(contentsOf: input.connect.map { ("input.connect", $0) }, at: 0)
        }
        for (key, endpoint) in endpoints where !Self.isLocal(endpoint) {
            throw ConfigError(key: key, message: "\(endpoint.quotedForMessage) is not a loopback address, and without CURVE anyone who can reach it can publish, read every stream's tags or use the control socket; set security.server_key, security.clients and security.control_clients (docs/security.md), or security.allow_plaintext: true if the network is trusted")
        }
    }

    /// Whether an endpoint stays on this machine: `ipc://`, `inproc://`, or TCP on a loopback
    /// address (`127.x.x.x`, `::1`, `localhost`, the interface `lo`).
    static func isLocal(_ endpoint: String) -> Bool {
        guard endpoint.hasPrefix("tcp://") else { return true }
        guard let (host, _) = EndpointSyntax.hostPort(String(endpoint.dropFirst("tcp://".count))) else { return false }
        if host == "localhost" || host == "lo" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
