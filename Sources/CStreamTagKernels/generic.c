// Portable reference versions of every kernel. The SIMD versions in avx2.c and avx512.c must
// agree with these (tests compare them); on other CPUs (arm64 included) these are what runs, and
// -O3 auto-vectorises the inner loops.
#include "kernels_internal.h"
#include <math.h>
#include <string.h>

void st_generic_gemv(float *y, const float *W, const float *x, int M, int K, int accumulate) {
    for (int m = 0; m < M; m++) {
        const float *w = W + (size_t)m * K;
        float acc = 0.0f;
        for (int k = 0; k < K; k++) acc += w[k] * x[k];
        y[m] = accumulate ? y[m] + acc : acc;
    }
}

void st_generic_gemm_nt_small(float *Y, int ldy, const float *X, int ldx, const float *W,
                              int B, int M, int K, int accumulate) {
    for (int b = 0; b < B; b++)
        st_generic_gemv(Y + (size_t)b * ldy, W, X + (size_t)b * ldx, M, K, accumulate);
}

static inline float bf16_to_f32(uint16_t v) {
    uint32_t u = (uint32_t)v << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void st_generic_gemv_bf16(float *y, const uint16_t *W, const float *x, int M, int K, int accumulate) {
    for (int m = 0; m < M; m++) {
        const uint16_t *w = W + (size_t)m * K;
        float acc = 0.0f;
        for (int k = 0; k < K; k++) acc += bf16_to_f32(w[k]) * x[k];
        y[m] = accumulate ? y[m] + acc : acc;
    }
}

void st_generic_gemm_nt_small_bf16(float *Y, int ldy, const float *X, int ldx, const uint16_t *W,
                                   int B, int M, int K, int accumulate) {
    for (int b = 0; b < B; b++)
        st_generic_gemv_bf16(Y + (size_t)b * ldy, W, X + (size_t)b * ldx, M, K, accumulate);
}

void st_f32_to_bf16(uint16_t *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &in[i], 4);
        if ((u & 0x7fffffffu) > 0x7f800000u) { out[i] = (uint16_t)((u >> 16) | 0x40); continue; }
        u += 0x7fffu + ((u >> 16) & 1u);
        out[i] = (uint16_t)(u >> 16);
    }
}

void st_bf16_to_f32(float *out, const uint16_t *in, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = bf16_to_f32(in[i]);
}

void st_f32_to_f16(uint16_t *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &in[i], 4);
        uint32_t sign = (u >> 16) & 0x8000u;
        uint32_t absu = u & 0x7fffffffu;
        uint16_t h;
        if (absu > 0x7f800000u) {
            h = (uint16_t)(sign | 0x7e00u);                 // NaN
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

void st_f16_to_f32(float *out, const uint16_t *in, size_t n) {
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
            u = sign | 0x7f800000u | (mant << 13);
        } else {
            u = sign | ((exp + 112u) << 23) | (mant << 13);
        }
        memcpy(&out[i], &u, 4);
    }
}

static inline float sigmoidf_(float x) { return 1.0f / (1.0f + expf(-x)); }

void st_generic_sigmoid(float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = sigmoidf_(in[i]);
}

void st_generic_tanh(float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = tanhf(in[i]);
}

void st_generic_lstm_cell(float *h, int ldh, float *c, int ldc,
                          const float *gi, int ldgi, const float *gh, int ldgh,
                          int B, int H, float *acts, float *acts_tc) {
    for (int b = 0; b < B; b++) {
        const float *pi = gi + (size_t)b * ldgi;
        const float *ph = gh == gi ? NULL : gh + (size_t)b * ldgh;
        float *hb = h + (size_t)b * ldh, *cb = c + (size_t)b * ldc;
        for (int j = 0; j < H; j++) {
            float zi = pi[j], zf = pi[H + j], zg = pi[2 * H + j], zo = pi[3 * H + j];
            if (ph) { zi += ph[j]; zf += ph[H + j]; zg += ph[2 * H + j]; zo += ph[3 * H + j]; }
            float ig = sigmoidf_(zi), fg = sigmoidf_(zf), gg = tanhf(zg), og = sigmoidf_(zo);
            float cn = fg * cb[j] + ig * gg;
            float tc = tanhf(cn);
            cb[j] = cn;
            hb[j] = og * tc;
            if (acts) {
                float *a = acts + (size_t)b * 4 * H;
                a[j] = ig; a[H + j] = fg; a[2 * H + j] = gg; a[3 * H + j] = og;
                acts_tc[(size_t)b * H + j] = tc;
            }
        }
    }
}

void st_generic_gru_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                         int B, int H, float *acts) {
    for (int b = 0; b < B; b++) {
        const float *pi = gi + (size_t)b * ldgi, *ph = gh + (size_t)b * ldgh;
        float *hb = h + (size_t)b * ldh;
        for (int j = 0; j < H; j++) {
            float r = sigmoidf_(pi[j] + ph[j]);
            float z = sigmoidf_(pi[H + j] + ph[H + j]);
            float n = tanhf(pi[2 * H + j] + r * ph[2 * H + j]);
            hb[j] = (1.0f - z) * n + z * hb[j];
            if (acts) {
                float *a = acts + (size_t)b * 3 * H;
                a[j] = r; a[H + j] = z; a[2 * H + j] = n;
            }
        }
    }
}

void st_generic_rnn_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                         int B, int H, int relu) {
    for (int b = 0; b < B; b++) {
        const float *pi = gi + (size_t)b * ldgi, *ph = gh + (size_t)b * ldgh;
        float *hb = h + (size_t)b * ldh;
        for (int j = 0; j < H; j++) {
            float z = pi[j] + ph[j];
            hb[j] = relu ? (z > 0.0f ? z : 0.0f) : tanhf(z);
        }
    }
}
