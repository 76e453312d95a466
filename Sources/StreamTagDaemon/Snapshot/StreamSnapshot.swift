import StreamTagCore

/// One stream as a snapshot holds it: enough to continue exactly where it was.
struct StreamSnapshot: Sendable, Equatable, Codable {
    var id: String
    /// Last accepted seq (the queued messages included).
    var seq: UInt64
    /// Tokens since the start or last reset (the next token's position).
    var fed: Int
    /// Final tag of the last released token (-1: none), for IOB-constrained decoding.
    var previousTag: Int32
    /// Tokens whose final tag is not out yet, oldest first.
    var window: [String]
    /// The last `replay_tokens` tokens since the last reset, oldest first.
    var replay: [String]
    /// Seconds since the stream's last input.
    var idle: Double
    /// SHA-256 of the model file the state belongs to.
    var model: String
    /// The recurrent state row (`StateLayout` order) under that model.
    var state: [Float]
    /// Input accepted and not yet run, from the stream's next message on (format 2; none in 1).
    var queued: [QueuedOp] = []
    /// An `end` is among `queued` and no later message started a new stream behind it.
    var ending = false
    /// Tokens the stream had at its last flush (what a queued `end` reports).
    var endCount = 0

    /// Input tokens among `queued`.
    var queuedTokens: Int { queued.count { if case .token = $0.streamOp { true } else { false } } }

    enum CodingKeys: String, CodingKey {
        case id, seq, fed, window, replay, idle, model
        case previousTag = "previous_tag"
        case stateFloats = "state_floats"
        case queued, ending
        case endCount = "end_count"
    }

    init(id: String, seq: UInt64, fed: Int, previousTag: Int32, window: [String], replay: [String], idle: Double,
         model: String, state: [Float], queued: [QueuedOp] = [], ending: Bool = false, endCount: Int = 0) {
        self.id = id
        self.seq = seq
        self.fed = fed
        self.previousTag = previousTag
        self.window = window
        self.replay = replay
        self.idle = idle
        self.model = model
        self.state = state
        self.queued = queued
        self.ending = ending
        self.endCount = endCount
    }

    // The state's floats are stored in binary after the record; the JSON carries their count.
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        seq = try c.decode(UInt64.self, forKey: .seq)
        fed = try c.decode(Int.self, forKey: .fed)
        previousTag = try c.decode(Int32.self, forKey: .previousTag)
        window = try c.decode([String].self, forKey: .window)
        replay = try c.decode([String].self, forKey: .replay)
        idle = try c.decode(Double.self, forKey: .idle)
        model = try c.decode(String.self, forKey: .model)
        let count = try c.decode(Int.self, forKey: .stateFloats)
        guard (0...(1 << 24)).contains(count) else {
            throw DecodingError.dataCorruptedError(forKey: .stateFloats, in: c, debugDescription: "impossible state size \(count)")
        }
        state = Array(repeating: 0, count: count)
        queued = try c.decodeIfPresent([QueuedOp].self, forKey: .queued) ?? []
        ending = try c.decodeIfPresent(Bool.self, forKey: .ending) ?? false
        endCount = try c.decodeIfPresent(Int.self, forKey: .endCount) ?? 0
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(seq, forKey: .seq)
        try c.encode(fed, forKey: .fed)
        try c.encode(previousTag, forKey: .previousTag)
        try c.encode(window, forKey: .window)
        try c.encode(replay, forKey: .replay)
        try c.encode(idle, forKey: .idle)
        try c.encode(model, forKey: .model)
        try c.encode(state.count, forKey: .stateFloats)
        if !queued.isEmpty || ending {
            try c.encode(queued, forKey: .queued)
            try c.encode(ending, forKey: .ending)
            try c.encode(endCount, forKey: .endCount)
        }
    }
}

/// An ended stream's last seq, remembered for the end-grace window.
struct TombstoneSnapshot: Sendable, Equatable, Codable {
    var id: String
    var seq: UInt64
    /// Seconds since the stream ended.
    var age: Double
}
