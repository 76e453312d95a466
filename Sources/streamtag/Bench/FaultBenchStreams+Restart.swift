import Foundation

/// Restarts and the end of a run: where each stream continues after a `kill -9` and restart,
/// resending what was lost, and ending every stream.
extension DrillStreams {
    /// Makes every open stream's next message its last (`end: true`).
    func endAll() {
        for s in active where !streams[s].done && streams[s].fate == .end && !streams[s].sendingDone {
            // After a rewind, the stream first catches up with what it had sent before.
            streams[s].planned = max(streams[s].nextSeq, streams[s].sent) + 1
        }
    }

    /// After a restart: each stream continues from what the daemon restored (`seq`, position;
    /// a stream missing from the snapshot starts again at seq 0). Returns the tokens whose
    /// answers had arrived before the kill but which the daemon no longer knows (acknowledged
    /// and lost), and the tokens that must be sent again.
    func rewind(to restored: [String: (seq: Int, position: Int)]) -> (lostAcknowledged: Int, resent: Int) {
        var lost = 0, resent = 0
        let T = tokensPerMessage
        for s in streams.indices where !streams[s].done {
            let (seq, position) = restored[streams[s].id] ?? (-1, 0)
            if seq + 1 > streams[s].sent || position != (seq + 1) * T {
                check.restoreInconsistent += 1
            }
            lost += max(0, streams[s].answered * T - position)
            resent += max(0, streams[s].nextSeq * T - position)
            streams[s].nextSeq = seq + 1
            streams[s].answered = seq + 1
            streams[s].lifetimeNext = nil
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
