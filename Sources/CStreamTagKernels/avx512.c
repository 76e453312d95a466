// AVX-512 (F/BW/DQ/VL) versions of every kernel, and an AVX512-BF16 version of the packed bf16
// gemv. Each function carries its own target attribute, so this file builds without -march
// flags; dispatch.c only calls it on CPUs that have these extensions. (vdpbf16ps with x simply
// rounded to bf16 was measured and not adopted: 1.25-1.4x faster on 1024x256/1024x128, but it
// costs 3 decimal digits (max error 2e-2 against 2e-6); the packed gemv splits x in two
// instead; see bench/kernel_bench.c.)
#if defined(__x86_64__)
#include "kernels_internal.h"
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

static inline __mmask16 tail_mask(int n) { return (__mmask16)((1u << n) - 1u); }

// ---------------------------------------------------------------------------------------------
// Matrix kernels. A tile computes R outputs (rows of W) for BB rows of X: it loads each 16-wide
// slice of the R weight rows once and uses it for all BB rows, keeping R·BB accumulators in
// registers, then sums each accumulator across its lanes. Tiles are instantiated with constant
// R and BB (always_inline), so the accumulator arrays live in registers. The rows of X are
// found through st_xrows (rows ldx apart, or one pointer per row for the *_rows kernels), once
// per tile: both kinds run the same code.

// [Σa, Σb, Σc, Σd]: a transpose-and-add tree, cheaper than four separate reductions.
T512 INLINE __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
    __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    __m512d abd = _mm512_castps_pd(ab), cdd = _mm512_castps_pd(cd);
    __m512 s = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(abd, cdd)),
                             _mm512_castpd_ps(_mm512_unpackhi_pd(abd, cdd)));
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(s), _mm512_extractf32x8_ps(s, 1));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// 16 weights from row `w` at column k as floats; bf16 weights widen exactly (shift left 16).
// Masked loads only for the last partial slice (full = 0): they cost more than plain ones.
T512 INLINE __m512 load_w(const void *w, int k, __mmask16 m, int full, int bf16) {
    if (bf16) {
        const uint16_t *p = (const uint16_t *)w + k;
        __m256i v = full ? _mm256_loadu_si256((const __m256i *)p) : _mm256_maskz_loadu_epi16(m, p);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
    }
    return full ? _mm512_loadu_ps((const float *)w + k) : _mm512_maskz_loadu_ps(m, (const float *)w + k);
}

enum { MAX_R = 16, MAX_BB = 4 };

// acc[r][b] += W[r, k..k+15]·x[b][k..k+15] (masked to the first n columns when n < 16).
T512 INLINE void tile_step(__m512 acc[MAX_R][MAX_BB], const float *const *x, const char *const *wrow,
                           int R, int BB, int k, int n, int bf16) {
    int full = n >= 16;
    __mmask16 m = full ? (__mmask16)0xffff : tail_mask(n);
    __m512 xv[MAX_BB];
    for (int b = 0; b < BB; b++) xv[b] = full ? _mm512_loadu_ps(x[b] + k) : _mm512_maskz_loadu_ps(m, x[b] + k);
    for (int r = 0; r < R; r++) {
        __m512 w = load_w(wrow[r], k, m, full, bf16);
        for (int b = 0; b < BB; b++) acc[r][b] = _mm512_fmadd_ps(w, xv[b], acc[r][b]);
    }
}

