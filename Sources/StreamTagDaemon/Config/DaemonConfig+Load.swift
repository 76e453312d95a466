extension DaemonConfig {
    /// Loads the configuration: defaults, then the YAML `file`, then `STREAMTAG_...`
    /// variables from `environment`, then `overrides` (dotted key → value, from the command
    /// line), each above the one before; then checks every value and the ones that depend on
    /// each other.
    ///
    /// - Parameters:
    ///   - file: Path of the YAML file; nil uses no file (defaults, environment, overrides).
    ///   - environment: The process environment. Besides `STREAMTAG_<KEY>` (the dotted key
    ///     upper-cased, `.` → `_`; lists comma-separated) it supplies systemd's
    ///     `STATE_DIRECTORY` for the default `state_dir`.
    ///   - overrides: `streams.idle_timeout` → `5m`; lists comma-separated.
    /// - Throws: ``ConfigError`` naming the key, the value and the reason: a missing,
    ///   unreadable or malformed file, an unknown key, a value of the wrong kind or out of range.
    ///
    /// This is a plain synchronous call that keeps no state: to reload on SIGHUP, call it
    /// again and swap in the new value, or keep the old one and log the error.
    package static func load(
        file: String?, environment: [String: String], overrides: [String: String] = [:]
    ) throws(ConfigError) -> DaemonConfig {
        let sources = try ConfigSources(file: file, environment: environment, overrides: overrides)
        var config = DaemonConfig()
        config.stateDir = defaultStateDir(environment: environment)
        for setting in settings {
            guard let found = sources.value(for: setting) else { continue }
            do {
                try setting.apply(&config, found.raw)
            } catch {
                throw ConfigError(key: setting.key, message: error.message + found.origin.suffix)
            }
        }
        // An explicit empty state_dir asks for the default, like leaving it out.
        if config.stateDir.isEmpty { config.stateDir = defaultStateDir(environment: environment) }
        try config.validate()
        return config
    }

    /// Checks what single values cannot: settings that depend on each other. `load` calls it;
    /// call it again after changing a loaded configuration in code.
    func validate() throws(ConfigError) {
        if let guardBytes = input.maxZMQMessageBytes, guardBytes < input.maxMessageBytes {
            throw ConfigError(
                key: "input.max_zmq_message_bytes",
                message: "\(ByteSizeSyntax.format(guardBytes)) is below input.max_message_bytes (\(ByteSizeSyntax.format(input.maxMessageBytes))); ZeroMQ would drop messages the daemon should answer with too_large")
        }
        try checkDistinctListeners()
        try validateSecurity()
    }

    /// Two sockets bound to the same address would fail at start with "address in use";
    /// saying which two keys collide is more useful.
    private func checkDistinctListeners() throws(ConfigError) {
        var listeners: [(key: String, text: String, address: ListenAddress)] = []
        if input.connect.isEmpty { listeners.append(("input.bind", input.bind, ListenAddress(endpoint: input.bind))) }
        listeners.append(("output.bind", output.bind, ListenAddress(endpoint: output.bind)))
        listeners.append(("control.bind", control.bind, ListenAddress(endpoint: control.bind)))
        if !metrics.listen.isEmpty {
            listeners.append(("metrics.listen", metrics.listen, ListenAddress(hostPort: metrics.listen)))
        }
        for (index, later) in listeners.enumerated() {
            for earlier in listeners[..<index] where earlier.address.collides(with: later.address) {
                throw ConfigError(
                    key: later.key,
                    message: "\(later.text.quotedForMessage) takes the same address as \(earlier.key) (\(earlier.text.quotedForMessage)); give each socket its own port")
            }
        }
    }
}

/// Enough of an address to tell whether two listeners would collide.
private enum ListenAddress {
    case tcp(host: String, port: String)
    case other(String)

    init(endpoint: String) {
        if endpoint.hasPrefix("tcp://") {
            self.init(hostPort: String(endpoint.dropFirst("tcp://".count)))
        } else {
            self = .other(endpoint)
        }
    }

    init(hostPort: String) {
        guard let (host, port) = EndpointSyntax.hostPort(hostPort) else { self = .other(hostPort); return }
        self = .tcp(host: host, port: port)
    }

    func collides(with other: ListenAddress) -> Bool {
        switch (self, other) {
        case (.other(let a), .other(let b)):
            return a == b
        case (.tcp(let hostA, let portA), .tcp(let hostB, let portB)):
            // Port 0 and * pick a free port each time: never a collision.
            guard portA == portB, portA != "0", portA != "*" else { return false }
            let wildcards: Set<String> = ["*", "0.0.0.0", "::"]
            return hostA == hostB || wildcards.contains(hostA) || wildcards.contains(hostB)
        default:
            return false
        }
    }
}
