import CStreamTagKernels
import StreamTagCore

// Legend: B rows this worker owns, Tc loss positions per chunk, T = Tc + k steps computed per
// chunk (the k extra steps feed the lookahead heads of the chunk's last tokens), E embedding,
// H hidden, G·H gate rows, C tags, F features, L layers. Activations are time-major:
// row n = t·B + b.

/// One data-parallel worker: owns B rows of the batch, their carried state, activations and a
/// full set of dense gradients. `forward` then `backward` process one chunk; the trainer sums
/// the workers' gradients and steps the optimizer.
final class TrainWorker: @unchecked Sendable {
    let params: Parameters
    let config: ModelConfig
    let E: Int, H: Int, GH: Int, C: Int, k: Int, L: Int
    /// Feature bucket slots per token, and the feature table behind each.
    let F: Int, slotFeatures: [Int]
    let B: Int, Tc: Int, T: Int
    let firstRow: Int

    // Inputs for the current chunk.
    var words: [Int32]        // [T·B]
    var featureIDs: [Int32]   // [T·B, F] bucket per slot, -1 = none
    var resets: [Bool]        // [T·B] state cleared before this step
    var targets: [Int32]      // [Tc·B] tag id, -1 = no loss
    var seeing: [Int32]       // [Tc·B] followers the position's final head sees, -1 = no loss
    var nextTags: [Int32]     // [Tc·B] tag of the next token in the segment, -1 = none (auxiliary loss)
    var nextWords: [Int32]    // [Tc·B] class of the next word, -1 = none (auxiliary loss)
    let teacher: AlignedBuffer<Float>   // [Tc·B, C] teacher distribution (distillation)
    var hasTeacher = false

    // State carried between chunks, per layer.
    let carryH: [AlignedBuffer<Float>]     // [B, H]
    let carryC: [AlignedBuffer<Float>]     // [B, H] (LSTM)

    // Activations per layer.
    let xs: [AlignedBuffer<Float>]         // [T·B, in] layer input after dropout
    let masks: [AlignedBuffer<Float>]      // [T·B, in] dropout scale (0 or 1/(1-p))
    let gi: [AlignedBuffer<Float>]         // [T·B, G·H] W_ih·x + b_ih
    let gh: [AlignedBuffer<Float>]         // [T·B, G·H] W_hh·h_prev + b_hh
    let hPrev: [AlignedBuffer<Float>]      // [T·B, H] h_t-1 after resets
    let cPrev: [AlignedBuffer<Float>]      // [T·B, H] c_t-1 after resets (LSTM)
    let hs: [AlignedBuffer<Float>]         // [T·B, H] h_t
    let cs: [AlignedBuffer<Float>]         // [T·B, H] c_t (LSTM)
    let acts: [AlignedBuffer<Float>]       // [T·B, G·H] activated gates
    let tanhC: [AlignedBuffer<Float>]      // [T·B, H] tanh(c_t) (LSTM)
    let headInput: AlignedBuffer<Float>    // [T·B, H] top h after dropout
    let droppedWHH: [AlignedBuffer<Float>] // [G·H, H] W_hh ⊙ mask (weight drop)
    let whhMask: [AlignedBuffer<Float>]    // [G·H, H]
    let whhGrad: AlignedBuffer<Float>      // [G·H, H] scratch: gradient w.r.t. the dropped W_hh
    let headMask: AlignedBuffer<Float>     // [T·B, H]
    let logits: [AlignedBuffer<Float>]     // (k+1) × [Tc·B, C]; becomes dlogits in place
    let nextTagLogits: AlignedBuffer<Float>   // [Tc·B, C] (auxiliary; empty when off)
    let nextWordLogits: AlignedBuffer<Float>  // [Tc·B, W] (auxiliary; empty when off)

    // Backward scratch.
    let dOut: AlignedBuffer<Float>         // [T·B, H] gradient w.r.t. a layer's h outputs
    let dIn: AlignedBuffer<Float>          // [T·B, max(E, H)] gradient w.r.t. a layer's input
    let dGI: AlignedBuffer<Float>          // [T·B, G·H]
    let dGH: AlignedBuffer<Float>          // [T·B, G·H] (GRU; LSTM/RNN share dGI)
    let dhRec: AlignedBuffer<Float>        // [B, H] gradient flowing to h_t-1
    let dcRec: AlignedBuffer<Float>        // [B, H]
    /// dx of layer 0 ([T·B, E]), for the embedding tables' sparse gradients.
    var dEmbedded: AlignedBuffer<Float> { dIn }

    /// Dense gradients, one per dense parameter, keyed like `params.dense`.
    let grads: [ObjectIdentifier: AlignedBuffer<Float>]

    // Statistics of the last forward pass (final heads only).
    var lossSum: Double = 0
    var lossCount = 0
    var correct = 0
    /// The worker's share of the objective being minimised (all heads, weighted, normalised).
    var objective: Double = 0