// Y[b0 .. b0+BB−1, 0 .. R−1] (+)= rows b0 .. b0+BB−1 of X · the R rows of W from W.
T512 INLINE void tile(float *Y, int ldy, st_xrows X, int b0, const void *W, int K,
                      int R, int BB, int accumulate, int bf16) {
    const size_t wsize = bf16 ? 2 : 4;
    const char *wrow[MAX_R];
    for (int r = 0; r < R; r++) wrow[r] = (const char *)W + (size_t)r * K * wsize;
    const float *x[MAX_BB];
    for (int b = 0; b < BB; b++) x[b] = st_xrow(X, b0 + b);
    __m512 acc[MAX_R][MAX_BB];
    for (int r = 0; r < R; r++)
        for (int b = 0; b < BB; b++) acc[r][b] = _mm512_setzero_ps();
    int k = 0;
    for (; k + 16 <= K; k += 16) tile_step(acc, x, wrow, R, BB, k, 16, bf16);
    if (k < K) tile_step(acc, x, wrow, R, BB, k, K - k, bf16);
    __m512 zero = _mm512_setzero_ps();
    for (int b = 0; b < BB; b++) {
        float *y = Y + (size_t)(b0 + b) * ldy;
        for (int r0 = 0; r0 < R; r0 += 4) {
            int n = R - r0 < 4 ? R - r0 : 4;
            __m128 s = hsum4(acc[r0][b], n > 1 ? acc[r0 + 1][b] : zero, n > 2 ? acc[r0 + 2][b] : zero,
                             n > 3 ? acc[r0 + 3][b] : zero);
            __mmask8 m = (__mmask8)((1u << n) - 1u);
            if (accumulate) s = _mm_add_ps(s, _mm_maskz_loadu_ps(m, y + r0));
            _mm_mask_storeu_ps(y + r0, m, s);
        }
    }
}

// R rows of W against all B rows of X, BB rows at a time.
T512 INLINE void row_block(float *Y, int ldy, st_xrows X, const void *W, int B, int K,
                           int R, int BB, int accumulate, int bf16) {
    int b = 0;
    for (; b + BB <= B; b += BB) tile(Y, ldy, X, b, W, K, R, BB, accumulate, bf16);
    switch (B - b) { // BB ≤ 4, so at most 3 rows remain
    case 3: tile(Y, ldy, X, b, W, K, R, 3, accumulate, bf16); break;
    case 2: tile(Y, ldy, X, b, W, K, R, 2, accumulate, bf16); break;
    case 1: tile(Y, ldy, X, b, W, K, R, 1, accumulate, bf16); break;
    }
}

// Y[B,M] (+)= X[B,K]·W[M,K]^T, R rows of W at a time; the R·K weights of one block stay in L1
// while every X row passes.
T512 INLINE void matmul(float *Y, int ldy, st_xrows X, const void *W, int B, int M,
                        int K, int R, int BB, int accumulate, int bf16) {
    const size_t wsize = bf16 ? 2 : 4;
    int m = 0;
    for (; m + R <= M; m += R)
        row_block(Y + m, ldy, X, (const char *)W + (size_t)m * K * wsize, B, K, R, BB, accumulate, bf16);
    const char *w = (const char *)W + (size_t)m * K * wsize;
    for (; m + 4 <= M; m += 4, w += 4 * K * wsize) // only when R = 8
        row_block(Y + m, ldy, X, w, B, K, 4, BB, accumulate, bf16);
    switch (M - m) {
    case 3: row_block(Y + m, ldy, X, w, B, K, 3, BB, accumulate, bf16); break;
    case 2: row_block(Y + m, ldy, X, w, B, K, 2, BB, accumulate, bf16); break;
    case 1: row_block(Y + m, ldy, X, w, B, K, 1, BB, accumulate, bf16); break;
    }
}

// The matrix X as st_xrows: contiguous rows ldx apart, or row pointers plus an offset.
#define STRIDED(X, ldx) ((st_xrows){(X), (size_t)(ldx), NULL, 0})
#define ROWS(X, off) ((st_xrows){NULL, 0, (X), (off)})

T512 void st_avx512_gemv(float *y, const float *W, const float *x, int M, int K, int accumulate) {
    matmul(y, 0, STRIDED(x, 0), W, 1, M, K, 8, 1, accumulate, 0);
}

T512 void st_avx512_gemm_nt_small(float *Y, int ldy, const float *X, int ldx, const float *W,
                                  int B, int M, int K, int accumulate) {
    if (B == 1) { st_avx512_gemv(Y, W, X, M, K, accumulate); return; }
    matmul(Y, ldy, STRIDED(X, ldx), W, B, M, K, 4, 4, accumulate, 0);
}

T512 void st_avx512_gemm_nt_small_rows(float *Y, int ldy, const float *const *X, size_t xoff, const float *W,
                                       int B, int M, int K, int accumulate) {
    if (B == 1) { st_avx512_gemv(Y, W, X[0] + xoff, M, K, accumulate); return; }
    matmul(Y, ldy, ROWS(X, xoff), W, B, M, K, 4, 4, accumulate, 0);
}

