/// The I/O loop's half of the gateway: which stream goes to which connection, the seq each
/// connection numbers from, and the answers routed to it in one turn. Owned by the `IOLoop`
/// (no lock): the event loop's news arrive in order through the inbox, so a route exists
/// exactly between a connection's `open` and `close`.
final class GatewayRouter {
    let server: WebSocketGateway
    /// Open connections by stream id.
    private(set) var routes: [String: GatewayConnection] = [:]
    /// The stream bookkeeping of each open connection.
    private var streams: [ObjectIdentifier: ConnectionStream] = [:]
    /// Streams left open by a closed connection (`on_close: keep`): the seq to number from,
    /// and when (monotonic seconds), so that a later connection continues the numbering.
    private var kept: [String: (seq: UInt64, closed: Double)] = [:]
    /// Scratch for the inbox's events and the connections touched by one routing pass.
    var events: [GatewayEvent] = []
    private var touched: [GatewayConnection] = []

    /// One connection's stream, as the I/O loop numbers and answers it.
    private struct ConnectionStream {
        /// The seq the gateway gives the next message without one: the last accepted seq + 1.
        var nextSeq: UInt64 = 0
        /// The stream has accepted a message and not ended since (closing it then ends it).
        var open = false
        /// Answers routed to the connection in the current I/O loop turn.
        var batch: [[UInt8]] = []
    }

    init(server: WebSocketGateway) { self.server = server }

    /// A connection opened: route its stream to it (continuing a kept stream's numbering).
    func open(_ connection: GatewayConnection) {
        routes[connection.streamID] = connection
        var stream = ConnectionStream()
        if let previous = kept.removeValue(forKey: connection.streamID) {
            stream.nextSeq = previous.seq
            stream.open = true
        }
        streams[ObjectIdentifier(connection)] = stream
    }

    /// The seq a message from `connection` without one gets.
    func nextSeq(of connection: GatewayConnection) -> UInt64 {
        streams[ObjectIdentifier(connection)]?.nextSeq ?? 0
    }

    /// A message of `connection` was accepted with `seq`; `end` ends its stream.
    func accepted(_ connection: GatewayConnection, seq: UInt64, end: Bool) {
        streams[ObjectIdentifier(connection)]?.nextSeq = seq + 1
        streams[ObjectIdentifier(connection)]?.open = !end
    }

    /// A connection closed: stop routing. Returns the seq of the `end` message its stream
    /// should get now, or nil.
    func close(_ connection: GatewayConnection, now: Double) -> UInt64? {
        if routes[connection.streamID] === connection { routes[connection.streamID] = nil }
        guard let stream = streams.removeValue(forKey: ObjectIdentifier(connection)), stream.open else { return nil }
        switch server.settings.onClose {
        case .end:
            return stream.nextSeq
        case .keep:
            kept[connection.streamID] = (stream.nextSeq, now)
            return nil
        }
    }

    /// Forgets kept streams idle longer than `idle` seconds (the daemon has evicted them; a new
    /// stream starts with any seq). Called about once a second.
    func forgetKept(olderThan idle: Double, now: Double) {
        guard !kept.isEmpty, idle > 0 else { return }
        kept = kept.filter { now - $0.value.closed < idle }
    }

    /// Sends each published message whose topic is an open connection's stream to it: one
    /// task per connection per I/O loop turn.
    func route(_ messages: [Outgoing]) {
        guard !routes.isEmpty else { return }
        for message in messages {
            guard let connection = routes[message.topic] else { continue }
            let id = ObjectIdentifier(connection)
            if streams[id]?.batch.isEmpty ?? false { touched.append(connection) }
            streams[id]?.batch.append(message.body)
        }
        for connection in touched {
            let id = ObjectIdentifier(connection)
            guard let bodies = streams[id]?.batch else { continue }
            streams[id]?.batch.removeAll(keepingCapacity: true)
            connection.deliver(bodies)
        }
        touched.removeAll(keepingCapacity: true)
    }
}
