// Every C kernel at every instruction-set level this CPU supports, against straightforward
// double-precision references (and libm for the activations).
import CStreamTagKernels
import Foundation
import Testing
@testable import StreamTagCore

/// Deterministic random numbers (Core's SplitMix64), so failures reproduce.
extension SplitMix64 {
    /// Uniform in [-scale, scale).
    mutating func float(_ scale: Float = 1) -> Float {
        Float(Double(next() >> 11) / Double(1 << 53) * 2 - 1) * scale
    }
    mutating func floats(_ n: Int, _ scale: Float = 1) -> [Float] { (0..<n).map { _ in float(scale) } }
}

func bf16ToFloat(_ v: UInt16) -> Float { Float(bitPattern: UInt32(v) << 16) }

/// The largest error of Y[B, M] (rows ldy apart) against X·Wᵀ (+ Y0 when accumulating) in double
/// precision, relative to the sum of the terms' magnitudes. X's rows are ldx apart, W is [M, K].
func worstRelativeError(_ Y: [Float], _ Y0: [Float], ldy: Int, X: [Float], ldx: Int, W: [Float],
                        B: Int, M: Int, K: Int, accumulate: Bool) -> Double {
    var worst = 0.0
    for b in 0..<B {
        for m in 0..<M {
            var sum = accumulate ? Double(Y0[b * ldy + m]) : 0, scale = abs(sum)
            for k in 0..<K {
                let p = Double(X[b * ldx + k]) * Double(W[m * K + k])
                sum += p
                scale += abs(p)
            }
            worst = max(worst, abs(Double(Y[b * ldy + m]) - sum) / max(scale, 1e-30))
        }
    }
    return worst
}

/// The kernels' global level is process-wide, so these tests run one at a time; they restore the
/// level they found. Other suites running meanwhile still get correct (if slower) kernels.
@Suite(.serialized) struct KernelTests {
    static let levels: [st_isa] = (0...Int(st_cpu_isa().rawValue)).map { st_isa(rawValue: UInt32($0)) }

    /// Runs `body` once per supported level, with that level forced.
    func forEachLevel(_ body: (String) throws -> Void) rethrows {
        let saved = st_active_isa()
        defer { st_force_isa(saved) }
        for level in Self.levels {
            #expect(st_force_isa(level) == level)
            try body(String(cString: st_isa_name(level)))
        }
    }

    // MARK: matrix products

    /// Checks Y[b, m] = (Y0[b, m] if accumulate) + Σk X[b, k]·W[m, k] within 1e-5 of Σk |X·W|,
    /// and that the padding between rows of Y is untouched.
    /// B = 1 goes to the gemv kernels unless `gemm` is set; `packed` (bf16, B = 1) to the packed
    /// gemv.
    func checkProduct(B: Int, M: Int, K: Int, accumulate: Bool, bf16: Bool, level: String,
                      gemm: Bool = false, packed: Bool = false, rng: inout SplitMix64) {
        let ldx = K + 3, ldy = M + 5
        let X = rng.floats(B * ldx)
        var W = rng.floats(M * K)
        var Wb = [UInt16](repeating: 0, count: M * K)
        if bf16 {
            st_f32_to_bf16(&Wb, W, M * K)
            W = Wb.map(bf16ToFloat)
        }
        let Y0 = rng.floats(B * ldy, 4)
        var Y = Y0
        X.withUnsafeBufferPointer { x in
            Y.withUnsafeMutableBufferPointer { y in
                let acc: Int32 = accumulate ? 1 : 0
                switch (bf16, gemm ? 0 : B) {
                case (true, 1) where packed:
                    var P = [UInt16](repeating: 0xffff, count: st_bf16_packed_count(Int32(M), Int32(K)))
                    st_pack_bf16(&P, Wb, Int32(M), Int32(K))
                    st_gemv_bf16_packed(y.baseAddress!, P, x.baseAddress!, Int32(M), Int32(K), acc)
                case (false, 1): st_gemv(y.baseAddress!, W, x.baseAddress!, Int32(M), Int32(K), acc)
                case (true, 1): st_gemv_bf16(y.baseAddress!, Wb, x.baseAddress!, Int32(M), Int32(K), acc)
                case (false, _):
                    st_gemm_nt_small(y.baseAddress!, Int32(ldy), x.baseAddress!, Int32(ldx), W,
                                     Int32(B), Int32(M), Int32(K), acc)
                case (true, _):
                    st_gemm_nt_small_bf16(y.baseAddress!, Int32(ldy), x.baseAddress!, Int32(ldx), Wb,
                                          Int32(B), Int32(M), Int32(K), acc)
                }
            }
        }
        let worst = worstRelativeError(Y, Y0, ldy: ldy, X: X, ldx: ldx, W: W, B: B, M: M, K: K, accumulate: accumulate)
        for b in 0..<B {
            for m in M..<ldy where Y[b * ldy + m] != Y0[b * ldy + m] {
                Issue.record("\(level) B=\(B) M=\(M) K=\(K): wrote padding at [\(b), \(m)]")
                return
            }
        }
        #expect(worst <= 1e-5, "\(level) bf16=\(bf16) packed=\(packed) B=\(B) M=\(M) K=\(K) acc=\(accumulate): rel err \(worst)")
    }