// gemv with bf16 weights: a 32-bit lane holding the pair (w[2i], w[2i+1]) yields both as floats
// with one shift (w[2i]) and one AND (w[2i+1]), cheaper than widening 16 values at a time. x is
// split into its even and odd elements to match, once per block of 16 rows (one accumulator a
// row keeps 16 rows within the 32 registers).
// acc[r] += w·x over the 32 columns from k (n of them valid: masks when n < 32).
T512 INLINE void pairs_step(__m512 *acc, const float *x, const uint16_t *W, int K, int R,
                            int k, int n) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i himask = _mm512_set1_epi32((int)0xffff0000u);
    __m512 x0, x1;
    __mmask32 mw = 0;
    if (n >= 32) {
        x0 = _mm512_loadu_ps(x + k);
        x1 = _mm512_loadu_ps(x + k + 16);
    } else {
        x0 = _mm512_maskz_loadu_ps(n >= 16 ? (__mmask16)0xffff : tail_mask(n), x + k);
        x1 = _mm512_maskz_loadu_ps(n > 16 ? tail_mask(n - 16) : 0, x + k + 16);
        mw = (__mmask32)((1ull << n) - 1u);
    }
    __m512 xe = _mm512_permutex2var_ps(x0, even, x1), xo = _mm512_permutex2var_ps(x0, odd, x1);
    for (int r = 0; r < R; r++) {
        const uint16_t *p = W + (size_t)r * K + k;
        __m512i w = n >= 32 ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi16(mw, p);
        acc[r] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(w, 16)), xe, acc[r]);
        acc[r] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(w, himask)), xo, acc[r]);
    }
}

T512 INLINE void tile_bf16_pairs(float *y, const float *x, const uint16_t *W, int K, int R, int accumulate) {
    __m512 acc[MAX_R];
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    int k = 0;
    for (; k + 32 <= K; k += 32) pairs_step(acc, x, W, K, R, k, 32);
    if (k < K) pairs_step(acc, x, W, K, R, k, K - k);
    __m512 zero = _mm512_setzero_ps();
    for (int r0 = 0; r0 < R; r0 += 4) {
        int n = R - r0 < 4 ? R - r0 : 4;
        __m128 s = hsum4(acc[r0], n > 1 ? acc[r0 + 1] : zero, n > 2 ? acc[r0 + 2] : zero,
                         n > 3 ? acc[r0 + 3] : zero);
        __mmask8 m = (__mmask8)((1u << n) - 1u);
        if (accumulate) s = _mm_add_ps(s, _mm_maskz_loadu_ps(m, y + r0));
        _mm_mask_storeu_ps(y + r0, m, s);
    }
}

T512 void st_avx512_gemv_bf16(float *y, const uint16_t *W, const float *x, int M, int K, int accumulate) {
    int m = 0;
    for (; m + 16 <= M; m += 16) tile_bf16_pairs(y + m, x, W + (size_t)m * K, K, 16, accumulate);
    for (; m + 8 <= M; m += 8) tile_bf16_pairs(y + m, x, W + (size_t)m * K, K, 8, accumulate);
    for (; m + 4 <= M; m += 4) tile_bf16_pairs(y + m, x, W + (size_t)m * K, K, 4, accumulate);
    switch (M - m) {
    case 3: tile_bf16_pairs(y + m, x, W + (size_t)m * K, K, 3, accumulate); break;
    case 2: tile_bf16_pairs(y + m, x, W + (size_t)m * K, K, 2, accumulate); break;
    case 1: tile_bf16_pairs(y + m, x, W + (size_t)m * K, K, 1, accumulate); break;
    }
}

T512 void st_avx512_gemm_nt_small_bf16(float *Y, int ldy, const float *X, int ldx, const uint16_t *W,
                                       int B, int M, int K, int accumulate) {
    if (B == 1) { st_avx512_gemv_bf16(Y, W, X, M, K, accumulate); return; }
    matmul(Y, ldy, STRIDED(X, ldx), W, B, M, K, 4, 4, accumulate, 1);
}