    var rng = SplitMix64(seed: 0)
    var inputDropout: Float = 0
    var hiddenDropout: Float = 0
    var provisionalWeight: Float = 0.5
    /// Loss weight of head 0 where it is provisional (k > 0).
    var firstHeadWeight: Float = 0.5
    var labelSmoothing: Float = 0
    /// DropConnect on W_hh (Wan et al. 2013; AWD-LSTM): each chunk uses W_hh ⊙ M with M a fresh
    /// 0 / 1/(1−p) mask per layer, shared by all steps and rows of the chunk.
    var weightDrop: Float = 0
    var distillWeight: Float = 0
    var nextTagWeight: Float = 0
    var nextWordWeight: Float = 0
    /// Probability of replacing an unknown token's `lower` feature buckets by random ones.
    var lowerNoise: Float = 0
    /// Slots and bucket counts of the `lower` features.
    let lowerFeatures: [(index: Int, buckets: Int)]
    /// Loss positions in the whole batch (all workers): the loss is their mean.
    var normalizer: Float = 1

    init(params: Parameters, rows B: Int, firstRow: Int, chunk Tc: Int) {
        self.params = params
        config = params.config
        E = config.embeddingDim
        H = config.hiddenDim
        GH = config.gateRows
        C = params.headBiases[0].rows
        k = config.lookahead
        L = config.layers
        slotFeatures = config.features.slotFeatures
        F = slotFeatures.count
        self.B = B
        self.Tc = Tc
        T = Tc + k
        self.firstRow = firstRow
        let n = T * B
        words = Array(repeating: 0, count: n)
        featureIDs = Array(repeating: 0, count: n * F)
        resets = Array(repeating: true, count: n)
        targets = Array(repeating: -1, count: Tc * B)
        seeing = Array(repeating: -1, count: Tc * B)
        nextTags = Array(repeating: -1, count: Tc * B)
        nextWords = Array(repeating: -1, count: Tc * B)
        teacher = AlignedBuffer(count: Tc * B * params.headBiases[0].rows)
        let specs = params.config.features
        lowerFeatures = specs.slotFeatures.enumerated().filter { specs[$0.element].kind == .lower }
            .map { ($0.offset, specs[$0.element].buckets) }
        let lstm = params.config.cell.hasCellState
        let layers = params.config.layers
        func buffers(_ count: Int, _ enabled: Bool = true) -> [AlignedBuffer<Float>] {
            (0..<layers).map { _ in AlignedBuffer(count: enabled ? count : 0) }
        }
        carryH = buffers(B * H)
        carryC = buffers(B * H, lstm)
        let inputWidths = (0..<layers).map { n * ($0 == 0 ? params.config.embeddingDim : params.config.hiddenDim) }
        xs = inputWidths.map { AlignedBuffer(count: $0) }
        masks = inputWidths.map { AlignedBuffer(count: $0) }
        gi = buffers(n * GH)
        gh = buffers(n * GH)
        hPrev = buffers(n * H)
        cPrev = buffers(n * H, lstm)
        hs = buffers(n * H)
        cs = buffers(n * H, lstm)
        acts = buffers(n * GH)
        tanhC = buffers(n * H, lstm)
        headInput = AlignedBuffer(count: n * H)
        droppedWHH = buffers(GH * H)
        whhMask = buffers(GH * H)
        whhGrad = AlignedBuffer(count: GH * H)
        headMask = AlignedBuffer(count: n * H)
        let logitCount = Tc * B * params.headBiases[0].rows
        logits = (0...params.config.lookahead).map { _ in AlignedBuffer(count: logitCount) }
        nextTagLogits = AlignedBuffer(count: Tc * B * (params.nextTag.first?.rows ?? 0))
        nextWordLogits = AlignedBuffer(count: Tc * B * (params.nextWord.first?.rows ?? 0))
        dOut = AlignedBuffer(count: n * H)
        dIn = AlignedBuffer(count: n * max(params.config.embeddingDim, params.config.hiddenDim))
        dGI = AlignedBuffer(count: n * GH)
        dGH = AlignedBuffer(count: params.config.cell == .gru ? n * GH : 0)
        dhRec = AlignedBuffer(count: B * H)
        dcRec = AlignedBuffer(count: B * H)
        var grads: [ObjectIdentifier: AlignedBuffer<Float>] = [:]
        for p in params.dense { grads[ObjectIdentifier(p)] = AlignedBuffer(count: p.count) }
        self.grads = grads
    }

    @inline(__always)
    func grad(_ p: Parameter) -> UnsafeMutablePointer<Float> { grads[ObjectIdentifier(p)]!.pointer }

    func zeroGradients() {
        for g in grads.values { g.buffer.update(repeating: 0) }
    }

    /// Clears the carried state (start of an epoch).
    func resetCarry() {
        for b in carryH + carryC { b.buffer.update(repeating: 0) }
    }

    /// Fills `mask` with inverted-dropout scales and multiplies `values` by it.
    func dropout(_ values: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, count: Int, rate: Float) {
        guard rate > 0 else {
            mask.update(repeating: 1, count: count)
            return
        }
        let keep = 1 / (1 - rate)
        for i in 0..<count {
            let m: Float = rng.nextUnitFloat() < rate ? 0 : keep
            mask[i] = m
            values[i] *= m
        }
    }
}
