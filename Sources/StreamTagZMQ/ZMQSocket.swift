import CZeroMQ
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A ZeroMQ socket: a thin wrapper over `zmq_socket` that is closed by `close()` or on deinit.
///
/// Thread rules: like a libzmq socket, a `ZMQSocket` lives on one thread at a time. It is marked
/// `@unchecked Sendable` only so it can be *moved*: created on one thread and handed to another
/// (for example to the I/O thread) through something that synchronises, after which the first
/// thread no longer touches it. It must never be used from two threads concurrently, and that
/// includes `close()`. To wake the thread that owns a socket, use an `EventFD` in its poller.
///
/// New sockets get `ZMQ_LINGER` 0, so closing never waits for unsent messages. Options that
/// shape connections (high-water marks, `immediate`, TCP keepalive) apply to connections made
/// after they are set: set them before `bind(_:)` or `connect(_:)`.
public final class ZMQSocket: @unchecked Sendable {
    /// The socket types this wrapper creates.
    public enum SocketType: Sendable, CaseIterable {
        case pub, sub, xpub, rep, req, pair, push, pull, dealer, router

        var rawValue: Int32 {
            switch self {
            case .pub: ZMQ_PUB
            case .sub: ZMQ_SUB
            case .xpub: ZMQ_XPUB
            case .rep: ZMQ_REP
            case .req: ZMQ_REQ
            case .pair: ZMQ_PAIR
            case .push: ZMQ_PUSH
            case .pull: ZMQ_PULL
            case .dealer: ZMQ_DEALER
            case .router: ZMQ_ROUTER
            }
        }
    }

    /// Integer socket options (`int` in libzmq), for `setOption(_:_:)` and `option(_:)`.
    public enum IntOption: Sendable, CaseIterable {
        /// `ZMQ_SNDHWM`: messages queued per peer before sends block or drop (0 = no limit).
        case sendHighWaterMark
        /// `ZMQ_RCVHWM`: messages queued per peer on the receiving side (0 = no limit).
        case receiveHighWaterMark
        /// `ZMQ_LINGER` in milliseconds: how long `close` keeps unsent messages (-1 = forever).
        case linger
        /// `ZMQ_RCVTIMEO` in milliseconds: a blocking receive gives up after this (-1 = never).
        case receiveTimeout
        /// `ZMQ_SNDTIMEO` in milliseconds: a blocking send gives up after this (-1 = never).
        case sendTimeout
        /// `ZMQ_XPUB_NODROP` (0/1, XPUB and PUB; write-only): at the high-water mark a send
        /// fails with `EAGAIN` instead of silently dropping, so the caller can count drops.
        case xpubNoDrop
        /// `ZMQ_IMMEDIATE` (0/1): queue messages only to completed connections.
        case immediate
        /// `ZMQ_TCP_KEEPALIVE`: -1 system default, 0 off, 1 on.
        case tcpKeepalive
        /// `ZMQ_TCP_KEEPALIVE_IDLE` in seconds (-1 system default).
        case tcpKeepaliveIdle
        /// `ZMQ_TCP_KEEPALIVE_CNT`: probes before the connection is dropped (-1 system default).
        case tcpKeepaliveCount
        /// `ZMQ_TCP_KEEPALIVE_INTVL` in seconds between probes (-1 system default).
        case tcpKeepaliveInterval
        /// `ZMQ_CURVE_SERVER` (0/1): the CURVE server side (see `makeCurveServer`).
        case curveServer

        var rawValue: Int32 {
            switch self {
            case .sendHighWaterMark: ZMQ_SNDHWM
            case .receiveHighWaterMark: ZMQ_RCVHWM
            case .linger: ZMQ_LINGER
            case .receiveTimeout: ZMQ_RCVTIMEO
            case .sendTimeout: ZMQ_SNDTIMEO
            case .xpubNoDrop: ZMQ_XPUB_NODROP
            case .immediate: ZMQ_IMMEDIATE
            case .tcpKeepalive: ZMQ_TCP_KEEPALIVE
            case .tcpKeepaliveIdle: ZMQ_TCP_KEEPALIVE_IDLE
            case .tcpKeepaliveCount: ZMQ_TCP_KEEPALIVE_CNT
            case .tcpKeepaliveInterval: ZMQ_TCP_KEEPALIVE_INTVL
            case .curveServer: ZMQ_CURVE_SERVER
            }
        }
    }

