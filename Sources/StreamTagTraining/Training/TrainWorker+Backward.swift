import StreamTagCore

extension TrainWorker {
    /// The forward pass read in reverse: heads, then each layer from the top, through time.
    /// Adds into the dense gradients; leaves d(loss)/dx of layer 0 in `dEmbedded`.
    func backward() {
        let n = T * B
        backwardHeads()
        backwardAuxiliary(nextTagLogits.pointer, params.nextTag)
        backwardAuxiliary(nextWordLogits.pointer, params.nextWord)
        // dOut now holds d/d(headInput); through the dropout into the top layer's h.
        multiply(dOut.pointer, by: headMask.pointer, count: n * H)
        for l in stride(from: L - 1, through: 0, by: -1) {
            backwardLayer(l)
            let inDim = l == 0 ? E : H
            multiply(dIn.pointer, by: masks[l].pointer, count: n * inDim)
            if l > 0 { dOut.pointer.update(from: dIn.pointer, count: n * H) }
        }
    }

    private func backwardHeads() {
        let rows = Tc * B
        dOut.buffer.update(repeating: 0)
        for j in 0...k {
            let dz = logits[j].pointer
            let gW = grad(params.headWeights[j]), gb = grad(params.headBiases[j])
            addColumnSums(gb, dz, rows: rows, width: C)
            for i in 0...j {
                // d headInput[t+i] += dz[t] · W_j block i ;  dW_j block i += dzᵀ · headInput[t+i]
                sgemm(transA: false, transB: false, M: rows, N: H, K: C, dz, lda: C,
                      params.headWeights[j].pointer + i * H, ldb: (j + 1) * H, beta: 1,
                      dOut.pointer + i * B * H, ldc: H)
                sgemm(transA: true, transB: false, M: C, N: H, K: rows, dz, lda: C,
                      headInput.pointer + i * B * H, ldb: H, beta: 1, gW + i * H, ldc: (j + 1) * H)
            }
        }
    }

    /// An auxiliary head on headInput[t] (t < Tc): dz is in `dz` ([Tc·B, W]).
    private func backwardAuxiliary(_ dz: UnsafeMutablePointer<Float>, _ head: [Parameter]) {
        guard head.count == 2 else { return }
        let rows = Tc * B, W = head[0].rows
        addColumnSums(grad(head[1]), dz, rows: rows, width: W)
        sgemm(transA: false, transB: false, M: rows, N: H, K: W, dz, lda: W, head[0].pointer, ldb: H, beta: 1,
              dOut.pointer, ldc: H)
        sgemm(transA: true, transB: false, M: W, N: H, K: rows, dz, lda: W, headInput.pointer, ldb: H, beta: 1,
              grad(head[0]), ldc: H)
    }

    /// Given dOut = d/dh_t for every step (from above), backpropagates through time and into
    /// the layer's weights; writes d/dx_t into dIn.
    private func backwardLayer(_ l: Int) {
        let n = T * B, inDim = l == 0 ? E : H
        let dGI = dGI.pointer
        let dGH = config.cell == .gru ? self.dGH.pointer : dGI   // LSTM/RNN: same pre-activation
        let dhRec = dhRec.pointer, dcRec = dcRec.pointer
        let wHH = weightDrop > 0 ? droppedWHH[l].pointer : params.hiddenWeights[l].pointer
        dhRec.update(repeating: 0, count: B * H)
        dcRec.update(repeating: 0, count: B * H)
        for t in stride(from: T - 1, through: 0, by: -1) {
            let r0 = t * B
            // dh = gradient from above + from step t+1.
            let dh = dOut.pointer + r0 * H
            for i in 0..<(B * H) { dh[i] += dhRec[i] }
            switch config.cell {
            case .lstm: lstmStepBackward(l, r0: r0, dh: dh, dz: dGI + r0 * GH, dcRec: dcRec)
            case .gru: gruStepBackward(l, r0: r0, dh: dh, dgi: dGI + r0 * GH, dgh: dGH + r0 * GH, dhRec: dhRec)
            case .rnnTanh, .rnnRelu: rnnStepBackward(l, r0: r0, dh: dh, dz: dGI + r0 * GH)
            }
            // d h_t-1 = dgh · W_hh  (GRU adds its direct z·dh term, already in dhRec)
            sgemm(transA: false, transB: false, M: B, N: H, K: GH, dGH + r0 * GH, lda: GH, wHH, ldb: H,
                  beta: config.cell == .gru ? 1 : 0, dhRec, ldc: H)
            for b in 0..<B where resets[r0 + b] {
                (dhRec + b * H).update(repeating: 0, count: H)
                (dcRec + b * H).update(repeating: 0, count: H)
            }
        }
        // Weight gradients over all steps at once.
        if weightDrop > 0 {
            // d(W ⊙ M)/dW = M: the gradient of the dropped matrix, masked.
            sgemm(transA: true, transB: false, M: GH, N: H, K: n, dGH, lda: GH, hPrev[l].pointer, ldb: H,
                  beta: 0, whhGrad.pointer, ldc: H)
            let g = grad(params.hiddenWeights[l]), m = whhMask[l].pointer, d = whhGrad.pointer
            for i in 0..<(GH * H) { g[i] += m[i] * d[i] }
        } else {
            sgemm(transA: true, transB: false, M: GH, N: H, K: n, dGH, lda: GH, hPrev[l].pointer, ldb: H,
                  beta: 1, grad(params.hiddenWeights[l]), ldc: H)
        }
        sgemm(transA: true, transB: false, M: GH, N: inDim, K: n, dGI, lda: GH, xs[l].pointer, ldb: inDim,
              beta: 1, grad(params.inputWeights[l]), ldc: inDim)
        addColumnSums(grad(params.hiddenBiases[l]), dGH, rows: n, width: GH)
        addColumnSums(grad(params.inputBiases[l]), dGI, rows: n, width: GH)
        sgemm(transA: false, transB: false, M: n, N: inDim, K: GH, dGI, lda: GH,
              params.inputWeights[l].pointer, ldb: inDim, beta: 0, dIn.pointer, ldc: inDim)
    }

