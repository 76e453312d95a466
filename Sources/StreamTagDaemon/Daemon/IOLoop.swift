import Foundation
import Logging
import StreamTagCore
import StreamTagZMQ
import StreamTagWire

/// The I/O thread's side of a ``Daemon``: its sockets, the input parser, the outgoing queue,
/// the control socket's turn, the model reload under way, the model watcher, the timers, the
/// gateway's routes and the shutdown snapshot's outcome.
///
/// Made on the I/O thread by the daemon's start (in `Daemon.run()`) and never handed to
/// another: it is not Sendable, so a closure that runs elsewhere cannot capture it, and the
/// compiler rejects a socket touched from another thread. Other threads queue work for it with
/// `Daemon.onIOThread`, which runs on the I/O thread with the loop as its argument. What other
/// threads need (configuration, model, counters, the stop flag) lives on the `Daemon`.
final class IOLoop {
    let daemon: Daemon
    // The daemon's Sendable parts the loop uses on every turn, at hand.
    let pool: WorkerPool
    let metrics: DaemonMetrics
    let logger: Logger
    let context: ZMQContext
    let input: ZMQSocket
    let output: ZMQSocket
    let control: ZMQSocket
    /// CURVE, the ZAP handler and the key ring; nil without `security.server_key`.
    let security: DaemonSecurity?
    let poller = ZMQPoller()
    var parser: InputParser
    /// The workers' stream rules (a config reload replaces them).
    var settings: StreamSettings
    /// Input waiting to be handed to the workers (``flush()``).
    var staged: StagedWork
    /// What the workers published, taken each turn (its storage is kept).
    var outgoing: [Outgoing] = []
    /// A control request is being answered elsewhere: the REP socket is not read meanwhile.
    var controlBusy = false
    /// The model reload under way, from its request to its answer; nil when none.
    var reloadRound: ReloadRound?
    var watcher: ModelWatcher?
    /// Periods and deadlines of the loop's timers (a config reload changes them).
    var timers = IOTimers()
    /// The shutdown snapshot's outcome, once written.
    var shutdownSnapshot: Result<Int, any Error>? = nil
    /// The WebSocket gateway's routes; nil when `websocket.listen` is "".
    var gateway: GatewayRouter?

    /// The configuration in force.
    var config: DaemonConfig { daemon.config }
    /// The model new streams start on.
    var model: Model { daemon.model }

    /// On the I/O thread: binds or connects the sockets (CURVE first when configured), watches
    /// their events, and starts the WebSocket gateway when `websocket.listen` is set.
    init(daemon: Daemon) throws {
        self.daemon = daemon
        pool = daemon.pool
        metrics = daemon.metrics
        logger = daemon.logger
        let config = daemon.config
        context = try ZMQContext()
        parser = InputParser(maxMessageBytes: config.input.maxMessageBytes)
        settings = StreamSettings(config, workers: pool.workers.count)
        staged = StagedWork(workers: pool.workers.count)
        if config.security.isEnabled {
            // The ZAP handler is bound here, before any socket it guards can take a connection.
            security = try DaemonSecurity(config.security, context: context, registry: metrics.registry, logger: logger,
                                          now: monotonicSeconds(),
                                          onIOThread: { [weak daemon] task in daemon?.onIOThread(task) },
                                          keysRead: { [weak daemon] in daemon?.securityKeyReads.add(1, ordering: .releasing) })
        } else {
            security = nil
        }
        let sockets = try Self.openSockets(config, context: context, security: security)
        (input, output, control) = (sockets.input, sockets.output, sockets.control)
        daemon.endpoints.withLock { $0 = sockets.endpoints }
        monitorSockets()
        try startGateway()      // WebSocket gateway seam: nothing when websocket.listen is ""
    }

    /// Stages an item for its stream's worker; ``flush()`` hands them over.
    func stage(_ item: WorkItem, stream: String) {
        staged.add(item, worker: pool.worker(for: stream))
    }

    /// Hands the staged input to the workers (one lock and one wake-up per worker).
    func flush() {
        staged.submit(to: pool)
    }

    /// After the loop: closes the sockets and terminates the context.
    func close() {
        // Give the last messages a moment to leave before the sockets close.
        try? output.setOption(.linger, 1000)
        input.close()
        control.close()
        output.close()
        security?.close(now: monotonicSeconds())
        context.terminate()
        stopGateway()                               // WebSocket gateway seam
    }
}
