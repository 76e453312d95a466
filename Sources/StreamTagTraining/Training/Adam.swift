import Foundation
import StreamTagCore

/// Adam (Kingma & Ba) with bias correction. Dense tensors update every element; embedding
/// tables update only the rows the batch touched ("lazy" Adam), so a step costs what the batch
/// used rather than the size of the vocabulary.
struct Adam {
    var beta1: Float
    var beta2: Float
    var epsilon: Float
    private(set) var step = 0

    init(beta1: Float, beta2: Float, epsilon: Float) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// Starts a step; returns the bias-corrected step size for `learningRate`.
    mutating func begin(learningRate: Float) -> Float {
        step += 1
        let t = Float(step)
        return learningRate * (1 - powf(beta2, t)).squareRoot() / (1 - powf(beta1, t))
    }

    /// p -= lr · m̂ / (√v̂ + ε) over `count` elements starting at `offset`; g is scaled first.
    @inline(__always)
    func update(_ p: Parameter, grad: UnsafePointer<Float>, offset: Int, count: Int, stepSize: Float, gradScale: Float) {
        let w = p.values.pointer + offset, m = p.m.pointer + offset, v = p.v.pointer + offset
        let b1 = beta1, b2 = beta2, eps = epsilon
        for i in 0..<count {
            let g = grad[i] * gradScale
            let mi = b1 * m[i] + (1 - b1) * g
            let vi = b2 * v[i] + (1 - b2) * g * g
            m[i] = mi
            v[i] = vi
            w[i] -= stepSize * mi / (vi.squareRoot() + eps)
        }
    }
}

/// Gradient of one embedding table, kept full size but touched sparsely: the rows a batch used
/// are listed so that the norm, the update and the clearing only visit those.
final class SparseGradient: @unchecked Sendable {
    let parameter: Parameter
    let values: AlignedBuffer<Float>
    private var isTouched: [Bool]
    private(set) var touched: [Int32] = []

    init(_ parameter: Parameter) {
        self.parameter = parameter
        values = AlignedBuffer(count: parameter.count)
        isTouched = Array(repeating: false, count: parameter.rows)
    }

    /// row += g (E floats).
    @inline(__always)
    func add(row: Int, _ g: UnsafePointer<Float>) {
        let E = parameter.cols
        if !isTouched[row] {
            isTouched[row] = true
            touched.append(Int32(row))
        }
        let dst = values.pointer + row * E
        for e in 0..<E { dst[e] += g[e] }
    }

    var squaredNorm: Double {
        let E = parameter.cols
        var sum: Double = 0
        for row in touched {
            let g = values.pointer + Int(row) * E
            var s: Float = 0
            for e in 0..<E { s += g[e] * g[e] }
            sum += Double(s)
        }
        return sum
    }

    func apply(_ adam: Adam, stepSize: Float, gradScale: Float) {
        let E = parameter.cols
        for row in touched {
            let offset = Int(row) * E
            adam.update(parameter, grad: values.pointer + offset, offset: offset, count: E,
                        stepSize: stepSize, gradScale: gradScale)
            (values.pointer + offset).update(repeating: 0, count: E)
            isTouched[Int(row)] = false
        }
        touched.removeAll(keepingCapacity: true)
    }
}