T512 void st_avx512_gemm_nt_small_bf16_rows(float *Y, int ldy, const float *const *X, size_t xoff,
                                            const uint16_t *W, int B, int M, int K, int accumulate) {
    if (B == 1) { st_avx512_gemv_bf16(Y, W, X[0] + xoff, M, K, accumulate); return; }
    matmul(Y, ldy, ROWS(X, xoff), W, B, M, K, 4, 4, accumulate, 1);
}

// Packed gemv (see streamtag_kernels.h): the pairs trick of tile_bf16_pairs, with the weights
// read front to back in one stream. 1.2x faster than the row-major kernel at 1024x256 (16 rows
// interleaved 512 bytes apart defeat the prefetchers more than one sequential stream), with
// bitwise the same sums.

// y[m0 .. m0+15] (+)= the lane sums of acc, for the rows below M.
T512 INLINE void store_block(float *y, const __m512 acc[16], int rows, int accumulate) {
    for (int r0 = 0; r0 < 16 && r0 < rows; r0 += 4) {
        int n = rows - r0 < 4 ? rows - r0 : 4;
        __m128 s = hsum4(acc[r0], acc[r0 + 1], acc[r0 + 2], acc[r0 + 3]);
        __mmask8 m = (__mmask8)((1u << n) - 1u);
        if (accumulate) s = _mm_add_ps(s, _mm_maskz_loadu_ps(m, y + r0));
        _mm_mask_storeu_ps(y + r0, m, s);
    }
}

// x[k .. k+31] (zeros past K) as two vectors.
T512 INLINE void load_x32(const float *x, int k, int K, __m512 *a, __m512 *b) {
    int n = K - k;
    *a = n >= 16 ? _mm512_loadu_ps(x + k) : _mm512_maskz_loadu_ps(tail_mask(n), x + k);
    *b = n >= 32 ? _mm512_loadu_ps(x + k + 16) : _mm512_maskz_loadu_ps(n > 16 ? tail_mask(n - 16) : 0, x + k + 16);
}

T512 void st_avx512_gemv_bf16_packed(float *y, const uint16_t *P, const float *x, int M, int K, int accumulate) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i himask = _mm512_set1_epi32((int)0xffff0000u);
    const int nk = (K + 31) / 32;
    __m512 xe[nk], xo[nk];
    for (int c = 0; c < nk; c++) {
        __m512 a, b;
        load_x32(x, 32 * c, K, &a, &b);
        xe[c] = _mm512_permutex2var_ps(a, even, b);
        xo[c] = _mm512_permutex2var_ps(a, odd, b);
    }
    for (int m0 = 0; m0 < M; m0 += 16) {
        __m512 acc[16];
        for (int r = 0; r < 16; r++) acc[r] = _mm512_setzero_ps();
        for (int c = 0; c < nk; c++) {
            for (int r = 0; r < 16; r++, P += 32) {
                __m512i w = _mm512_loadu_si512(P);
                acc[r] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(w, 16)), xe[c], acc[r]);
                acc[r] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(w, himask)), xo[c], acc[r]);
            }
        }
        store_block(y + m0, acc, M - m0, accumulate);
    }
}

// With AVX512-BF16: vdpbf16ps multiplies bf16 pairs exactly and adds them in fp32, 32 products
// an instruction. x rounded to bf16 alone would cost 3 decimal digits (max error 2e-2 at
// 1024x256), so x is split, x ≈ hi + lo with hi = bf16(x), lo = bf16(x − hi): two vdpbf16ps per
// slice, each term within 2^-17 of exact (measured 4e-5 at 1024x256 against 2e-6 for the fp32
// FMAs, both far below the 1e-2 that rounding the weights to bf16 moves the sums), 1.15x faster
// than the fp32 FMAs on Zen 4.
#define T512BF16 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,avx2,fma,f16c")))