    /// c = f·c_prev + i·g, h = o·tanh(c)  →  gate pre-activation gradients dz = [di df dg do].
    private func lstmStepBackward(_ l: Int, r0: Int, dh: UnsafeMutablePointer<Float>, dz: UnsafeMutablePointer<Float>,
                                  dcRec: UnsafeMutablePointer<Float>) {
        let a = acts[l].pointer + r0 * GH, tc = tanhC[l].pointer + r0 * H, cp = cPrev[l].pointer + r0 * H
        for b in 0..<B {
            let ab = a + b * GH, zb = dz + b * GH, o = b * H
            for j in 0..<H {
                let ig = ab[j], fg = ab[H + j], gg = ab[2 * H + j], og = ab[3 * H + j]
                let tcj = tc[o + j], dhj = dh[o + j]
                let dc = dcRec[o + j] + dhj * og * (1 - tcj * tcj)
                zb[j] = dc * gg * ig * (1 - ig)
                zb[H + j] = dc * cp[o + j] * fg * (1 - fg)
                zb[2 * H + j] = dc * ig * (1 - gg * gg)
                zb[3 * H + j] = dhj * tcj * og * (1 - og)
                dcRec[o + j] = dc * fg
            }
        }
    }

    /// r, z, n gates: n = tanh(gi_n + r·gh_n), h = (1-z)·n + z·h_prev.
    private func gruStepBackward(_ l: Int, r0: Int, dh: UnsafeMutablePointer<Float>, dgi: UnsafeMutablePointer<Float>,
                                 dgh: UnsafeMutablePointer<Float>, dhRec: UnsafeMutablePointer<Float>) {
        let a = acts[l].pointer + r0 * GH, ghs = gh[l].pointer + r0 * GH, hp = hPrev[l].pointer + r0 * H
        for b in 0..<B {
            let ab = a + b * GH, gb = ghs + b * GH, di = dgi + b * GH, dg = dgh + b * GH, o = b * H
            for j in 0..<H {
                let r = ab[j], z = ab[H + j], nn = ab[2 * H + j], dhj = dh[o + j]
                let dpn = dhj * (1 - z) * (1 - nn * nn)
                let dpz = dhj * (hp[o + j] - nn) * z * (1 - z)
                let dpr = dpn * gb[2 * H + j] * r * (1 - r)
                di[j] = dpr; dg[j] = dpr
                di[H + j] = dpz; dg[H + j] = dpz
                di[2 * H + j] = dpn; dg[2 * H + j] = dpn * r
                dhRec[o + j] = dhj * z
            }
        }
    }

    /// h = tanh(z) or relu(z).
    private func rnnStepBackward(_ l: Int, r0: Int, dh: UnsafeMutablePointer<Float>, dz: UnsafeMutablePointer<Float>) {
        let h = hs[l].pointer + r0 * H
        let relu = config.cell == .rnnRelu
        for i in 0..<(B * H) {
            dz[i] = relu ? (h[i] > 0 ? dh[i] : 0) : dh[i] * (1 - h[i] * h[i])
        }
    }
}

@inline(__always)
func multiply(_ values: UnsafeMutablePointer<Float>, by mask: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { values[i] *= mask[i] }
}

/// out[w] += Σ_r m[r, w]
@inline(__always)
func addColumnSums(_ out: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, rows: Int, width: Int) {
    for r in 0..<rows {
        let row = m + r * width
        for w in 0..<width { out[w] += row[w] }
    }
}
