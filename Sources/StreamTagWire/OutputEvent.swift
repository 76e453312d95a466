/// An event published on the output socket (docs/protocol.md#events):
/// `{"type":"event","event":NAME,...}`, fields in the order listed here.
public enum OutputEvent: Equatable, Sendable {
    /// A message was rejected; `seq` when it was known.
    case error(code: WireErrorCode, message: String, seq: UInt64?)
    /// `seq` skipped ahead: `expected` was last+1, `received` arrived.
    case gap(expected: UInt64, received: UInt64)
    /// A resent or stale message was dropped; `last` is the stream's last accepted seq.
    case duplicate(seq: UInt64, last: UInt64)
    /// An existing stream's state was cleared.
    case reset(reason: ResetReason)
    /// After the final `tags` of an ended stream; `tokens` counted since the last reset.
    case end(tokens: Int)
    /// A stream's state was freed without `end`.
    case evicted(reason: EvictionReason)
    /// The stream moved to another model (`NAME@HASH` both).
    case model(from: String, to: String)
    /// The daemon started serving `model` (on `$sys`).
    case started(model: String)
    /// The daemon is shutting down (on `$sys`); `snapshotError` says why its snapshot could not
    /// be written (then the daemon exits non-zero).
    case stopping(model: String, snapshotError: String? = nil)
    /// A reload succeeded (on `$sys`); `previous` is null when there was none.
    case modelLoaded(model: String, previous: String?)
    /// A reload was refused (on `$sys`).
    case modelRejected(path: String, reason: String)
    /// Liveness and join signal (on `$sys`). `instance` is drawn at each start (below 2^53, so
    /// exact in every client's JSON): a client that sees it change knows the daemon restarted,
    /// however fast (docs/protocol.md#restarts).
    case heartbeat(model: String, streams: Int, instance: Int)

    /// Why a stream's state was cleared.
    public enum ResetReason: String, Sendable, CaseIterable {
        case request, gap, model
    }

    /// Why a stream's state was freed.
    public enum EvictionReason: String, Sendable, CaseIterable {
        case idle, memory, dropped
    }

    /// The `event` field's value.
    public var name: String { staticName.description }

    var staticName: StaticString {
        switch self {
        case .error: "error"
        case .gap: "gap"
        case .duplicate: "duplicate"
        case .reset: "reset"
        case .end: "end"
        case .evicted: "evicted"
        case .model: "model"
        case .started: "started"
        case .stopping: "stopping"
        case .modelLoaded: "model_loaded"
        case .modelRejected: "model_rejected"
        case .heartbeat: "heartbeat"
        }
    }

    /// Whether the event is daemon-wide, i.e. always published on `$sys`. (An `error` goes to
    /// `$sys` only when its stream id is unusable; see `WireError.topic`.)
    public var isSystemWide: Bool {
        switch self {
        case .started, .stopping, .modelLoaded, .modelRejected, .heartbeat: true
        default: false
        }
    }
}
