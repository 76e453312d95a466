import StreamTagZMQ
/// The daemon's ZAP handler (ZeroMQ RFC 27): a REP socket on `inproc://zeromq.zap.01` in the
/// daemon's context, which libzmq asks about every CURVE client before the handshake ends.
///
/// It is served by the I/O thread: its socket sits in the I/O loop's poller, and `serve`
/// answers what is queued without ever waiting (a request costs one dictionary lookup, and
/// comes once per connection, not per message). A dedicated thread would need the key ring
/// behind a lock and a second owner for a socket of the same context; the poller needs
/// neither, and the loop never blocks on it.
///
/// Answers: `200` with the user id (the key's file name) when ``KeyRing/admit(_:on:)`` says
/// so, else `400` with the reason as status text: libzmq then closes the connection before
/// a single message passes.
final class ZAPHandler {
    static let endpoint = "inproc://zeromq.zap.01"
    let socket: ZMQSocket

    /// One refused request, for counting.
    struct Refused {
        var socket: KeyRing.Socket
        var reason: KeyRing.Refusal
    }

    /// Binds the handler. Do this before any CURVE socket binds or connects.
    init(context: ZMQContext) throws {
        socket = try context.socket(.rep)
        try socket.bind(Self.endpoint)
    }

    /// Answers every queued request (never waits); calls `refused` for each refusal.
    func serve(_ ring: KeyRing, refused: (Refused) -> Void) {
        while let frames = try? socket.receive(dontWait: true, maxFrames: 8) {
            let answer = Self.answer(frames, ring: ring)
            if let refusal = answer.refused { refused(refusal) }
            // A REP must answer before it can read the next request.
            _ = try? socket.send(frames: answer.reply)
        }
    }

    /// The reply frames to one request, and the refusal if it is one.
    static func answer(_ frames: [[UInt8]], ring: KeyRing) -> (reply: [[UInt8]], refused: Refused?) {
        let requestID = frames.count > 1 ? frames[1] : []
        func reply(_ status: String, _ text: String, user: String = "") -> [[UInt8]] {
            [Array("1.0".utf8), requestID, Array(status.utf8), Array(text.utf8), Array(user.utf8), []]
        }
        // Version, request id, domain, address, routing id, mechanism, credentials.
        guard frames.count >= 6, frames[0] == Array("1.0".utf8) else {
            return (reply("500", "malformed ZAP request"), nil)
        }
        let domain = String(decoding: frames[2], as: UTF8.self)
        let mechanism = String(decoding: frames[5], as: UTF8.self)
        // Only the daemon's own sockets ask; anything else is refused as an unknown key.
        let known = KeyRing.Socket(rawValue: domain)
        let socket = known ?? .input
        guard mechanism == "CURVE", frames.count >= 7, let key = CurveKey(bytes: frames[6]) else {
            return (reply("400", "CURVE required"), Refused(socket: socket, reason: .plaintext))
        }
        guard known != nil else {
            return (reply("400", "unknown ZAP domain"), Refused(socket: socket, reason: .unknownKey))
        }
        switch ring.admit(key, on: socket) {
        case .success(let user):
            return (reply("200", "OK", user: user), nil)
        case .failure(let reason):
            let text = reason.refusal == .notControl ? "key not allowed on the control socket" : "unknown key"
            return (reply("400", text), Refused(socket: socket, reason: reason.refusal))
        }
    }

    func close() { socket.close() }
}