T512BF16 void st_avx512bf16_gemv_bf16_packed(float *y, const uint16_t *P, const float *x, int M, int K,
                                             int accumulate) {
    const int nk = (K + 31) / 32;
    __m512bh xh[nk], xl[nk];
    for (int c = 0; c < nk; c++) {
        __m512 a, b;
        load_x32(x, 32 * c, K, &a, &b);
        __m512i hi = (__m512i)_mm512_cvtne2ps_pbh(b, a); // x[k .. k+31] rounded, in order
        __m512 ha = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(hi)), 16));
        __m512 hb = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(hi, 1)), 16));
        xh[c] = (__m512bh)hi;
        xl[c] = _mm512_cvtne2ps_pbh(_mm512_sub_ps(b, hb), _mm512_sub_ps(a, ha)); // x − hi is exact
    }
    for (int m0 = 0; m0 < M; m0 += 16) {
        __m512 acc[16];
        for (int r = 0; r < 16; r++) acc[r] = _mm512_setzero_ps();
        for (int c = 0; c < nk; c++) {
            for (int r = 0; r < 16; r++, P += 32) {
                __m512bh w = (__m512bh)_mm512_loadu_si512(P);
                acc[r] = _mm512_dpbf16_ps(acc[r], w, xh[c]);
                acc[r] = _mm512_dpbf16_ps(acc[r], w, xl[c]);
            }
        }
        store_block(y + m0, acc, M - m0, accumulate);
    }
}

// ---------------------------------------------------------------------------------------------
// Conversions, 16 values at a time; the last partial vector uses masks.

T512 void st_avx512_f32_to_bf16(uint16_t *out, const float *in, size_t n) {
    // Integer rounding, as generic.c: vcvtneps2bf16 would flush subnormals to zero.
    const __m512i absmask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
    const __m512i bias = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1);
    const __m512i quiet = _mm512_set1_epi32(0x40);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : tail_mask((int)(n - i));
        __m512i u = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, in + i));
        __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, absmask), inf);
        __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), one);
        __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(bias, odd)), 16);
        r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(u, 16), quiet);
        _mm512_mask_cvtepi32_storeu_epi16(out + i, m, r);
    }
}

T512 void st_avx512_bf16_to_f32(float *out, const uint16_t *in, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : tail_mask((int)(n - i));
        __m512i v = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, in + i));
        _mm512_mask_storeu_ps(out + i, m, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
    }
}

T512 void st_avx512_f32_to_f16(uint16_t *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : tail_mask((int)(n - i));
        __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(out + i, m, h);
    }
}

T512 void st_avx512_f16_to_f32(float *out, const uint16_t *in, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : tail_mask((int)(n - i));
        _mm512_mask_storeu_ps(out + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, in + i)));
    }
}

// ---------------------------------------------------------------------------------------------
// Activations: the algorithm of generic.c (see kernels_internal.h), 16 lanes at a time.
// vscalefps multiplies by 2^n with correct subnormal results, replacing the two-step scaling.

T512 INLINE __m512 expm1_reduced(__m512 r) {
    __m512 q = _mm512_set1_ps(ST_EXP_C6);
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(ST_EXP_C5));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(ST_EXP_C4));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(ST_EXP_C3));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(ST_EXP_C2));
    return _mm512_fmadd_ps(_mm512_mul_ps(r, r), q, r);
}

