// AVX2 + FMA + F16C versions of every kernel (8 lanes). Each function carries its own target
// attribute, so this file builds without -march flags; dispatch.c only calls it on CPUs that
// have these extensions.
#if defined(__x86_64__)
#include "kernels_internal.h"
#include <immintrin.h>

#define T256 __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

// Lanes 0..n−1 set, for maskload/maskstore of a partial vector (0 ≤ n ≤ 8).
T256 INLINE __m256i tail_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// ---------------------------------------------------------------------------------------------
// Matrix kernels: same tiling as avx512.c (R weight rows × BB rows of X per tile, each 8-wide
// weight slice loaded once per tile, X's rows found through st_xrows once per tile), sized for
// 16 ymm registers.

// [Σa, Σb, Σc, Σd]
T256 INLINE __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
    __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

// 8 weights of row `w` from column k; `n` < 8 for the last partial slice of fp32 weights
// (bf16 tails are summed separately, see tile).
T256 INLINE __m256 load_w(const void *w, int k, int n, int bf16) {
    if (bf16) {
        __m128i v = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + k));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16));
    }
    if (n >= 8) return _mm256_loadu_ps((const float *)w + k);
    return _mm256_maskload_ps((const float *)w + k, tail_mask(n));
}

T256 INLINE __m256 load_x(const float *x, int n) {
    return n >= 8 ? _mm256_loadu_ps(x) : _mm256_maskload_ps(x, tail_mask(n));
}

enum { MAX_R = 4, MAX_BB = 2 };

static inline float bf16_value(uint16_t v) {
    uint32_t u = (uint32_t)v << 16;
    float f;
    __builtin_memcpy(&f, &u, 4);
    return f;
}

// Y[b0 .. b0+BB−1, 0 .. R−1] (+)= rows b0 .. b0+BB−1 of X · the R rows of W from W.
T256 INLINE void tile(float *Y, int ldy, st_xrows X, int b0, const void *W, int K,
                      int R, int BB, int accumulate, int bf16) {
    const size_t wsize = bf16 ? 2 : 4;
    const float *xr[MAX_BB];
    for (int b = 0; b < BB; b++) xr[b] = st_xrow(X, b0 + b);
    __m256 acc[MAX_R][MAX_BB];
    for (int r = 0; r < R; r++)
        for (int b = 0; b < BB; b++) acc[r][b] = _mm256_setzero_ps();
    // No 16-bit masked load before AVX-512: bf16 rows stop at the last full 8 and the few
    // columns left are added in scalar code below.
    const int Kv = bf16 ? K & ~7 : K;
    for (int k = 0; k < Kv; k += 8) {
        int n = K - k;
        __m256 x[MAX_BB];
        for (int b = 0; b < BB; b++) x[b] = load_x(xr[b] + k, n);
        for (int r = 0; r < R; r++) {
            __m256 w = load_w((const char *)W + (size_t)r * K * wsize, k, n, bf16);
            for (int b = 0; b < BB; b++) acc[r][b] = _mm256_fmadd_ps(w, x[b], acc[r][b]);
        }
    }
    __m256 zero = _mm256_setzero_ps();
    for (int b = 0; b < BB; b++) {
        float *y = Y + (size_t)(b0 + b) * ldy;
        __m128 s = hsum4(acc[0][b], R > 1 ? acc[1][b] : zero, R > 2 ? acc[2][b] : zero,
                         R > 3 ? acc[3][b] : zero);
        if (Kv < K) {
            float t[4] = {0, 0, 0, 0};
            const float *x = xr[b];
            for (int r = 0; r < R; r++) {
                const uint16_t *w = (const uint16_t *)W + (size_t)r * K;
                for (int k = Kv; k < K; k++) t[r] += bf16_value(w[k]) * x[k];
            }
            s = _mm_add_ps(s, _mm_loadu_ps(t));
        }
        if (R == 4) {
            if (accumulate) s = _mm_add_ps(s, _mm_loadu_ps(y));
            _mm_storeu_ps(y, s);
        } else {
            float t[4];
            _mm_storeu_ps(t, s);
            for (int r = 0; r < R; r++) y[r] = accumulate ? y[r] + t[r] : t[r];
        }
    }
}

