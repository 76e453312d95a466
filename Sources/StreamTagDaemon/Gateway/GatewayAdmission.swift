import Foundation
import NIOHTTP1
import StreamTagWire

/// What the gateway answers to one HTTP request, decided before any upgrade: the stream a
/// WebSocket may open, the live page, or a refusal with its status and reason.
enum GatewayRoute: Equatable {
    /// `GET /v1/streams/ID` with a valid id and credentials (upgrade, or 426 without one).
    case stream(String)
    /// `GET /`: the live page.
    case page
    /// Refused: status, a code for `streamtag_ws_errors_total`, and the reason (the body).
    case refuse(HTTPResponseStatus, code: String, reason: String)
}

/// The request rules of the gateway (docs/websocket.md), as a pure
/// function of the request head and the token list, so that they are tested without sockets.
/// Connection-count and same-stream checks need the gateway's table and come after this.
struct GatewayAdmission: Sendable {
    /// The path prefix of stream URLs.
    static let streamPrefix = "/v1/streams/"
    /// Accepted bearer tokens; empty = no authentication.
    let tokens: [[UInt8]]

    init(tokens: [String]) { self.tokens = tokens.map { Array($0.utf8) } }

    func route(_ head: HTTPRequestHead) -> GatewayRoute {
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts.first ?? "")
        let query = parts.count > 1 ? String(parts[1]) : ""
        guard head.method == .GET || head.method == .HEAD else {
            return .refuse(.methodNotAllowed, code: "bad_method", reason: "method \(head.method.rawValue) not allowed; use GET")
        }
        if path == "/" || path == "/index.html" { return .page }
        guard path.hasPrefix(Self.streamPrefix) else {
            return .refuse(.notFound, code: "not_found", reason: "not found: \(path) (the page is at /, streams at \(Self.streamPrefix)ID)")
        }
        if !tokens.isEmpty && !authorized(head: head, query: query) {
            return .refuse(.unauthorized, code: "unauthorized",
                           reason: "a valid bearer token is required (Authorization: Bearer TOKEN, or ?token=TOKEN)")
        }
        let encoded = path.dropFirst(Self.streamPrefix.count)
        guard let id = String(encoded).removingPercentEncoding else {
            return .refuse(.badRequest, code: "bad_stream_id", reason: "stream id \"\(encoded)\" has a bad percent-encoding")
        }
        if let problem = StreamID.problem(id) {
            return .refuse(.badRequest, code: "bad_stream_id", reason: problem)
        }
        return .stream(id)
    }

    /// The `Authorization: Bearer` header or the `token` query parameter (browsers cannot set
    /// headers on a WebSocket) names an accepted token.
    private func authorized(head: HTTPRequestHead, query: String) -> Bool {
        var offered: [String] = []
        for value in head.headers["Authorization"] {
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            if trimmed.lowercased().hasPrefix("bearer ") {
                offered.append(String(trimmed.dropFirst(7)).trimmingCharacters(in: .whitespaces))
            }
        }
        for pair in query.split(separator: "&") where pair.hasPrefix("token=") {
            offered.append(String(pair.dropFirst(6)).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "")
        }
        return offered.contains { candidate in tokens.contains { Self.equal(Array(candidate.utf8), $0) } }
    }

    /// Compares without an early exit on the first different byte (no timing hint).
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
