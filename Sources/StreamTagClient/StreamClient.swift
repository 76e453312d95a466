import StreamTagWire
import StreamTagZMQ
import Foundation

/// A producer and consumer of token streams, as docs/protocol.md#joining describes a client: it subscribes to
/// its streams' topics and to `$sys` on the output, publishes on the input, and starts once it
/// has seen a heartbeat (ZeroMQ subscriptions take a moment to reach the publisher).
/// Used by `streamtag send`, `demo` and `bench e2e`; one thread at a time.
public final class StreamClient {
    public let context: ZMQContext
    private let input: ZMQSocket
    private let output: ZMQSocket
    /// Polls `output`: set up once, used by every `receive`.
    private let poller = ZMQPoller()

    /// One message from the daemon.
    public struct Received: Sendable {
        public var topic: String
        public var body: JSONValue
        public var type: String? { if case .string(let t)? = body["type"] { t } else { nil } }
        public var event: String? { if case .string(let e)? = body["event"] { e } else { nil } }
    }

    /// Connects to a daemon; with `security`, over CURVE (docs/security.md).
    public init(input inputEndpoint: String, output outputEndpoint: String, context: ZMQContext? = nil,
                security: ClientSecurity? = nil) throws {
        self.context = try context ?? ZMQContext()
        input = try self.context.socket(.pub)
        try security?.apply(to: input)
        try input.setOption(.sendHighWaterMark, 0)
        try input.connect(inputEndpoint)
        output = try self.context.socket(.sub)
        try security?.apply(to: output)
        try output.setOption(.receiveHighWaterMark, 0)
        try output.subscribe(Array("$sys".utf8))
        try output.connect(outputEndpoint)
        _ = poller.add(output)
    }

    /// Also publishes to (and receives from) another daemon: a producer feeding several shards.
    public func connect(input inputEndpoint: String, output outputEndpoint: String) throws {
        try input.connect(inputEndpoint)
        try output.connect(outputEndpoint)
    }

    /// Receives this stream's tags and events. Topics filter by prefix: callers check the
    /// topic of what `receive` returns exactly.
    public func follow(_ stream: String) throws {
        try output.subscribe(Array(stream.utf8))
    }

    /// Waits for a `$sys` heartbeat (proof that the output subscription works).
    public func waitForHeartbeat(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let m = try receive(timeout: deadline.timeIntervalSinceNow), m.topic == "$sys", m.event == "heartbeat" {
                // Give the input connection the same moment to settle.
                Thread.sleep(forTimeInterval: 0.05)
                return
            }
        }
        throw ClientError("no heartbeat from the daemon within \(Int(timeout)) s: is it running, are the endpoints right (and, with CURVE, the keys: docs/security.md)?")
    }

    /// Publishes one input message.
    public func publish(stream: String, seq: UInt64, tokens: [String], reset: Bool = false, end: Bool = false) throws {
        var body: [(key: String, value: JSONValue)] = [("seq", .integer(Int(seq))), ("tokens", .array(tokens.map { .string($0) }))]
        if reset { body.append(("reset", .bool(true))) }
        if end { body.append(("end", .bool(true))) }
        _ = try input.send(frames: [Array(stream.utf8), JSONValue.object(body).encoded])
    }

    /// Publishes raw frames (tests of malformed input).
    public func publishRaw(_ frames: [[UInt8]]) throws {
        _ = try input.send(frames: frames)
    }

    /// The next message from the daemon, or nil after `timeout` seconds.
    public func receive(timeout: Double) throws -> Received? {
        let deadline = Date().addingTimeInterval(max(0, timeout))
        while true {
            if let frames = try output.receive(dontWait: true), frames.count == 2 {
                let topic = String(decoding: frames[0], as: UTF8.self)
                guard case .success(let body) = JSONValue.parse(frames[1]) else { continue }
                return Received(topic: topic, body: body)
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            _ = try poller.poll(timeoutMilliseconds: Int((left * 1000).rounded(.up)))
        }
    }

    public func close() {
        input.close()
        output.close()
    }
}

/// A client-side failure with a message for people.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Sends one control request and waits for the answer; with `security`, over CURVE.
public func controlRequest(_ request: JSONValue, endpoint: String, timeout: Double, context: ZMQContext? = nil,
                           security: ClientSecurity? = nil) throws -> JSONValue {
    let context = try context ?? ZMQContext()
    let socket = try context.socket(.req)
    defer { socket.close() }
    try security?.apply(to: socket)
    try socket.setOption(.receiveTimeout, Int32(timeout * 1000))
    try socket.connect(endpoint)
    _ = try socket.send(frames: [request.encoded])
    guard let frames = try socket.receive(), let frame = frames.first else {
        throw ClientError("no answer from the control socket \(endpoint) within \(Int(timeout)) s")
    }
    switch JSONValue.parse(frame) {
    case .success(let value): return value
    case .failure(let error): throw ClientError("unreadable answer: \(error.message)")
    }
}
