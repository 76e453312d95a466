import COpenBLAS
import CStreamTagKernels

/// Below this many rows our own kernel, which streams the weights once for all rows, beats
/// OpenBLAS; at and above it OpenBLAS's packed GEMM wins. Measured for [1024, 256] and
/// [1024, 128] weights: with AVX-512 ours wins up to B=256 and beyond, with AVX2 up to about
/// 48, and the portable C version only below 3 or 4.
public let smallBatchLimit: Int = {
    switch st_active_isa() {
    case ST_ISA_AVX512, ST_ISA_AVX512BF16: return 1 << 30
    case ST_ISA_AVX2: return 48
    default: return 3
    }
}()

private let blasSetup: Void = { openblas_set_num_threads(1) }()

/// Makes every OpenBLAS call run on the calling thread: parallelism is ours.
public func configureBLAS() { _ = blasSetup }

/// out[B, M] = inp[B, K] · weight[M, K]ᵀ (+ out when accumulate).
/// Row strides: ldo for out, ldi for inp; weight is dense.
@inline(__always)
public func matmul(_ out: UnsafeMutablePointer<Float>, ldo: Int,
                   _ inp: UnsafePointer<Float>, ldi: Int,
                   _ weight: UnsafePointer<Float>, B: Int, K: Int, M: Int, accumulate: Bool = false) {
    if B == 1 {
        st_gemv(out, weight, inp, Int32(M), Int32(K), accumulate ? 1 : 0)
    } else if B < smallBatchLimit {
        st_gemm_nt_small(out, Int32(ldo), inp, Int32(ldi), weight, Int32(B), Int32(M), Int32(K), accumulate ? 1 : 0)
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(B), Int32(M), Int32(K), 1,
                    inp, Int32(ldi), weight, Int32(K), accumulate ? 1 : 0, out, Int32(ldo))
    }
}

/// out[B, M] = X[B, K] · weight[M, K]ᵀ (+ out when accumulate), with row b of X at
/// rows[b] + offset (K floats): the product on states that live in separate rows, by `matmul`'s
/// kernels (our own read the rows in place, with the same sums as on evenly spaced rows). At and
/// above `smallBatchLimit` (never with AVX-512) OpenBLAS wants evenly spaced rows: they are first
/// copied to `gather` ([B, K]).
@inline(__always)
public func matmul(_ out: UnsafeMutablePointer<Float>, ldo: Int,
                   rows: UnsafePointer<UnsafeMutablePointer<Float>?>, offset: Int,
                   _ weight: UnsafePointer<Float>, B: Int, K: Int, M: Int, accumulate: Bool = false,
                   gather: UnsafeMutablePointer<Float>) {
    if B == 1 {
        st_gemv(out, weight, rows[0]! + offset, Int32(M), Int32(K), accumulate ? 1 : 0)
    } else if B < smallBatchLimit {
        rows.withMemoryRebound(to: UnsafePointer<Float>?.self, capacity: B) {
            st_gemm_nt_small_rows(out, Int32(ldo), $0, offset, weight, Int32(B), Int32(M), Int32(K), accumulate ? 1 : 0)
        }
    } else {
        for b in 0..<B { (gather + b * K).update(from: rows[b]! + offset, count: K) }
        matmul(out, ldo: ldo, gather, ldi: K, weight, B: B, K: K, M: M, accumulate: accumulate)
    }
}

/// General sgemm for training: C[M, N] = α·op(A)·op(B) + β·C, row-major (OpenBLAS).
@inline(__always)
public func sgemm(transA: Bool, transB: Bool, M: Int, N: Int, K: Int, alpha: Float = 1,
                  _ A: UnsafePointer<Float>, lda: Int, _ B: UnsafePointer<Float>, ldb: Int,
                  beta: Float, _ C: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(M), Int32(N), Int32(K), alpha, A, Int32(lda), B, Int32(ldb), beta, C, Int32(ldc))
}

/// Broadcast-adds bias[M] to each of B rows of out (stride ldo).
@inline(__always)
public func addBias(_ out: UnsafeMutablePointer<Float>, ldo: Int, _ bias: UnsafePointer<Float>, B: Int, M: Int) {
    for b in 0..<B {
        let row = out + b * ldo
        for m in 0..<M { row[m] += bias[m] }
    }
}
