import StreamTagWire
/// One thing a stream still has to do, in input order. An accepted message becomes a short
/// program — `[gap event] [clear] token… [flush] answer [end]` — so that everything a stream
/// publishes comes out in the order of the messages that caused it, however the steps of
/// different streams interleave.
enum StreamOp: Sendable, Equatable {
    /// Publish an event (gap, duplicate, error) when its turn comes.
    case event(OutputEvent)
    /// Release the window's tokens as final (into the current answer), then clear the state;
    /// publish a `reset` event with `reason` when `announce`.
    case clear(reason: OutputEvent.ResetReason, announce: Bool)
    /// Advance the state by one token (an op that waits for a batch step).
    case token(String)
    /// Re-run an earlier token (at `position`) through a new model to rebuild the stream's
    /// state; steps in the batch like a token, releases what the new model's window allows.
    case replay(String, position: Int)
    /// Release the window's tokens as final (end of stream), remembering the token count.
    case flush
    /// Publish the `tags` answer for message `seq` with everything released since the last one.
    case answer(seq: UInt64)
    /// Publish `end` and retire the stream (unless a newer stream already queued behind it).
    case end
}

/// The last N tokens of a stream since its last reset, as strings: a new model with another
/// vocabulary can rebuild the stream's state from them.
struct ReplayRing: Sendable, Equatable {
    let capacity: Int
    private(set) var tokens: [String] = []
    private var start = 0

    init(capacity: Int) { self.capacity = capacity }

    mutating func append(_ token: String) {
        guard capacity > 0 else { return }
        if tokens.count < capacity {
            tokens.append(token)
        } else {
            tokens[start] = token
            start = (start + 1) % capacity
        }
    }

    /// Oldest first.
    var ordered: [String] { Array(tokens[start...] + tokens[..<start]) }

    mutating func removeAll() {
        tokens.removeAll(keepingCapacity: true)
        start = 0
    }
}
