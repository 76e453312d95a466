import CZeroMQ
import Dispatch
import Logging
import Prometheus
import Synchronization
import StreamTagZMQ

/// CURVE on the daemon's three sockets (docs/security.md): the server key, the key ring, the
/// ZAP handler, the key-directory watcher and the refusal counts. Failed handshakes reach it
/// from the daemon's one socket monitor (`IOLoop.monitorSockets`: libzmq allows one monitor
/// per socket) through ``handshakeFailed(_:event:value:)``.
///
/// Owned by the `IOLoop` (made in its `init`, on the I/O thread; its sockets are in the loop's
/// poller), so not Sendable: key directories are read on a queue of their own and the result
/// handed back through `onIOThread`, which gives it the loop.
final class DaemonSecurity {
    let settings: DaemonConfig.Security
    let server: Certificate
    private(set) var ring: KeyRing
    let failures: AuthFailures
    private let zap: ZAPHandler
    private let watcher: KeyDirectoryWatcher
    private let logger: Logger
    private let onIOThread: @Sendable (@escaping @Sendable (IOLoop) -> Void) -> Void
    private let keysRead: @Sendable () -> Void
    private let reader = DispatchQueue(label: "streamtag.key-directories")
    private var reloading = false, reloadAgain = false
    /// Poller slots (see `addToPoller`).
    private var zapSlot = -1, watchSlot = -1
    /// The stat check of the key directories (the inotify fallback).
    private var nextCheck = 0.0
    static let checkInterval = 2.0

    /// Loads the server key and the key directories (any problem throws, naming the file) and
    /// binds the ZAP handler: call before the sockets it secures bind. `keysRead` is called
    /// each time the key directories were read and swapped in, the first time here.
    init(_ settings: DaemonConfig.Security, context: ZMQContext, registry: PrometheusCollectorRegistry, logger: Logger,
         now: Double, onIOThread: @escaping @Sendable (@escaping @Sendable (IOLoop) -> Void) -> Void,
         keysRead: @escaping @Sendable () -> Void) throws {
        guard CurveKey.isAvailable else {
            throw SecurityError(path: settings.serverKey, message: "this libzmq has no CURVE support (zmq_has(\"curve\") is 0): install a libzmq built with libsodium")
        }
        self.settings = settings
        server = try CertificateFile.loadSecret(settings.serverKey)
        let keys = Self.readDirectories(settings)
        if let problem = keys.problems.first { throw problem }
        ring = keys.ring
        failures = AuthFailures(registry: registry, now: now)
        self.logger = logger
        self.onIOThread = onIOThread
        self.keysRead = keysRead
        zap = try ZAPHandler(context: context)
        watcher = KeyDirectoryWatcher(directories: [settings.clients, settings.controlClients].filter { !$0.isEmpty })
        nextCheck = now + Self.checkInterval
        logger.info("CURVE on: input, output and control accept only allowed keys", metadata: [
            "server_key": "\(server.publicKey.z85)", "clients": "\(ring.clients.count)", "control_clients": "\(ring.controlClients.count)",
        ])
        keysRead()
    }

    /// The key ring the two directories make, and the files in them that could not be used.
    private static func readDirectories(_ settings: DaemonConfig.Security) -> (ring: KeyRing, problems: [SecurityError]) {
        let clients = settings.clients.isEmpty ? KeyDirectory() : KeyDirectory(path: settings.clients)
        let control = settings.controlClients.isEmpty ? KeyDirectory() : KeyDirectory(path: settings.controlClients)
        return (KeyRing(clients: clients.keys, controlClients: control.keys), clients.problems + control.problems)
    }

    /// Makes `socket` a CURVE server checked by the ZAP handler as `role`. Before the socket
    /// binds or connects.
    func secure(_ socket: ZMQSocket, as role: KeyRing.Socket) throws {
        try socket.makeCurveServer(secretKey: server.secretKey!, zapDomain: role.rawValue)
    }

    /// The socket-monitor events a secured socket reports here.
    static let monitoredEvents = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL

    /// I/O thread: a handshake failed on `socket` (a ``monitoredEvents`` event and its value).
    /// A mechanism mismatch is a plaintext client; anything else a failed handshake.
    func handshakeFailed(_ socket: KeyRing.Socket, event: Int32, value: Int32) {
        let mismatch = event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL && value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
        failures.count(socket, mismatch ? .plaintext : .handshake)
    }

    /// Adds the ZAP socket and the watcher to the I/O loop's poller.
    func addToPoller(_ poller: ZMQPoller) {
        zapSlot = poller.add(zap.socket)
        if watcher.fd >= 0 { watchSlot = poller.add(fd: watcher.fd) }
    }

    /// I/O thread, after each poll: answers ZAP requests, re-reads the key directories when
    /// they changed, logs the refusal summary when due. Never waits.
    func service(_ poller: ZMQPoller, now: Double) {
        if poller.isReadable(zapSlot) {
            zap.serve(ring) { failures.count($0.socket, $0.reason) }
        }
        var changed = watchSlot >= 0 && poller.isReadable(watchSlot) && watcher.drainEvents()
        if now >= nextCheck {
            nextCheck = now + Self.checkInterval
            changed = watcher.changed() || changed
        }
        if changed { reloadKeys(source: "key directory changed") }
        failures.summarize(now: now, logger: logger)
    }

    /// I/O thread: re-reads the key directories (off this thread) and swaps the key ring in.
    /// Connections made after the swap are checked against the new keys; open ones stay.
    func reloadKeys(source: String) {
        guard !reloading else { reloadAgain = true; return }
        reloading = true
        watcher.markSeen()
        let settings = self.settings, onIOThread = self.onIOThread
        reader.async {
            let keys = DaemonSecurity.readDirectories(settings)
            onIOThread { loop in loop.security?.finishReload(keys.ring, keys.problems, source: source) }
        }
    }

    /// On the I/O thread: the directories were read; swaps the ring in.
    func finishReload(_ next: KeyRing, _ problems: [SecurityError], source: String) {
        let old = ring
        ring = next
        keysRead()
        for problem in problems {
            // The key of a file that cannot be read is not admitted: fail closed.
            logger.error("key directory: \(problem.description); that file's key is refused until it is fixed",
                         metadata: ["source": "\(source)"])
        }
        func diff(_ a: [CurveKey: String], _ b: [CurveKey: String]) -> String {
            let added = b.keys.filter { a[$0] == nil }.compactMap { b[$0] }.sorted()
            let removed = a.keys.filter { b[$0] == nil }.compactMap { a[$0] }.sorted()
            return "\(b.count) (added: \(added.isEmpty ? "none" : added.joined(separator: " ")), removed: \(removed.isEmpty ? "none" : removed.joined(separator: " ")))"
        }
        logger.info("keys re-read: clients \(diff(old.clients, ring.clients)), control_clients \(diff(old.controlClients, ring.controlClients))",
                    metadata: ["source": "\(source)"])
        reloading = false
        if reloadAgain {
            reloadAgain = false
            reloadKeys(source: "changed during the last read")
        }
    }

    /// At stop: the last summary, then the sockets. Call after the secured sockets are closed
    /// (libzmq admits every key while no ZAP handler is bound).
    func close(now: Double) {
        failures.summarize(now: now, logger: logger, force: true)
        zap.close()
    }
}
