import DequeModule
import StreamTagCore
import StreamTagWire

/// Everything a worker knows about one open stream besides its recurrent state, which lives in
/// row `slot` of the worker's state slab.
struct StreamRecord: Sendable {
    let id: String
    let slot: Int
    /// Last accepted seq.
    var lastSeq: UInt64
    /// The seq of a message refused with `overloaded` and not yet accepted: every later seq is
    /// refused too until it comes again, so a producer that pipelines and resends in order
    /// loses nothing to a `gap` (docs/protocol.md#sequence-rules). Not saved in snapshots.
    var refusedSeq: UInt64? = nil
    /// Tokens fed since the start or last reset, and the window's bookkeeping.
    var cursor: LookaheadCursor
    /// Tokens fed whose final tag is not out yet, oldest first (at most k).
    var window: [String] = []
    var replay: ReplayRing
    /// What the stream still has to do, in order.
    var ops: Deque<StreamOp> = []
    /// `.token` ops in `ops`.
    var queuedTokens = 0
    /// Final tags released since the last answer.
    var answer: [OutputTag] = []
    /// Tokens since the last reset at the moment of the last flush (for the `end` event).
    var endCount = 0
    /// An `end` has been accepted and not yet processed.
    var ending = false
    /// Clock time of the last accepted input.
    var lastInput: Double
    /// Whether the stream is on the worker's active list (it has ops).
    var isActive = false
    /// Generation of the model runtime the stream runs on.
    var runtime: Int
    /// A message's tokens have started and its answer is not out yet: no model switch now.
    var midMessage = false
    /// Move to the current model before the stream's next message (from the model named here).
    var pendingSwitch: String? = nil
    /// A `model` event (and, under the reset policy, a `reset` event) owed before the
    /// stream's next answer.
    var announce: (from: String, to: String, reset: Bool)? = nil
    /// Arrival times of the messages whose answers are still owed (token-to-tag latency).
    var arrivals = ArrivalQueue()

    init(id: String, slot: Int, seq: UInt64, lookahead: Int, replayTokens: Int, now: Double, runtime: Int) {
        self.id = id
        self.slot = slot
        self.runtime = runtime
        lastSeq = seq
        cursor = LookaheadCursor(lookahead: lookahead)
        replay = ReplayRing(capacity: replayTokens)
        lastInput = now
        window.reserveCapacity(lookahead + 1)
    }
}
