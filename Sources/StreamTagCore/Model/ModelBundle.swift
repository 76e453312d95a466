import StreamTagWire

/// Everything a model file holds: shape, words, tags, weights and the facts about how it was
/// made. The trainer produces one; `ModelFile` reads and writes it; `Model` runs it.
public struct ModelBundle: Sendable, Equatable {
    /// Short model name, e.g. `en-ewt-upos` (metadata `name`).
    public var name: String
    public var config: ModelConfig
    public var vocabulary: [String]
    public var tags: [String]
    public var weights: Weights
    /// ISO 8601 time the model was written (metadata `created`), if known.
    public var created: String?
    /// Training facts as a JSON object text (metadata `training`), if known.
    public var training: String?
    /// The word-class lexicon of a `lexicon` feature (metadata `lexicon`).
    public var lexicon: Lexicon?

    public init(name: String, config: ModelConfig, vocabulary: [String], tags: [String], weights: Weights,
                created: String? = nil, training: String? = nil, lexicon: Lexicon? = nil) {
        self.name = name
        self.config = config
        self.vocabulary = vocabulary
        self.tags = tags
        self.weights = weights
        self.created = created
        self.training = training
        self.lexicon = lexicon
    }

    /// Tensor shapes this bundle must have.
    public var layout: TensorLayout {
        TensorLayout(config: config, vocabularySize: vocabulary.count, tagCount: tags.count)
    }

    /// Checks that every tensor has its shape and every value is finite.
    public func validate() throws(ModelError) {
        try config.validate()
        guard !vocabulary.isEmpty else { throw ModelError(.badMetadata, "vocab is empty (index 0 must be the unknown word)") }
        guard tags.count >= 1 else { throw ModelError(.badMetadata, "tags is empty") }
        guard Set(tags).count == tags.count else { throw ModelError(.badMetadata, "tags has duplicates") }
        let wantsLexicon = config.features.contains { $0.kind == .lexicon }
        guard wantsLexicon == (lexicon != nil) else {
            throw ModelError(.badMetadata, wantsLexicon ? "config has a lexicon feature but there is no lexicon"
                                                        : "a lexicon is given but config has no lexicon feature")
        }
        if let lexicon, let spec = config.features.first(where: { $0.kind == .lexicon }),
           let bad = lexicon.entries.first(where: { Int($0.value) >= spec.buckets }) {
            throw ModelError(.badMetadata, "lexicon entry \(JSONWriter.quoted(bad.key)) is \(bad.value), past the lexicon feature's \(spec.buckets) buckets")
        }
        let expected = Dictionary(uniqueKeysWithValues: layout.shapes.map { ($0.name, $0.shape) })
        for (name, values) in weights.namedTensors(config: config) {
            guard let shape = expected[name] else { throw ModelError(.unexpectedTensor, "unexpected tensor \(name)") }
            let count = shape.reduce(1, *)
            guard values.count == count else {
                throw ModelError(.badShape, "tensor \(name) has \(values.count) values, expected \(shape) = \(count)")
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw ModelError(.badValues, "tensor \(name) holds a non-finite value at index \(bad)")
            }
        }
    }
}

extension ModelBundle {
    /// A model with small random weights (uniform ±1/√H as PyTorch initialises RNNs), for tests
    /// and benchmarks, and as the trainer's starting point.
    public static func random(name: String = "random", config: ModelConfig, vocabulary: [String], tags: [String],
                              seed: UInt64 = 1, lexicon: Lexicon? = nil) -> ModelBundle {
        var rng = SplitMix64(seed: seed)
        let layout = TensorLayout(config: config, vocabularySize: vocabulary.count, tagCount: tags.count)
        var tensors: [String: [Float]] = [:]
        let bound = 1 / Float(config.hiddenDim).squareRoot()
        for (name, shape) in layout.shapes {
            let count = shape.reduce(1, *)
            let scale: Float
            if name.hasPrefix("embedding") || name.hasPrefix("features") {
                scale = 0.1
            } else if name.hasSuffix(".weight") && shape.count == 2 && (name.hasPrefix("head") || name.hasPrefix("lookahead")) {
                scale = 1 / Float(shape[1]).squareRoot()
            } else {
                scale = bound
            }
            tensors[name] = (0..<count).map { _ in (rng.nextUnitFloat() * 2 - 1) * scale }
        }
        // The layout above lists every tensor, so this cannot fail.
        let weights = try! Weights(config: config, tensors: tensors)
        return ModelBundle(name: name, config: config, vocabulary: vocabulary, tags: tags, weights: weights, lexicon: lexicon)
    }
}