    static let sizes = [1, 3, 15, 16, 17, 33, 255, 256, 1024]

    @Test func gemvMatchesReference() {
        var rng = SplitMix64(seed: 1)
        forEachLevel { level in
            for bf16 in [false, true] {
                for M in Self.sizes {
                    for K in Self.sizes where M * K <= 65536 || (M, K) == (1024, 256) {
                        checkProduct(B: 1, M: M, K: K, accumulate: (M + K) % 2 == 0, bf16: bf16,
                                     level: level, rng: &rng)
                    }
                }
                checkProduct(B: 1, M: 17, K: 768, accumulate: true, bf16: bf16, level: level, rng: &rng)
                checkProduct(B: 1, M: 33, K: 17, accumulate: false, bf16: bf16, level: level, rng: &rng)
            }
        }
    }

    /// The packed bf16 gemv (vdpbf16ps on x split in two at the AVX512-BF16 level) on the same
    /// shapes, and the packed layout itself.
    @Test func packedBF16GemvMatchesReference() {
        var rng = SplitMix64(seed: 3)
        forEachLevel { level in
            for M in Self.sizes {
                for K in Self.sizes where M * K <= 65536 || (M, K) == (1024, 256) {
                    checkProduct(B: 1, M: M, K: K, accumulate: (M + K) % 2 == 1, bf16: true, level: level,
                                 packed: true, rng: &rng)
                }
            }
            for (M, K) in [(17, 768), (33, 17), (1024, 128), (31, 65)] {
                checkProduct(B: 1, M: M, K: K, accumulate: true, bf16: true, level: level, packed: true, rng: &rng)
            }
        }
    }

    @Test func packedBF16Layout() {
        let M = 20, K = 40
        let W = (0..<M * K).map { UInt16($0 + 1) }
        #expect(st_bf16_packed_count(Int32(M), Int32(K)) == 32 * 64)
        var P = [UInt16](repeating: 0xffff, count: 32 * 64)
        st_pack_bf16(&P, W, Int32(M), Int32(K))
        for (i, v) in P.enumerated() {
            // [⌈M/16⌉][⌈K/32⌉][16][32]
            let j = i % 32, r = i / 32 % 16, slice = i / 512 % 2, block = i / 1024
            let m = block * 16 + r, k = slice * 32 + j
            #expect(v == (m < M && k < K ? W[m * K + k] : 0), "P[\(i)] (row \(m), column \(k))")
        }
    }

