import StreamTagCore
import StreamTagWire

/// What a snapshot record may hold under the serving model: the bounds every field is checked
/// against when the snapshot is read, so that nothing restored can trap a worker later (a
/// position that overflows, a window the heads cannot score, a tag the decoder has no row for).
struct SnapshotLimits: Sendable {
    /// SHA-256 of the serving model: a record saved under it is restored raw, any other replayed.
    var modelSHA256: String
    /// k' served: a raw-restored window holds at most this many tokens.
    var lookahead: Int
    /// Tags of the serving model (a raw-restored previous tag is one of them, or -1).
    var tags: Int
    /// Floats of one state row under the serving model.
    var stateFloats: Int
    /// `reload.replay_tokens`: what of a record's replay ring a restored stream keeps.
    var replayTokens: Int

    /// Largest position a stream may have reached: exact in every client's JSON, and far from
    /// `Int.max`, so that counting on from it never overflows.
    static let maxFed = 1 << 53
    /// Most replay tokens a record may carry (the largest `reload.replay_tokens`).
    static let maxReplay = 4_096
    /// Most queued input tokens a record may carry (a stream's largest pending queue is
    /// `streams.max_pending_tokens`; this bounds what a file can make a worker allocate).
    static let maxQueued = 1 << 24
    /// Longest queued error message a record may carry, in UTF-8 bytes.
    static let maxMessageBytes = 4_096

    /// A token the wire would have accepted (1...`InputParser.maxTokenBytes` UTF-8 bytes): what
    /// every window, replay and queued token of a record must be.
    static func isWireToken(_ token: String) -> Bool {
        (1...InputParser.maxTokenBytes).contains(token.utf8.count)
    }
}

extension SnapshotLimits {
    /// What a record may hold for a daemon serving `model` with `settings`.
    static func serving(_ model: Model, settings: StreamSettings = StreamSettings()) -> SnapshotLimits {
        SnapshotLimits(modelSHA256: model.sha256, lookahead: ModelRuntime.servedLookahead(settings.lookahead, of: model),
                       tags: model.tags.count, stateFloats: StateLayout(config: model.config).floats,
                       replayTokens: settings.replayTokens)
    }
}

/// Why a snapshot record was not restored (the `reason` label of
/// `streamtag_snapshot_records_dropped_total`).
enum SnapshotDropReason: String, Sendable, CaseIterable {
    case badID = "bad_id"
    case duplicateID = "duplicate_id"
    case badSeq = "bad_seq"
    case badPosition = "bad_position"
    case badTag = "bad_tag"
    case badState = "bad_state"
    case badTime = "bad_time"
    case badInput = "bad_input"
}

/// A record the reader set aside: which stream (or tombstone), why, in words.
struct DroppedRecord: Sendable, Equatable {
    var id: String
    var reason: SnapshotDropReason
    var detail: String
}

extension StreamSnapshot {
    /// Nil when the record can be restored under `limits`, else why not. The one check of a
    /// stream record; the reader applies it to every record.
    func problem(_ limits: SnapshotLimits) -> (SnapshotDropReason, String)? {
        if let problem = StreamID.problem(id) { return (.badID, problem) }
        guard seq <= InputParser.maxSeq else { return (.badSeq, "seq \(seq) is above 2^53-1") }
        guard (0...SnapshotLimits.maxFed).contains(fed) else { return (.badPosition, "fed \(fed) is outside 0...2^53") }
        guard window.count <= fed, replay.count <= fed else {
            return (.badPosition, "window (\(window.count)) or replay (\(replay.count)) holds more tokens than fed (\(fed))")
        }
        guard replay.count <= SnapshotLimits.maxReplay else { return (.badPosition, "replay holds \(replay.count) tokens (at most \(SnapshotLimits.maxReplay))") }
        if let bad = (window + replay).first(where: { !SnapshotLimits.isWireToken($0) }) {
            return (.badInput, "a window or replay token is \(bad.utf8.count) bytes (1...\(InputParser.maxTokenBytes))")
        }
        guard idle.isFinite, idle >= 0 else { return (.badTime, "idle \(idle) is not a finite number of seconds ≥ 0") }
        guard previousTag >= -1 else { return (.badTag, "previous_tag \(previousTag) is below -1") }
        if model == limits.modelSHA256 {
            // Restored raw: the state, the window and the IOB context are used as they are.
            guard state.count == limits.stateFloats else {
                return (.badState, "state has \(state.count) floats; the model's rows have \(limits.stateFloats)")
            }
            if let i = state.firstIndex(where: { !$0.isFinite }) { return (.badState, "state[\(i)] is \(state[i])") }
            guard window.count <= limits.lookahead else {
                return (.badPosition, "window holds \(window.count) tokens; the lookahead is \(limits.lookahead)")
            }
            guard previousTag < limits.tags else {
                return (.badTag, "previous_tag \(previousTag) is not a tag of the model (\(limits.tags) tags)")
            }
        } else {
            // Replayed: the replay tokens must bring the window back within the lookahead
            // (each replayed token past k' releases one waiting token).
            let kept = Swift.min(replay.count, limits.replayTokens)
            guard window.count <= limits.lookahead + kept else {
                return (.badPosition, "window holds \(window.count) tokens; lookahead \(limits.lookahead) + \(kept) replay tokens cannot release them")
            }
        }
        return queueProblem()
    }
}

extension TombstoneSnapshot {
    /// Nil when the tombstone can be restored, else why not.
    func problem() -> (SnapshotDropReason, String)? {
        if let problem = StreamID.problem(id) { return (.badID, problem) }
        guard seq <= InputParser.maxSeq else { return (.badSeq, "seq \(seq) is above 2^53-1") }
        guard age.isFinite, age >= 0 else { return (.badTime, "age \(age) is not a finite number of seconds ≥ 0") }
        return nil
    }
}

extension StreamSnapshot {
    /// The queued input: bounded, tokens as the wire allows them, answers for accepted seqs in
    /// order. (Any order of these ops is safe to run; these checks keep the restored stream's
    /// answers meaningful.)
    func queueProblem() -> (SnapshotDropReason, String)? {
        guard queued.count <= SnapshotLimits.maxQueued else { return (.badInput, "\(queued.count) queued ops (at most \(SnapshotLimits.maxQueued))") }
        guard (0...SnapshotLimits.maxFed).contains(endCount) else { return (.badPosition, "end_count \(endCount) is outside 0...2^53") }
        var lastAnswer: UInt64? = nil
        var ends = 0
        for op in queued {
            switch op.streamOp {
            case .token(let token):
                guard SnapshotLimits.isWireToken(token) else {
                    return (.badInput, "a queued token is \(token.utf8.count) bytes (1...\(InputParser.maxTokenBytes))")
                }
            case .answer(let answer):
                guard answer <= seq, lastAnswer.map({ answer > $0 }) ?? true else {
                    return (.badInput, "queued answer for seq \(answer) is out of order or after the record's seq \(seq)")
                }
                lastAnswer = answer
            case .event(.error(_, let message, _)) where message.utf8.count > SnapshotLimits.maxMessageBytes:
                return (.badInput, "a queued error message is \(message.utf8.count) bytes")
            case .end:
                ends += 1
            default:
                break
            }
        }
        guard !ending || ends > 0 else { return (.badInput, "ending without a queued end") }
        return nil
    }
}
