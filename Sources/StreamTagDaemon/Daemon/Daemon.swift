import Foundation
import Logging
import StreamTagCore
import Synchronization
import StreamTagZMQ
import StreamTagWire

/// The running daemon: sockets on one I/O thread, streams on worker threads (docs/protocol.md, docs/concepts.md).
///
/// The I/O thread runs an ``IOLoop``, which owns every ZeroMQ socket and everything else only
/// that thread touches. It parses and validates input, hands each message to the worker that
/// owns its stream (hash of the stream id), answers the control socket, publishes what the
/// workers produce, and sends heartbeats. Workers own their streams outright and advance them
/// in batches.
///
/// `Daemon` itself is what every thread may use: constants, locks and atomics. Other threads
/// reach the I/O loop only through ``onIOThread(_:)``.
///
/// It is a swift-service-lifecycle `Service` (Daemon+Lifecycle.swift): ``run()`` serves until
/// a graceful shutdown or cancellation and returns once stopped, ``ready()`` says when it
/// serves; ``RunningDaemon`` runs one in a group of its own beside other work.
package final class Daemon: Sendable {
    /// The configuration in force (any thread): the one given to `init`, with the settings a
    /// config reload applied live (``reloadConfiguration(source:read:completion:)``).
    var config: DaemonConfig { configState.withLock { $0 } }
    /// Written by the I/O loop (config reload); the lock is for readers elsewhere.
    let configState: Mutex<DaemonConfig>
    /// The model new streams start on (any thread; a reload changes it).
    var model: Model { modelState.withLock { $0 } }
    /// Written by the I/O loop (model reload).
    let modelState: Mutex<Model>
    /// The daemon's logger: the one given to `init`, at a level a config reload can change
    /// (`log_level`). Use it for lines that should follow that level.
    package let logger: Logger
    /// The level of ``logger``.
    let logLevel: LiveLogLevel
    let pool: WorkerPool
    /// Wakes the I/O thread's poll (workers, ``onIOThread(_:)``, a stop request).
    let wake: EventFD
    let startTime = monotonicSeconds()
    /// This run's identity in heartbeats (``OutputEvent/heartbeat(model:streams:instance:)``).
    let instance = Int.random(in: 1..<(1 << 53))
    let snapshots: SnapshotStore
    let metrics = DaemonMetrics()
    /// Model loads in progress and stuck (each load runs on a thread of its own).
    let loads = LoadTracker()
    let reloads = ReloadCounters()

    /// The endpoints actually bound (after `tcp://127.0.0.1:*` resolves to a port), set when
    /// the I/O loop is built (readable once ``ready()`` returns).
    let endpoints = Mutex(Endpoints())
    package var inputEndpoint: String { endpoints.withLock { $0.input } }
    package var outputEndpoint: String { endpoints.withLock { $0.output } }
    var controlEndpoint: String { endpoints.withLock { $0.control } }

    /// Set by the first ``run()``: a daemon runs once.
    let hasRun = Atomic<Bool>(false)
    /// Starting, serving, failed or stopped; the tasks waiting in ``ready()`` while starting.
    let phase = Mutex<LifecyclePhase>(.starting([]))
    let stopRequested = Atomic<Bool>(false)
    /// The tasks in ``stoppedAsync()``; nil once stopped (the one record of the stop).
    let stopWaiters = Mutex<[CheckedContinuation<Void, Never>]?>([])
    /// The shutdown snapshot's outcome, handed over by the I/O loop before it marks the stop.
    let shutdownSnapshot = Mutex<Result<Int, any Error>?>(nil)
    /// Work for the I/O thread from other threads (e.g. a control answer is ready).
    private let ioTasks = Mutex<[@Sendable (IOLoop) -> Void]>([])

    /// systemd notifications (`enableSystemd`, before ``run()``), nil when not under systemd.
    var notifier: DaemonNotifier? { notifierState.withLock { $0 } }
    let notifierState = Mutex<DaemonNotifier?>(nil)
    /// The WebSocket gateway's address while it listens (Gateway/IOLoop+Gateway.swift).
    let gatewayAddress = Mutex<String?>(nil)
    /// How many times the CURVE key directories were read and swapped in, the first at start
    /// (0 without `security.server_key`; tests wait on it).
    let securityKeyReads = Atomic<Int>(0)

    package init(config: DaemonConfig, model: Model, logger: Logger) throws {
        configState = Mutex(config)
        modelState = Mutex(model)
        // The caller's level (tests pass a quiet one) until a config reload changes log_level.
        logLevel = LiveLogLevel(logger.logLevel)
        self.logger = logLevel.wrapping(logger)
        let wake = try EventFD()
        self.wake = wake
        let workers = config.batching.workers > 0 ? config.batching.workers : ProcessInfo.processInfo.activeProcessorCount
        let settings = StreamSettings(config, workers: workers)
        pool = WorkerPool(count: workers, model: model, settings: settings, wakeIO: { try? wake.signal() })
        snapshots = SnapshotStore(directory: config.stateDir)
    }

    /// Current status, as the control `status` answers it.
    var status: (streams: Int, tokensIn: Int, tokensOut: Int, uptime: Double) {
        (pool.streams, pool.tokensIn, pool.tokensOut, monotonicSeconds() - startTime)
    }

    /// `host:port` the WebSocket gateway is bound to; nil when `websocket.listen` is empty.
    var webSocketAddress: String? { gatewayAddress.withLock { $0 } }

    /// Runs `task` on the I/O thread soon (any thread), with the I/O loop: the only way other
    /// threads reach what it owns.
    func onIOThread(_ task: @escaping @Sendable (IOLoop) -> Void) {
        ioTasks.withLock { $0.append(task) }
        try? wake.signal()
    }

    /// The I/O loop, each turn: the tasks queued so far, in order.
    func takeIOTasks() -> [@Sendable (IOLoop) -> Void] {
        ioTasks.withLock { tasks in defer { tasks.removeAll() }; return tasks }
    }

    /// The endpoints bound.
    struct Endpoints {
        var input = ""
        var output = ""
        var control = ""
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
