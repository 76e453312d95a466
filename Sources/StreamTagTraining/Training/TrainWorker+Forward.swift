import CStreamTagKernels
import Foundation
import StreamTagCore

extension TrainWorker {
    /// Runs the chunk forward: embeddings, every layer over T steps, the heads, the loss.
    /// Leaves d(loss)/d(logits) in `logits` for `backward`.
    func forward() {
        forwardScores()
        lossAndGradient()
    }

    /// Everything up to the heads' logits (left in `logits`), without the loss.
    func forwardScores() {
        let n = T * B
        embed(into: xs[0].pointer)
        dropout(xs[0].pointer, mask: masks[0].pointer, count: n * E, rate: inputDropout)
        for l in 0..<L {
            forwardLayer(l)
            let out = l + 1 < L ? xs[l + 1] : headInput
            let mask = l + 1 < L ? masks[l + 1] : headMask
            out.pointer.update(from: hs[l].pointer, count: n * H)
            dropout(out.pointer, mask: mask.pointer, count: n * H, rate: hiddenDropout)
        }
        // The next chunk starts after Tc tokens: carry the state reached there.
        for l in 0..<L {
            carryH[l].pointer.update(from: hs[l].pointer + (Tc - 1) * B * H, count: B * H)
            if config.cell.hasCellState {
                carryC[l].pointer.update(from: cs[l].pointer + (Tc - 1) * B * H, count: B * H)
            }
        }
        forwardHeads()
    }

    /// x[n] = embedding[word] + Σ_slots features_f(slot)[bucket_slot] (slots with a bucket)
    private func embed(into x: UnsafeMutablePointer<Float>) {
        let emb = params.embedding.pointer
        for n in 0..<(T * B) {
            let row = x + n * E
            row.update(from: emb + Int(words[n]) * E, count: E)
            for f in 0..<F where featureIDs[n * F + f] >= 0 {
                let src = params.features[slotFeatures[f]].pointer + Int(featureIDs[n * F + f]) * E
                for e in 0..<E { row[e] += src[e] }
            }
        }
    }

    private func forwardLayer(_ l: Int) {
        let n = T * B, inDim = l == 0 ? E : H
        let gi = gi[l].pointer, gh = gh[l].pointer, hPrev = hPrev[l].pointer, hs = hs[l].pointer
        let lstm = config.cell.hasCellState
        var wHH = UnsafePointer(params.hiddenWeights[l].pointer)
        if weightDrop > 0 {
            let w = params.hiddenWeights[l].pointer, d = droppedWHH[l].pointer, mask = whhMask[l].pointer
            let keep = 1 / (1 - weightDrop)
            for i in 0..<(GH * H) {
                mask[i] = rng.nextUnitFloat() < weightDrop ? 0 : keep
                d[i] = mask[i] * w[i]
            }
            wHH = UnsafePointer(d)
        }
        // All input projections at once: gi = x·W_ihᵀ + b_ih.
        fillRows(gi, with: params.inputBiases[l].pointer, rows: n, width: GH)
        sgemm(transA: false, transB: true, M: n, N: GH, K: inDim, xs[l].pointer, lda: inDim,
              params.inputWeights[l].pointer, ldb: inDim, beta: 1, gi, ldc: GH)
        for t in 0..<T {
            let r0 = t * B
            for b in 0..<B {
                let dst = hPrev + (r0 + b) * H
                if resets[r0 + b] {
                    dst.update(repeating: 0, count: H)
                    if lstm { (cPrev[l].pointer + (r0 + b) * H).update(repeating: 0, count: H) }
                } else {
                    let src = t == 0 ? carryH[l].pointer + b * H : hs + (r0 - B + b) * H
                    dst.update(from: src, count: H)
                    if lstm {
                        let csrc = t == 0 ? carryC[l].pointer + b * H : cs[l].pointer + (r0 - B + b) * H
                        (cPrev[l].pointer + (r0 + b) * H).update(from: csrc, count: H)
                    }
                }
            }
            let ght = gh + r0 * GH
            fillRows(ght, with: params.hiddenBiases[l].pointer, rows: B, width: GH)
            sgemm(transA: false, transB: true, M: B, N: GH, K: H, hPrev + r0 * H, lda: H,
                  wHH, ldb: H, beta: 1, ght, ldc: GH)
            let h = hs + r0 * H, git = gi + r0 * GH
            switch config.cell {
            case .lstm:
                let c = cs[l].pointer + r0 * H
                c.update(from: cPrev[l].pointer + r0 * H, count: B * H)
                st_lstm_cell(h, Int32(H), c, Int32(H), git, Int32(GH), ght, Int32(GH), Int32(B), Int32(H),
                             acts[l].pointer + r0 * GH, tanhC[l].pointer + r0 * H)
            case .gru:
                h.update(from: hPrev + r0 * H, count: B * H)
                st_gru_cell(h, Int32(H), git, Int32(GH), ght, Int32(GH), Int32(B), Int32(H), acts[l].pointer + r0 * GH)
            case .rnnTanh, .rnnRelu:
                st_rnn_cell(h, Int32(H), git, Int32(GH), ght, Int32(GH), Int32(B), Int32(H),
                            config.cell == .rnnRelu ? 1 : 0)
            }
        }
    }