T256 INLINE void row_block(float *Y, int ldy, st_xrows X, const void *W, int B, int K,
                           int R, int BB, int accumulate, int bf16) {
    int b = 0;
    for (; b + BB <= B; b += BB) tile(Y, ldy, X, b, W, K, R, BB, accumulate, bf16);
    if (b < B) // BB ≤ 2: one row left
        tile(Y, ldy, X, b, W, K, R, 1, accumulate, bf16);
}

// Y[B,M] (+)= X[B,K]·W[M,K]^T, 4 rows of W at a time.
T256 INLINE void matmul(float *Y, int ldy, st_xrows X, const void *W, int B, int M,
                        int K, int BB, int accumulate, int bf16) {
    const size_t wsize = bf16 ? 2 : 4;
    int m = 0;
    for (; m + 4 <= M; m += 4)
        row_block(Y + m, ldy, X, (const char *)W + (size_t)m * K * wsize, B, K, 4, BB, accumulate, bf16);
    const char *w = (const char *)W + (size_t)m * K * wsize;
    switch (M - m) {
    case 3: row_block(Y + m, ldy, X, w, B, K, 3, BB, accumulate, bf16); break;
    case 2: row_block(Y + m, ldy, X, w, B, K, 2, BB, accumulate, bf16); break;
    case 1: row_block(Y + m, ldy, X, w, B, K, 1, BB, accumulate, bf16); break;
    }
}

// The matrix X as st_xrows: contiguous rows ldx apart, or row pointers plus an offset.
#define STRIDED(X, ldx) ((st_xrows){(X), (size_t)(ldx), NULL, 0})
#define ROWS(X, off) ((st_xrows){NULL, 0, (X), (off)})

T256 void st_avx2_gemv(float *y, const float *W, const float *x, int M, int K, int accumulate) {
    matmul(y, 0, STRIDED(x, 0), W, 1, M, K, 1, accumulate, 0);
}

T256 void st_avx2_gemm_nt_small(float *Y, int ldy, const float *X, int ldx, const float *W,
                                int B, int M, int K, int accumulate) {
    matmul(Y, ldy, STRIDED(X, ldx), W, B, M, K, 2, accumulate, 0);
}

T256 void st_avx2_gemm_nt_small_rows(float *Y, int ldy, const float *const *X, size_t xoff, const float *W,
                                     int B, int M, int K, int accumulate) {
    matmul(Y, ldy, ROWS(X, xoff), W, B, M, K, 2, accumulate, 0);
}

// gemv with bf16 weights, as in avx512.c: each 32-bit lane holds the pair (w[2i], w[2i+1]),
// which one shift and one AND turn into two floats; x is split into even and odd elements to
// match, once per 16 columns for a block of R rows. Columns past the last full 16 are summed in
// scalar code.
T256 INLINE void tile_bf16_pairs(float *y, const float *x, const uint16_t *W, int K, int R, int accumulate) {
    const __m256i himask = _mm256_set1_epi32((int)0xffff0000u);
    __m256 acc[8];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    int k = 0;
    for (; k + 16 <= K; k += 16) {
        __m256 x0 = _mm256_loadu_ps(x + k), x1 = _mm256_loadu_ps(x + k + 8);
        // shuffle_ps works within 128-bit halves: [x0 x2 x8 x10 | x4 x6 x12 x14] -> natural order
        __m256 xe = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(_mm256_shuffle_ps(x0, x1, _MM_SHUFFLE(2, 0, 2, 0))), 0xd8));
        __m256 xo = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(_mm256_shuffle_ps(x0, x1, _MM_SHUFFLE(3, 1, 3, 1))), 0xd8));
        for (int r = 0; r < R; r++) {
            __m256i w = _mm256_loadu_si256((const __m256i *)(W + (size_t)r * K + k));
            acc[r] = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(w, 16)), xe, acc[r]);
            acc[r] = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(w, himask)), xo, acc[r]);
        }
    }
    __m256 zero = _mm256_setzero_ps();
    for (int r0 = 0; r0 < R; r0 += 4) {
        int n = R - r0 < 4 ? R - r0 : 4;
        __m128 s = hsum4(acc[r0], n > 1 ? acc[r0 + 1] : zero, n > 2 ? acc[r0 + 2] : zero,
                         n > 3 ? acc[r0 + 3] : zero);
        float t[4];
        _mm_storeu_ps(t, s);
        for (int r = 0; r < n; r++) {
            const uint16_t *w = W + (size_t)(r0 + r) * K;
            for (int kk = k; kk < K; kk++) t[r] += bf16_value(w[kk]) * x[kk];
            y[r0 + r] = accumulate ? y[r0 + r] + t[r] : t[r];
        }
    }
}

