import Dispatch
import StreamTagCore
import Synchronization
import StreamTagWire

/// The workers, and the routing of streams to them: a stream always goes to worker
/// hash(id) % count, so its messages stay in order with no lock per message. The input on its
/// way to them is staged by the I/O loop (`StagedWork`).
final class WorkerPool: Sendable {
    let workers: [WorkerThread]
    /// Coalesces the workers' wake-ups of the I/O thread.
    let ioWake: IOWake

    init(count: Int, model: Model, settings: StreamSettings, wakeIO: @escaping @Sendable () -> Void) {
        let ioWake = IOWake(wakeIO)
        self.ioWake = ioWake
        workers = (0..<max(1, count)).map { WorkerThread(index: $0, model: model, settings: settings, wakeIO: { ioWake.request() }) }
    }

    func start() { for w in workers { w.start() } }

    /// Stops every worker thread once its inbox is empty (a halted worker runs nothing more).
    func stop() { for w in workers { w.stop() } }

    /// The worker of a stream: FNV-1a 64 of its id's UTF-8 bytes, modulo the worker count.
    func worker(for stream: String) -> Int {
        Int(fnv1a64(stream.utf8) % UInt64(workers.count))
    }

    /// The first worker whose loop has not turned for more than `limit` seconds at `now`
    /// (``monotonicSeconds()``), and since when: the watchdog withholds its pings for it.
    func stalledWorker(limit: Double, now: Double) -> WatchdogSchedule.Stall? {
        for w in workers {
            let idle = now - Double(w.lastTick.load(ordering: .relaxed)) / 1e9
            if idle > limit { return WatchdogSchedule.Stall(worker: w.index, seconds: idle) }
        }
        return nil
    }

    /// Runs `body` on every worker's thread and collects the results (in worker order).
    func collect<T: Sendable>(_ body: @escaping @Sendable (StreamWorker) -> T, completion: @escaping @Sendable ([T]) -> Void) {
        let results = Mutex<[T?]>(Array(repeating: nil, count: workers.count))
        let remaining = Atomic<Int>(workers.count)
        for (i, w) in workers.enumerated() {
            w.submit([.run { worker in
                let value = body(worker)
                results.withLock { $0[i] = value }
                if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                    completion(results.withLock { $0.map { $0! } })
                }
            }])
        }
    }

    var streams: Int { workers.reduce(0) { $0 + $1.streams.load(ordering: .relaxed) } }
    var tokensIn: Int { workers.reduce(0) { $0 + $1.tokensIn.load(ordering: .relaxed) } }
    var tokensOut: Int { workers.reduce(0) { $0 + $1.tokensOut.load(ordering: .relaxed) } }
}

/// Input on its way to the workers, per worker: the I/O loop stages a turn's messages, then
/// hands each worker its share with one lock.
struct StagedWork {
    private var staged: [[WorkItem]]

    init(workers: Int) {
        staged = Array(repeating: [], count: max(1, workers))
    }

    mutating func add(_ item: WorkItem, worker: Int) {
        staged[worker].append(item)
    }

    /// Hands every worker what was staged for it (the arrays keep their storage).
    mutating func submit(to pool: WorkerPool) {
        for i in staged.indices where !staged[i].isEmpty {
            pool.workers[i].submit(staged[i])
            staged[i].removeAll(keepingCapacity: true)
        }
    }
}

/// Wakes the I/O thread at most once per drain of the outboxes: a worker that publishes while
/// a wake-up is still pending (the I/O thread has not taken the outboxes since) skips the
/// eventfd write, a syscall, and the I/O thread a spurious poll wake-up.
final class IOWake: Sendable {
    private let pending = Atomic<Bool>(false)
    private let signal: @Sendable () -> Void

    init(_ signal: @escaping @Sendable () -> Void) { self.signal = signal }

    /// A worker has put output in its outbox.
    func request() {
        if !pending.exchange(true, ordering: .acquiringAndReleasing) { signal() }
    }

    /// The I/O thread is about to take every outbox (an RMW, so that it synchronises with the
    /// last `request` and sees what was put before it).
    func acknowledge() {
        _ = pending.exchange(false, ordering: .acquiringAndReleasing)
    }
}
