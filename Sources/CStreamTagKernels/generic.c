// Portable reference versions of every kernel. The SIMD versions in avx2.c and avx512.c must
// agree with these (tests compare them); on other CPUs (arm64 included) these are what runs, and
// -O3 auto-vectorises the inner loops.
#include "kernels_internal.h"
#include <math.h>
#include <string.h>

static inline float bf16_to_f32(uint16_t v) {
    uint32_t u = (uint32_t)v << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// Dot products keep 16 partial sums: without -ffast-math the compiler may not reorder one running
// sum, but independent lanes it vectorises (SLP) on any target.
enum { DOT_LANES = 16 };

static inline float dot(const float *w, const float *x, int K) {
    float acc[DOT_LANES] = {0};
    int k = 0;
    for (; k + DOT_LANES <= K; k += DOT_LANES)
        for (int l = 0; l < DOT_LANES; l++) acc[l] += w[k + l] * x[k + l];
    float s = 0.0f;
    for (int l = 0; l < DOT_LANES; l++) s += acc[l];
    for (; k < K; k++) s += w[k] * x[k];
    return s;
}

static inline float dot_bf16(const uint16_t *w, const float *x, int K) {
    float acc[DOT_LANES] = {0};
    int k = 0;
    for (; k + DOT_LANES <= K; k += DOT_LANES)
        for (int l = 0; l < DOT_LANES; l++) acc[l] += bf16_to_f32(w[k + l]) * x[k + l];
    float s = 0.0f;
    for (int l = 0; l < DOT_LANES; l++) s += acc[l];
    for (; k < K; k++) s += bf16_to_f32(w[k]) * x[k];
    return s;
}

void st_generic_gemv(float *y, const float *W, const float *x, int M, int K, int accumulate) {
    for (int m = 0; m < M; m++) {
        float acc = dot(W + (size_t)m * K, x, K);
        y[m] = accumulate ? y[m] + acc : acc;
    }
}

// Y[B,M] (+)= X[B,K]·W[M,K]^T, X's rows as st_xrows says. Row m of W is reused for every row of
// X while it is in L1, so W is read from memory once.
static void gemm_small(float *Y, int ldy, st_xrows X, const float *W, int B, int M, int K, int accumulate) {
    for (int m = 0; m < M; m++) {
        for (int b = 0; b < B; b++) {
            float acc = dot(W + (size_t)m * K, st_xrow(X, b), K);
            float *y = Y + (size_t)b * ldy + m;
            *y = accumulate ? *y + acc : acc;
        }
    }
}

void st_generic_gemm_nt_small(float *Y, int ldy, const float *X, int ldx, const float *W,
                              int B, int M, int K, int accumulate) {
    gemm_small(Y, ldy, (st_xrows){X, (size_t)ldx, NULL, 0}, W, B, M, K, accumulate);
}

void st_generic_gemm_nt_small_rows(float *Y, int ldy, const float *const *X, size_t xoff, const float *W,
                                   int B, int M, int K, int accumulate) {
    gemm_small(Y, ldy, (st_xrows){NULL, 0, X, xoff}, W, B, M, K, accumulate);
}

void st_generic_gemv_bf16(float *y, const uint16_t *W, const float *x, int M, int K, int accumulate) {
    for (int m = 0; m < M; m++) {
        float acc = dot_bf16(W + (size_t)m * K, x, K);
        y[m] = accumulate ? y[m] + acc : acc;
    }
}

static void gemm_small_bf16(float *Y, int ldy, st_xrows X, const uint16_t *W, int B, int M, int K,
                            int accumulate) {
    for (int m = 0; m < M; m++) {
        for (int b = 0; b < B; b++) {
            float acc = dot_bf16(W + (size_t)m * K, st_xrow(X, b), K);
            float *y = Y + (size_t)b * ldy + m;
            *y = accumulate ? *y + acc : acc;
        }
    }
}

void st_generic_gemm_nt_small_bf16(float *Y, int ldy, const float *X, int ldx, const uint16_t *W,
                                   int B, int M, int K, int accumulate) {
    gemm_small_bf16(Y, ldy, (st_xrows){X, (size_t)ldx, NULL, 0}, W, B, M, K, accumulate);
}

void st_generic_gemm_nt_small_bf16_rows(float *Y, int ldy, const float *const *X, size_t xoff,
                                        const uint16_t *W, int B, int M, int K, int accumulate) {
    gemm_small_bf16(Y, ldy, (st_xrows){NULL, 0, X, xoff}, W, B, M, K, accumulate);
}

// The packed layout (see streamtag_kernels.h). Not per level: it runs once, at model load.
size_t st_bf16_packed_count(int M, int K) { return (size_t)((M + 15) / 16) * 16 * ((K + 31) / 32) * 32; }

void st_pack_bf16(uint16_t *P, const uint16_t *W, int M, int K) {
    for (int m0 = 0; m0 < M; m0 += 16)
        for (int k0 = 0; k0 < K; k0 += 32)
            for (int m = m0; m < m0 + 16; m++)
                for (int k = k0; k < k0 + 32; k++) *P++ = m < M && k < K ? W[(size_t)m * K + k] : 0;
}

// 32 partial sums a row (one per column of a slice), summed at the end of the row's block.
void st_generic_gemv_bf16_packed(float *y, const uint16_t *P, const float *x, int M, int K, int accumulate) {
    for (int m0 = 0; m0 < M; m0 += 16) {
        float acc[16][32] = {{0}};
        for (int k0 = 0; k0 < K; k0 += 32) {
            if (K - k0 >= 32) {
                for (int r = 0; r < 16; r++, P += 32)
                    for (int j = 0; j < 32; j++) acc[r][j] += bf16_to_f32(P[j]) * x[k0 + j];
            } else {
                for (int r = 0; r < 16; r++, P += 32)
                    for (int j = 0; j < K - k0; j++) acc[r][j] += bf16_to_f32(P[j]) * x[k0 + j];
            }
        }
        for (int r = 0; r < 16 && m0 + r < M; r++) {
            float s = 0.0f;
            for (int j = 0; j < 32; j++) s += acc[r][j];
            y[m0 + r] = accumulate ? y[m0 + r] + s : s;
        }
    }
}

void st_generic_f32_to_bf16(uint16_t *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &in[i], 4);
        if ((u & 0x7fffffffu) > 0x7f800000u) { out[i] = (uint16_t)((u >> 16) | 0x40); continue; }
        u += 0x7fffu + ((u >> 16) & 1u);
        out[i] = (uint16_t)(u >> 16);
    }
}

