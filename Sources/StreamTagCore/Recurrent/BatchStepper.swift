import CStreamTagKernels

/// Advances B independent streams by one token each: one matrix product per layer for the
/// whole batch, then the cell's pointwise update. Each stream's state is a row of S floats (see
/// `StateLayout`) that the step reads and updates where it is, through one pointer per batch
/// member: the daemon's streams keep their rows in its slab, the offline taggers in one
/// contiguous [B, S] buffer. Owns its scratch, sized once for `maxBatch`, so stepping allocates
/// nothing. Not thread-safe: one stepper per worker thread.
public struct BatchStepper: ~Copyable {
    /// A batch's state rows: rows[b] is batch member b's row of S floats.
    public typealias Rows = UnsafePointer<UnsafeMutablePointer<Float>?>

    public let model: Model
    public let layout: StateLayout
    public let maxBatch: Int
    /// [maxBatch, G·H] input and hidden gate pre-activations.
    private let gi: AlignedBuffer<Float>
    private let gh: AlignedBuffer<Float>
    /// [E] scratch for unknown words' input vectors.
    private let x: AlignedBuffer<Float>
    /// [maxBatch] where each member's input gate pre-activations are: rows of `gi`, or for the
    /// first layer rows of the model's input-projection table, read in place.
    private let gates: AlignedBuffer<UnsafePointer<Float>?>
    /// [maxBatch] row pointers into the buffer given to the contiguous entry points.
    private let contiguousRows: AlignedBuffer<UnsafeMutablePointer<Float>?>
    /// [maxBatch, (k+1)·H] inputs of a product copied for OpenBLAS, when a batch can reach
    /// `smallBatchLimit` (never with AVX-512).
    private let gather: AlignedBuffer<Float>

    public init(model: Model, maxBatch: Int) {
        precondition(maxBatch >= 1)
        self.model = model
        layout = StateLayout(config: model.config)
        self.maxBatch = maxBatch
        gi = AlignedBuffer(count: maxBatch * model.GH)
        gh = AlignedBuffer(count: maxBatch * model.GH)
        x = AlignedBuffer(count: model.E)
        gates = AlignedBuffer(count: maxBatch)
        contiguousRows = AlignedBuffer(count: maxBatch)
        gather = AlignedBuffer(count: maxBatch >= smallBatchLimit ? maxBatch * (model.k + 1) * model.H : 0)
    }

    /// Advances rows 0..<B of `states` ([B, S], contiguous) by `tokens[b]`.
    public func step(states: UnsafeMutablePointer<Float>, tokens: UnsafePointer<TokenCode>, count B: Int) {
        step(rows: contiguous(states, B), tokens: tokens, count: B)
    }

    /// Scores of head j (the token j steps back, seeing j followers) for rows 0..<B of `states`
    /// ([B, S], contiguous): out [B, C].
    public func scores(states: UnsafePointer<Float>, count B: Int, seeing j: Int, into out: UnsafeMutablePointer<Float>) {
        scores(rows: contiguous(UnsafeMutablePointer(mutating: states), B), count: B, seeing: j, into: out)
    }

    /// Row pointers to the B rows of a contiguous [B, S] buffer.
    @inline(__always)
    private func contiguous(_ states: UnsafeMutablePointer<Float>, _ B: Int) -> Rows {
        precondition(B <= maxBatch, "batch of \(B) exceeds the stepper's maxBatch \(maxBatch)")
        let S = layout.floats
        for b in 0..<B { contiguousRows[b] = states + b * S }
        return UnsafePointer(contiguousRows.pointer)
    }

