/// Checks ZeroMQ endpoints (`tcp://host:port`, `ipc://path`, `inproc://name`) and the metrics
/// listener (`host:port`) before any socket sees them, so that a typo fails at load with the
/// key's name instead of as an errno at bind time.
enum EndpointSyntax {
    /// Shown after a value that is not an endpoint.
    static let hint = "(use tcp://host:port, ipc://path or inproc://name)"

    /// Longest `ipc://` path: `sun_path` holds 108 bytes on Linux, one of them the NUL.
    static let maxIPCPathBytes = 107

    /// Checks an endpoint to bind (`connecting == false`) or to connect to. Binding accepts
    /// `*` as host (all interfaces) and as port (any free port); connecting needs both.
    static func check(_ endpoint: String, connecting: Bool) throws(ValueProblem) {
        let shown = endpoint.quotedForMessage
        guard let schemeEnd = endpoint.range(of: "://") else {
            throw ValueProblem("\(shown) is not an endpoint \(hint)")
        }
        let scheme = endpoint[..<schemeEnd.lowerBound]
        let address = String(endpoint[schemeEnd.upperBound...])
        switch scheme {
        case "tcp":
            let (host, port) = try splitHostPort(address, shown: shown, example: "tcp://127.0.0.1:5560")
            if host != "*" { try checkHost(host, shown: shown) }
            if port != "*" { try checkPort(port, shown: shown) }
            if connecting && (host == "*" || port == "*" || port == "0") {
                throw ValueProblem("\(shown) cannot be connected to: name the producer's host and port")
            }
        case "ipc":
            guard !address.isEmpty else { throw ValueProblem("\(shown) has no path") }
            guard address.utf8.count <= maxIPCPathBytes else {
                throw ValueProblem("\(shown) has a path longer than \(maxIPCPathBytes) bytes")
            }
        case "inproc":
            guard !address.isEmpty else { throw ValueProblem("\(shown) has no name") }
        default:
            throw ValueProblem("\(shown) uses an unsupported transport \(hint)")
        }
    }

    /// Checks the metrics listener: `host:port`, IPv6 hosts in brackets (`[::1]:5563`).
    static func checkListen(_ listen: String) throws(ValueProblem) {
        let shown = listen.quotedForMessage
        let (host, port) = try splitHostPort(listen, shown: shown, example: "127.0.0.1:5563")
        guard host != "*" else {
            throw ValueProblem("\(shown) needs a host; use 0.0.0.0 for every IPv4 interface")
        }
        try checkHost(host, shown: shown)
        try checkPort(port, shown: shown)
    }

    /// `host:port` or `[v6]:port` split into host (without brackets) and port text; nil when
    /// it is not of that form. For values already checked, such as a loaded configuration's.
    static func hostPort(_ address: String) -> (host: String, port: String)? {
        try? splitHostPort(address, shown: "", example: "")
    }

    /// Splits at the last `:`, keeping an IPv6 host's brackets out of the host.
    private static func splitHostPort(_ address: String, shown: String, example: String)
        throws(ValueProblem) -> (host: String, port: String)
    {
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]") else {
                throw ValueProblem("\(shown) has an unclosed [ in its host")
            }
            let host = String(address[address.index(after: address.startIndex)..<close])
            let after = address[address.index(after: close)...]
            guard after.hasPrefix(":"), !host.isEmpty else {
                throw ValueProblem("\(shown) needs a port after the host, as in \(example)")
            }
            guard host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "%" }) else {
                throw ValueProblem("\(shown) has an invalid IPv6 address in brackets")
            }
            return (host, String(after.dropFirst()))
        }
        guard let colon = address.lastIndex(of: ":") else {
            throw ValueProblem("\(shown) needs a port after the host, as in \(example)")
        }
        let host = String(address[..<colon])
        guard !host.contains(":") else {
            throw ValueProblem("\(shown): write an IPv6 host in brackets, as in [::1]:5563")
        }
        return (host, String(address[address.index(after: colon)...]))
    }

    /// A host name, interface name or IPv4 address: letters, digits, `-`, `_`, `.`.
    private static func checkHost(_ host: String, shown: String) throws(ValueProblem) {
        guard !host.isEmpty else { throw ValueProblem("\(shown) has no host") }
        // IPv6 hosts were checked inside their brackets.
        if host.contains(":") { return }
        guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw ValueProblem("\(shown) has an invalid host \(host.quotedForMessage)")
        }
    }

    /// A decimal port 0…65535.
    private static func checkPort(_ port: String, shown: String) throws(ValueProblem) {
        guard !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }), port.count <= 5,
              let number = Int(port), number <= 65_535
        else {
            throw ValueProblem("\(shown) has an invalid port \(port.quotedForMessage) (0…65535)")
        }
    }
}