    /// The row-pointer products (st_gemm_nt_small_rows and its bf16 counterpart) on rows placed
    /// apart in reverse order behind an offset: within 1e-5 of the reference and bit for bit the
    /// strided kernel's result, padding of Y untouched.
    func checkRowsProduct(B: Int, M: Int, K: Int, accumulate: Bool, bf16: Bool, level: String, rng: inout SplitMix64) {
        let ldy = M + 5, offset = 3, spacing = K + offset + 7
        let X = rng.floats(B * K)
        var W = rng.floats(M * K)
        var Wb = [UInt16](repeating: 0, count: M * K)
        if bf16 {
            st_f32_to_bf16(&Wb, W, M * K)
            W = Wb.map(bf16ToFloat)
        }
        // Row b at slab[(B − 1 − b)·spacing + offset ..< … + K].
        var slab = rng.floats(B * spacing)
        for b in 0..<B {
            for k in 0..<K { slab[(B - 1 - b) * spacing + offset + k] = X[b * K + k] }
        }
        let Y0 = rng.floats(B * ldy, 4)
        var Y = Y0, Ystrided = Y0
        let acc: Int32 = accumulate ? 1 : 0
        slab.withUnsafeBufferPointer { s in
            let rows: [UnsafePointer<Float>?] = (0..<B).map { s.baseAddress! + (B - 1 - $0) * spacing }
            if bf16 {
                st_gemm_nt_small_bf16_rows(&Y, Int32(ldy), rows, offset, Wb, Int32(B), Int32(M), Int32(K), acc)
                st_gemm_nt_small_bf16(&Ystrided, Int32(ldy), X, Int32(K), Wb, Int32(B), Int32(M), Int32(K), acc)
            } else {
                st_gemm_nt_small_rows(&Y, Int32(ldy), rows, offset, W, Int32(B), Int32(M), Int32(K), acc)
                st_gemm_nt_small(&Ystrided, Int32(ldy), X, Int32(K), W, Int32(B), Int32(M), Int32(K), acc)
            }
        }
        let worst = worstRelativeError(Y, Y0, ldy: ldy, X: X, ldx: K, W: W, B: B, M: M, K: K, accumulate: accumulate)
        let what = "\(level) rows bf16=\(bf16) B=\(B) M=\(M) K=\(K) acc=\(accumulate)"
        #expect(worst <= 1e-5, "\(what): rel err \(worst)")
        #expect(Y.map(\.bitPattern) == Ystrided.map(\.bitPattern), "\(what): differs from the strided kernel")
    }

    @Test func rowsGemmMatchesReferenceAndStrided() {
        var rng = SplitMix64(seed: 8)
        forEachLevel { level in
            for bf16 in [false, true] {
                for B in [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 33] {
                    for (M, K) in [(1, 1), (3, 17), (17, 3), (15, 16), (33, 255), (256, 33), (16, 256)] {
                        checkRowsProduct(B: B, M: M, K: K, accumulate: (B + M) % 2 == 0, bf16: bf16,
                                         level: level, rng: &rng)
                    }
                }
                checkRowsProduct(B: 8, M: 1024, K: 17, accumulate: true, bf16: bf16, level: level, rng: &rng)
                checkRowsProduct(B: 9, M: 1024, K: 256, accumulate: true, bf16: bf16, level: level, rng: &rng)
            }
        }
    }

    @Test func smallGemmMatchesReference() {
        var rng = SplitMix64(seed: 2)
        forEachLevel { level in
            for bf16 in [false, true] {
                for B in [2, 3, 4, 5, 7, 8, 15, 16, 17, 33] {
                    for (M, K) in [(1, 1), (3, 17), (17, 3), (15, 16), (33, 255), (256, 33), (16, 256)] {
                        checkProduct(B: B, M: M, K: K, accumulate: (B + M) % 2 == 1, bf16: bf16,
                                     level: level, rng: &rng)
                    }
                }
                checkProduct(B: 8, M: 1024, K: 17, accumulate: true, bf16: bf16, level: level, rng: &rng)
                checkProduct(B: 1, M: 17, K: 33, accumulate: true, bf16: bf16, level: level, gemm: true, rng: &rng)
            }
        }
    }

    // MARK: conversions

