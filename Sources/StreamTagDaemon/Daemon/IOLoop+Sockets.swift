import Foundation
import StreamTagCore
import StreamTagZMQ

extension IOLoop {
    /// The three sockets, bound or connected as configured, and the endpoints they ended up on.
    struct Sockets {
        var input: ZMQSocket
        var output: ZMQSocket
        var control: ZMQSocket
        var endpoints: Daemon.Endpoints
    }

    /// Creates and binds/connects the three sockets (secured by `security` when it is set).
    static func openSockets(_ config: DaemonConfig, context: ZMQContext, security: DaemonSecurity?) throws -> Sockets {
        var endpoints = Daemon.Endpoints()
        let input = try context.socket(.sub)
        try security?.secure(input, as: .input)
        try input.setOption(.receiveHighWaterMark, Int32(clamping: config.input.hwm))
        try input.setMaxMessageSize(Int64(config.input.effectiveMaxZMQMessageBytes))
        for prefix in config.input.subscribe { try input.subscribe(Array(prefix.utf8)) }
        if config.input.connect.isEmpty {
            try endpoint("input.bind", config.input.bind) { try input.bind($0) }
            endpoints.input = try input.lastEndpoint
        } else {
            for target in config.input.connect { try endpoint("input.connect", target) { try input.connect($0) } }
            endpoints.input = config.input.connect.joined(separator: ",")
        }

        let output = try context.socket(config.output.noDrop ? .xpub : .pub)
        try security?.secure(output, as: .output)
        try output.setOption(.sendHighWaterMark, Int32(clamping: config.output.hwm))
        if config.output.noDrop { try output.setOption(.xpubNoDrop, 1) }
        try endpoint("output.bind", config.output.bind) { try output.bind($0) }
        endpoints.output = try output.lastEndpoint

        let control = try context.socket(.rep)
        try security?.secure(control, as: .control)
        try endpoint("control.bind", config.control.bind) { try control.bind($0) }
        endpoints.control = try control.lastEndpoint
        return Sockets(input: input, output: output, control: control, endpoints: endpoints)
    }

    /// Binds or connects one configured endpoint; a failure names the key and the endpoint
    /// (`input.bind: cannot bind tcp://127.0.0.1:5560: Address already in use`).
    private static func endpoint(_ key: String, _ endpoint: String, _ body: (String) throws -> Void) throws {
        do { try body(endpoint) } catch let error as ZMQError {
            throw SocketSetupError(key: key, endpoint: endpoint, error: error)
        }
    }
}

/// A configured socket could not bind or connect: which key, which endpoint, and libzmq's reason.
struct SocketSetupError: Error, CustomStringConvertible {
    let key: String
    let endpoint: String
    let error: ZMQError

    var description: String {
        let verb = error.call == "zmq_connect" ? "connect to" : "bind"
        return "\(key): cannot \(verb) \(endpoint): \(error.message)"
            + (error.code == EADDRINUSE ? " (another process holds it; choose another port with \(key))" : "")
    }
}
