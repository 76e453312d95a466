// Picks each kernel's implementation once, from the CPU's features and STREAMTAG_ISA.
// Until the SIMD versions exist every level maps to the portable code.
#include "kernels_internal.h"
#include <stdlib.h>
#include <string.h>

static st_isa detected = (st_isa)-1;
static st_isa active = (st_isa)-1;

st_isa st_cpu_isa(void) {
    if ((int)detected >= 0) return detected;
    st_isa isa = ST_ISA_GENERIC;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isa = ST_ISA_AVX2;
    if (isa == ST_ISA_AVX2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) isa = ST_ISA_AVX512;
#endif
    detected = isa;
    return isa;
}

st_isa st_active_isa(void) {
    if ((int)active >= 0) return active;
    st_isa isa = st_cpu_isa();
    const char *env = getenv("STREAMTAG_ISA");
    if (env) {
        if (!strcmp(env, "generic")) isa = ST_ISA_GENERIC;
        else if (!strcmp(env, "avx2") && isa > ST_ISA_AVX2) isa = ST_ISA_AVX2;
        else if (!strcmp(env, "avx512") && isa > ST_ISA_AVX512) isa = ST_ISA_AVX512;
    }
    active = isa;
    return isa;
}

st_isa st_force_isa(st_isa isa) {
    st_isa best = st_cpu_isa();
    active = isa < best ? isa : best;
    return active;
}

const char *st_isa_name(st_isa isa) {
    switch (isa) {
    case ST_ISA_AVX2: return "avx2";
    case ST_ISA_AVX512: return "avx512";
    case ST_ISA_AVX512BF16: return "avx512bf16";
    default: return "generic";
    }
}

void st_gemv(float *y, const float *W, const float *x, int M, int K, int accumulate) {
    st_generic_gemv(y, W, x, M, K, accumulate);
}
void st_gemm_nt_small(float *Y, int ldy, const float *X, int ldx, const float *W,
                      int B, int M, int K, int accumulate) {
    st_generic_gemm_nt_small(Y, ldy, X, ldx, W, B, M, K, accumulate);
}
void st_gemv_bf16(float *y, const uint16_t *W, const float *x, int M, int K, int accumulate) {
    st_generic_gemv_bf16(y, W, x, M, K, accumulate);
}
void st_gemm_nt_small_bf16(float *Y, int ldy, const float *X, int ldx, const uint16_t *W,
                           int B, int M, int K, int accumulate) {
    st_generic_gemm_nt_small_bf16(Y, ldy, X, ldx, W, B, M, K, accumulate);
}
void st_sigmoid(float *out, const float *in, size_t n) { st_generic_sigmoid(out, in, n); }
void st_tanh(float *out, const float *in, size_t n) { st_generic_tanh(out, in, n); }
void st_lstm_cell(float *h, int ldh, float *c, int ldc, const float *gi, int ldgi,
                  const float *gh, int ldgh, int B, int H, float *acts, float *acts_tc) {
    st_generic_lstm_cell(h, ldh, c, ldc, gi, ldgi, gh, ldgh, B, H, acts, acts_tc);
}
void st_gru_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                 int B, int H, float *acts) {
    st_generic_gru_cell(h, ldh, gi, ldgi, gh, ldgh, B, H, acts);
}
void st_rnn_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                 int B, int H, int relu) {
    st_generic_rnn_cell(h, ldh, gi, ldgi, gh, ldgh, B, H, relu);
}
