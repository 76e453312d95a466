import Dispatch
import Foundation
import StreamTagCore
import Synchronization
import StreamTagZMQ
import StreamTagWire

/// A message on its way out: topic frame and body frame.
struct Outgoing: Sendable {
    var topic: String
    var body: [UInt8]
    /// For an answer, its message's arrival at the I/O thread (monotonic ns); 0 for events.
    var arrival: UInt64 = 0
}

/// What the I/O thread hands a worker.
enum WorkItem: Sendable {
    case message(InputMessage)
    case reject(stream: String, error: OutputEvent)
    /// Runs on the worker's thread with the worker (control commands, snapshots, reloads).
    case run(@Sendable (StreamWorker) -> Void)
}

/// Runs one `StreamWorker` on its own thread. The I/O thread pushes work into the inbox (one
/// lock per batch of messages) and wakes the thread; what the worker published (its own
/// `outbox`) moves to the shared outbox (one lock per step) and wakes the I/O thread through
/// `wakeIO`.
final class WorkerThread: @unchecked Sendable {
    let index: Int
    private let worker: StreamWorker
    private let inbox = Mutex<[WorkItem]>([])
    private let outbox = Mutex<[Outgoing]>([])
    private let wakeup = DispatchSemaphore(value: 0)
    private let wakeIO: @Sendable () -> Void
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// Streams open on this worker (read from any thread).
    let streams = Atomic<Int>(0)
    let tokensIn = Atomic<Int>(0)
    let tokensOut = Atomic<Int>(0)
    /// Monotonic time of the last loop iteration, for health checks.
    let lastTick = Atomic<UInt64>(0)
    private let expireInterval: Double

    init(index: Int, model: Model, settings: StreamSettings, expireInterval: Double = 1,
         wakeIO: @escaping @Sendable () -> Void) {
        self.index = index
        self.wakeIO = wakeIO
        self.expireInterval = expireInterval
        worker = StreamWorker(model: model, settings: settings, clock: monotonicSeconds)
        worker.index = index
        worker.tick = { [unowned self] in lastTick.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed) }
    }

    func start() {
        let thread = Thread { [self] in
            nameCurrentThread("streamtag-wk\(index)")
            loop()
        }
        thread.name = "streamtag-worker-\(index)"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Queues work (call from the I/O thread) and wakes the worker.
    func submit(_ items: [WorkItem]) {
        guard !items.isEmpty else { return }
        inbox.withLock { $0.append(contentsOf: items) }
        wakeup.signal()
    }

    /// Takes everything published so far (call from the I/O thread).
    func takeOutput(into out: inout [Outgoing]) {
        outbox.withLock { box in
            out.append(contentsOf: box)
            box.removeAll(keepingCapacity: true)
        }
    }

    /// Stops the thread once its inbox is handled and it has nothing to run (nothing at all once
    /// halted by the shutdown snapshot); returns when it has.
    func stop() {
        stopping.store(true, ordering: .releasing)
        wakeup.signal()
        finished.wait()
    }

    private func loop() {
        var nextExpire = monotonicSeconds() + expireInterval
        // Swapped with the inbox each turn: both arrays keep their storage, no allocation.
        var items: [WorkItem] = []
        while true {
            lastTick.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
            items.removeAll(keepingCapacity: true)
            inbox.withLock { swap(&$0, &items) }
            for item in items {
                switch item {
                case .message(let m): worker.accept(m)
                case .reject(let stream, let error): worker.reject(stream: stream, error: error)
                case .run(let body): body(worker)
                }
            }
            let now = monotonicSeconds()
            if now >= nextExpire {
                worker.expire()
                nextExpire = now + expireInterval
            }
            let worked = worker.runOnce()
            flush()
            if !worked && items.isEmpty {
                if stopping.load(ordering: .acquiring) { break }
                // Until the next expiry, a step that batch_wait holds back, or new work.
                let wait = max(1e-5, min(nextExpire, worker.heldUntil ?? .infinity) - now)
                _ = wakeup.wait(timeout: .now() + .nanoseconds(Int(wait * 1e9)))
            }
        }
        finished.signal()
    }

    private func flush() {
        streams.store(worker.streamCount, ordering: .relaxed)
        tokensIn.store(worker.tokensIn, ordering: .relaxed)
        tokensOut.store(worker.tokensOut, ordering: .relaxed)
        worker.publishMetricGauges()
        guard !worker.outbox.isEmpty else { return }
        outbox.withLock { box in box.append(contentsOf: worker.outbox) }
        worker.outbox.removeAll(keepingCapacity: true)
        wakeIO()
    }
}
