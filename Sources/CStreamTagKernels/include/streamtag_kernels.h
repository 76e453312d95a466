// streamtag numerical kernels.
//
// Every function has a portable C version; on x86-64 faster AVX2+FMA and AVX-512 versions are
// chosen once at run time from the CPU's features (never an illegal instruction on an older
// CPU). Outputs come first, as in `matmul(out, inp, weight, ...)`. All matrices are row-major.
//
// Legend: B batch rows, M output rows, K inner dimension, H hidden size.
#ifndef STREAMTAG_KERNELS_H
#define STREAMTAG_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set levels the dispatcher can pick.
typedef enum {
    ST_ISA_GENERIC = 0,
    ST_ISA_AVX2 = 1,      // AVX2 + FMA + F16C
    ST_ISA_AVX512 = 2,    // AVX-512 F/BW/DQ/VL
    ST_ISA_AVX512BF16 = 3 // AVX-512 + BF16 dot products (vdpbf16ps)
} st_isa;

/// The best level this CPU supports.
st_isa st_cpu_isa(void);
/// The level in use (the best, unless lowered by st_force_isa or
/// STREAMTAG_ISA=generic|avx2|avx512|avx512bf16; other values are ignored).
st_isa st_active_isa(void);
/// Lowers the level in use, for tests and benchmarks. Returns the level now in use (never above
/// what the CPU supports).
st_isa st_force_isa(st_isa isa);
/// A short name for a level: "generic", "avx2", "avx512", "avx512bf16".
const char *st_isa_name(st_isa isa);

/// y[M] = W[M,K] · x[K] (+ y[M] when accumulate != 0).
void st_gemv(float *y, const float *W, const float *x, int M, int K, int accumulate);

/// Y[B,M] = X[B,K] · W[M,K]^T (+ Y when accumulate != 0). Rows of X are ldx floats apart,
/// rows of Y ldy floats apart. Streams W once for all B rows: for small B, where a general
/// GEMM loses to memory traffic.
void st_gemm_nt_small(float *Y, int ldy, const float *X, int ldx, const float *W,
                      int B, int M, int K, int accumulate);

/// Y[B,M] = X[B,K] · W[M,K]^T (+ Y) with row b of X at X[b] + xoff: for inputs that live in
/// separate rows (the daemon steps each stream's state where it is, through one pointer per
/// batch member). The same kernel as st_gemm_nt_small (same blocking and order of sums, so the
/// same results bit for bit); B = 1 is a gemv.
void st_gemm_nt_small_rows(float *Y, int ldy, const float *const *X, size_t xoff, const float *W,
                           int B, int M, int K, int accumulate);

/// y[M] = W[M,K] · x[K] (+ y), with W stored as bfloat16 (upper halves of IEEE floats).
void st_gemv_bf16(float *y, const uint16_t *W, const float *x, int M, int K, int accumulate);
/// Y[B,M] = X[B,K] · W[M,K]^T (+ Y), W as bfloat16.
void st_gemm_nt_small_bf16(float *Y, int ldy, const float *X, int ldx, const uint16_t *W,
                           int B, int M, int K, int accumulate);
/// st_gemm_nt_small_bf16 with row b of X at X[b] + xoff (as st_gemm_nt_small_rows).
void st_gemm_nt_small_bf16_rows(float *Y, int ldy, const float *const *X, size_t xoff, const uint16_t *W,
                                int B, int M, int K, int accumulate);
