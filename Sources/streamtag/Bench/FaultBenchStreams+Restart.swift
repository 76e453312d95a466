import Foundation
import StreamTagWire

/// Restarts and the end of a run: where each stream continues after a `kill -9` and restart,
/// resending what was lost, and ending every stream.
///
/// A snapshot (periodic too) saves the input still queued as input, run after a restart from
/// the first heartbeat on; after a crash, answers to that input come again with the same seq
/// (docs/concepts.md#streams-batching-persistence; docs/snapshot-format.md, Queued input). So a new
/// daemon lifetime begins at the kill, not when the client has read `ctl streams`: the replayed
/// answers can arrive before that (they follow the first heartbeat at once). They are checked
/// like any other answer of the lifetime (in seq order, positions in order, each position's tag
/// the one it had before: `redelivered`), only their starting seq is not known in advance.
extension DrillStreams {
    /// Makes every open stream's next message its last (`end: true`).
    func endAll() {
        for s in active where !streams[s].done && streams[s].fate == .end && !streams[s].sendingDone {
            // After a rewind, the stream first catches up with what it had sent before.
            streams[s].planned = max(streams[s].nextSeq, streams[s].sent) + 1
        }
    }

    /// At the end of a run: streams that never got their end (or eviction) count as problems.
    func close() {
        for s in streams.indices where !streams[s].done {
            check.answersMissing += max(0, streams[s].sent - streams[s].answered)
            check.endsMissing += 1
        }
    }

    /// Right after a kill (and the answers that were under way): the next daemon lifetime
    /// begins. Every open stream's next answer opens its sequence in that lifetime.
    func beginLifetime() {
        for s in streams.indices where !streams[s].done {
            streams[s].answeredBeforeKill = streams[s].answered
            streams[s].lifetimeOpen = true
            streams[s].firstAnswerBound = Int.max
            streams[s].lifetimeNext = nil
        }
    }

    /// After a restart: each stream continues from what the daemon restored (`seq`, the last
    /// accepted one; `position`, tokens run; `queued`, tokens restored as input and not run yet;
    /// a stream missing from the snapshot starts again at seq 0). The stream resumes where it
    /// will stand once its queue has run: position + queued = (seq+1)·T. Returns the tokens
    /// whose answers had arrived before the kill but which the daemon no longer knows
    /// (acknowledged and lost), and the tokens that must be sent again.
    func rewind(to restored: [String: (seq: Int, position: Int, queued: Int)]) -> (lostAcknowledged: Int, resent: Int) {
        var lost = 0, resent = 0
        let T = tokensPerMessage
        for s in streams.indices where !streams[s].done {
            let (seq, position, queued) = restored[streams[s].id] ?? (-1, 0, 0)
            let resume = position + queued
            // The restored queue runs from the first heartbeat on, so a stream still running
            // it can be caught in the middle of a message (a slow build, a loaded machine);
            // one with nothing queued stands between two messages.
            if seq + 1 > streams[s].sent || resume != (seq + 1) * T || (queued == 0 && position % T != 0) {
                check.restoreInconsistent += 1
            }
            // Answers of this lifetime that came already cannot be ahead of what the daemon ran.
            if !streams[s].lifetimeOpen && streams[s].answered * T > position {
                check.restoreInconsistent += 1
            }
            lost += max(0, streams[s].answeredBeforeKill * T - resume)
            resent += max(0, streams[s].nextSeq * T - resume)
            streams[s].nextSeq = seq + 1
            if streams[s].lifetimeOpen {
                // The queued input's answers come first, from the position on; with no queue,
                // the answer to the next message sent.
                streams[s].firstAnswerBound = position / T
                streams[s].answered = position / T
            }
            streams[s].lastAnswer = monotonicSeconds()
        }
        return (lost, resent)
    }

    /// Streams with unanswered messages and no answer for `after` s: sends them again from the
    /// first unanswered seq (a message that arrived meanwhile is a `duplicate`, dropped by the
    /// daemon). Covers a first message lost while the input connection was being re-made.
    func resendStalled(after: Double) throws -> Int {
        var count = 0
        let t = monotonicSeconds()
        for s in active where !streams[s].done && streams[s].nextSeq > streams[s].answered && t - streams[s].lastAnswer > after {
            streams[s].nextSeq = streams[s].answered
            streams[s].lastAnswer = t
            count += 1
        }
        return count
    }
}