    /// logits_j[t] = b_j + Σ_{i ≤ j} W_j[:, i·H ..< (i+1)·H] · headInput[t + i].
    private func forwardHeads() {
        let rows = Tc * B
        for j in 0...k {
            let out = logits[j].pointer
            fillRows(out, with: params.headBiases[j].pointer, rows: rows, width: C)
            for i in 0...j {
                sgemm(transA: false, transB: true, M: rows, N: C, K: H, headInput.pointer + i * B * H, lda: H,
                      params.headWeights[j].pointer + i * H, ldb: (j + 1) * H, beta: 1, out, ldc: C)
            }
        }
    }

    /// Softmax cross-entropy for every head a position trains (heads seeing ≤ its followers),
    /// plus the auxiliary next-tag / next-word losses; replaces logits by their gradient.
    private func lossAndGradient() {
        lossSum = 0
        lossCount = 0
        correct = 0
        objective = 0
        for n in 0..<(Tc * B) {
            let y = Int(targets[n]), sees = Int(seeing[n])
            for j in 0...k {
                let z = logits[j].pointer + n * C
                guard y >= 0, j <= sees else {
                    z.update(repeating: 0, count: C)
                    continue
                }
                let weight = (j == sees ? 1 : j == 0 ? firstHeadWeight : provisionalWeight) / normalizer
                let (loss, best) = softmaxCrossEntropy(z, classes: C, target: y, smoothing: labelSmoothing, weight: weight,
                                                       soft: hasTeacher ? teacher.pointer + n * C : nil,
                                                       softWeight: distillWeight)
                objective += Double(weight) * loss
                if j == sees {
                    lossSum += loss
                    lossCount += 1
                    if best == y { correct += 1 }
                }
            }
        }
        auxiliaryLoss(nextTagLogits.pointer, params.nextTag, targets: nextTags, weight: nextTagWeight)
        auxiliaryLoss(nextWordLogits.pointer, params.nextWord, targets: nextWords, weight: nextWordWeight)
    }

    /// Auxiliary head on the top state at t (first Tc·B rows of headInput): logits, loss into
    /// `objective`, and the logits replaced by their gradient (0 where the target is -1).
    private func auxiliaryLoss(_ out: UnsafeMutablePointer<Float>, _ head: [Parameter], targets: [Int32], weight: Float) {
        guard head.count == 2 else { return }
        let rows = Tc * B, W = head[0].rows
        fillRows(out, with: head[1].pointer, rows: rows, width: W)
        sgemm(transA: false, transB: true, M: rows, N: W, K: H, headInput.pointer, lda: H,
              head[0].pointer, ldb: H, beta: 1, out, ldc: W)
        let w = weight / normalizer
        for n in 0..<rows {
            let z = out + n * W, y = Int(targets[n])
            guard y >= 0 else {
                z.update(repeating: 0, count: W)
                continue
            }
            let (loss, _) = softmaxCrossEntropy(z, classes: W, target: y, smoothing: 0, weight: w)
            objective += Double(w) * loss
        }
    }
}

/// Softmax cross-entropy against a soft target: q = (1 − smoothing − β)·onehot(y) +
/// smoothing/C + β·soft (β = `softWeight`, soft a distribution, e.g. a teacher's). Returns the
/// loss −Σ q·log p and the argmax, and replaces z by weight · (softmax(z) − q).
@inline(__always)
func softmaxCrossEntropy(_ z: UnsafeMutablePointer<Float>, classes C: Int, target y: Int, smoothing: Float,
                         weight: Float, soft: UnsafePointer<Float>? = nil, softWeight: Float = 0) -> (loss: Double, best: Int) {
    var best = 0
    for c in 1..<C where z[c] > z[best] { best = c }
    let zmax = z[best]
    var sum: Float = 0
    var zsum: Float = 0
    var softDot: Float = 0
    let zy = z[y] - zmax
    for c in 0..<C {
        let d = z[c] - zmax
        zsum += d
        if let soft { softDot += soft[c] * d }
        z[c] = expf(d)
        sum += z[c]
    }
    let logSum = logf(sum)
    let beta = soft == nil ? 0 : softWeight
    // −log p_c = logSum − d_c: one-hot, uniform and soft parts of the target.
    var loss = Double(1 - smoothing - beta) * Double(logSum - zy)
    if smoothing > 0 { loss += Double(smoothing) * (Double(logSum) - Double(zsum) / Double(C)) }
    if beta > 0 { loss += Double(beta) * (Double(logSum) - Double(softDot)) }   // Σ soft = 1
    let uniform = smoothing / Float(C), inv = 1 / sum
    for c in 0..<C {
        var q = uniform + (c == y ? 1 - smoothing - beta : 0)
        if let soft, beta > 0 { q += beta * soft[c] }
        z[c] = weight * (z[c] * inv - q)
    }
    return (loss, best)
}

/// Copies `values` (width floats) into each of `rows` rows.
@inline(__always)
func fillRows(_ out: UnsafeMutablePointer<Float>, with values: UnsafePointer<Float>, rows: Int, width: Int) {
    for r in 0..<rows { (out + r * width).update(from: values, count: width) }
}