    /// Advances the state rows `rows[0..<B]` in place by `tokens[b]`.
    public func step(rows: Rows, tokens: UnsafePointer<TokenCode>, count B: Int) {
        precondition(B <= maxBatch, "batch of \(B) exceeds the stepper's maxBatch \(maxBatch)")
        guard B > 0 else { return }
        let m = model, H = m.H, GH = m.GH
        let gi = gi.pointer, gh = gh.pointer, gates = gates.pointer
        // The first layer's input projections are rows of a table too large for the caches:
        // fetched during the hidden matrix product and read after it, their memory latency
        // hides behind it. (Only for a few rows: many would evict the weights.)
        if B <= 8 {
            for b in 0..<B {
                if let row = m.tableProjection(tokens[b]) { st_prefetch(row, GH * MemoryLayout<Float>.stride) }
            }
        }

        for l in 0..<m.L {
            let h = layout.hidden(l)
            if l > 0 {
                // The layer below has already moved to time t: its new h is this layer's input.
                for b in 0..<B {
                    (gi + b * GH).update(from: m.inputBiases[l].pointer, count: GH)
                    gates[b] = UnsafePointer(gi + b * GH)
                }
                recurrentMatmul(gi, rows, offset: layout.hidden(l - 1), layer: l, input: true, B: B)
            }
            for b in 0..<B { (gh + b * GH).update(from: m.hiddenBiases[l].pointer, count: GH) }
            recurrentMatmul(gh, rows, offset: h, layer: l, input: false, B: B)
            if l == 0 {
                // Known words' input projections are read from the table where they are; unknown
                // words' are computed into gi.
                for b in 0..<B {
                    if let row = m.tableProjection(tokens[b]) {
                        gates[b] = row
                    } else {
                        m.projectUnknown(tokens[b], into: gi + b * GH, scratch: x.pointer)
                        gates[b] = UnsafePointer(gi + b * GH)
                    }
                }
            }

            if l == m.L - 1 && m.k > 0 {
                // Slide the window: drop h_t−k, keep h_t−1 (the cell overwrites the top slot).
                for b in 0..<B {
                    let window = rows[b]! + layout.window
                    window.update(from: window + H, count: m.k * H)
                }
            }
            switch m.config.cell {
            case .lstm:
                st_lstm_cell_rows(rows, h, layout.cell(l), gates, gh, Int32(GH), Int32(B), Int32(H))
            case .gru:
                st_gru_cell_rows(rows, h, gates, gh, Int32(GH), Int32(B), Int32(H))
            case .rnnTanh, .rnnRelu:
                st_rnn_cell_rows(rows, h, gates, gh, Int32(GH), Int32(B), Int32(H), m.config.cell == .rnnRelu ? 1 : 0)
            }
        }
    }

    /// out[b, G·H] (+)= W·inp[b] for layer l's input (W_ih) or hidden (W_hh) matrix, with
    /// inp[b] = rows[b] + offset.
    @inline(__always)
    private func recurrentMatmul(_ out: UnsafeMutablePointer<Float>, _ rows: Rows, offset: Int,
                                 layer l: Int, input: Bool, B: Int) {
        let m = model, GH = m.GH, K = m.H
        if m.precision == .bf16 {
            if B == 1 {
                let w = (input ? m.inputWeightsBF16Packed[l] : m.hiddenWeightsBF16Packed[l]).pointer
                st_gemv_bf16_packed(out, w, rows[0]! + offset, Int32(GH), Int32(K), 1)
            } else {
                let w = (input ? m.inputWeightsBF16[l] : m.hiddenWeightsBF16[l]).pointer
                rows.withMemoryRebound(to: UnsafePointer<Float>?.self, capacity: B) {
                    st_gemm_nt_small_bf16_rows(out, Int32(GH), $0, offset, w, Int32(B), Int32(GH), Int32(K), 1)
                }
            }
        } else {
            let w = (input ? m.inputWeights[l] : m.hiddenWeights[l]).pointer
            matmul(out, ldo: GH, rows: rows, offset: offset, w, B: B, K: K, M: GH, accumulate: true,
                   gather: gather.pointer)
        }
    }

    /// Scores of head j (the token j steps back, seeing j followers) for the state rows
    /// `rows[0..<B]`: out [B, C].
    public func scores(rows: Rows, count B: Int, seeing j: Int, into out: UnsafeMutablePointer<Float>) {
        let m = model, C = m.C, K = (j + 1) * m.H
        for b in 0..<B { (out + b * C).update(from: m.headBiases[j].pointer, count: C) }
        matmul(out, ldo: C, rows: rows, offset: layout.headInput(seeing: j), m.headWeights[j].pointer,
               B: B, K: K, M: C, accumulate: true, gather: gather.pointer)
    }
}