T256 void st_avx2_gemv_bf16(float *y, const uint16_t *W, const float *x, int M, int K, int accumulate) {
    int m = 0;
    for (; m + 8 <= M; m += 8) tile_bf16_pairs(y + m, x, W + (size_t)m * K, K, 8, accumulate);
    for (; m + 4 <= M; m += 4) tile_bf16_pairs(y + m, x, W + (size_t)m * K, K, 4, accumulate);
    switch (M - m) {
    case 3: tile_bf16_pairs(y + m, x, W + (size_t)m * K, K, 3, accumulate); break;
    case 2: tile_bf16_pairs(y + m, x, W + (size_t)m * K, K, 2, accumulate); break;
    case 1: tile_bf16_pairs(y + m, x, W + (size_t)m * K, K, 1, accumulate); break;
    }
}

// Packed gemv (see streamtag_kernels.h), the pairs trick above on one stream of weights: each
// 16-row block in two halves of 8 rows (16 ymm registers hold 8 accumulators and the x slices).
T256 void st_avx2_gemv_bf16_packed(float *y, const uint16_t *P, const float *x, int M, int K, int accumulate) {
    const int nk = (K + 31) / 32;
    __m256 xe[2 * nk], xo[2 * nk]; // even and odd elements of each 16 columns (zero past K)
    for (int c = 0; c < 2 * nk; c++) {
        int k = 16 * c, n = K - k;
        __m256 x0 = n >= 8 ? _mm256_loadu_ps(x + k) : _mm256_maskload_ps(x + k, tail_mask(n > 0 ? n : 0));
        __m256 x1 = n >= 16 ? _mm256_loadu_ps(x + k + 8) : _mm256_maskload_ps(x + k + 8, tail_mask(n > 8 ? n - 8 : 0));
        xe[c] = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(_mm256_shuffle_ps(x0, x1, _MM_SHUFFLE(2, 0, 2, 0))), 0xd8));
        xo[c] = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(_mm256_shuffle_ps(x0, x1, _MM_SHUFFLE(3, 1, 3, 1))), 0xd8));
    }
    const __m256i himask = _mm256_set1_epi32((int)0xffff0000u);
    const __m256 zero = _mm256_setzero_ps();
    for (int m0 = 0; m0 < M; m0 += 16, P += (size_t)nk * 512) {
        for (int g = 0; g < 16 && m0 + g < M; g += 8) {
            __m256 acc[8];
            for (int r = 0; r < 8; r++) acc[r] = zero;
            for (int c = 0; c < nk; c++) {
                const uint16_t *p = P + ((size_t)c * 16 + g) * 32;
                for (int r = 0; r < 8; r++, p += 32) {
                    __m256i w0 = _mm256_loadu_si256((const __m256i *)p);
                    __m256i w1 = _mm256_loadu_si256((const __m256i *)(p + 16));
                    acc[r] = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(w0, 16)), xe[2 * c], acc[r]);
                    acc[r] = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(w0, himask)), xo[2 * c], acc[r]);
                    acc[r] = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(w1, 16)), xe[2 * c + 1], acc[r]);
                    acc[r] = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(w1, himask)), xo[2 * c + 1], acc[r]);
                }
            }
            for (int r0 = 0; r0 < 8; r0 += 4) {
                int n = M - (m0 + g + r0);
                if (n <= 0) break;
                float t[4];
                _mm_storeu_ps(t, hsum4(acc[r0], acc[r0 + 1], acc[r0 + 2], acc[r0 + 3]));
                for (int r = 0; r < 4 && r < n; r++) {
                    float *o = y + m0 + g + r0 + r;
                    *o = accumulate ? *o + t[r] : t[r];
                }
            }
        }
    }
}

