/// What a fault drill or the soak verifies, per stream, over real sockets. Every message of a
/// stream is answered once, in seq order, within one daemon lifetime; final positions come
/// 0, 1, 2, … once each within a lifetime, each echoing the token sent at that position; an
/// ended stream gets one `end` whose count is every token sent, and by then every position
/// has its final tag; an evicted (idle) stream has every position but the lookahead window.
///
/// Across a `kill -9` and restart (the kill drill), a new daemon lifetime begins at the kill.
/// A snapshot saves input still queued as input, run again after the restart from the first
/// heartbeat: answers to it come again, same seq (docs/concepts.md#streams-batching-persistence).
/// So the first answer of a lifetime may repeat a seq answered before the kill (not above the
/// restored position's message); after it, the lifetime's answers and positions run in order
/// as above. The client learns from `ctl streams` where each stream was restored (last seq S,
/// position P, Q tokens queued), checks P + Q = (S+1)·T (T tokens per message: where the
/// stream stands once its queue has run), S below what it sent, and that the answers of this
/// lifetime already in are not ahead of P; then sends again from seq S+1, the same tokens.
/// Positions the daemon releases again are `redelivered`: each must carry the tag it had the
/// first time (same model, same state: the snapshot is exact). A position released before the
/// snapshot whose answer never arrived is `positionsLost` (reported, a problem: the daemon can
/// never release it again). Tokens answered before the kill but after the snapshot and its
/// queue are not problems: they are the figure the drill measures (tokens lost per kill),
/// sent again and answered again.
struct DrillCheck {
    var answersMissing = 0
    var answersOutOfOrder = 0
    var positionsSkipped = 0
    var positionsRepeated = 0
    var positionsMissing = 0
    var positionsLost = 0
    var tokenMismatches = 0
    var redelivered = 0
    var redeliveredChanged = 0
    /// Answers, after a restart, to a seq already answered before the kill (restored queued input,
    /// and messages sent again because the snapshot predates them): counted, not problems.
    var answersAgain = 0
    var endsMissing = 0
    var endsRepeated = 0
    var endCountMismatches = 0
    var restoreInconsistent = 0
    var unreadable = 0
    var foreign = 0
    var streamsCompleted = 0
    /// Unexpected events by name: problems.
    var events: [String: Int] = [:]
    /// Events this drill expects (`model` after reloads, `evicted` for idle streams, `duplicate`
    /// for a message sent again while its answer was under way): counted, not problems.
    var allowed: [String: Int] = [:]

    var problems: Int {
        answersMissing + answersOutOfOrder + positionsSkipped + positionsRepeated + positionsMissing + positionsLost
            + tokenMismatches + redeliveredChanged + endsMissing + endsRepeated + endCountMismatches + restoreInconsistent
            + unreadable + foreign + events.values.reduce(0, +)
    }

    var isClean: Bool { problems == 0 }

    /// Non-zero problem counters, for a one-line summary.
    var summary: String {
        let named: [(String, Int)] = [
            ("answers_missing", answersMissing), ("answers_out_of_order", answersOutOfOrder),
            ("positions_skipped", positionsSkipped), ("positions_repeated", positionsRepeated),
            ("positions_missing", positionsMissing), ("positions_lost", positionsLost), ("token_mismatches", tokenMismatches),
            ("redelivered_other_tag", redeliveredChanged), ("ends_missing", endsMissing), ("ends_repeated", endsRepeated),
            ("end_count_mismatches", endCountMismatches), ("restore_inconsistent", restoreInconsistent),
            ("unreadable", unreadable), ("foreign", foreign),
        ] + events.sorted { $0.key < $1.key }.map { ("event:" + $0.key, $0.value) }
        let bad = named.filter { $0.1 != 0 }.map { "\($0.0)=\($0.1)" }
        return bad.isEmpty ? "verified" : "PROBLEMS " + bad.joined(separator: " ")
    }
}

extension DrillCheck: Encodable {
    enum CodingKeys: String, CodingKey {
        case answersMissing = "answers_missing", answersOutOfOrder = "answers_out_of_order"
        case positionsSkipped = "positions_skipped", positionsRepeated = "positions_repeated"
        case positionsMissing = "positions_missing", positionsLost = "positions_lost", tokenMismatches = "token_mismatches"
        case redelivered = "redelivered_same_tag", answersAgain = "answers_again", redeliveredChanged = "redelivered_other_tag"
        case endsMissing = "ends_missing", endsRepeated = "ends_repeated", endCountMismatches = "end_count_mismatches"
        case restoreInconsistent = "restore_inconsistent", unreadable, foreign
        case streamsCompleted = "streams_completed", problems, verified
        case events = "unexpected_events", allowed = "expected_events"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(answersMissing, forKey: .answersMissing)
        try container.encode(answersOutOfOrder, forKey: .answersOutOfOrder)
        try container.encode(positionsSkipped, forKey: .positionsSkipped)
        try container.encode(positionsRepeated, forKey: .positionsRepeated)
        try container.encode(positionsMissing, forKey: .positionsMissing)
        try container.encode(positionsLost, forKey: .positionsLost)
        try container.encode(tokenMismatches, forKey: .tokenMismatches)
        try container.encode(redelivered, forKey: .redelivered)
        try container.encode(answersAgain, forKey: .answersAgain)
        try container.encode(redeliveredChanged, forKey: .redeliveredChanged)
        try container.encode(endsMissing, forKey: .endsMissing)
        try container.encode(endsRepeated, forKey: .endsRepeated)
        try container.encode(endCountMismatches, forKey: .endCountMismatches)
        try container.encode(restoreInconsistent, forKey: .restoreInconsistent)
        try container.encode(unreadable, forKey: .unreadable)
        try container.encode(foreign, forKey: .foreign)
        try container.encode(streamsCompleted, forKey: .streamsCompleted)
        try container.encode(problems, forKey: .problems)
        try container.encode(isClean, forKey: .verified)
        try container.encode(events, forKey: .events)
        try container.encode(allowed, forKey: .allowed)
    }
}
