import CStreamTagKernels

/// An immutable model ready to run: weights in aligned buffers, the first layer's input
/// projection precomputed for every vocabulary word, tags and vocabulary. Shared read-only by
/// every worker (it is never mutated after init).
public final class Model: @unchecked Sendable {
    public let bundle: ModelBundle
    public let config: ModelConfig
    public let vocabulary: Vocabulary
    public let tags: [String]
    /// Hex SHA-256 of the model file (or of its serialised bytes for a model built in memory).
    public let sha256: String
    /// `NAME@HASH`: the model's name and the first 12 hex digits of `sha256`, as answers and
    /// events name it (`docs/model-format.md#model-id`).
    public let id: String
    /// Recurrent weight precision in use.
    public let precision: Precision

    /// Precision of the recurrent matrices on the hot path.
    public enum Precision: String, Sendable, CaseIterable {
        case fp32
        /// W_hh (and deeper layers' W_ih) rounded to bfloat16; halves the bytes streamed per step.
        case bf16
    }

    // E, H, G·H, C, k, L
    public let E: Int, H: Int, GH: Int, C: Int, k: Int, L: Int

    /// [V, G·H]: W_ih0·(word embedding + its features) + b_ih0 for every vocabulary word.
    /// Row 0 is the projection of the unknown-word embedding alone.
    let inputTable: AlignedBuffer<Float>
    /// Per layer: W_ih [G·H, in], W_hh [G·H, H], b_ih, b_hh.
    let inputWeights: [AlignedBuffer<Float>]
    let hiddenWeights: [AlignedBuffer<Float>]
    let hiddenWeightsBF16: [AlignedBuffer<UInt16>]
    /// bf16 copies of W_ih for layers ≥ 1 (layer 0 is an empty placeholder: it is never multiplied).
    let inputWeightsBF16: [AlignedBuffer<UInt16>]
    /// The same, packed for the single-stream gemv (`st_pack_bf16`): it reads them front to back.
    let hiddenWeightsBF16Packed: [AlignedBuffer<UInt16>]
    let inputWeightsBF16Packed: [AlignedBuffer<UInt16>]
    let inputBiases: [AlignedBuffer<Float>]
    let hiddenBiases: [AlignedBuffer<Float>]
    /// [V, E] and F × [buckets, E]: for words outside the vocabulary, projected on the fly.
    let embedding: AlignedBuffer<Float>
    let featureTables: [AlignedBuffer<Float>]
    /// The table of each bucket slot of a `TokenCode` (`[FeatureSpec].slotFeatures`).
    let slotFeatures: [Int]
    /// heads[j] scores a token from j+1 top-layer states; heads[k] is the final head.
    let headWeights: [AlignedBuffer<Float>]
    let headBiases: [AlignedBuffer<Float>]

    /// Builds a model. `sha256` is the file's hash when loaded from a file.
    public init(bundle: ModelBundle, sha256: String? = nil, precision: Precision = .fp32) throws(ModelError) {
        try bundle.validate()
        configureBLAS()
        self.bundle = bundle
        config = bundle.config
        vocabulary = Vocabulary(words: bundle.vocabulary, lowercase: bundle.config.lowercase)
        tags = bundle.tags
        self.precision = precision
        let hash = sha256 ?? ModelFile.sha256Hex(ModelFile.encode(bundle))
        self.sha256 = hash
        id = "\(bundle.name)@\(hash.prefix(12))"
        E = config.embeddingDim
        H = config.hiddenDim
        GH = config.gateRows
        C = bundle.tags.count
        k = config.lookahead
        L = config.layers

        let w = bundle.weights
        embedding = AlignedBuffer(w.embedding)
        featureTables = w.features.map { AlignedBuffer($0) }
        slotFeatures = config.features.slotFeatures
        inputWeights = w.layers.map { AlignedBuffer($0.inputWeight) }
        hiddenWeights = w.layers.map { AlignedBuffer($0.hiddenWeight) }
        inputBiases = w.layers.map { AlignedBuffer($0.inputBias) }
        hiddenBiases = w.layers.map { AlignedBuffer($0.hiddenBias) }
        let heads = (0...config.lookahead).map { w.head(seeing: $0) }
        headWeights = heads.map { AlignedBuffer($0.weight) }
        headBiases = heads.map { AlignedBuffer($0.bias) }
        if precision == .bf16 {
            hiddenWeightsBF16 = hiddenWeights.map(Model.toBF16)
            // Layer 0's input product never runs (the input table or, for unknown words, the
            // fp32 W_ih0 serves it): an empty placeholder keeps the arrays indexed by layer.
            inputWeightsBF16 = [AlignedBuffer(count: 0)] + inputWeights.dropFirst().map(Model.toBF16)
            let GH = GH, H = H
            hiddenWeightsBF16Packed = hiddenWeightsBF16.map { Model.packBF16($0, M: GH, K: H) }
            inputWeightsBF16Packed = [AlignedBuffer(count: 0)] + inputWeightsBF16.dropFirst().map { Model.packBF16($0, M: GH, K: H) }
        } else {
            hiddenWeightsBF16 = []
            inputWeightsBF16 = []
            hiddenWeightsBF16Packed = []
            inputWeightsBF16Packed = []
        }
        inputTable = Model.precomputeInputTable(bundle: bundle, embedding: embedding, features: featureTables,
                                                weight: inputWeights[0], bias: inputBiases[0])
    }

