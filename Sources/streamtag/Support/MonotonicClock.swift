import Dispatch

/// Seconds on a monotonic clock (for measuring durations; not wall-clock time).
func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