T256 void st_avx2_gemm_nt_small_bf16(float *Y, int ldy, const float *X, int ldx, const uint16_t *W,
                                     int B, int M, int K, int accumulate) {
    matmul(Y, ldy, STRIDED(X, ldx), W, B, M, K, 2, accumulate, 1);
}

T256 void st_avx2_gemm_nt_small_bf16_rows(float *Y, int ldy, const float *const *X, size_t xoff,
                                          const uint16_t *W, int B, int M, int K, int accumulate) {
    matmul(Y, ldy, ROWS(X, xoff), W, B, M, K, 2, accumulate, 1);
}

// ---------------------------------------------------------------------------------------------
// Conversions, 8 values at a time; the last few go through generic.c.

T256 void st_avx2_f32_to_bf16(uint16_t *out, const float *in, size_t n) {
    const __m256i absmask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
    const __m256i bias = _mm256_set1_epi32(0x7fff), one = _mm256_set1_epi32(1);
    const __m256i quiet = _mm256_set1_epi32(0x40);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i u = _mm256_loadu_si256((const __m256i *)(in + i));
        __m256i hi = _mm256_srli_epi32(u, 16);
        __m256i r = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(bias, _mm256_and_si256(hi, one))), 16);
        __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, absmask), inf); // signed compare is fine: both ≥ 0
        r = _mm256_blendv_epi8(r, _mm256_or_si256(hi, quiet), nan);
        // packus works within 128-bit lanes: gather the two halves' results into the low lane
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
        _mm_storeu_si128((__m128i *)(out + i), _mm256_castsi256_si128(p));
    }
    st_generic_f32_to_bf16(out + i, in + i, n - i);
}

T256 void st_avx2_bf16_to_f32(float *out, const uint16_t *in, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(in + i)));
        _mm256_storeu_ps(out + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
    }
    st_generic_bf16_to_f32(out + i, in + i, n - i);
}

T256 void st_avx2_f32_to_f16(uint16_t *out, const float *in, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
    st_generic_f32_to_f16(out + i, in + i, n - i);
}

T256 void st_avx2_f16_to_f32(float *out, const uint16_t *in, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(in + i))));
    st_generic_f16_to_f32(out + i, in + i, n - i);
}

// ---------------------------------------------------------------------------------------------
// Activations: the algorithm of generic.c (see kernels_internal.h), 8 lanes at a time.

T256 INLINE __m256 expm1_reduced(__m256 r) {
    __m256 q = _mm256_set1_ps(ST_EXP_C6);
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(ST_EXP_C5));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(ST_EXP_C4));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(ST_EXP_C3));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(ST_EXP_C2));
    return _mm256_fmadd_ps(_mm256_mul_ps(r, r), q, r);
}