    /// The default bound on stored frames per received message; see `receive(dontWait:maxFrames:)`.
    public static let defaultMaxFrames = 16

    /// The socket's type.
    public let type: SocketType
    /// The context the socket belongs to, kept alive by the socket.
    public let context: ZMQContext
    /// The libzmq socket, nil once closed.
    private(set) var handle: UnsafeMutableRawPointer?

    /// Creates a socket of `type` in `context` and sets its linger to 0.
    public init(_ context: ZMQContext, type: SocketType) throws {
        let handle = try context.makeSocketHandle(type: type.rawValue)
        self.type = type
        self.context = context
        self.handle = handle
        try setOption(.linger, 0)
    }

    deinit {
        close()
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool { handle == nil }

    /// Closes the socket (`zmq_close`). Idempotent; later operations throw `ENOTSOCK`.
    public func close() {
        guard let handle else { return }
        self.handle = nil
        zmq_close(handle)
    }

    // MARK: Endpoints

    /// Binds to `endpoint`, e.g. `"tcp://127.0.0.1:*"` (a free port; see `lastEndpoint`) or
    /// `"inproc://name"`.
    public func bind(_ endpoint: String) throws {
        try check("zmq_bind", zmq_bind(live("zmq_bind"), endpoint))
    }

    /// Connects to `endpoint`. For TCP this returns at once and connects in the background.
    public func connect(_ endpoint: String) throws {
        try check("zmq_connect", zmq_connect(live("zmq_connect"), endpoint))
    }

    /// Stops listening on `endpoint`. After a wildcard bind, pass the resolved `lastEndpoint`
    /// (libzmq does not match `"tcp://127.0.0.1:*"` against the bound port).
    public func unbind(_ endpoint: String) throws {
        try check("zmq_unbind", zmq_unbind(live("zmq_unbind"), endpoint))
    }

    /// Drops the connection made by `connect(_:)` to `endpoint`.
    public func disconnect(_ endpoint: String) throws {
        try check("zmq_disconnect", zmq_disconnect(live("zmq_disconnect"), endpoint))
    }

    /// The endpoint of the last `bind` or `connect` (`ZMQ_LAST_ENDPOINT`), with wildcards
    /// resolved: after binding `"tcp://127.0.0.1:*"` this is e.g. `"tcp://127.0.0.1:41234"`.
    public var lastEndpoint: String {
        get throws {
            var buffer = [CChar](repeating: 0, count: 1024)
            var size = buffer.count
            try check("zmq_getsockopt", zmq_getsockopt(live("zmq_getsockopt"), ZMQ_LAST_ENDPOINT, &buffer, &size))
            return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    // MARK: Options

    /// Sets an integer option (`zmq_setsockopt`).
    public func setOption(_ option: IntOption, _ value: Int32) throws {
        var value = value
        try check("zmq_setsockopt", zmq_setsockopt(live("zmq_setsockopt"), option.rawValue, &value, MemoryLayout<Int32>.size))
    }

    /// Reads an integer option (`zmq_getsockopt`). `xpubNoDrop` is write-only and throws `EINVAL`.
    public func option(_ option: IntOption) throws -> Int32 {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        try check("zmq_getsockopt", zmq_getsockopt(live("zmq_getsockopt"), option.rawValue, &value, &size))
        return value
    }

    /// `ZMQ_MAXMSGSIZE`: the largest inbound frame in bytes; a peer sending a bigger one is
    /// disconnected. -1 (the default) means no limit.
    public func setMaxMessageSize(_ bytes: Int64) throws {
        var value = bytes
        try check("zmq_setsockopt", zmq_setsockopt(live("zmq_setsockopt"), ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size))
    }

    /// Reads `ZMQ_MAXMSGSIZE`.
    public func maxMessageSize() throws -> Int64 {
        var value: Int64 = 0
        var size = MemoryLayout<Int64>.size
        try check("zmq_getsockopt", zmq_getsockopt(live("zmq_getsockopt"), ZMQ_MAXMSGSIZE, &value, &size))
        return value
    }

    /// Subscribes a SUB socket to messages whose first frame starts with `prefix`
    /// (an empty prefix subscribes to everything).
    public func subscribe(_ prefix: some ContiguousBytes) throws {
        try setBytes(ZMQ_SUBSCRIBE, prefix)
    }

    /// Removes one earlier `subscribe(_:)` of the same `prefix`.
    public func unsubscribe(_ prefix: some ContiguousBytes) throws {
        try setBytes(ZMQ_UNSUBSCRIBE, prefix)
    }

    /// Sets a byte-string option (`zmq_setsockopt`): subscriptions, CURVE keys, the ZAP domain.
    func setBytes(_ name: Int32, _ bytes: some ContiguousBytes) throws {
        let socket = try live("zmq_setsockopt")
        try bytes.withUnsafeBytes { buffer in
            try check("zmq_setsockopt", zmq_setsockopt(socket, name, buffer.baseAddress, buffer.count))
        }
    }

    // MARK: Messages

    /// Sends one multipart message: every frame but the last carries `ZMQ_SNDMORE`.
    ///
    /// Returns false when the message was not sent because the socket would block (`EAGAIN`):
    /// with `dontWait`, or when a send timeout expired. That happens only on the first frame,
    /// because libzmq queues multipart messages atomically. A PUB or XPUB with `xpubNoDrop`
    /// returns false when a subscriber's queue is full, so the caller can count drops; without
    /// it, libzmq drops silently and this returns true. A PUB/XPUB with no (matching)
    /// subscribers also returns true. Other failures throw `ZMQError` (`EINTR` is retried).
    /// An empty `frames` array sends nothing and returns true.
    public func send(_ frames: [some ContiguousBytes], dontWait: Bool = false) throws -> Bool {
        let socket = try live("zmq_send")
        let wait = dontWait ? ZMQ_DONTWAIT : 0
        for (index, frame) in frames.enumerated() {
            let code = frame.withUnsafeBytes {
                Self.sendFrame(socket, $0, flags: wait | (index < frames.count - 1 ? ZMQ_SNDMORE : 0))
            }
            if code == 0 { continue }
            // Past the first frame the message is half-queued, so EAGAIN is no clean "not sent".
            if code == EAGAIN && index == 0 { return false }
            throw ZMQError(code: code, call: "zmq_send")
        }
        return true
    }

    /// Sends a two-frame message, as `send(_:dontWait:)` does, without an array of frames:
    /// for paths that send a message each time round (a topic and a body).
    public func send(_ first: some ContiguousBytes, _ second: some ContiguousBytes, dontWait: Bool = false) throws -> Bool {
        try first.withUnsafeBytes { a in try second.withUnsafeBytes { b in try sendPair(a, b, dontWait: dontWait) } }
    }

    /// `send(_:_:dontWait:)` with the topic's UTF-8 bytes read in place.
    public func send(topic: String, body: [UInt8], dontWait: Bool = false) throws -> Bool {
        var topic = topic
        return try topic.withUTF8 { t in try body.withUnsafeBytes { b in try sendPair(UnsafeRawBufferPointer(t), b, dontWait: dontWait) } }
    }

    private func sendPair(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, dontWait: Bool) throws -> Bool {
        let socket = try live("zmq_send")
        let wait = dontWait ? ZMQ_DONTWAIT : 0
        let code = Self.sendFrame(socket, first, flags: wait | ZMQ_SNDMORE)
        if code == EAGAIN { return false }
        if code != 0 { throw ZMQError(code: code, call: "zmq_send") }
        let last = Self.sendFrame(socket, second, flags: wait)
        if last != 0 { throw ZMQError(code: last, call: "zmq_send") }
        return true
    }

    /// Sends one frame, retrying `EINTR`: 0, or the error number.
    private static func sendFrame(_ socket: UnsafeMutableRawPointer, _ buffer: UnsafeRawBufferPointer, flags: Int32) -> Int32 {
        while zmq_send(socket, buffer.baseAddress, buffer.count, flags) < 0 {
            let code = zmq_errno()
            if code != EINTR { return code }
        }
        return 0
    }

    /// Sends one multipart message of byte arrays; see `send(_:dontWait:)`.
    public func send(frames: [[UInt8]], dontWait: Bool = false) throws -> Bool {
        try send(frames, dontWait: dontWait)
    }

    /// Receives all frames of one multipart message, or nil when none is available (`EAGAIN`:
    /// with `dontWait`, or when the receive timeout expired). `EINTR` is retried.
    ///
    /// The whole message is always consumed, however many frames it has, so a malformed message
    /// never desynchronises the next one. At most `maxFrames` frames are stored; the rest are
    /// read and discarded. Choose `maxFrames` above the largest frame count you accept: then a
    /// result with exactly `maxFrames` frames means "too many" and can be rejected.
    ///
    /// Each frame is copied once, from libzmq's message into its `[UInt8]`.
    public func receive(dontWait: Bool = false, maxFrames: Int = ZMQSocket.defaultMaxFrames) throws -> [[UInt8]]? {
        try receiveCounted(dontWait: dontWait, maxFrames: maxFrames)?.frames
    }

    /// `receive(dontWait:maxFrames:)` that also says how many frames the message had in all
    /// (`frames` holds at most `maxFrames` of them), so a rejection can say "received 5 frames".
    public func receiveCounted(dontWait: Bool = false, maxFrames: Int = ZMQSocket.defaultMaxFrames) throws -> (frames: [[UInt8]], total: Int)? {
        precondition(maxFrames > 0, "maxFrames must be positive")
        let socket = try live("zmq_msg_recv")
        var message = zmq_msg_t()
        return try withUnsafeMutablePointer(to: &message) { message in
            zmq_msg_init(message)
            defer { zmq_msg_close(message) }
            var frames: [[UInt8]] = []
            var total = 0
            var flags = dontWait ? ZMQ_DONTWAIT : 0
            repeat {
                while zmq_msg_recv(message, socket, flags) < 0 {
                    let code = zmq_errno()
                    if code == EINTR { continue }
                    if code == EAGAIN && frames.isEmpty { return nil }
                    throw ZMQError(code: code, call: "zmq_msg_recv")
                }
                total += 1
                if frames.count < maxFrames {
                    let bytes = UnsafeRawBufferPointer(start: zmq_msg_data(message), count: zmq_msg_size(message))
                    frames.append([UInt8](bytes))
                }
                // Later frames of a message are already queued (multipart delivery is atomic),
                // so never wait for them: EAGAIN there would be a libzmq fault, not a timeout.
                flags = ZMQ_DONTWAIT
            } while zmq_msg_more(message) != 0
            return (frames, total)
        }
    }

    // MARK: Helpers

    /// The open libzmq socket, or `ENOTSOCK` naming `call` once closed.
    package func live(_ call: String) throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError(code: ENOTSOCK, call: call) }
        return handle
    }

    private func check(_ call: String, _ result: Int32) throws(ZMQError) {
        if result != 0 { throw ZMQError.last(call) }
    }
}

extension ZMQContext {
    /// Creates a socket of `type` in this context; the same as `ZMQSocket(self, type:)`.
    public func socket(_ type: ZMQSocket.SocketType) throws -> ZMQSocket {
        try ZMQSocket(self, type: type)
    }
}
