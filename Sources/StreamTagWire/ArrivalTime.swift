import Dispatch

/// When an input message reached the I/O thread (monotonic nanoseconds, taken when the parser
/// builds the message), for `streamtag_token_to_tag_latency_seconds`. Bookkeeping, not
/// content: two messages are equal whatever their arrival times.
public struct ArrivalTime: Equatable, Sendable {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// Now, on the monotonic clock.
    public static var now: ArrivalTime { ArrivalTime(nanoseconds: DispatchTime.now().uptimeNanoseconds) }

    public static func == (_: ArrivalTime, _: ArrivalTime) -> Bool { true }
}
