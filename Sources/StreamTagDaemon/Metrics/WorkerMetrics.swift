import Dispatch
import StreamTagWire

/// What a `StreamWorker` feeds: the daemon's metrics (shared by all workers) and its own gauges.
/// A worker made outside a daemon (tests) gets a private `DaemonMetrics` that nobody serves;
/// the daemon hands each worker one bound to its registry before the worker thread starts.
struct WorkerMetrics: Sendable {
    let daemon: DaemonMetrics
    let gauges: WorkerGauges

    init(daemon: DaemonMetrics = DaemonMetrics(), gauges: WorkerGauges = WorkerGauges()) {
        self.daemon = daemon
        self.gauges = gauges
    }

    /// A step's start time (monotonic nanoseconds).
    @inline(__always)
    func stepStarted() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// After one batched step of `batch` streams that began at `started`: one record per histogram.
    @inline(__always)
    func stepped(batch: Int, since started: UInt64) {
        let elapsed = DispatchTime.now().uptimeNanoseconds &- started
        daemon.batchSize.record(Double(batch))
        daemon.stepDuration.record(Double(elapsed) * 1e-9)
    }

    /// A published event with a metric (gap, duplicate, reset, eviction, overloaded).
    @inline(__always)
    func count(_ event: OutputEvent) { daemon.count(event) }
}

/// The arrival times of a stream's accepted messages whose answers are not out yet, oldest
/// first: one push per accepted message, one pop per answer. The common case (at most one
/// message in flight) lives inline and never allocates.
struct ArrivalQueue: Sendable {
    /// Oldest arrival; 0 = empty (and then `rest` is empty too).
    private var head: UInt64 = 0
    private var rest: [UInt64] = []
    private var restStart = 0

    var count: Int { head == 0 ? 0 : 1 + rest.count - restStart }

    mutating func push(_ nanoseconds: UInt64) {
        let t = max(nanoseconds, 1)
        if head == 0 { head = t } else { rest.append(t) }
    }

    /// The oldest arrival, or 0 when there is none.
    mutating func pop() -> UInt64 {
        let oldest = head
        if restStart < rest.count {
            head = rest[restStart]
            restStart += 1
            if restStart == rest.count {
                rest.removeAll(keepingCapacity: true)
                restStart = 0
            } else if restStart >= 64 && restStart * 2 >= rest.count {
                rest.removeFirst(restStart)
                restStart = 0
            }
        } else {
            head = 0
        }
        return oldest
    }
}
