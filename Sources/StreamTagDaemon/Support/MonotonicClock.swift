import Dispatch

/// Seconds on a monotonic clock.
@Sendable func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}
