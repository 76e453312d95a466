import Dispatch
import Foundation
import Logging
import StreamTagCore
import Synchronization
import StreamTagZMQ
import StreamTagWire

/// The running daemon: sockets on one I/O thread, streams on worker threads (docs/protocol.md, docs/concepts.md).
///
/// The I/O thread owns every ZeroMQ socket. It parses and validates input, hands each message
/// to the worker that owns its stream (hash of the stream id), answers the control socket,
/// publishes what the workers produce, and sends heartbeats. Workers own their streams
/// outright and advance them in batches.
package final class Daemon: @unchecked Sendable {
    /// The configuration in force (any thread): the one given to `init`, with the settings a
    /// config reload applied live (``reloadConfiguration(source:read:completion:)``).
    package var config: DaemonConfig { configState.withLock { $0 } }
    /// Written on the I/O thread only (config reload); the lock is for readers elsewhere.
    let configState: Mutex<DaemonConfig>
    /// The model new streams start on (changes on reload; read it on the I/O thread).
    package internal(set) var model: Model
    /// The daemon's logger: the one given to `init`, at a level a config reload can change
    /// (`log_level`). Use it for lines that should follow that level.
    package let logger: Logger
    /// The level of ``logger``.
    let logLevel: LiveLogLevel
    let pool: WorkerPool
    let wake: EventFD
    let context: ZMQContext
    let startTime = monotonicSeconds()
    /// This run's identity in heartbeats (``OutputEvent/heartbeat(model:streams:instance:)``).
    let instance = Int.random(in: 1..<(1 << 53))
    let snapshots: SnapshotStore
    let metrics = DaemonMetrics()

    /// Endpoints actually bound (after `tcp://127.0.0.1:*` resolves to a port).
    package internal(set) var inputEndpoint = ""
    package internal(set) var outputEndpoint = ""
    package internal(set) var controlEndpoint = ""

    // Shared with other threads.
    let stopRequested = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let stoppedFlag = Atomic<Bool>(false)

    /// Replies computed off the I/O thread, for the control socket.
    let controlReplies = Mutex<[[UInt8]]>([])
    /// Work for the I/O thread from other threads (e.g. a control answer is ready).
    let ioTasks = Mutex<[@Sendable () -> Void]>([])

    // I/O-thread state (created in `start`, used only on the I/O thread).
    var input: ZMQSocket!
    var output: ZMQSocket!
    var control: ZMQSocket!
    /// CURVE, the ZAP handler and the key ring; nil without `security.server_key`.
    var security: DaemonSecurity?
    var parser: InputParser
    var outgoing: [Outgoing] = []
    var controlBusy = false
    /// The model reload under way, from its request to its answer; nil when none (I/O thread).
    var reloadRound: ReloadRound?
    var watcher: ModelWatcher?
    /// Model loads in progress and stuck (each load runs on a thread of its own).
    let loads = LoadTracker()
    let reloads = ReloadCounters()
    /// Periods and deadlines of the I/O loop's timers (I/O thread; a config reload changes them).
    var timers = IOTimers()
    /// The shutdown snapshot's outcome, once written (I/O thread).
    var shutdownSnapshot: Result<Int, any Error>? = nil
    /// systemd notifications (`enableSystemd`), nil when not under systemd.
    var notifier: DaemonNotifier?
    // WebSocket gateway seam (Gateway/Daemon+Gateway.swift): its routes (I/O thread), its address.
    var gateway: GatewayRouter?
    let gatewayAddress = Mutex<String?>(nil)

    package init(config: DaemonConfig, model: Model, logger: Logger) throws {
        configState = Mutex(config)
        self.model = model
        // The caller's level (tests pass a quiet one) until a config reload changes log_level.
        logLevel = LiveLogLevel(logger.logLevel)
        self.logger = logLevel.wrapping(logger)
        let wake = try EventFD()
        self.wake = wake
        context = try ZMQContext()
        parser = InputParser(maxMessageBytes: config.input.maxMessageBytes)
        let workers = config.batching.workers > 0 ? config.batching.workers : ProcessInfo.processInfo.activeProcessorCount
        let settings = StreamSettings(config, workers: workers)
        pool = WorkerPool(count: workers, model: model, settings: settings, wakeIO: { try? wake.signal() })
        snapshots = SnapshotStore(directory: config.stateDir)
    }

    /// Binds the sockets, restores the snapshot and starts the threads. When it returns the
    /// daemon is ready (sockets bound, model loaded, snapshot restored).
    package func start() throws {
        try startMetrics()
        try snapshots.checkWritable()
        try openSockets()
        monitorSockets()
        try startGateway()      // WebSocket gateway seam: nothing when websocket.listen is ""
        restoreSnapshot()
        pool.start()
        let thread = Thread { [self] in
            nameCurrentThread("streamtag-io")
            runIOLoop()
        }
        thread.name = "streamtag-io"
        thread.start()
        logger.info("started", metadata: [
            "model": "\(model.id)", "input": "\(inputEndpoint)", "output": "\(outputEndpoint)",
            "control": "\(controlEndpoint)", "workers": "\(pool.workers.count)", "streams": "\(pool.streams)",
        ])
        metricsReady()
        notifyStarted()
    }

    /// Begins a graceful stop (any thread): no more input; the messages in progress are
    /// finished and published, the rest of what was accepted is snapshotted as input, then
    /// `stopping` goes out.
    package func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        notifyStopping()
        try? wake.signal()
    }

    /// After the stop: why the shutdown snapshot could not be written (nil when it was). A
    /// daemon that could not save its streams must not exit as if it had.
    package var shutdownSnapshotError: String? {
        guard stoppedFlag.load(ordering: .acquiring), case .failure(let error)? = shutdownSnapshot else { return nil }
        return "\(error)"
    }

    /// Blocks until the daemon has stopped.
    package func waitUntilStopped() {
        stopped.wait()
        stopped.signal()
    }

    /// Waits for the stop without blocking a cooperative thread.
    package func stoppedAsync() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.waitUntilStopped()
                continuation.resume()
            }
        }
    }

    func markStopped() {
        guard !stoppedFlag.exchange(true, ordering: .acquiringAndReleasing) else { return }
        notifyStopped()
        stopMetrics()
        stopped.signal()
    }

    /// Current status, as the control `status` answers it.
    package var status: (streams: Int, tokensIn: Int, tokensOut: Int, uptime: Double) {
        (pool.streams, pool.tokensIn, pool.tokensOut, monotonicSeconds() - startTime)
    }

    /// Runs `task` on the I/O thread soon.
    func onIOThread(_ task: @escaping @Sendable () -> Void) {
        ioTasks.withLock { $0.append(task) }
        try? wake.signal()
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
