import CStreamTagKernels

/// Advances B independent streams by one token each: one matrix product per layer for the
/// whole batch, then the cell's pointwise update. Owns its scratch, sized once for `maxBatch`,
/// so stepping allocates nothing. Not thread-safe: one stepper per worker thread.
public struct BatchStepper: ~Copyable {
    public let model: Model
    public let layout: StateLayout
    public let maxBatch: Int
    /// [maxBatch, G·H] input and hidden gate pre-activations.
    private let gi: AlignedBuffer<Float>
    private let gh: AlignedBuffer<Float>
    /// [E] scratch for unknown words' input vectors.
    private let x: AlignedBuffer<Float>

    public init(model: Model, maxBatch: Int) {
        precondition(maxBatch >= 1)
        self.model = model
        layout = StateLayout(config: model.config)
        self.maxBatch = maxBatch
        gi = AlignedBuffer(count: maxBatch * model.GH)
        gh = AlignedBuffer(count: maxBatch * model.GH)
        x = AlignedBuffer(count: model.E)
    }

    /// Advances rows 0..<B of `states` ([B, S], contiguous) by `tokens[b]`.
    public func step(states: UnsafeMutablePointer<Float>, tokens: UnsafePointer<TokenCode>, count B: Int) {
        precondition(B <= maxBatch, "batch of \(B) exceeds the stepper's maxBatch \(maxBatch)")
        guard B > 0 else { return }
        let m = model, S = layout.floats, H = m.H, GH = m.GH
        let gh = gh.pointer
        // The first layer's input projections are rows of a table too large for the caches:
        // fetched during the hidden matrix product and read after it, their memory latency
        // hides behind it. (Only for a few rows: many would evict the weights.)
        if B <= 8 {
            for b in 0..<B {
                if let row = m.tableProjection(tokens[b]) { st_prefetch(row, GH * MemoryLayout<Float>.stride) }
            }
        }

        for l in 0..<m.L {
            let h = states + layout.hidden(l)
            let gi = gi.pointer
            var gates = UnsafePointer(gi) // input gate pre-activations, [B, G·H]
            if l > 0 {
                // The layer below has already moved to time t: its new h is this layer's input.
                for b in 0..<B { (gi + b * GH).update(from: m.inputBiases[l].pointer, count: GH) }
                recurrentMatmul(gi, states + layout.hidden(l - 1), ldi: S, layer: l, input: true, B: B)
            }
            for b in 0..<B { (gh + b * GH).update(from: m.hiddenBiases[l].pointer, count: GH) }
            recurrentMatmul(gh, h, ldi: S, layer: l, input: false, B: B)
            if l == 0 {
                if B == 1, let row = m.tableProjection(tokens[0]) {
                    gates = row // no copy
                } else {
                    for b in 0..<B { m.inputProjection(tokens[b], into: gi + b * GH, scratch: x.pointer) }
                }
            }

            if l == m.L - 1 && m.k > 0 {
                // Slide the window: drop h_t−k, keep h_t−1 (the cell overwrites the top slot).
                for b in 0..<B {
                    let row = states + b * S + layout.window
                    row.update(from: row + H, count: m.k * H)
                }
            }
            switch m.config.cell {
            case .lstm:
                st_lstm_cell(h, Int32(S), states + layout.cell(l), Int32(S), gates, Int32(GH), gh, Int32(GH),
                             Int32(B), Int32(H), nil, nil)
            case .gru:
                st_gru_cell(h, Int32(S), gates, Int32(GH), gh, Int32(GH), Int32(B), Int32(H), nil)
            case .rnnTanh, .rnnRelu:
                st_rnn_cell(h, Int32(S), gates, Int32(GH), gh, Int32(GH), Int32(B), Int32(H),
                            m.config.cell == .rnnRelu ? 1 : 0)
            }
        }
    }

    /// out[b, G·H] (+)= W·inp[b] for layer l's input (W_ih) or hidden (W_hh) matrix.
    @inline(__always)
    private func recurrentMatmul(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, ldi: Int,
                                 layer l: Int, input: Bool, B: Int) {
        let m = model, GH = m.GH, K = m.H
        if m.precision == .bf16 {
            if B == 1 {
                let w = (input ? m.inputWeightsBF16Packed[l] : m.hiddenWeightsBF16Packed[l]).pointer
                st_gemv_bf16_packed(out, w, inp, Int32(GH), Int32(K), 1)
            } else {
                let w = (input ? m.inputWeightsBF16[l] : m.hiddenWeightsBF16[l]).pointer
                st_gemm_nt_small_bf16(out, Int32(GH), inp, Int32(ldi), w, Int32(B), Int32(GH), Int32(K), 1)
            }
        } else {
            let w = (input ? m.inputWeights[l] : m.hiddenWeights[l]).pointer
            matmul(out, ldo: GH, inp, ldi: ldi, w, B: B, K: K, M: GH, accumulate: true)
        }
    }

    /// Scores of head j (the token j steps back, seeing j followers) for rows 0..<B: out [B, C].
    public func scores(states: UnsafePointer<Float>, count B: Int, seeing j: Int, into out: UnsafeMutablePointer<Float>) {
        let m = model, C = m.C, K = (j + 1) * m.H
        for b in 0..<B { (out + b * C).update(from: m.headBiases[j].pointer, count: C) }
        matmul(out, ldo: C, states + layout.headInput(seeing: j), ldi: layout.floats, m.headWeights[j].pointer,
               B: B, K: K, M: C, accumulate: true)
    }
}
