import StreamTagCore

/// One stream as a snapshot holds it: enough to continue exactly where it was.
struct StreamSnapshot: Sendable, Equatable, Codable {
    var id: String
    /// Last completed seq.
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
    /// The recurrent state row (S floats, `StateLayout` order) under the snapshot's model.
    var state: [Float]

    enum CodingKeys: String, CodingKey {
        case id, seq, fed, window, replay, idle, state
        case previousTag = "previous_tag"
    }
}

/// An ended stream's last seq, remembered for the end-grace window.
struct TombstoneSnapshot: Sendable, Equatable, Codable {
    var id: String
    var seq: UInt64
    /// Seconds since the stream ended.
    var age: Double
}
