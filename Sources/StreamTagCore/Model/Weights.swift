/// Every tensor of a model, row-major, named and shaped as PyTorch stores them
/// (`docs/model-format.md#tensors`).
///
/// Lookahead heads: the final tag of token t is scored from the concatenated top-layer states
/// [h_t, h_t+1, ..., h_t+k]. `head` is that final head; `lookaheadHeads[j]` (j < k) scores token
/// t from [h_t ... h_t+j] alone. They give provisional tags and the final tags of tokens that
/// the end (or a reset) of a stream leaves with fewer than k followers.
public struct Weights: Sendable, Equatable {
    public var embedding: [Float]           // [V, E]                 embedding.weight
    public var features: [[Float]]          // F × [buckets_f, E]     features.{f}.weight
    public var layers: [LayerWeights]       // L                      rnn.*_l{n}
    public var head: Linear                 // [C, (k+1)·H], [C]      head.weight, head.bias
    public var lookaheadHeads: [Linear]     // j < k: [C, (j+1)·H]    lookahead_heads.{j}.*

    public init(embedding: [Float], features: [[Float]], layers: [LayerWeights], head: Linear,
                lookaheadHeads: [Linear]) {
        self.embedding = embedding
        self.features = features
        self.layers = layers
        self.head = head
        self.lookaheadHeads = lookaheadHeads
    }

    /// The head that scores a token from j+1 states (j = k is the final head).
    public func head(seeing j: Int) -> Linear { j == lookaheadHeads.count ? head : lookaheadHeads[j] }
}

/// One recurrent layer: fused gate matrices and both bias vectors, as torch.nn.LSTM/GRU/RNN.
public struct LayerWeights: Sendable, Equatable {
    public var inputWeight: [Float]    // [G·H, in]   weight_ih_l{n}  (in = E for layer 0, else H)
    public var hiddenWeight: [Float]   // [G·H, H]    weight_hh_l{n}
    public var inputBias: [Float]      // [G·H]       bias_ih_l{n}
    public var hiddenBias: [Float]     // [G·H]       bias_hh_l{n}

    public init(inputWeight: [Float], hiddenWeight: [Float], inputBias: [Float], hiddenBias: [Float]) {
        self.inputWeight = inputWeight
        self.hiddenWeight = hiddenWeight
        self.inputBias = inputBias
        self.hiddenBias = hiddenBias
    }
}

/// y = W·x + b, as torch.nn.Linear.
public struct Linear: Sendable, Equatable {
    public var weight: [Float]   // [out, in]
    public var bias: [Float]     // [out]
    public let inputs: Int
    public var outputs: Int { bias.count }

    public init(weight: [Float], bias: [Float], inputs: Int) {
        precondition(weight.count == bias.count * inputs, "Linear: weight is not [out, in]")
        self.weight = weight
        self.bias = bias
        self.inputs = inputs
    }
}

/// Shapes of every tensor for a config, vocabulary size V and tag count C, keyed by tensor name.
public struct TensorLayout: Sendable {
    public let config: ModelConfig
    public let vocabularySize: Int
    public let tagCount: Int

    public init(config: ModelConfig, vocabularySize: Int, tagCount: Int) {
        self.config = config
        self.vocabularySize = vocabularySize
        self.tagCount = tagCount
    }

    /// (name, shape) in a stable order: the order tensors are written to a file.
    public var shapes: [(name: String, shape: [Int])] {
        let E = config.embeddingDim, H = config.hiddenDim, GH = config.gateRows, C = tagCount
        var out: [(String, [Int])] = [("embedding.weight", [vocabularySize, E])]
        for (f, spec) in config.features.enumerated() {
            out.append(("features.\(f).weight", [spec.buckets, E]))
        }
        for n in 0..<config.layers {
            out.append(("rnn.weight_ih_l\(n)", [GH, n == 0 ? E : H]))
            out.append(("rnn.weight_hh_l\(n)", [GH, H]))
            out.append(("rnn.bias_ih_l\(n)", [GH]))
            out.append(("rnn.bias_hh_l\(n)", [GH]))
        }
        out.append(("head.weight", [C, (config.lookahead + 1) * H]))
        out.append(("head.bias", [C]))
        for j in 0..<config.lookahead {
            out.append(("lookahead_heads.\(j).weight", [C, (j + 1) * H]))
            out.append(("lookahead_heads.\(j).bias", [C]))
        }
        return out
    }
}

extension Weights {
    /// Tensors by name, in `TensorLayout.shapes` order.
    public func namedTensors(config: ModelConfig) -> [(name: String, values: [Float])] {
        var out: [(String, [Float])] = [("embedding.weight", embedding)]
        for (f, table) in features.enumerated() { out.append(("features.\(f).weight", table)) }
        for (n, layer) in layers.enumerated() {
            out.append(("rnn.weight_ih_l\(n)", layer.inputWeight))
            out.append(("rnn.weight_hh_l\(n)", layer.hiddenWeight))
            out.append(("rnn.bias_ih_l\(n)", layer.inputBias))
            out.append(("rnn.bias_hh_l\(n)", layer.hiddenBias))
        }
        out.append(("head.weight", head.weight))
        out.append(("head.bias", head.bias))
        for (j, h) in lookaheadHeads.enumerated() {
            out.append(("lookahead_heads.\(j).weight", h.weight))
            out.append(("lookahead_heads.\(j).bias", h.bias))
        }
        return out
    }

    /// Rebuilds weights from tensors by name (shapes already checked against `TensorLayout`).
    public init(config: ModelConfig, tensors: [String: [Float]]) throws(ModelError) {
        func t(_ name: String) throws(ModelError) -> [Float] {
            guard let v = tensors[name] else { throw ModelError(.missingTensor, "tensor \(name) is missing") }
            return v
        }
        let H = config.hiddenDim
        embedding = try t("embedding.weight")
        var features: [[Float]] = []
        for f in config.features.indices { features.append(try t("features.\(f).weight")) }
        self.features = features
        var layers: [LayerWeights] = []
        for n in 0..<config.layers {
            layers.append(LayerWeights(
                inputWeight: try t("rnn.weight_ih_l\(n)"), hiddenWeight: try t("rnn.weight_hh_l\(n)"),
                inputBias: try t("rnn.bias_ih_l\(n)"), hiddenBias: try t("rnn.bias_hh_l\(n)")))
        }
        self.layers = layers
        head = Linear(weight: try t("head.weight"), bias: try t("head.bias"), inputs: (config.lookahead + 1) * H)
        var heads: [Linear] = []
        for j in 0..<config.lookahead {
            heads.append(Linear(weight: try t("lookahead_heads.\(j).weight"),
                                bias: try t("lookahead_heads.\(j).bias"), inputs: (j + 1) * H))
        }
        lookaheadHeads = heads
    }
}
