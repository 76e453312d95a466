import StreamTagZMQ
/// Who may connect to which socket (docs/security.md): keys of `security.clients` or
/// `security.control_clients` on the input and output sockets, keys of
/// `security.control_clients` only on the control socket.
struct KeyRing: Sendable {
    /// The daemon's sockets, as ZAP domains and metric labels.
    enum Socket: String, Sendable, CaseIterable {
        case input, output, control
    }

    /// Why a connection was refused (the `reason` label of `streamtag_auth_failures_total`).
    enum Refusal: String, Sendable, CaseIterable {
        /// A CURVE client whose key is in no key directory.
        case unknownKey = "unknown_key"
        /// A key of `security.clients` (a producer or consumer) on the control socket.
        case notControl = "not_control"
        /// A client without CURVE (plaintext) on a CURVE socket.
        case plaintext
        /// A CURVE handshake that failed before the key could be checked: most often a client
        /// that uses the wrong server key, else a corrupt or foreign handshake.
        case handshake
    }

    var clients: [CurveKey: String]
    var controlClients: [CurveKey: String]

    init(clients: [CurveKey: String] = [:], controlClients: [CurveKey: String] = [:]) {
        self.clients = clients
        self.controlClients = controlClients
    }

    /// The user id to admit `key` with on `socket`, or why it is refused.
    func admit(_ key: CurveKey, on socket: Socket) -> Result<String, RefusalReason> {
        if let user = controlClients[key] { return .success(user) }
        if let user = clients[key] {
            return socket == .control ? .failure(RefusalReason(.notControl)) : .success(user)
        }
        return .failure(RefusalReason(.unknownKey))
    }

    /// `Refusal` as an `Error`, for `Result`.
    struct RefusalReason: Error, Sendable, Equatable {
        var refusal: Refusal
        init(_ refusal: Refusal) { self.refusal = refusal }
    }
}
