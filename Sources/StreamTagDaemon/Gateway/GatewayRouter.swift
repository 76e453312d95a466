/// The I/O thread's half of the gateway: which stream goes to which connection, and the seq
/// each connection numbers from. Owned by the I/O thread (no lock): the event loop's news
/// arrive in order through the inbox, so a route exists exactly between a connection's
/// `open` and `close`.
final class GatewayRouter {
    let server: WebSocketGateway
    /// Open connections by stream id.
    private(set) var routes: [String: GatewayConnection] = [:]
    /// Streams left open by a closed connection (`on_close: keep`): the seq to number from,
    /// and when (monotonic seconds), so that a later connection continues the numbering.
    private var kept: [String: (seq: UInt64, closed: Double)] = [:]
    /// Scratch for the inbox's events and the connections touched by one routing pass.
    var events: [GatewayEvent] = []
    private var touched: [GatewayConnection] = []

    init(server: WebSocketGateway) { self.server = server }

    /// A connection opened: route its stream to it (continuing a kept stream's numbering).
    func open(_ connection: GatewayConnection) {
        routes[connection.streamID] = connection
        if let previous = kept.removeValue(forKey: connection.streamID) {
            connection.nextSeq = previous.seq
            connection.streamOpen = true
        }
    }

    /// A connection closed: stop routing. Returns whether its stream should be ended now.
    func close(_ connection: GatewayConnection, now: Double) -> Bool {
        if routes[connection.streamID] === connection { routes[connection.streamID] = nil }
        guard connection.streamOpen else { return false }
        switch server.settings.onClose {
        case .end:
            return true
        case .keep:
            kept[connection.streamID] = (connection.nextSeq, now)
            return false
        }
    }

    /// Forgets kept streams idle longer than `idle` seconds (the daemon has evicted them; a new
    /// stream starts with any seq). Called about once a second.
    func forgetKept(olderThan idle: Double, now: Double) {
        guard !kept.isEmpty, idle > 0 else { return }
        kept = kept.filter { now - $0.value.closed < idle }
    }

    /// Sends each published message whose topic is an open connection's stream to it: one
    /// task per connection per I/O loop iteration.
    func route(_ messages: [Outgoing]) {
        guard !routes.isEmpty else { return }
        for message in messages {
            guard let connection = routes[message.topic] else { continue }
            if connection.batch.isEmpty { touched.append(connection) }
            connection.batch.append(message.body)
        }
        for connection in touched { connection.deliverBatch() }
        touched.removeAll(keepingCapacity: true)
    }
}
