import StreamTagWire
import StreamTagZMQ
/// One run of the load generator against a daemon.
public struct LoadPhase: Sendable {
    public enum Mode: Sendable, Equatable {
        /// Every stream keeps `window` messages unanswered: the daemon sets the pace.
        case saturated
        /// Messages go out at this many tokens per second in total, round-robin over the
        /// streams, whatever the answers do (up to `window` unanswered per stream).
        case paced(tokensPerSecond: Double)
        /// One message per stream (the streams stay open): for memory per idle stream.
        case open
    }

    public var streams: Int
    public var tokensPerMessage: Int
    public var mode: Mode
    /// Seconds before the measurement starts.
    public var warmup: Double
    /// Seconds measured.
    public var duration: Double
    /// Most unanswered messages per stream.
    public var window: Int
    /// Most unanswered messages in total (keeps ZeroMQ queues well below their high-water
    /// marks, where PUB/SUB would drop).
    public var maxOutstanding: Int
    /// After the measurement: end every stream (`end: true`) and check that every token got
    /// its final tag. Without it the streams stay open.
    public var endStreams: Bool
    /// Seconds to wait for the last answers after sending stops.
    public var drainTimeout: Double

    public init(streams: Int, tokensPerMessage: Int, mode: Mode, warmup: Double = 1, duration: Double = 3,
                window: Int? = nil, maxOutstanding: Int = 50_000, endStreams: Bool = true, drainTimeout: Double = 60) {
        self.streams = max(1, streams)
        self.tokensPerMessage = max(0, tokensPerMessage)
        self.mode = mode
        self.warmup = warmup
        self.duration = duration
        self.window = window ?? LoadPhase.defaultWindow(streams: streams, mode: mode)
        self.maxOutstanding = maxOutstanding
        self.endStreams = endStreams
        self.drainTimeout = drainTimeout
    }

    /// About 4,096 messages in flight in total: enough to keep both workers' batches full,
    /// few enough that a message waits well under a second behind the others.
    public static func defaultWindow(streams: Int, mode: Mode) -> Int {
        switch mode {
        case .open: 1
        case .saturated: min(256, max(2, 4096 / max(1, streams)))
        case .paced: min(1024, max(4, 16_384 / max(1, streams)))
        }
    }
}

/// Percentiles of a set of durations (nearest rank over the sorted samples), in seconds.
public struct LatencySummary: Sendable, Equatable {
    public var count = 0
    public var p50 = 0.0
    public var p90 = 0.0
    public var p99 = 0.0
    public var p999 = 0.0
    public var max = 0.0
    public var mean = 0.0

    public init() {}

    public init(nanoseconds samples: [UInt64]) {
        guard !samples.isEmpty else { return }
        let sorted = samples.sorted()
        func rank(_ q: Double) -> Double {
            let index = Swift.min(sorted.count - 1, Swift.max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
            return Double(sorted[index]) / 1e9
        }
        count = sorted.count
        p50 = rank(0.50)
        p90 = rank(0.90)
        p99 = rank(0.99)
        p999 = rank(0.999)
        max = Double(sorted[sorted.count - 1]) / 1e9
        mean = Double(sorted.reduce(0.0) { $0 + Double($1) }) / Double(sorted.count) / 1e9
    }
}

/// What a run measured and what it verified.
public struct LoadResult: Sendable {
    public var phase: LoadPhase
    /// Length of the measurement interval actually covered.
    public var measuredSeconds = 0.0
    /// Final tags received per second in the interval (the throughput).
    public var tagsPerSecond = 0.0
    /// Tokens sent per second in the interval.
    public var tokensSentPerSecond = 0.0
    /// `tags` answers received per second in the interval.
    public var answersPerSecond = 0.0
    /// Send → `tags` answer, for messages sent and answered inside the interval.
    public var latency = LatencySummary()
    /// Paced runs: how late each send was against its schedule (the generator's own lag).
    public var lateness = LatencySummary()
    /// Paced runs: sends skipped because the stream had `window` messages unanswered.
    public var skippedSends = 0
    /// Totals over the whole run (warm-up, measurement, drain and end).
    public var messagesSent = 0
    public var answers = 0
    public var tokensSent = 0
    public var tagsReceived = 0
    public var endsReceived = 0
    /// Seconds from the first send until every message was answered (and every stream ended).
    public var totalSeconds = 0.0
    /// Whether every answer (and end) arrived before the drain timeout.
    public var drained = false
    public var verification = LoadVerification()

    /// An empty result for `phase`, filled in by a load generator.
    package init(phase: LoadPhase) { self.phase = phase }
}
