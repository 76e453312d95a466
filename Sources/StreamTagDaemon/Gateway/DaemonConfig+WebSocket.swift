import Foundation
import StreamTagCore

extension DaemonConfig {
    /// Key `websocket`: the WebSocket gateway and its live page (docs/websocket.md).
    /// Every setting needs a restart.
    struct WebSocket: Sendable, Equatable {
        /// `host:port` to listen on, or a bare port (then on 127.0.0.1); empty = no gateway.
        var listen = ""
        /// Bearer tokens accepted (`Authorization: Bearer …` or `?token=…`); with none here and
        /// no ``tokenFile``, anyone who reaches the port may connect.
        var tokens: [String] = []
        /// A file of bearer tokens, one per line (blank lines and `#` comments skipped).
        var tokenFile = ""
        /// Open connections at most; the next upgrade is refused with 503.
        var maxConnections = 4_096
        /// Largest WebSocket message (after joining fragments); a larger one closes the
        /// connection with 1009. Bodies above `input.max_message_bytes` but within this get the
        /// ZeroMQ side's `too_large` error and the connection stays.
        var maxFrameBytes = 128 << 10
        /// Answers queued for a client that does not read them; above this the connection is
        /// closed with 1008, so a stalled browser cannot grow the daemon's memory.
        var maxBufferedBytes = 4 << 20
        /// Period of the server's pings; a connection silent for two periods is closed.
        var pingInterval: Duration = .seconds(30)
        /// What closing a connection does to its stream.
        var onClose: OnClose = .end

        /// `websocket.on_close`.
        enum OnClose: String, Sendable, CaseIterable {
            /// End the stream as a message with `end: true` would (its last tags are released).
            case end
            /// Leave the stream open: a later connection to the same id continues it (the
            /// gateway remembers the seq it numbered up to, for `streams.idle_timeout`).
            case keep
        }

        /// The address to bind: a bare port means loopback.
        var bindAddress: (host: String, port: Int)? {
            if let port = Int(listen) { return ("127.0.0.1", port) }
            guard let (host, port) = EndpointSyntax.hostPort(listen), let number = Int(port) else { return nil }
            return (host, number)
        }

        static func checkListen(_ value: String) throws(ValueProblem) {
            guard !value.isEmpty else { return }
            if let port = Int(value) {
                guard (0...65_535).contains(port) else { throw ValueProblem("port \(port) is not in 0...65535") }
                return
            }
            try EndpointSyntax.checkListen(value)
        }

        static func checkTokens(_ items: [String]) throws(ValueProblem) -> [String] {
            if items == [""] { return [] }
            for (i, item) in items.enumerated() {
                guard item.count >= 8 else { throw ValueProblem("token \(i + 1) has \(item.count) characters; use at least 8") }
                guard !item.contains(where: { $0 == " " || $0 == "\t" || $0 == "," }) else {
                    throw ValueProblem("token \(i + 1) contains a space, tab or comma")
                }
            }
            return items
        }

        /// Every accepted token: ``tokens`` plus the lines of ``tokenFile``; an unreadable file
        /// fails naming it.
        func loadTokens() throws -> [String] {
            guard !tokenFile.isEmpty else { return tokens }
            let text: String
            do {
                text = String(decoding: try AtomicFile.read(path: tokenFile, limit: 1 << 20), as: UTF8.self)
            } catch {
                throw GatewayError(message: "websocket.token_file: \(error.message)")
            }
            let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            guard !lines.isEmpty else {
                throw GatewayError(message: "websocket.token_file: \(tokenFile) holds no token (one per line)")
            }
            return tokens + lines
        }
    }
}

/// The gateway could not start (bad listen address, unreadable token file, port in use).
struct GatewayError: Error, CustomStringConvertible, Sendable {
    var message: String
    var description: String { message }
}