/// bf16 weights packed for st_gemv_bf16_packed: blocks of 16 rows, each block a sequence of
/// 32-column slices of its 16 rows ([⌈M/16⌉][⌈K/32⌉][16][32], zero-padded), so that the kernel
/// reads the matrix front to back in one stream. st_bf16_packed_count(M, K) elements.
size_t st_bf16_packed_count(int M, int K);
void st_pack_bf16(uint16_t *P, const uint16_t *W, int M, int K);
/// y[M] = W[M,K] · x[K] (+ y[M]), W packed by st_pack_bf16: the single-stream step's kernel.
/// With AVX512-BF16 it uses vdpbf16ps on x split in two bfloat16 halves, x ≈ hi + lo (each term
/// within 2^-17 of exact, against 2^-9 for the weights' own rounding; |x| below 2^-126 counts as
/// 0, |x| above bfloat16's range 3.4e38 is not supported).
void st_gemv_bf16_packed(float *y, const uint16_t *P, const float *x, int M, int K, int accumulate);
/// Asks the CPU to bring bytes [p, p + n) into its L2 cache ahead of use (a hint: never faults,
/// returns at once), e.g. a table row that a step reads after its matrix product.
void st_prefetch(const void *p, size_t n);
/// Rounds floats to bfloat16 (round to nearest even; NaN stays NaN).
void st_f32_to_bf16(uint16_t *out, const float *in, size_t n);
void st_bf16_to_f32(float *out, const uint16_t *in, size_t n);
/// IEEE half precision conversions (round to nearest even).
void st_f32_to_f16(uint16_t *out, const float *in, size_t n);
void st_f16_to_f32(float *out, const uint16_t *in, size_t n);

/// Elementwise activations, accurate to a few ulp (used by training and inference alike).
void st_sigmoid(float *out, const float *in, size_t n);
void st_tanh(float *out, const float *in, size_t n);

/// LSTM cell, PyTorch gate order (i, f, g, o), for B rows:
///   pre = gi + gh  (each [B, 4H], row strides ldgi and ldgh)
///   c' = σ(f)·c + σ(i)·tanh(g);  h' = σ(o)·tanh(c')
/// c is read and written in place ([B, H], row stride ldc); h' goes to h ([B, H], stride ldh).
/// gh may equal gi (then pre = gi alone) when the caller already summed them.
/// If acts is not NULL, the activated gates (σi, σf, tanh g, σo) go there ([B, 4H] contiguous)
/// and tanh(c') to acts_tc ([B, H] contiguous), as training's backward pass needs them.
void st_lstm_cell(float *h, int ldh, float *c, int ldc,
                  const float *gi, int ldgi, const float *gh, int ldgh,
                  int B, int H, float *acts, float *acts_tc);

/// GRU cell, PyTorch gate order (r, z, n):
///   r = σ(gi_r + gh_r); z = σ(gi_z + gh_z); n = tanh(gi_n + r·gh_n); h' = (1−z)·n + z·h
/// gi = W_ih·x + b_ih and gh = W_hh·h + b_hh ([B, 3H]). h is read and written in place.
/// If acts is not NULL, (r, z, n) go there ([B, 3H] contiguous).
void st_gru_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                 int B, int H, float *acts);

/// Elman cell: h' = tanh(gi + gh) or relu(gi + gh) when relu != 0 ([B, H]).
void st_rnn_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                 int B, int H, int relu);

/// The cells on states that live in separate rows: batch member b's h is rows[b] + h_off and
/// its c (LSTM) rows[b] + c_off, H floats each, updated in place; its input pre-activations
/// gi[b] (G·H floats, e.g. a row of the input-projection table, read in place) and hidden ones
/// gh + b·ldgh (G·H). Inference only (no activations kept). Same arithmetic as the strided
/// cells, so the same results bit for bit.
void st_lstm_cell_rows(float *const *rows, size_t h_off, size_t c_off, const float *const *gi,
                       const float *gh, int ldgh, int B, int H);
void st_gru_cell_rows(float *const *rows, size_t h_off, const float *const *gi,
                      const float *gh, int ldgh, int B, int H);
void st_rnn_cell_rows(float *const *rows, size_t h_off, const float *const *gi,
                      const float *gh, int ldgh, int B, int H, int relu);

#ifdef __cplusplus
}
#endif

#endif