// n = round(y·log2 e) and r = y − n·ln2.
T512 INLINE __m512 reduce(__m512 y, __m512 *n) {
    *n = _mm512_roundscale_ps(_mm512_mul_ps(y, _mm512_set1_ps(ST_LOG2E)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(*n, _mm512_set1_ps(ST_LN2_HI), y);
    return _mm512_fnmadd_ps(*n, _mm512_set1_ps(ST_LN2_LO), r);
}

T512 INLINE __m512 sigmoid16(__m512 x) {
    // min(C, a) returns a when a is NaN, so NaN propagates.
    __m512 a = _mm512_min_ps(_mm512_set1_ps(ST_SIGMOID_CLAMP), _mm512_abs_ps(x));
    __m512 n, r = reduce(_mm512_sub_ps(_mm512_setzero_ps(), a), &n);
    __m512 e = _mm512_scalef_ps(_mm512_add_ps(expm1_reduced(r), _mm512_set1_ps(1.0f)), n);
    __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    __m512 num = _mm512_mask_blend_ps(neg, _mm512_set1_ps(1.0f), e);
    return _mm512_div_ps(num, _mm512_add_ps(e, _mm512_set1_ps(1.0f)));
}

T512 INLINE __m512 tanh16(__m512 x) {
    __m512 a = _mm512_min_ps(_mm512_set1_ps(ST_TANH_CLAMP), _mm512_abs_ps(x));
    __m512 n, r = reduce(_mm512_mul_ps(a, _mm512_set1_ps(-2.0f)), &n);
    __m512 s = _mm512_scalef_ps(_mm512_set1_ps(1.0f), n);
    __m512 m = _mm512_fmadd_ps(expm1_reduced(r), s, _mm512_sub_ps(s, _mm512_set1_ps(1.0f)));
    __m512 t = _mm512_div_ps(m, _mm512_sub_ps(_mm512_set1_ps(-2.0f), m)); // = −m/(2 + m) ≥ 0
    // Sign bit from x, the rest from t (0xCA: select b where a is set, else c).
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(
        _mm512_set1_epi32((int)0x80000000u), _mm512_castps_si512(x), _mm512_castps_si512(t), 0xCA));
}

// Plain loads and stores for full vectors; masked ones (slower) only for the last partial one.
T512 INLINE __m512 ld(const float *p, __mmask16 m, int full) {
    return full ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
}
T512 INLINE void st(float *p, __mmask16 m, __m512 v, int full) {
    if (full) _mm512_storeu_ps(p, v);
    else _mm512_mask_storeu_ps(p, m, v);
}

T512 void st_avx512_sigmoid(float *out, const float *in, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, sigmoid16(_mm512_loadu_ps(in + i)));
    if (i < n) {
        __mmask16 m = tail_mask((int)(n - i));
        _mm512_mask_storeu_ps(out + i, m, sigmoid16(_mm512_maskz_loadu_ps(m, in + i)));
    }
}

T512 void st_avx512_tanh(float *out, const float *in, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, tanh16(_mm512_loadu_ps(in + i)));
    if (i < n) {
        __mmask16 m = tail_mask((int)(n - i));
        _mm512_mask_storeu_ps(out + i, m, tanh16(_mm512_maskz_loadu_ps(m, in + i)));
    }
}

T512 INLINE void lstm_vec(float *hb, float *cb, const float *pi, const float *ph, int H, float *a,
                          float *tcb, int j, __mmask16 m, int full) {
    __m512 zi = ld(pi + j, m, full), zf = ld(pi + H + j, m, full);
    __m512 zg = ld(pi + 2 * H + j, m, full), zo = ld(pi + 3 * H + j, m, full);
    if (ph) {
        zi = _mm512_add_ps(zi, ld(ph + j, m, full));
        zf = _mm512_add_ps(zf, ld(ph + H + j, m, full));
        zg = _mm512_add_ps(zg, ld(ph + 2 * H + j, m, full));
        zo = _mm512_add_ps(zo, ld(ph + 3 * H + j, m, full));
    }
    __m512 ig = sigmoid16(zi), fg = sigmoid16(zf), gg = tanh16(zg), og = sigmoid16(zo);
    __m512 cn = _mm512_fmadd_ps(fg, ld(cb + j, m, full), _mm512_mul_ps(ig, gg));
    __m512 tc = tanh16(cn);
    st(cb + j, m, cn, full);
    st(hb + j, m, _mm512_mul_ps(og, tc), full);
    if (a) {
        st(a + j, m, ig, full);
        st(a + H + j, m, fg, full);
        st(a + 2 * H + j, m, gg, full);
        st(a + 3 * H + j, m, og, full);
        st(tcb + j, m, tc, full);
    }
}

// One batch member's LSTM update: H columns, 16 at a time.
T512 INLINE void lstm_row(float *hb, float *cb, const float *pi, const float *ph, int H, float *a, float *tcb) {
    int j = 0;
    for (; j + 16 <= H; j += 16) lstm_vec(hb, cb, pi, ph, H, a, tcb, j, 0xffff, 1);
    if (j < H) lstm_vec(hb, cb, pi, ph, H, a, tcb, j, tail_mask(H - j), 0);
}

