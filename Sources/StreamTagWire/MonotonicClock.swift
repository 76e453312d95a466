import Dispatch

/// Seconds on the monotonic clock, for durations and deadlines (not wall-clock time): the one
/// clock of the daemon, the benchmarks and the tools (``ArrivalTime`` reads the same clock in
/// nanoseconds).
@Sendable public func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}