// n = round(y·log2 e) (as an integer) and r = y − n·ln2.
T256 INLINE __m256 reduce(__m256 y, __m256i *ni) {
    __m256 n = _mm256_round_ps(_mm256_mul_ps(y, _mm256_set1_ps(ST_LOG2E)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    *ni = _mm256_cvtps_epi32(n);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(ST_LN2_HI), y);
    return _mm256_fnmadd_ps(n, _mm256_set1_ps(ST_LN2_LO), r);
}

// 2^n for −126 ≤ n ≤ 127.
T256 INLINE __m256 pow2(__m256i n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
}

T256 INLINE __m256 sigmoid8(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 a = _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
    a = _mm256_min_ps(_mm256_set1_ps(ST_SIGMOID_CLAMP), a); // keeps NaN (second operand)
    __m256i ni;
    __m256 r = reduce(_mm256_sub_ps(_mm256_setzero_ps(), a), &ni);
    __m256 p = _mm256_add_ps(expm1_reduced(r), one);
    // 2^n is not a normal float below n = −126: scale in two steps there.
    __m256i tiny = _mm256_cmpgt_epi32(_mm256_set1_epi32(-126), ni);
    __m256i n1 = _mm256_add_epi32(ni, _mm256_and_si256(tiny, _mm256_set1_epi32(64)));
    __m256 e = _mm256_mul_ps(p, pow2(n1));
    e = _mm256_blendv_ps(e, _mm256_mul_ps(e, _mm256_set1_ps(0x1p-64f)), _mm256_castsi256_ps(tiny));
    __m256 num = _mm256_blendv_ps(one, e, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
    return _mm256_div_ps(num, _mm256_add_ps(e, one));
}

T256 INLINE __m256 tanh8(__m256 x) {
    const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    __m256 a = _mm256_min_ps(_mm256_set1_ps(ST_TANH_CLAMP), _mm256_andnot_ps(sign, x));
    __m256i ni;
    __m256 r = reduce(_mm256_mul_ps(a, _mm256_set1_ps(-2.0f)), &ni);
    __m256 s = pow2(ni);
    __m256 m = _mm256_fmadd_ps(expm1_reduced(r), s, _mm256_sub_ps(s, _mm256_set1_ps(1.0f)));
    __m256 t = _mm256_div_ps(m, _mm256_sub_ps(_mm256_set1_ps(-2.0f), m)); // = −m/(2 + m) ≥ 0
    return _mm256_or_ps(_mm256_andnot_ps(sign, t), _mm256_and_ps(sign, x));
}

T256 void st_avx2_sigmoid(float *out, const float *in, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, sigmoid8(_mm256_loadu_ps(in + i)));
    if (i < n) {
        __m256i m = tail_mask((int)(n - i));
        _mm256_maskstore_ps(out + i, m, sigmoid8(_mm256_maskload_ps(in + i, m)));
    }
}

T256 void st_avx2_tanh(float *out, const float *in, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, tanh8(_mm256_loadu_ps(in + i)));
    if (i < n) {
        __m256i m = tail_mask((int)(n - i));
        _mm256_maskstore_ps(out + i, m, tanh8(_mm256_maskload_ps(in + i, m)));
    }
}

// The cells go 8 columns at a time; only the last partial vector uses maskload/maskstore
// (a masked store is microcoded and slow on AMD CPUs).

T256 INLINE __m256 ld(const float *p, __m256i m, int full) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
}
T256 INLINE void st(float *p, __m256i m, __m256 v, int full) {
    if (full) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, m, v);
}

T256 INLINE void lstm_vec(float *hb, float *cb, const float *pi, const float *ph, int H, float *a,
                          float *tcb, int j, __m256i m, int full) {
    __m256 zi = ld(pi + j, m, full), zf = ld(pi + H + j, m, full);
    __m256 zg = ld(pi + 2 * H + j, m, full), zo = ld(pi + 3 * H + j, m, full);
    if (ph) {
        zi = _mm256_add_ps(zi, ld(ph + j, m, full));
        zf = _mm256_add_ps(zf, ld(ph + H + j, m, full));
        zg = _mm256_add_ps(zg, ld(ph + 2 * H + j, m, full));
        zo = _mm256_add_ps(zo, ld(ph + 3 * H + j, m, full));
    }
    __m256 ig = sigmoid8(zi), fg = sigmoid8(zf), gg = tanh8(zg), og = sigmoid8(zo);
    __m256 cn = _mm256_fmadd_ps(fg, ld(cb + j, m, full), _mm256_mul_ps(ig, gg));
    __m256 tc = tanh8(cn);
    st(cb + j, m, cn, full);
    st(hb + j, m, _mm256_mul_ps(og, tc), full);
    if (a) {
        st(a + j, m, ig, full);
        st(a + H + j, m, fg, full);
        st(a + 2 * H + j, m, gg, full);
        st(a + 3 * H + j, m, og, full);
        st(tcb + j, m, tc, full);
    }
}

// One batch member's LSTM update: H columns, 8 at a time.
T256 INLINE void lstm_row(float *hb, float *cb, const float *pi, const float *ph, int H, float *a, float *tcb) {
    int j = 0;
    for (; j + 8 <= H; j += 8) lstm_vec(hb, cb, pi, ph, H, a, tcb, j, _mm256_setzero_si256(), 1);
    if (j < H) lstm_vec(hb, cb, pi, ph, H, a, tcb, j, tail_mask(H - j), 0);
}

