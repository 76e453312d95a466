import StreamTagCore

/// One trainable tensor: values plus Adam's two moments, in aligned buffers.
final class Parameter: @unchecked Sendable {
    let name: String
    let rows: Int
    let cols: Int
    let values: AlignedBuffer<Float>
    let m: AlignedBuffer<Float>
    let v: AlignedBuffer<Float>
    /// Exponential moving average of the values: the weights that are evaluated and saved.
    let average: AlignedBuffer<Float>
    /// Embedding tables get sparse gradients: only rows a batch touched are updated (lazy Adam).
    let sparse: Bool

    init(name: String, rows: Int, cols: Int, values: [Float], sparse: Bool) {
        precondition(values.count == rows * cols)
        self.name = name
        self.rows = rows
        self.cols = cols
        self.values = AlignedBuffer(values)
        m = AlignedBuffer(count: values.count)
        v = AlignedBuffer(count: values.count)
        average = AlignedBuffer(values)
        self.sparse = sparse
    }

    var count: Int { rows * cols }
    var pointer: UnsafeMutablePointer<Float> { values.pointer }
}

/// The model's tensors as trainable parameters, in `TensorLayout` order, with typed access to
/// each role. Index constants make the worker code read like the math.
final class Parameters: @unchecked Sendable {
    let config: ModelConfig
    let all: [Parameter]
    let embedding: Parameter           // [V, E]
    let features: [Parameter]          // F × [buckets, E]
    let inputWeights: [Parameter]      // L × [G·H, in]
    let hiddenWeights: [Parameter]     // L × [G·H, H]
    let inputBiases: [Parameter]       // L × [G·H]
    let hiddenBiases: [Parameter]      // L × [G·H]
    let headWeights: [Parameter]       // (k+1) × [C, (j+1)·H]; last = final head
    let headBiases: [Parameter]        // (k+1) × [C]
    /// Training-only auxiliary heads on the top state h_t (never saved): next tag [C, H] + [C],
    /// next word [W, H] + [W]. Empty when the loss is off.
    let nextTag: [Parameter]
    let nextWord: [Parameter]

    /// `nextTagClasses` / `nextWordClasses` > 0 add the auxiliary heads (random, seeded).
    init(bundle: ModelBundle, nextTagClasses: Int = 0, nextWordClasses: Int = 0, seed: UInt64 = 1) {
        config = bundle.config
        let shapes = Dictionary(uniqueKeysWithValues: bundle.layout.shapes.map { ($0.name, $0.shape) })
        var byName: [String: Parameter] = [:]
        var all: [Parameter] = []
        for (name, values) in bundle.weights.namedTensors(config: bundle.config) {
            let shape = shapes[name]!
            let p = Parameter(name: name, rows: shape[0], cols: shape.count > 1 ? shape[1] : 1, values: values,
                              sparse: name == "embedding.weight" || name.hasPrefix("features."))
            byName[name] = p
            all.append(p)
        }
        let H = bundle.config.hiddenDim
        var rng = SplitMix64(seed: seed &+ 0xA5A5)
        func head(_ name: String, _ classes: Int) -> [Parameter] {
            guard classes > 0 else { return [] }
            let scale = 1 / Float(H).squareRoot()
            let w = (0..<(classes * H)).map { _ in (rng.nextUnitFloat() * 2 - 1) * scale }
            let b = (0..<classes).map { _ in (rng.nextUnitFloat() * 2 - 1) * scale }
            return [Parameter(name: "aux.\(name).weight", rows: classes, cols: H, values: w, sparse: false),
                    Parameter(name: "aux.\(name).bias", rows: classes, cols: 1, values: b, sparse: false)]
        }
        nextTag = head("next_tag", nextTagClasses)
        nextWord = head("next_word", nextWordClasses)
        all += nextTag + nextWord
        self.all = all
        let L = config.layers, k = config.lookahead
        embedding = byName["embedding.weight"]!
        features = config.features.indices.map { byName["features.\($0).weight"]! }
        inputWeights = (0..<L).map { byName["rnn.weight_ih_l\($0)"]! }
        hiddenWeights = (0..<L).map { byName["rnn.weight_hh_l\($0)"]! }
        inputBiases = (0..<L).map { byName["rnn.bias_ih_l\($0)"]! }
        hiddenBiases = (0..<L).map { byName["rnn.bias_hh_l\($0)"]! }
        headWeights = (0...k).map { $0 == k ? byName["head.weight"]! : byName["lookahead_heads.\($0).weight"]! }
        headBiases = (0...k).map { $0 == k ? byName["head.bias"]! : byName["lookahead_heads.\($0).bias"]! }
    }

    /// The dense (non-embedding) parameters, whose gradients every worker keeps in full.
    var dense: [Parameter] { all.filter { !$0.sparse } }

    /// Current values (or their moving average) as model weights.
    func weights(averaged: Bool = false) -> Weights {
        let tensors = Dictionary(uniqueKeysWithValues: all.filter { !$0.name.hasPrefix("aux.") }.map { ($0.name, (averaged ? $0.average : $0.values).array) })
        return try! Weights(config: config, tensors: tensors)
    }

    /// average ← decay·average + (1 − decay)·values, for every tensor.
    func updateAverages(decay: Float) {
        for p in all {
            let a = p.average.pointer, w = p.values.pointer
            for i in 0..<p.count { a[i] += (1 - decay) * (w[i] - a[i]) }
        }
    }
}