T512 void st_avx512_lstm_cell(float *h, int ldh, float *c, int ldc, const float *gi, int ldgi,
                              const float *gh, int ldgh, int B, int H, float *acts, float *acts_tc) {
    for (int b = 0; b < B; b++) {
        const float *pi = gi + (size_t)b * ldgi, *ph = gh == gi ? NULL : gh + (size_t)b * ldgh;
        float *a = acts ? acts + (size_t)b * 4 * H : NULL, *tcb = acts ? acts_tc + (size_t)b * H : NULL;
        lstm_row(h + (size_t)b * ldh, c + (size_t)b * ldc, pi, ph, H, a, tcb);
    }
}

T512 void st_avx512_lstm_cell_rows(float *const *rows, size_t h_off, size_t c_off, const float *const *gi,
                                   const float *gh, int ldgh, int B, int H) {
    for (int b = 0; b < B; b++)
        lstm_row(rows[b] + h_off, rows[b] + c_off, gi[b], gh + (size_t)b * ldgh, H, NULL, NULL);
}

T512 INLINE void gru_vec(float *hb, const float *pi, const float *ph, int H, float *a, int j,
                         __mmask16 m, int full) {
    __m512 r = sigmoid16(_mm512_add_ps(ld(pi + j, m, full), ld(ph + j, m, full)));
    __m512 z = sigmoid16(_mm512_add_ps(ld(pi + H + j, m, full), ld(ph + H + j, m, full)));
    __m512 nn = tanh16(_mm512_fmadd_ps(r, ld(ph + 2 * H + j, m, full), ld(pi + 2 * H + j, m, full)));
    __m512 hv = ld(hb + j, m, full);
    // (1 − z)·n + z·h, as generic.c computes it
    st(hb + j, m, _mm512_fmadd_ps(z, hv, _mm512_mul_ps(_mm512_sub_ps(_mm512_set1_ps(1.0f), z), nn)), full);
    if (a) {
        st(a + j, m, r, full);
        st(a + H + j, m, z, full);
        st(a + 2 * H + j, m, nn, full);
    }
}

T512 INLINE void gru_row(float *hb, const float *pi, const float *ph, int H, float *a) {
    int j = 0;
    for (; j + 16 <= H; j += 16) gru_vec(hb, pi, ph, H, a, j, 0xffff, 1);
    if (j < H) gru_vec(hb, pi, ph, H, a, j, tail_mask(H - j), 0);
}

T512 void st_avx512_gru_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                             int B, int H, float *acts) {
    for (int b = 0; b < B; b++)
        gru_row(h + (size_t)b * ldh, gi + (size_t)b * ldgi, gh + (size_t)b * ldgh, H,
                acts ? acts + (size_t)b * 3 * H : NULL);
}

T512 void st_avx512_gru_cell_rows(float *const *rows, size_t h_off, const float *const *gi,
                                  const float *gh, int ldgh, int B, int H) {
    for (int b = 0; b < B; b++)
        gru_row(rows[b] + h_off, gi[b], gh + (size_t)b * ldgh, H, NULL);
}

T512 INLINE void rnn_vec(float *hb, const float *pi, const float *ph, int relu, int j, __mmask16 m, int full) {
    __m512 z = _mm512_add_ps(ld(pi + j, m, full), ld(ph + j, m, full));
    // z < 0 ? 0 : z, so that NaN passes through as in generic.c
    __m512 v = relu ? _mm512_mask_mov_ps(z, _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_LT_OQ),
                                         _mm512_setzero_ps())
                    : tanh16(z);
    st(hb + j, m, v, full);
}

T512 INLINE void rnn_row(float *hb, const float *pi, const float *ph, int H, int relu) {
    int j = 0;
    for (; j + 16 <= H; j += 16) rnn_vec(hb, pi, ph, relu, j, 0xffff, 1);
    if (j < H) rnn_vec(hb, pi, ph, relu, j, tail_mask(H - j), 0);
}

T512 void st_avx512_rnn_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                             int B, int H, int relu) {
    for (int b = 0; b < B; b++) rnn_row(h + (size_t)b * ldh, gi + (size_t)b * ldgi, gh + (size_t)b * ldgh, H, relu);
}

T512 void st_avx512_rnn_cell_rows(float *const *rows, size_t h_off, const float *const *gi,
                                  const float *gh, int ldgh, int B, int H, int relu) {
    for (int b = 0; b < B; b++)
        rnn_row(rows[b] + h_off, gi[b], gh + (size_t)b * ldgh, H, relu);
}
#endif
