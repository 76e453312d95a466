/// Where a stream's recurrent state lives inside its row of S floats.
///
///     [c_0 … c_L−1]   [h_0 … h_L−2]   [w_t−k … w_t−1]   [h_L−1]
///      LSTM only       lower layers    lookahead window   top layer (h_t)
///
/// The window holds the top layer's previous k states, oldest first, right before the current
/// one: head j then reads the last (j+1)·H floats of the row, [h_t−j … h_t], with no copy.
public struct StateLayout: Sendable, Equatable {
    public let layers: Int
    public let hidden: Int
    public let lookahead: Int
    public let hasCell: Bool

    public init(config: ModelConfig) {
        layers = config.layers
        hidden = config.hiddenDim
        lookahead = config.lookahead
        hasCell = config.cell.hasCellState
    }

    /// S: floats per stream.
    public var floats: Int { (hasCell ? layers * hidden : 0) + (layers + lookahead) * hidden }
    public var bytes: Int { floats * MemoryLayout<Float>.stride }

    /// Offset of layer l's memory vector c (LSTM only).
    public func cell(_ l: Int) -> Int { l * hidden }

    /// Offset of layer l's hidden vector h.
    public func hidden(_ l: Int) -> Int {
        let base = hasCell ? layers * hidden : 0
        return l == layers - 1 ? floats - hidden : base + l * hidden
    }

    /// Offset of the lookahead window: k top-layer states, oldest first.
    public var window: Int { floats - (lookahead + 1) * hidden }

    /// Offset of head j's input [h_t−j … h_t], (j+1)·H floats.
    public func headInput(seeing j: Int) -> Int { floats - (j + 1) * hidden }
}