    private static func toBF16(_ buffer: AlignedBuffer<Float>) -> AlignedBuffer<UInt16> {
        let out = AlignedBuffer<UInt16>(count: buffer.count, zeroed: false)
        st_f32_to_bf16(out.pointer, buffer.pointer, buffer.count)
        return out
    }

    private static func packBF16(_ buffer: AlignedBuffer<UInt16>, M: Int, K: Int) -> AlignedBuffer<UInt16> {
        precondition(buffer.count == M * K)
        let out = AlignedBuffer<UInt16>(count: st_bf16_packed_count(Int32(M), Int32(K)), zeroed: false)
        st_pack_bf16(out.pointer, buffer.pointer, Int32(M), Int32(K))
        return out
    }

    /// Row w: W_ih0 · (embedding[w] + Σ features(word w)) + b_ih0, one GEMM over the vocabulary.
    private static func precomputeInputTable(bundle: ModelBundle, embedding: AlignedBuffer<Float>,
                                             features: [AlignedBuffer<Float>], weight: AlignedBuffer<Float>,
                                             bias: AlignedBuffer<Float>) -> AlignedBuffer<Float> {
        let config = bundle.config
        let V = bundle.vocabulary.count, E = config.embeddingDim, GH = config.gateRows
        let inputs = AlignedBuffer<Float>(count: V * E, zeroed: false)
        inputs.pointer.update(from: embedding.pointer, count: V * E)
        if !config.features.isEmpty {
            let slotFeatures = config.features.slotFeatures
            var buckets = [Int32](repeating: 0, count: slotFeatures.count)
            for (w, word) in bundle.vocabulary.enumerated().dropFirst() {
                buckets.withUnsafeMutableBufferPointer {
                    TokenFeatures.buckets(for: word, specs: config.features, lexicon: bundle.lexicon, into: $0.baseAddress!)
                }
                let row = inputs.pointer + w * E
                for (slot, b) in buckets.enumerated() where b >= 0 {
                    let src = features[slotFeatures[slot]].pointer + Int(b) * E
                    for e in 0..<E { row[e] += src[e] }
                }
            }
        }
        let table = AlignedBuffer<Float>(count: V * GH, zeroed: false)
        for v in 0..<V { (table.pointer + v * GH).update(from: bias.pointer, count: GH) }
        sgemm(transA: false, transB: true, M: V, N: GH, K: E, inputs.pointer, lda: E, weight.pointer, ldb: E,
              beta: 1, table.pointer, ldc: GH)
        return table
    }

    /// Bytes held by the precomputed input table (V·G·H floats).
    public var inputTableBytes: Int { inputTable.count * MemoryLayout<Float>.stride }
}

/// What the step needs to know about one token: its vocabulary row and, when it is not in the
/// vocabulary, its feature buckets. Fixed size, so encoding allocates nothing per token.
public struct TokenCode: Sendable, Equatable {
    public static let maxFeatures = 32
    /// Vocabulary row; 0 = unknown word.
    public var word: Int32
    /// Feature bucket slots in config order (only filled for unknown words; -1 = no row).
    public var features: InlineArray<32, Int32>

    public init(word: Int32) {
        self.word = word
        features = InlineArray(repeating: 0)
    }

    public static func == (a: TokenCode, b: TokenCode) -> Bool {
        guard a.word == b.word else { return false }
        for i in 0..<maxFeatures where a.features[i] != b.features[i] { return false }
        return true
    }
}

extension Model {
    /// Looks a token up: its vocabulary row, plus its feature buckets if it is unknown.
    public func encode(_ token: String) -> TokenCode {
        var code = TokenCode(word: vocabulary.id(of: token))
        if code.word == 0 && !config.features.isEmpty {
            var span = code.features.mutableSpan
            span.withUnsafeMutableBufferPointer {
                TokenFeatures.buckets(for: token, specs: config.features, lexicon: bundle.lexicon, into: $0.baseAddress!)
            }
        }
        return code
    }

    /// The precomputed first-layer input projection of a token ([G·H] in `inputTable`), or nil
    /// when it must be computed (an unknown word with features).
    @inline(__always)
    func tableProjection(_ code: TokenCode) -> UnsafePointer<Float>? {
        code.word != 0 || config.features.isEmpty ? UnsafePointer(inputTable.pointer + Int(code.word) * GH) : nil
    }

    /// Computes the first layer's input projection of a token that has no row in the input
    /// table (an unknown word with features; see `tableProjection`) into row[G·H].
    @inline(__always)
    func projectUnknown(_ code: TokenCode, into row: UnsafeMutablePointer<Float>, scratch x: UnsafeMutablePointer<Float>) {
        assert(tableProjection(code) == nil)
        // Unknown word with features: x = embedding[0] + Σ features, then W_ih0·x + b_ih0.
        x.update(from: embedding.pointer, count: E)
        for slot in 0..<slotFeatures.count where code.features[slot] >= 0 {
            let src = featureTables[slotFeatures[slot]].pointer + Int(code.features[slot]) * E
            for e in 0..<E { x[e] += src[e] }
        }
        row.update(from: inputBiases[0].pointer, count: GH)
        st_gemv(row, inputWeights[0].pointer, x, Int32(GH), Int32(E), 1)
    }
}
