import StreamTagWire
import StreamTagZMQ
/// What the load generator checks for every stream (docs/protocol.md#ordering): one `tags` answer per message,
/// in `seq` order; final positions `i` 0, 1, 2, … with none skipped or repeated; each token echoed
/// byte for byte; one `end` event with the right token count; no other event. Every counter
/// must be zero for a clean run.
public struct LoadVerification: Sendable, Equatable {
    /// Messages sent that never got their `tags` answer (counted when the run ends).
    public var missingAnswers = 0
    /// Answers whose `seq` was already answered (or went backwards).
    public var repeatedAnswers = 0
    /// Answers that skipped ahead of the next expected `seq` (the skipped ones are missing).
    public var skippedAnswers = 0
    /// Answers for a `seq` never sent.
    public var unexpectedAnswers = 0
    /// Final positions skipped (a tag for i arrived while i−1 … were still expected).
    public var skippedPositions = 0
    /// Final positions that were repeated or went backwards.
    public var repeatedPositions = 0
    /// Final tags for a position beyond the tokens sent.
    public var unexpectedPositions = 0
    /// Tokens sent that never got a final tag (checked only when the streams were ended).
    public var missingPositions = 0
    /// Tags whose `token` differs from the token sent at that position.
    public var tokenMismatches = 0
    /// Streams that got no `end` event (when ended), or more than one.
    public var missingEnds = 0
    public var repeatedEnds = 0
    /// `end` events whose `tokens` differs from the tokens sent.
    public var endCountMismatches = 0
    /// Messages that did not have two frames or could not be read as a tags answer or event.
    public var unreadable = 0
    /// Messages on the run's topics for streams outside the run (an old run's, or bad ids).
    public var foreign = 0
    /// Every other event, by name (`gap`, `duplicate`, `error`, `evicted`, …), on the streams'
    /// topics or on `$sys` (heartbeats aside): none is expected.
    public var events: [String: Int] = [:]

    public init() {}

    /// Total of every problem counter.
    public var problems: Int {
        missingAnswers + repeatedAnswers + skippedAnswers + unexpectedAnswers + skippedPositions + repeatedPositions
            + unexpectedPositions + missingPositions + tokenMismatches + missingEnds + repeatedEnds
            + endCountMismatches + unreadable + foreign + events.values.reduce(0, +)
    }

    public var isClean: Bool { problems == 0 }

    /// The non-zero counters, for a report ("missing_answers=3 gap=1").
    public var nonZero: [(String, Int)] {
        var out: [(String, Int)] = []
        for (name, value) in [
            ("missing_answers", missingAnswers), ("repeated_answers", repeatedAnswers), ("skipped_answers", skippedAnswers),
            ("unexpected_answers", unexpectedAnswers), ("skipped_positions", skippedPositions),
            ("repeated_positions", repeatedPositions), ("unexpected_positions", unexpectedPositions),
            ("missing_positions", missingPositions), ("token_mismatches", tokenMismatches), ("missing_ends", missingEnds),
            ("repeated_ends", repeatedEnds), ("end_count_mismatches", endCountMismatches), ("unreadable", unreadable),
            ("foreign", foreign),
        ] where value != 0 { out.append((name, value)) }
        for (name, value) in events.sorted(by: { $0.key < $1.key }) { out.append(("event:" + name, value)) }
        return out
    }
}
