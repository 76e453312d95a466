// Declarations shared by the kernel files: one set per instruction-set level.
#ifndef STREAMTAG_KERNELS_INTERNAL_H
#define STREAMTAG_KERNELS_INTERNAL_H
#include "streamtag_kernels.h"

void st_generic_gemv(float *y, const float *W, const float *x, int M, int K, int accumulate);
void st_generic_gemm_nt_small(float *Y, int ldy, const float *X, int ldx, const float *W,
                              int B, int M, int K, int accumulate);
void st_generic_gemv_bf16(float *y, const uint16_t *W, const float *x, int M, int K, int accumulate);
void st_generic_gemm_nt_small_bf16(float *Y, int ldy, const float *X, int ldx, const uint16_t *W,
                                   int B, int M, int K, int accumulate);
void st_generic_sigmoid(float *out, const float *in, size_t n);
void st_generic_tanh(float *out, const float *in, size_t n);
void st_generic_lstm_cell(float *h, int ldh, float *c, int ldc,
                          const float *gi, int ldgi, const float *gh, int ldgh,
                          int B, int H, float *acts, float *acts_tc);
void st_generic_gru_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                         int B, int H, float *acts);
void st_generic_rnn_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                         int B, int H, int relu);
#endif
