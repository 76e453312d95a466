// Dimension legend used throughout StreamTagCore:
//   V vocabulary size, E embedding dim, H hidden dim, G gates per cell (4 LSTM, 3 GRU, 1 RNN),
//   L layers, C tag count, k lookahead, B batch rows, T time steps.

/// The recurrent cell, with PyTorch's exact equations and gate order.
public enum CellKind: String, Codable, Sendable, CaseIterable {
    case lstm
    case gru
    case rnnTanh = "rnn_tanh"
    case rnnRelu = "rnn_relu"

    /// G: gate blocks in the fused weight matrices ([G·H, in]).
    public var gates: Int {
        switch self {
        case .lstm: 4
        case .gru: 3
        case .rnnTanh, .rnnRelu: 1
        }
    }

    /// Whether the cell carries a memory vector c besides h.
    public var hasCellState: Bool { self == .lstm }
}

/// The shape of a model: everything needed to lay out its tensors and run it.
/// Stored as the `config` metadata entry of a model file (`docs/model-format.md#config`).
public struct ModelConfig: Codable, Sendable, Equatable {
    public var cell: CellKind
    /// L ≥ 1 stacked layers.
    public var layers: Int
    /// E: width of the word (and feature) embeddings, summed into one input vector.
    public var embeddingDim: Int
    /// H: recurrent state width per layer.
    public var hiddenDim: Int
    /// k: the final tag of token t is emitted when token t+k arrives (or the stream ends).
    public var lookahead: Int
    /// Look words up lowercased (sub-word features still see the original token).
    public var lowercase: Bool
    /// Sub-word features whose embeddings are added to the word embedding.
    public var features: [FeatureSpec]

    public init(cell: CellKind = .lstm, layers: Int = 1, embeddingDim: Int, hiddenDim: Int,
                lookahead: Int = 0, lowercase: Bool = false, features: [FeatureSpec] = []) {
        self.cell = cell
        self.layers = layers
        self.embeddingDim = embeddingDim
        self.hiddenDim = hiddenDim
        self.lookahead = lookahead
        self.lowercase = lowercase
        self.features = features
    }

    enum CodingKeys: String, CodingKey {
        case cell, layers, lookahead, lowercase, features
        case embeddingDim = "embedding_dim"
        case hiddenDim = "hidden_dim"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cell = try c.decode(CellKind.self, forKey: .cell)
        layers = try c.decode(Int.self, forKey: .layers)
        embeddingDim = try c.decode(Int.self, forKey: .embeddingDim)
        hiddenDim = try c.decode(Int.self, forKey: .hiddenDim)
        lookahead = try c.decodeIfPresent(Int.self, forKey: .lookahead) ?? 0
        lowercase = try c.decodeIfPresent(Bool.self, forKey: .lowercase) ?? false
        features = try c.decodeIfPresent([FeatureSpec].self, forKey: .features) ?? []
    }

    /// G·H: rows of every fused gate matrix.
    public var gateRows: Int { cell.gates * hiddenDim }

    /// Checks the numbers make sense; names the first one that does not.
    public func validate() throws(ModelError) {
        func bad(_ message: String) -> ModelError { ModelError(.badConfig, message) }
        guard (1...16).contains(layers) else { throw bad("config.layers must be 1...16, got \(layers)") }
        guard (1...4096).contains(embeddingDim) else {
            throw bad("config.embedding_dim must be 1...4096, got \(embeddingDim)")
        }
        guard (1...4096).contains(hiddenDim) else {
            throw bad("config.hidden_dim must be 1...4096, got \(hiddenDim)")
        }
        guard (0...16).contains(lookahead) else { throw bad("config.lookahead must be 0...16, got \(lookahead)") }
        for (i, feature) in features.enumerated() {
            do throws(ModelError) { try feature.validate() } catch {
                throw bad("config.features[\(i)]: \(error.message)")
            }
        }
        guard features.slotCount <= TokenCode.maxFeatures else {
            throw ModelError(.unsupportedFeature, "config.features needs \(features.slotCount) bucket slots (one per feature, "
                             + "\(FeatureSpec.ngramSlots) per ngram feature); at most \(TokenCode.maxFeatures) are supported")
        }
    }
}
