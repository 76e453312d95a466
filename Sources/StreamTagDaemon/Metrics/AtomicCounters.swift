import Synchronization
import StreamTagWire

/// A fixed number of relaxed atomic counters in one allocation: lock-free increments from any
/// thread, read by scrapes and by the log summary. (`Atomic` cannot live in an array.)
final class AtomicCounters: @unchecked Sendable {
    let count: Int
    private let base: UnsafeMutablePointer<Atomic<Int>>

    init(count: Int) {
        self.count = count
        base = .allocate(capacity: count)
        for i in 0..<count { (base + i).initialize(to: Atomic(0)) }
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    @inline(__always)
    func add(_ index: Int, _ amount: Int = 1) {
        base[index].add(amount, ordering: .relaxed)
    }

    @inline(__always)
    func load(_ index: Int) -> Int {
        base[index].load(ordering: .relaxed)
    }
}

/// What the daemon counts as events happen (per message or rarer, never per token), by index
/// into one `AtomicCounters`.
enum EventCount {
    static let errorBase = 0
    static let gaps = WireErrorCode.allCases.count
    static let duplicates = gaps + 1
    static let evictionBase = duplicates + 1
    static let resetBase = evictionBase + OutputEvent.EvictionReason.allCases.count
    static let messagesOut = resetBase + OutputEvent.ResetReason.allCases.count
    static let answers = messagesOut + 1
    /// Well-formed input messages handed to the workers.
    static let messagesIn = answers + 1
    /// Messages the output socket did not take (high-water mark, or a send error).
    static let outputDropped = messagesIn + 1
    /// HTTP connections to the metrics listener closed over `metrics.max_connections`, and
    /// closed after `metrics.read_timeout` of silence.
    static let httpRefused = outputDropped + 1
    static let httpIdleClosed = httpRefused + 1
    /// Connections that could not be accepted for want of file descriptors (EMFILE, ENFILE):
    /// on the metrics listener, on a ZeroMQ socket.
    static let fdExhaustedHTTP = httpIdleClosed + 1
    static let fdExhaustedZMQ = fdExhaustedHTTP + 1
    /// Input connections closed (a producer left, or sent a frame over max_zmq_message_bytes).
    static let inputDisconnects = fdExhaustedZMQ + 1
    static let total = inputDisconnects + 1

    private static let codes = WireErrorCode.allCases
    private static let evictions = OutputEvent.EvictionReason.allCases
    private static let resets = OutputEvent.ResetReason.allCases

    @inline(__always)
    static func error(_ code: WireErrorCode) -> Int {
        switch code {
        case .badFrames: errorBase
        case .badStreamID: errorBase + 1
        case .badJSON: errorBase + 2
        case .badSeq: errorBase + 3
        case .badTokens: errorBase + 4
        case .badField: errorBase + 5
        case .tooLarge: errorBase + 6
        case .overloaded: errorBase + 7
        }
    }

    @inline(__always)
    static func eviction(_ reason: OutputEvent.EvictionReason) -> Int {
        switch reason {
        case .idle: evictionBase
        case .memory: evictionBase + 1
        case .dropped: evictionBase + 2
        }
    }

    @inline(__always)
    static func reset(_ reason: OutputEvent.ResetReason) -> Int {
        switch reason {
        case .request: resetBase
        case .gap: resetBase + 1
        case .model: resetBase + 2
        }
    }

    static func checkLayout() -> Bool {
        codes.enumerated().allSatisfy { error($0.element) == errorBase + $0.offset }
            && evictions.enumerated().allSatisfy { eviction($0.element) == evictionBase + $0.offset }
            && resets.enumerated().allSatisfy { reset($0.element) == resetBase + $0.offset }
    }
}