    @Test func halfConversionKnownValues() {
        let cases: [(Float, UInt16)] = [
            (1, 0x3c00), (-1, 0xbc00), (0, 0), (-0.0, 0x8000), (65504, 0x7bff), (65519.99, 0x7bff),
            (65520, 0x7c00), (1e10, 0x7c00), (-Float.infinity, 0xfc00), (6e-8, 0x0001),
            (Float(bitPattern: 0x3380_0000), 0x0001), // 2^-24, the smallest subnormal
            (Float(bitPattern: 0x3300_0000), 0x0000), // 2^-25: a tie, to even (zero)
            (Float(bitPattern: 0x3300_0001), 0x0001), (Float(bitPattern: 0x3840_0000), 0x0300),
            (0.1, 0x2e66), (1.0009765625, 0x3c01), (1.00048828125, 0x3c00), // tie to even
            (1.00146484375, 0x3c02), (Float.leastNonzeroMagnitude, 0), (.nan, 0x7e00),
        ]
        forEachLevel { level in
            // 17 copies so the SIMD paths, not just their scalar tails, see every value
            let inp = cases.flatMap { Array(repeating: $0.0, count: 17) }
            var out = [UInt16](repeating: 0xffff, count: inp.count)
            st_f32_to_f16(&out, inp, inp.count)
            for (i, c) in cases.enumerated() {
                #expect(out[i * 17] == c.1 && out[i * 17 + 16] == c.1,
                        "\(level): \(c.0) -> \(String(out[i * 17], radix: 16)), want \(String(c.1, radix: 16))")
            }
        }
    }

    @Test func halfConversionsMatchFloat16() {
        var rng = SplitMix64(seed: 3)
        forEachLevel { level in
            // Every half to float and back.
            let halves = (0...0xffff).map { UInt16($0) }
            var floats = [Float](repeating: 0, count: halves.count)
            st_f16_to_f32(&floats, halves, halves.count)
            var back = [UInt16](repeating: 0, count: halves.count)
            st_f32_to_f16(&back, floats, floats.count)
            for h in halves {
                let f = floats[Int(h)]
                let e = h & 0x7c00 == 0x7c00 && h & 0x3ff != 0 // NaN
                if e {
                    #expect(f.isNaN && f.bitPattern & 0x40_0000 != 0, "\(level): NaN \(h) must come out quiet")
                    #expect(back[Int(h)] == h | 0x200, "\(level): NaN \(h) round trip")
                } else {
                    #expect(Double(f) == halfValue(h), "\(level): \(h) -> \(f)")
                    #expect(back[Int(h)] == h, "\(level): round trip of \(h)")
                }
            }
            // Random floats near the half range, against a double-precision rounding reference.
            let inp = (0..<20000).map { i -> Float in
                i % 2 == 0 ? Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x8fff_ffff | 0x3000_0000)
                    : rng.float(70000)
            }
            var out = [UInt16](repeating: 0, count: inp.count)
            st_f32_to_f16(&out, inp, inp.count)
            for (x, h) in zip(inp, out) where h != roundToHalf(x) {
                Issue.record("\(level): \(x) (\(String(x.bitPattern, radix: 16))) -> \(String(h, radix: 16)), want \(String(roundToHalf(x), radix: 16))")
                break
            }
        }
    }

    /// The exact value of a (non-NaN) half.
    func halfValue(_ h: UInt16) -> Double {
        let sign: Double = h & 0x8000 != 0 ? -1 : 1
        let e = Int(h >> 10) & 0x1f, m = Double(h & 0x3ff)
        if e == 0 { return sign * m * 0x1p-24 }
        if e == 31 { return sign * .infinity }
        return sign * (1 + m / 1024) * Double(sign: .plus, exponent: e - 15, significand: 1)
    }

    /// Round to nearest even by searching the neighbours: slow and obviously right.
    func roundToHalf(_ x: Float) -> UInt16 {
        let sign: UInt16 = x.sign == .minus ? 0x8000 : 0
        let a = Double(abs(x))
        if a >= 65520 { return sign | 0x7c00 }
        var best: UInt16 = 0, bestErr = Double.infinity
        let guess = Int(halfBits(approx: a))
        for c in max(0, guess - 2)...min(0x7bff, guess + 2) {
            let err = abs(halfValue(UInt16(c)) - a)
            if err < bestErr || (err == bestErr && c & 1 == 0) { best = UInt16(c); bestErr = err }
        }
        return sign | best
    }

    func halfBits(approx a: Double) -> UInt16 {
        if a < 0x1p-14 { return UInt16(min(1024, (a / 0x1p-24).rounded(.down))) }
        let e = Int(floor(log2(a)))
        let m = (a / Double(sign: .plus, exponent: e, significand: 1) - 1) * 1024
        return UInt16(min(0x7bff, (e + 15) << 10 + Int(m)))
    }

    @Test func bf16Conversions() {
        var rng = SplitMix64(seed: 4)
        let special: [UInt32] = [0x3f80_0000, 0x3f80_8000, 0x3f81_8000, 0x3f80_8001, 0x7f7f_ffff, 0xff7f_8000,
                                 0x7f80_0000, 0x7f80_0001, 0x7fc1_2345, 0xffc0_0000, 0x0000_8000, 0x0001_8000,
                                 0x0000_0001, 0x8000_0000, 0x7fff_ffff]
        let want: [UInt16] = [0x3f80, 0x3f80, 0x3f82, 0x3f81, 0x7f80, 0xff80, 0x7f80, 0x7fc0, 0x7fc1, 0xffc0,
                              0x0000, 0x0002, 0x0000, 0x8000, 0x7fff]
        forEachLevel { level in
            let inp = special.flatMap { Array(repeating: Float(bitPattern: $0), count: 17) }
            var out = [UInt16](repeating: 0xffff, count: inp.count)
            st_f32_to_bf16(&out, inp, inp.count)
            for i in special.indices {
                #expect(out[i * 17] == want[i] && out[i * 17 + 16] == want[i],
                        "\(level): \(String(special[i], radix: 16)) -> \(String(out[i * 17], radix: 16))")
            }
            let bits = (0..<10007).map { _ in UInt32(truncatingIfNeeded: rng.next()) }
            let floats = bits.map { Float(bitPattern: $0) }
            st_f32_to_bf16(&out, floats, 0) // n = 0 writes nothing
            var b16 = [UInt16](repeating: 0, count: bits.count)
            st_f32_to_bf16(&b16, floats, floats.count)
            var back = [Float](repeating: 0, count: bits.count)
            st_bf16_to_f32(&back, b16, b16.count)
            for i in bits.indices {
                let f = floats[i]
                if f.isNaN { #expect(back[i].isNaN); continue }
                // nearest bf16, ties to even, by comparing the two candidates in double
                let lo = bits[i] & 0xffff_0000, hi = lo &+ 0x1_0000
                let dl = abs(Double(Float(bitPattern: lo)) - Double(f))
                let dh = Float(bitPattern: hi).isNaN ? .infinity : abs(Double(Float(bitPattern: hi)) - Double(f))
                let r = dl < dh || (dl == dh && (lo >> 16) & 1 == 0) ? lo : hi
                if back[i].bitPattern != r && !(bits[i] & 0x7fff_ffff >= 0x7f7f_8000) { // overflow: inf
                    Issue.record("\(level): \(String(bits[i], radix: 16)) -> \(String(b16[i], radix: 16))")
                    break
                }
            }
        }
    }

    // MARK: activations

    func sigmoidRef(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    @Test func activationsMatchLibm() {
        var inp = (0...40000).map { Float(-20 + Double($0) * 0.001) }
        var rng = SplitMix64(seed: 5)
        inp += rng.floats(4001, 20) + rng.floats(999, 0.01) + rng.floats(999, 1e-6)
        inp += (0..<300).map { Float(sign: .plus, exponent: -$0 / 2, significand: 1.3) }
        forEachLevel { level in
            var s = [Float](repeating: 0, count: inp.count), t = s
            st_sigmoid(&s, inp, inp.count)
            st_tanh(&t, inp, inp.count)
            var worstAbs = 0.0, worstRelS = 0.0, worstRelT = 0.0
            for (i, x) in inp.enumerated() {
                let rs = sigmoidRef(Double(x)), rt = Foundation.tanh(Double(x))
                worstAbs = max(worstAbs, abs(Double(s[i]) - rs), abs(Double(t[i]) - rt))
                worstRelS = max(worstRelS, abs(Double(s[i]) - rs) / rs)
                if rt != 0 { worstRelT = max(worstRelT, abs(Double(t[i]) - rt) / abs(rt)) }
            }
            #expect(worstAbs <= 1e-6, "\(level): max abs error \(worstAbs)")
            // 3 ulp of a float is at most 3·2^-23 relative, tanh near 0 included
            #expect(worstRelS <= 3 * 0x1p-23, "\(level): sigmoid rel error \(worstRelS)")
            #expect(worstRelT <= 3 * 0x1p-23, "\(level): tanh rel error \(worstRelT)")
        }
    }

    @Test func activationsSaturateAndPropagateNaN() {
        let inp: [Float] = [100, -100, 1e30, -1e30, .infinity, -.infinity, .nan, 0, -0.0, 9.5, -9.5,
                            88, -88, -87.5, 30, -30, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        forEachLevel { level in
            // every value at every position of a 16-wide vector and in the scalar tail
            for pad in 0..<17 {
                let x = [Float](repeating: 0.5, count: pad) + inp
                var s = [Float](repeating: 7, count: x.count), t = s
                st_sigmoid(&s, x, x.count)
                st_tanh(&t, x, x.count)
                for (i, v) in inp.enumerated() {
                    let sv = s[pad + i], tv = t[pad + i]
                    if v.isNaN {
                        #expect(sv.isNaN && tv.isNaN, "\(level): NaN in, \(sv) \(tv) out")
                        continue
                    }
                    #expect(sv >= 0 && sv <= 1 && !sv.isNaN, "\(level): sigmoid(\(v)) = \(sv)")
                    #expect(tv >= -1 && tv <= 1 && !tv.isNaN, "\(level): tanh(\(v)) = \(tv)")
                    if abs(v) >= 30 {
                        #expect(sv == (v > 0 ? 1 : (v < -104 ? 0 : sv)), "\(level): sigmoid(\(v)) = \(sv)")
                        #expect(tv == (v > 0 ? 1 : -1), "\(level): tanh(\(v)) = \(tv)")
                    }
                    if abs(v) <= 110 { // down to subnormal results, where an ulp is 2^-149
                        let r = sigmoidRef(Double(v))
                        #expect(abs(Double(sv) - r) <= max(3 * 0x1p-23 * r, 0x1p-148),
                                "\(level): sigmoid(\(v)) = \(sv), want \(r)")
                    }
                }
                #expect(t[pad + 8].bitPattern == (-0.0 as Float).bitPattern, "\(level): tanh(-0) must be -0")
                #expect(s[pad + 5] == 0 && s[pad + 4] == 1)
            }
        }
    }

    // MARK: cells

    func sig(_ x: Double) -> Double { sigmoidRef(x) }

    @Test func lstmCellMatchesReference() {
        var rng = SplitMix64(seed: 6)
        forEachLevel { level in
            for (B, H) in [(1, 1), (3, 7), (2, 16), (5, 17), (2, 33), (4, 256)] {
                for fused in [false, true] {
                    for train in [false, true] {
                        let ldg = 4 * H + 2, ldh = H + 3, ldc = H + 1
                        let gi = rng.floats(B * ldg, 6), gh = rng.floats(B * ldg, 6)
                        let h0 = rng.floats(B * ldh), c0 = rng.floats(B * ldc, 3)
                        var h = h0, c = c0
                        var acts = [Float](repeating: 0, count: B * 4 * H), tc = [Float](repeating: 0, count: B * H)
                        gi.withUnsafeBufferPointer { pgi in
                            gh.withUnsafeBufferPointer { pgh in
                                acts.withUnsafeMutableBufferPointer { pa in
                                    tc.withUnsafeMutableBufferPointer { ptc in
                                        st_lstm_cell(&h, Int32(ldh), &c, Int32(ldc), pgi.baseAddress!, Int32(ldg),
                                                     fused ? pgi.baseAddress! : pgh.baseAddress!, Int32(ldg),
                                                     Int32(B), Int32(H), train ? pa.baseAddress! : nil,
                                                     train ? ptc.baseAddress! : nil)
                                    }
                                }
                            }
                        }
                        var worst = 0.0
                        for b in 0..<B {
                            for j in 0..<H {
                                func z(_ g: Int) -> Double {
                                    Double(gi[b * ldg + g * H + j]) + (fused ? 0 : Double(gh[b * ldg + g * H + j]))
                                }
                                let i = sig(z(0)), f = sig(z(1)), g = Foundation.tanh(z(2)), o = sig(z(3))
                                let cn = f * Double(c0[b * ldc + j]) + i * g, t = Foundation.tanh(cn)
                                var errs = [abs(Double(c[b * ldc + j]) - cn), abs(Double(h[b * ldh + j]) - o * t)]
                                if train {
                                    for (k, v) in [i, f, g, o].enumerated() {
                                        errs.append(abs(Double(acts[b * 4 * H + k * H + j]) - v))
                                    }
                                    errs.append(abs(Double(tc[b * H + j]) - t))
                                }
                                worst = max(worst, errs.max()!)
                            }
                            for j in H..<ldh where h[b * ldh + j] != h0[b * ldh + j] { Issue.record("\(level): h padding") }
                            for j in H..<ldc where c[b * ldc + j] != c0[b * ldc + j] { Issue.record("\(level): c padding") }
                        }
                        #expect(worst <= 2e-6, "\(level) LSTM B=\(B) H=\(H) fused=\(fused) train=\(train): \(worst)")
                    }
                }
            }
        }
    }

    @Test func gruAndRnnCellsMatchReference() {
        var rng = SplitMix64(seed: 7)
        forEachLevel { level in
            for (B, H) in [(1, 1), (3, 7), (2, 16), (5, 17), (2, 33), (4, 256)] {
                for train in [false, true] {
                    let ldg = 3 * H + 1, ldh = H + 2
                    let gi = rng.floats(B * ldg, 6), gh = rng.floats(B * ldg, 6), h0 = rng.floats(B * ldh)
                    var h = h0, acts = [Float](repeating: 0, count: B * 3 * H)
                    acts.withUnsafeMutableBufferPointer { pa in
                        st_gru_cell(&h, Int32(ldh), gi, Int32(ldg), gh, Int32(ldg), Int32(B), Int32(H),
                                    train ? pa.baseAddress! : nil)
                    }
                    var worst = 0.0
                    for b in 0..<B {
                        for j in 0..<H {
                            let x = { (g: Int) in Double(gi[b * ldg + g * H + j]) }, y = { (g: Int) in Double(gh[b * ldg + g * H + j]) }
                            let r = sig(x(0) + y(0)), zz = sig(x(1) + y(1)), n = Foundation.tanh(x(2) + r * y(2))
                            let hn = (1 - zz) * n + zz * Double(h0[b * ldh + j])
                            worst = max(worst, abs(Double(h[b * ldh + j]) - hn))
                            if train {
                                worst = max(worst, abs(Double(acts[b * 3 * H + j]) - r), abs(Double(acts[b * 3 * H + H + j]) - zz),
                                            abs(Double(acts[b * 3 * H + 2 * H + j]) - n))
                            }
                        }
                        for j in H..<ldh where h[b * ldh + j] != h0[b * ldh + j] { Issue.record("\(level): GRU padding") }
                    }
                    #expect(worst <= 2e-6, "\(level) GRU B=\(B) H=\(H) train=\(train): \(worst)")
                }
                for relu in [false, true] {
                    let ldg = H + 4, ldh = H + 1
                    var gi = rng.floats(B * ldg, 6)
                    if H > 5 { gi[2] = .nan }
                    let gh = rng.floats(B * ldg, 6), h0 = rng.floats(B * ldh)
                    var h = h0
                    st_rnn_cell(&h, Int32(ldh), gi, Int32(ldg), gh, Int32(ldg), Int32(B), Int32(H), relu ? 1 : 0)
                    var worst = 0.0
                    for b in 0..<B {
                        for j in 0..<H {
                            let z = Double(gi[b * ldg + j]) + Double(gh[b * ldg + j])
                            let want = relu ? (z < 0 ? 0 : z) : Foundation.tanh(z)
                            if z.isNaN { #expect(h[b * ldh + j].isNaN, "\(level): RNN must propagate NaN"); continue }
                            worst = max(worst, abs(Double(h[b * ldh + j]) - want))
                        }
                        for j in H..<ldh where h[b * ldh + j] != h0[b * ldh + j] { Issue.record("\(level): RNN padding") }
                    }
                    #expect(worst <= 2e-6, "\(level) RNN B=\(B) H=\(H) relu=\(relu): \(worst)")
                }
            }
        }
    }

    /// The cells on row pointers: each batch member's h (and c) inside its own row, rows placed
    /// in reverse order with gaps, input pre-activations through pointers too (in reverse order).
    /// Bit for bit the strided cells' results (which the tests above hold to the reference), and
    /// nothing else in the rows touched.
    @Test func rowCellsMatchStridedCells() {
        var rng = SplitMix64(seed: 9)
        forEachLevel { level in
            for (B, H) in [(1, 1), (3, 7), (2, 16), (5, 17), (2, 33), (4, 256), (9, 128)] {
                // Row layout: [pad 2][c H][pad 1][h H][pad 3]
                let cOff = 2, hOff = cOff + H + 1, S = hOff + H + 3
                for kind in ["lstm", "gru", "rnn-tanh", "rnn-relu"] {
                    let G = kind == "lstm" ? 4 : kind == "gru" ? 3 : 1
                    let ldg = G * H + 2
                    let gi = rng.floats(B * ldg, 6), gh = rng.floats(B * ldg, 6)
                    // Member b's input pre-activations in a separate buffer, row B − 1 − b.
                    var giApart = [Float](repeating: .nan, count: B * ldg)
                    for b in 0..<B {
                        for i in 0..<ldg { giApart[(B - 1 - b) * ldg + i] = gi[b * ldg + i] }
                    }
                    let slab0 = rng.floats(B * S, 3)
                    var slab = slab0
                    // Strided reference: h and c of member b at b·H.
                    var h: [Float] = [], c: [Float] = []
                    for b in 0..<B {
                        let row: Int = (B - 1 - b) * S
                        h += slab0[row + hOff ..< row + hOff + H]
                        c += slab0[row + cOff ..< row + cOff + H]
                    }
                    gi.withUnsafeBufferPointer { pgi in
                        gh.withUnsafeBufferPointer { pgh in
                            let gi = pgi.baseAddress!, gh = pgh.baseAddress!
                            giApart.withUnsafeBufferPointer { ga in
                                slab.withUnsafeMutableBufferPointer { s in
                                    let rows: [UnsafeMutablePointer<Float>?] = (0..<B).map { s.baseAddress! + (B - 1 - $0) * S }
                                    let g: [UnsafePointer<Float>?] = (0..<B).map { ga.baseAddress! + (B - 1 - $0) * ldg }
                                    switch kind {
                                    case "gru":
                                        st_gru_cell_rows(rows, hOff, g, gh, Int32(ldg), Int32(B), Int32(H))
                                    case "rnn-tanh", "rnn-relu":
                                        st_rnn_cell_rows(rows, hOff, g, gh, Int32(ldg), Int32(B), Int32(H),
                                                         kind == "rnn-relu" ? 1 : 0)
                                    default:
                                        st_lstm_cell_rows(rows, hOff, cOff, g, gh, Int32(ldg), Int32(B), Int32(H))
                                    }
                                }
                            }
                            switch kind {
                            case "gru": st_gru_cell(&h, Int32(H), gi, Int32(ldg), gh, Int32(ldg), Int32(B), Int32(H), nil)
                            case "rnn-tanh", "rnn-relu":
                                st_rnn_cell(&h, Int32(H), gi, Int32(ldg), gh, Int32(ldg), Int32(B), Int32(H),
                                            kind == "rnn-relu" ? 1 : 0)
                            default:
                                st_lstm_cell(&h, Int32(H), &c, Int32(H), gi, Int32(ldg), gh, Int32(ldg), Int32(B), Int32(H),
                                             nil, nil)
                            }
                        }
                    }
                    var want = slab0
                    for b in 0..<B {
                        let row = (B - 1 - b) * S
                        for j in 0..<H {
                            want[row + hOff + j] = h[b * H + j]
                            if G == 4 { want[row + cOff + j] = c[b * H + j] }
                        }
                    }
                    #expect(slab.map(\.bitPattern) == want.map(\.bitPattern),
                            "\(level) \(kind) rows B=\(B) H=\(H): differs from the strided cell")
                }
            }
        }
    }

    @Test func dispatchLevels() {
        let saved = st_active_isa()
        defer { st_force_isa(saved) }
        #expect(st_force_isa(ST_ISA_GENERIC) == ST_ISA_GENERIC)
        #expect(st_active_isa() == ST_ISA_GENERIC)
        #expect(st_force_isa(ST_ISA_AVX512BF16) == st_cpu_isa()) // never above the CPU's
        #expect(String(cString: st_isa_name(ST_ISA_AVX2)) == "avx2")
    }
}