T256 void st_avx2_lstm_cell(float *h, int ldh, float *c, int ldc, const float *gi, int ldgi,
                            const float *gh, int ldgh, int B, int H, float *acts, float *acts_tc) {
    for (int b = 0; b < B; b++) {
        const float *pi = gi + (size_t)b * ldgi, *ph = gh == gi ? NULL : gh + (size_t)b * ldgh;
        float *a = acts ? acts + (size_t)b * 4 * H : NULL, *tcb = acts ? acts_tc + (size_t)b * H : NULL;
        lstm_row(h + (size_t)b * ldh, c + (size_t)b * ldc, pi, ph, H, a, tcb);
    }
}

T256 void st_avx2_lstm_cell_rows(float *const *rows, size_t h_off, size_t c_off, const float *const *gi,
                                 const float *gh, int ldgh, int B, int H) {
    for (int b = 0; b < B; b++)
        lstm_row(rows[b] + h_off, rows[b] + c_off, gi[b], gh + (size_t)b * ldgh, H, NULL, NULL);
}

T256 INLINE void gru_vec(float *hb, const float *pi, const float *ph, int H, float *a, int j,
                         __m256i m, int full) {
    __m256 r = sigmoid8(_mm256_add_ps(ld(pi + j, m, full), ld(ph + j, m, full)));
    __m256 z = sigmoid8(_mm256_add_ps(ld(pi + H + j, m, full), ld(ph + H + j, m, full)));
    __m256 nn = tanh8(_mm256_fmadd_ps(r, ld(ph + 2 * H + j, m, full), ld(pi + 2 * H + j, m, full)));
    __m256 hv = ld(hb + j, m, full);
    // (1 − z)·n + z·h, as generic.c computes it
    st(hb + j, m, _mm256_fmadd_ps(z, hv, _mm256_mul_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), z), nn)), full);
    if (a) {
        st(a + j, m, r, full);
        st(a + H + j, m, z, full);
        st(a + 2 * H + j, m, nn, full);
    }
}

T256 INLINE void gru_row(float *hb, const float *pi, const float *ph, int H, float *a) {
    int j = 0;
    for (; j + 8 <= H; j += 8) gru_vec(hb, pi, ph, H, a, j, _mm256_setzero_si256(), 1);
    if (j < H) gru_vec(hb, pi, ph, H, a, j, tail_mask(H - j), 0);
}

T256 void st_avx2_gru_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                           int B, int H, float *acts) {
    for (int b = 0; b < B; b++)
        gru_row(h + (size_t)b * ldh, gi + (size_t)b * ldgi, gh + (size_t)b * ldgh, H,
                acts ? acts + (size_t)b * 3 * H : NULL);
}

T256 void st_avx2_gru_cell_rows(float *const *rows, size_t h_off, const float *const *gi,
                                const float *gh, int ldgh, int B, int H) {
    for (int b = 0; b < B; b++)
        gru_row(rows[b] + h_off, gi[b], gh + (size_t)b * ldgh, H, NULL);
}

T256 INLINE void rnn_vec(float *hb, const float *pi, const float *ph, int relu, int j, __m256i m, int full) {
    __m256 z = _mm256_add_ps(ld(pi + j, m, full), ld(ph + j, m, full));
    // z < 0 ? 0 : z, so that NaN passes through as in generic.c
    __m256 v = relu ? _mm256_andnot_ps(_mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_LT_OQ), z) : tanh8(z);
    st(hb + j, m, v, full);
}

T256 INLINE void rnn_row(float *hb, const float *pi, const float *ph, int H, int relu) {
    int j = 0;
    for (; j + 8 <= H; j += 8) rnn_vec(hb, pi, ph, relu, j, _mm256_setzero_si256(), 1);
    if (j < H) rnn_vec(hb, pi, ph, relu, j, tail_mask(H - j), 0);
}

T256 void st_avx2_rnn_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                           int B, int H, int relu) {
    for (int b = 0; b < B; b++) rnn_row(h + (size_t)b * ldh, gi + (size_t)b * ldgi, gh + (size_t)b * ldgh, H, relu);
}

T256 void st_avx2_rnn_cell_rows(float *const *rows, size_t h_off, const float *const *gi,
                                const float *gh, int ldgh, int B, int H, int relu) {
    for (int b = 0; b < B; b++)
        rnn_row(rows[b] + h_off, gi[b], gh + (size_t)b * ldgh, H, relu);
}
#endif