void st_generic_bf16_to_f32(float *out, const uint16_t *in, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = bf16_to_f32(in[i]);
}

void st_generic_f32_to_f16(uint16_t *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &in[i], 4);
        uint32_t sign = (u >> 16) & 0x8000u;
        uint32_t absu = u & 0x7fffffffu;
        uint16_t h;
        if (absu > 0x7f800000u) {
            h = (uint16_t)(sign | 0x7e00u | ((absu >> 13) & 0x3ffu)); // quiet NaN, as F16C does
        } else if (absu >= 0x477ff000u) {
            h = (uint16_t)(sign | 0x7c00u);                 // overflow to infinity
        } else if (absu < 0x38800000u) {                    // subnormal half or zero
            if (absu < 0x33000000u) { h = (uint16_t)sign; }
            else {
                uint32_t mant = (absu & 0x7fffffu) | 0x800000u;
                int shift = 113 - (int)(absu >> 23) + 13;    // 126 - exp - 1 + 14
                uint32_t half = mant >> shift;
                uint32_t rem = mant & ((1u << shift) - 1u);
                uint32_t mid = 1u << (shift - 1);
                if (rem > mid || (rem == mid && (half & 1u))) half++;
                h = (uint16_t)(sign | half);
            }
        } else {
            uint32_t v = absu - 0x38000000u;                // rebias exponent 127 -> 15
            uint32_t half = v >> 13;
            uint32_t rem = v & 0x1fffu;
            if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) half++;
            h = (uint16_t)(sign | half);
        }
        out[i] = h;
    }
}

