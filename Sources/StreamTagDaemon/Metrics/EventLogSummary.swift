import Dispatch
import Foundation
import Logging
import Synchronization
import StreamTagWire

/// Log lines for what an operator should notice but that may happen thousands of times a
/// second: rejected messages, evictions, gaps and duplicates, output drops. Instead of one line
/// per message, one line per kind every `interval` (and a last one at stop), only when
/// something happened, e.g.
///
///     rejected 45 messages in the last 10 s (bad_json 40, too_large 5)
///     evicted 123 streams in the last 10 s (idle 120, memory 3)
///
/// It reads the same atomic counters as the scrape, on a timer queue of its own.
final class EventLogSummary: @unchecked Sendable {
    /// The daemon's event counts (not the `DaemonMetrics`, which owns this summary).
    private let counts: AtomicCounters
    private let logger: Logger
    private let interval: Double
    private let queue = DispatchQueue(label: "streamtag.log-summary")
    /// Totals at the last summary, and when it was.
    private let last: Mutex<(counts: [Int], time: Double)>
    private var timer: (any DispatchSourceTimer)?

    init(counts: AtomicCounters, logger: Logger, interval: Double = 10) {
        self.counts = counts
        self.logger = logger
        self.interval = interval
        last = Mutex(((0..<EventCount.total).map { counts.load($0) }, monotonicSeconds()))
    }

    /// Starts the periodic summary.
    func start() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(100))
        timer.setEventHandler { [weak self] in self?.summarize() }
        queue.sync { self.timer = timer }
        timer.resume()
    }

    /// Stops the timer without a last summary.
    func cancel() {
        queue.sync {
            timer?.cancel()
            timer = nil
        }
    }

    deinit { timer?.cancel() }

    /// Stops the timer and logs what happened since the last summary.
    func stop() {
        cancel()
        summarize()
    }

    /// Logs the lines for what happened since the last call.
    func summarize() {
        let now = monotonicSeconds()
        let counts = (0..<EventCount.total).map { self.counts.load($0) }
        let (delta, seconds) = last.withLock { last -> ([Int], Double) in
            defer { last = (counts, now) }
            return (zip(counts, last.counts).map { $0 - $1 }, now - last.time)
        }
        for line in Self.lines(delta: delta, seconds: seconds) {
            logger.log(level: line.level, "\(line.message)")
        }
    }

    /// The summary lines for counter increases `delta` (by `EventCount` index) over `seconds`.
    static func lines(delta: [Int], seconds: Double) -> [(level: Logger.Level, message: String)] {
        let outputDropped = delta[EventCount.outputDropped]
        let span = Self.span(seconds)
        var lines: [(Logger.Level, String)] = []
        let errors = WireErrorCode.allCases.map { ($0.rawValue, delta[EventCount.error($0)]) }
        let rejected = errors.reduce(0) { $0 + $1.1 }
        if rejected > 0 {
            lines.append((.warning, "rejected \(rejected) message\(rejected == 1 ? "" : "s") in the last \(span) (\(breakdown(errors)))"))
        }
        let evictions = OutputEvent.EvictionReason.allCases.map { ($0.rawValue, delta[EventCount.eviction($0)]) }
        let evicted = evictions.reduce(0) { $0 + $1.1 }
        if evicted > 0 {
            let memory = delta[EventCount.eviction(.memory)] > 0
            lines.append((memory ? .warning : .info,
                          "evicted \(evicted) stream\(evicted == 1 ? "" : "s") in the last \(span) (\(breakdown(evictions)))"))
        }
        let gaps = delta[EventCount.gaps], duplicates = delta[EventCount.duplicates]
        if gaps + duplicates > 0 {
            lines.append((gaps > 0 ? .warning : .info,
                          "input seq in the last \(span): \(gaps) gap\(gaps == 1 ? "" : "s") (messages lost upstream), "
                              + "\(duplicates) duplicate\(duplicates == 1 ? "" : "s") dropped"))
        }
        if outputDropped > 0 {
            lines.append((.warning, "output socket dropped \(outputDropped) message\(outputDropped == 1 ? "" : "s") in the last \(span) "
                              + "(high-water mark reached or send errors)"))
        }
        let refused = delta[EventCount.httpRefused], idle = delta[EventCount.httpIdleClosed]
        if refused + idle > 0 {
            lines.append((refused > 0 ? .warning : .info,
                          "metrics listener closed \(refused + idle) connection\(refused + idle == 1 ? "" : "s") in the last \(span) "
                              + "(\(breakdown([("over metrics.max_connections", refused), ("idle for metrics.read_timeout", idle)])))"))
        }
        let disconnects = delta[EventCount.inputDisconnects]
        if disconnects > 0 {
            lines.append((.info, "input: \(disconnects) producer connection\(disconnects == 1 ? "" : "s") closed in the last \(span) "
                              + "(a producer left, or sent a frame over input.max_zmq_message_bytes, which ZeroMQ drops by closing the connection)"))
        }
        let fdHTTP = delta[EventCount.fdExhaustedHTTP], fdZMQ = delta[EventCount.fdExhaustedZMQ]
        if fdHTTP + fdZMQ > 0 {
            lines.append((.error, "out of file descriptors: \(fdHTTP + fdZMQ) connection\(fdHTTP + fdZMQ == 1 ? "" : "s") "
                              + "could not be accepted in the last \(span) (\(breakdown([("http", fdHTTP), ("zmq", fdZMQ)]))); "
                              + "raise LimitNOFILE or find what holds them"))
        }
        return lines
    }

    /// How long a summary covers: `10 s`, or `4.2 s` when shorter (a summary at stop).
    static func span(_ seconds: Double) -> String {
        seconds >= 9.5 ? String(format: "%.0f s", seconds) : String(format: "%.1f s", seconds)
    }

    /// The non-zero counts, most first: `bad_json 40, too_large 5`.
    static func breakdown(_ parts: [(String, Int)]) -> String {
        parts.filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
    }
}
