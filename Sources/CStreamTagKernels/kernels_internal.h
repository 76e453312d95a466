// Declarations shared by the kernel files: one set of kernels per instruction-set level, and the
// constants of the exp/expm1 approximation that every level uses (so all levels agree to an ulp).
#ifndef STREAMTAG_KERNELS_INTERNAL_H
#define STREAMTAG_KERNELS_INTERNAL_H
#include "streamtag_kernels.h"

// e^y = 2^n · e^r with n = round(y·log2 e) and r = y − n·ln2 in [−ln2/2, ln2/2]; ln2 is split in
// two (Cody–Waite) so that n·ST_LN2_HI is exact for |n| < 2^15. e^r − 1 = r + r²·q(r) with q a
// degree-4 polynomial fitted for least maximum relative error of e^r − 1 (1.8e-8, 0.15 ulp;
// as accurate as Taylor to r^7, one FMA cheaper).
#define ST_LOG2E 1.44269504088896341f
#define ST_LN2_HI 0.693359375f
#define ST_LN2_LO -2.12194440e-4f
#define ST_EXP_C2 0.5f
#define ST_EXP_C3 0.16666533f
#define ST_EXP_C4 0.041666251f
#define ST_EXP_C5 0.0083679231f
#define ST_EXP_C6 0.0013948766f
// Adding then subtracting 1.5·2^23 rounds a float of magnitude < 2^22 to an integer (in the
// default rounding mode); the integer is then also the low bits of the sum's representation.
#define ST_ROUND_MAGIC 12582912.0f
#define ST_ROUND_MAGIC_BITS 0x4b400000
// Past these, σ(−|x|) is 0 in float and tanh(|x|) is 1; clamping keeps 2^n representable.
#define ST_SIGMOID_CLAMP 104.0f
#define ST_TANH_CLAMP 10.0f

// Where a matrix product's B input rows are: row b at rows[b] + off when rows is set (states that
// live in separate rows, see st_gemm_nt_small_rows), else at X + b·ldx.
typedef struct {
    const float *X;
    size_t ldx;
    const float *const *rows;
    size_t off;
} st_xrows;

static inline __attribute__((always_inline)) const float *st_xrow(st_xrows x, int b) {
    return x.rows ? x.rows[b] + x.off : x.X + (size_t)b * x.ldx;
}

#define ST_DECLARE_KERNELS(p)                                                                      \
    void p##gemv(float *y, const float *W, const float *x, int M, int K, int accumulate);           \
    void p##gemm_nt_small(float *Y, int ldy, const float *X, int ldx, const float *W, int B,       \
                          int M, int K, int accumulate);                                            \
    void p##gemm_nt_small_rows(float *Y, int ldy, const float *const *X, size_t xoff, const float *W, \
                               int B, int M, int K, int accumulate);                                \
    void p##gemm_nt_small_bf16_rows(float *Y, int ldy, const float *const *X, size_t xoff,         \
                                    const uint16_t *W, int B, int M, int K, int accumulate);        \
    void p##gemv_bf16(float *y, const uint16_t *W, const float *x, int M, int K, int accumulate);   \
    void p##gemm_nt_small_bf16(float *Y, int ldy, const float *X, int ldx, const uint16_t *W,      \
                               int B, int M, int K, int accumulate);                                \
    void p##gemv_bf16_packed(float *y, const uint16_t *P, const float *x, int M, int K,            \
                             int accumulate);                                                       \
    void p##f32_to_bf16(uint16_t *out, const float *in, size_t n);                                  \
    void p##bf16_to_f32(float *out, const uint16_t *in, size_t n);                                  \
    void p##f32_to_f16(uint16_t *out, const float *in, size_t n);                                   \
    void p##f16_to_f32(float *out, const uint16_t *in, size_t n);                                   \
    void p##sigmoid(float *out, const float *in, size_t n);                                         \
    void p##tanh(float *out, const float *in, size_t n);                                            \
    void p##lstm_cell(float *h, int ldh, float *c, int ldc, const float *gi, int ldgi,             \
                      const float *gh, int ldgh, int B, int H, float *acts, float *acts_tc);        \
    void p##gru_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,      \
                     int B, int H, float *acts);                                                    \
    void p##rnn_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,      \
                     int B, int H, int relu);                                                       \
    void p##lstm_cell_rows(float *const *rows, size_t h_off, size_t c_off, const float *const *gi, \
                           const float *gh, int ldgh, int B, int H);                                \
    void p##gru_cell_rows(float *const *rows, size_t h_off, const float *const *gi,                \
                          const float *gh, int ldgh, int B, int H);                                 \
    void p##rnn_cell_rows(float *const *rows, size_t h_off, const float *const *gi,                \
                          const float *gh, int ldgh, int B, int H, int relu);

ST_DECLARE_KERNELS(st_generic_)
#if defined(__x86_64__)
ST_DECLARE_KERNELS(st_avx2_)
ST_DECLARE_KERNELS(st_avx512_)
// The one kernel with an AVX512-BF16 version.
void st_avx512bf16_gemv_bf16_packed(float *y, const uint16_t *P, const float *x, int M, int K, int accumulate);
#endif
#endif