void st_generic_f16_to_f32(float *out, const uint16_t *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t h = in[i];
        uint32_t sign = (h & 0x8000u) << 16;
        uint32_t exp = (h >> 10) & 0x1fu;
        uint32_t mant = h & 0x3ffu;
        uint32_t u;
        if (exp == 0) {
            if (mant == 0) u = sign;
            else {
                int e = -1;
                do { mant <<= 1; e++; } while (!(mant & 0x400u));
                u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
            }
        } else if (exp == 31) {
            u = sign | 0x7f800000u | (mant << 13) | (mant ? 0x400000u : 0u); // NaNs come out quiet
        } else {
            u = sign | ((exp + 112u) << 23) | (mant << 13);
        }
        memcpy(&out[i], &u, 4);
    }
}

static inline uint32_t bits_of(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float float_of(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

// The activations below avoid libm and branches so that -O3 vectorises them (SSE2, NEON); the
// SIMD files implement the same algorithm with intrinsics.

// e^r − 1 for |r| ≤ ln2/2.
static inline float expm1_reduced(float r) {
    float q = ST_EXP_C6;
    q = q * r + ST_EXP_C5;
    q = q * r + ST_EXP_C4;
    q = q * r + ST_EXP_C3;
    q = q * r + ST_EXP_C2;
    return r + (r * r) * q;
}

// e^y for y in [−ST_SIGMOID_CLAMP, 0], down to subnormal results.
static inline float exp_nonpositive(float y) {
    float t = y * ST_LOG2E + ST_ROUND_MAGIC;
    float n = t - ST_ROUND_MAGIC;
    int32_t ni = (int32_t)(bits_of(t) - ST_ROUND_MAGIC_BITS);
    float r = y - n * ST_LN2_HI;
    r = r - n * ST_LN2_LO;
    float p = 1.0f + expm1_reduced(r);
    // 2^n is not a normal float below n = −126: scale in two steps there.
    int tiny = ni < -126;
    int32_t n1 = tiny ? ni + 64 : ni;
    float e = p * float_of((uint32_t)(n1 + 127) << 23);
    return tiny ? e * 0x1p-64f : e;
}

// σ(x) = 1/(1 + e^−|x|) for x ≥ 0, e^−|x|/(1 + e^−|x|) below: e^y is only needed for y ≤ 0.
static inline float sigmoid1(float x) {
    float a = fabsf(x);
    a = a > ST_SIGMOID_CLAMP ? ST_SIGMOID_CLAMP : a; // written so that NaN stays NaN
    float e = exp_nonpositive(-a);
    return (x < 0.0f ? e : 1.0f) / (1.0f + e);
}

// tanh|x| = −m/(2 + m) with m = expm1(−2|x|), computed as 2^n·(e^r − 1) + (2^n − 1): exact
// cancellation-free for small |x| (n = 0), where 1 − e^−2|x| would lose every digit.
static inline float tanh1(float x) {
    float a = fabsf(x);
    a = a > ST_TANH_CLAMP ? ST_TANH_CLAMP : a;
    float y = -2.0f * a;
    float t = y * ST_LOG2E + ST_ROUND_MAGIC;
    float n = t - ST_ROUND_MAGIC;
    int32_t ni = (int32_t)(bits_of(t) - ST_ROUND_MAGIC_BITS);
    float r = y - n * ST_LN2_HI;
    r = r - n * ST_LN2_LO;
    float s = float_of((uint32_t)(ni + 127) << 23);
    float m = expm1_reduced(r) * s + (s - 1.0f);
    return copysignf(-m / (2.0f + m), x);
}

void st_generic_sigmoid(float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = sigmoid1(in[i]);
}

void st_generic_tanh(float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = tanh1(in[i]);
}

// One row of the LSTM update. Always inlined with constant `sum`/`train` so that each variant's
// loop is branch-free and vectorises.
static inline __attribute__((always_inline)) void
lstm_row(float *restrict hb, float *restrict cb, const float *pi, const float *ph, int H,
         float *restrict a, float *restrict tcb, int sum, int train) {
    for (int j = 0; j < H; j++) {
        float zi = pi[j], zf = pi[H + j], zg = pi[2 * H + j], zo = pi[3 * H + j];
        if (sum) { zi += ph[j]; zf += ph[H + j]; zg += ph[2 * H + j]; zo += ph[3 * H + j]; }
        float ig = sigmoid1(zi), fg = sigmoid1(zf), gg = tanh1(zg), og = sigmoid1(zo);
        float cn = fg * cb[j] + ig * gg;
        float tc = tanh1(cn);
        cb[j] = cn;
        hb[j] = og * tc;
        if (train) { a[j] = ig; a[H + j] = fg; a[2 * H + j] = gg; a[3 * H + j] = og; tcb[j] = tc; }
    }
}

void st_generic_lstm_cell(float *h, int ldh, float *c, int ldc,
                          const float *gi, int ldgi, const float *gh, int ldgh,
                          int B, int H, float *acts, float *acts_tc) {
    int sum = gh != gi;
    for (int b = 0; b < B; b++) {
        const float *pi = gi + (size_t)b * ldgi, *ph = gh + (size_t)b * ldgh;
        float *hb = h + (size_t)b * ldh, *cb = c + (size_t)b * ldc;
        float *a = acts ? acts + (size_t)b * 4 * H : NULL, *tcb = acts ? acts_tc + (size_t)b * H : NULL;
        if (sum && acts) lstm_row(hb, cb, pi, ph, H, a, tcb, 1, 1);
        else if (sum) lstm_row(hb, cb, pi, ph, H, a, tcb, 1, 0);
        else if (acts) lstm_row(hb, cb, pi, ph, H, a, tcb, 0, 1);
        else lstm_row(hb, cb, pi, ph, H, a, tcb, 0, 0);
    }
}

void st_generic_lstm_cell_rows(float *const *rows, size_t h_off, size_t c_off, const float *const *gi,
                               const float *gh, int ldgh, int B, int H) {
    for (int b = 0; b < B; b++)
        lstm_row(rows[b] + h_off, rows[b] + c_off, gi[b], gh + (size_t)b * ldgh, H, NULL, NULL, 1, 0);
}

static inline __attribute__((always_inline)) void
gru_row(float *restrict hb, const float *pi, const float *ph, int H, float *restrict a, int train) {
    for (int j = 0; j < H; j++) {
        float r = sigmoid1(pi[j] + ph[j]);
        float z = sigmoid1(pi[H + j] + ph[H + j]);
        float n = tanh1(pi[2 * H + j] + r * ph[2 * H + j]);
        hb[j] = (1.0f - z) * n + z * hb[j];
        if (train) { a[j] = r; a[H + j] = z; a[2 * H + j] = n; }
    }
}

void st_generic_gru_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                         int B, int H, float *acts) {
    for (int b = 0; b < B; b++) {
        const float *pi = gi + (size_t)b * ldgi, *ph = gh + (size_t)b * ldgh;
        float *hb = h + (size_t)b * ldh;
        if (acts) gru_row(hb, pi, ph, H, acts + (size_t)b * 3 * H, 1);
        else gru_row(hb, pi, ph, H, NULL, 0);
    }
}

void st_generic_gru_cell_rows(float *const *rows, size_t h_off, const float *const *gi,
                              const float *gh, int ldgh, int B, int H) {
    for (int b = 0; b < B; b++)
        gru_row(rows[b] + h_off, gi[b], gh + (size_t)b * ldgh, H, NULL, 0);
}

static inline __attribute__((always_inline)) void
rnn_row(float *restrict hb, const float *pi, const float *ph, int H, int relu) {
    if (relu) {
        // written so that NaN passes through
        for (int j = 0; j < H; j++) { float z = pi[j] + ph[j]; hb[j] = z < 0.0f ? 0.0f : z; }
    } else {
        for (int j = 0; j < H; j++) hb[j] = tanh1(pi[j] + ph[j]);
    }
}

void st_generic_rnn_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                         int B, int H, int relu) {
    for (int b = 0; b < B; b++)
        rnn_row(h + (size_t)b * ldh, gi + (size_t)b * ldgi, gh + (size_t)b * ldgh, H, relu);
}

void st_generic_rnn_cell_rows(float *const *rows, size_t h_off, const float *const *gi,
                              const float *gh, int ldgh, int B, int H, int relu) {
    for (int b = 0; b < B; b++)
        rnn_row(rows[b] + h_off, gi[b], gh + (size_t)b * ldgh, H, relu);
}
