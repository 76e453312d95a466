// Picks each kernel's implementation from the CPU's features, STREAMTAG_ISA and st_force_isa.
// The level is detected once and cached; every public kernel then branches on the cached value.
// Measured on a 4x16 gemv (bench/kernel_bench.c dispatch): these predictable branches cost about
// as much as a call through a function pointer, ~1 ns, against ~10 us for a 1024x256 gemv.
#include "kernels_internal.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

// The only global state: −1 until first use. Relaxed atomics make the benign first-use race
// well-defined; they compile to plain loads and stores.
static int detected = -1;
static int active = -1;

#if defined(__x86_64__)
// AVX512-BF16 is CPUID leaf 7, sub-leaf 1, EAX bit 5 (not every compiler's
// __builtin_cpu_supports knows the name).
static int cpu_has_avx512bf16(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 5) & 1;
}
#endif

st_isa st_cpu_isa(void) {
    int cached = __atomic_load_n(&detected, __ATOMIC_RELAXED);
    if (cached >= 0) return (st_isa)cached;
    st_isa isa = ST_ISA_GENERIC;
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the OS saves the wider registers (XCR0).
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        isa = ST_ISA_AVX2;
    if (isa == ST_ISA_AVX2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        isa = ST_ISA_AVX512;
    if (isa == ST_ISA_AVX512 && cpu_has_avx512bf16()) isa = ST_ISA_AVX512BF16;
#endif
    __atomic_store_n(&detected, (int)isa, __ATOMIC_RELAXED);
    return isa;
}

// The first call's work, kept out of line so that every kernel call only pays a load and a
// compare.
__attribute__((noinline)) static st_isa resolve_active(void) {
    st_isa isa = st_cpu_isa();
    const char *env = getenv("STREAMTAG_ISA");
    if (env) {
        st_isa want = isa;
        if (!strcmp(env, "generic")) want = ST_ISA_GENERIC;
        else if (!strcmp(env, "avx2")) want = ST_ISA_AVX2;
        else if (!strcmp(env, "avx512")) want = ST_ISA_AVX512;
        else if (!strcmp(env, "avx512bf16")) want = ST_ISA_AVX512BF16;
        if (want < isa) isa = want;
    }
    __atomic_store_n(&active, (int)isa, __ATOMIC_RELAXED);
    return isa;
}

static inline st_isa level(void) {
    int cached = __atomic_load_n(&active, __ATOMIC_RELAXED);
    return __builtin_expect(cached >= 0, 1) ? (st_isa)cached : resolve_active();
}

st_isa st_active_isa(void) { return level(); }

st_isa st_force_isa(st_isa isa) {
    st_isa best = st_cpu_isa();
    st_isa use = isa < best ? isa : best;
    if ((int)use < 0) use = ST_ISA_GENERIC;
    __atomic_store_n(&active, (int)use, __ATOMIC_RELAXED);
    return use;
}

const char *st_isa_name(st_isa isa) {
    switch (isa) {
    case ST_ISA_AVX2: return "avx2";
    case ST_ISA_AVX512: return "avx512";
    case ST_ISA_AVX512BF16: return "avx512bf16";
    default: return "generic";
    }
}

// Calls st_<level>_<name>(args) for the active level. Only st_gemv_bf16_packed has an
// AVX512-BF16 variant; every other kernel runs its AVX-512 code at that level.
#if defined(__x86_64__)
#define DISPATCH(name, args)                                                                       \
    {                                                                                              \
        st_isa isa_ = level();                                                                     \
        if (isa_ >= ST_ISA_AVX512) st_avx512_##name args;                                          \
        else if (isa_ == ST_ISA_AVX2) st_avx2_##name args;                                         \
        else st_generic_##name args;                                                               \
    }
#else
#define DISPATCH(name, args) st_generic_##name args;
#endif

void st_gemv(float *y, const float *W, const float *x, int M, int K, int accumulate) {
    DISPATCH(gemv, (y, W, x, M, K, accumulate))
}
void st_gemm_nt_small(float *Y, int ldy, const float *X, int ldx, const float *W,
                      int B, int M, int K, int accumulate) {
    DISPATCH(gemm_nt_small, (Y, ldy, X, ldx, W, B, M, K, accumulate))
}
void st_gemm_nt_small_rows(float *Y, int ldy, const float *const *X, size_t xoff, const float *W,
                           int B, int M, int K, int accumulate) {
    DISPATCH(gemm_nt_small_rows, (Y, ldy, X, xoff, W, B, M, K, accumulate))
}
void st_gemv_bf16(float *y, const uint16_t *W, const float *x, int M, int K, int accumulate) {
    DISPATCH(gemv_bf16, (y, W, x, M, K, accumulate))
}
void st_gemv_bf16_packed(float *y, const uint16_t *P, const float *x, int M, int K, int accumulate) {
#if defined(__x86_64__)
    if (level() == ST_ISA_AVX512BF16) {
        st_avx512bf16_gemv_bf16_packed(y, P, x, M, K, accumulate);
        return;
    }
#endif
    DISPATCH(gemv_bf16_packed, (y, P, x, M, K, accumulate))
}
void st_gemm_nt_small_bf16(float *Y, int ldy, const float *X, int ldx, const uint16_t *W,
                           int B, int M, int K, int accumulate) {
    DISPATCH(gemm_nt_small_bf16, (Y, ldy, X, ldx, W, B, M, K, accumulate))
}
void st_gemm_nt_small_bf16_rows(float *Y, int ldy, const float *const *X, size_t xoff, const uint16_t *W,
                                int B, int M, int K, int accumulate) {
    DISPATCH(gemm_nt_small_bf16_rows, (Y, ldy, X, xoff, W, B, M, K, accumulate))
}
void st_f32_to_bf16(uint16_t *out, const float *in, size_t n) { DISPATCH(f32_to_bf16, (out, in, n)) }
void st_bf16_to_f32(float *out, const uint16_t *in, size_t n) { DISPATCH(bf16_to_f32, (out, in, n)) }
void st_f32_to_f16(uint16_t *out, const float *in, size_t n) { DISPATCH(f32_to_f16, (out, in, n)) }
void st_f16_to_f32(float *out, const uint16_t *in, size_t n) { DISPATCH(f16_to_f32, (out, in, n)) }
void st_sigmoid(float *out, const float *in, size_t n) { DISPATCH(sigmoid, (out, in, n)) }
void st_tanh(float *out, const float *in, size_t n) { DISPATCH(tanh, (out, in, n)) }
void st_lstm_cell(float *h, int ldh, float *c, int ldc, const float *gi, int ldgi,
                  const float *gh, int ldgh, int B, int H, float *acts, float *acts_tc) {
    DISPATCH(lstm_cell, (h, ldh, c, ldc, gi, ldgi, gh, ldgh, B, H, acts, acts_tc))
}
void st_gru_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                 int B, int H, float *acts) {
    DISPATCH(gru_cell, (h, ldh, gi, ldgi, gh, ldgh, B, H, acts))
}
void st_rnn_cell(float *h, int ldh, const float *gi, int ldgi, const float *gh, int ldgh,
                 int B, int H, int relu) {
    DISPATCH(rnn_cell, (h, ldh, gi, ldgi, gh, ldgh, B, H, relu))
}
void st_lstm_cell_rows(float *const *rows, size_t h_off, size_t c_off, const float *const *gi,
                       const float *gh, int ldgh, int B, int H) {
    DISPATCH(lstm_cell_rows, (rows, h_off, c_off, gi, gh, ldgh, B, H))
}
void st_gru_cell_rows(float *const *rows, size_t h_off, const float *const *gi,
                      const float *gh, int ldgh, int B, int H) {
    DISPATCH(gru_cell_rows, (rows, h_off, gi, gh, ldgh, B, H))
}
void st_rnn_cell_rows(float *const *rows, size_t h_off, const float *const *gi,
                      const float *gh, int ldgh, int B, int H, int relu) {
    DISPATCH(rnn_cell_rows, (rows, h_off, gi, gh, ldgh, B, H, relu))
}

void st_prefetch(const void *p, size_t n) {
    const char *c = (const char *)p, *end = c + n;
    for (c = (const char *)((uintptr_t)c & ~(uintptr_t)63); c < end; c += 64) __builtin_prefetch(c, 0, 2);
}
