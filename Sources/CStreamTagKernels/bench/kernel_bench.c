// Stand-alone benchmark of the kernels at every level against OpenBLAS. Compiled out of the
// package (SwiftPM builds every .c here, so the whole file sits behind STREAMTAG_KERNEL_BENCH);
// x86-64 only.
// Build and run, single-threaded, from Sources/CStreamTagKernels:
//   clang -O3 -fno-math-errno -DSTREAMTAG_KERNEL_BENCH -Iinclude -I. generic.c avx2.c avx512.c \
//     dispatch.c bench/kernel_bench.c $(pkg-config --cflags --libs openblas) -lm -o /tmp/kbench
//   /tmp/kbench [gemv|bf16|gemm|act|conv|dispatch|all]
// Each figure is the median of 15 timings (each the mean of many calls) and, in brackets, the
// minimum: on a shared machine, compare ratios within one run.
#if defined(STREAMTAG_KERNEL_BENCH) && defined(__x86_64__)
#include "kernels_internal.h"
#include <cblas.h>
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads(int);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}
static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double tmin;
// Median over 15 samples of the mean time of `inner` runs of stmt, in µs; the minimum in tmin.
#define TIME(inner, stmt)                                                                          \
    ({                                                                                             \
        double s_[15];                                                                             \
        for (int r_ = 0; r_ < 15; r_++) {                                                          \
            double t_ = now();                                                                     \
            for (int i_ = 0; i_ < (inner); i_++) { stmt; }                                         \
            s_[r_] = (now() - t_) / (inner) * 1e6;                                                 \
        }                                                                                          \
        qsort(s_, 15, sizeof(double), cmpd);                                                       \
        tmin = s_[0];                                                                              \
        s_[7];                                                                                     \
    })

static float *rnd(size_t n, float scale) {
    float *p = aligned_alloc(64, (n * 4 + 63) / 64 * 64);
    for (size_t i = 0; i < n; i++) p[i] = scale * ((float)rand() / (float)RAND_MAX * 2 - 1);
    return p;
}

// ---- option (b) for bf16: vdpbf16ps with x rounded to bf16 (not in the library) -------------
#define TBF16 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16")))
// [Σa, Σb, Σc, Σd], as in avx512.c
TBF16 static inline __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
    __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    __m512d abd = _mm512_castps_pd(ab), cdd = _mm512_castps_pd(cd);
    __m512 s = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(abd, cdd)),
                             _mm512_castpd_ps(_mm512_unpackhi_pd(abd, cdd)));
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(s), _mm512_extractf32x8_ps(s, 1));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}
// Blocks of 16 rows, one accumulator a row, like the library's option (a); M a multiple of 16
// and K of 32 are enough to measure.
TBF16 static void gemv_bf16_dp(float *y, const uint16_t *W, const float *x, int M, int K) {
    for (int m = 0; m + 16 <= M; m += 16) {
        __m512 acc[16];
        for (int r = 0; r < 16; r++) acc[r] = _mm512_setzero_ps();
        for (int k = 0; k + 32 <= K; k += 32) {
            __m512bh xv = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + k + 16), _mm512_loadu_ps(x + k));
            for (int r = 0; r < 16; r++) {
                __m512i w = _mm512_loadu_si512(W + (size_t)(m + r) * K + k);
                acc[r] = _mm512_dpbf16_ps(acc[r], (__m512bh)w, xv);
            }
        }
        for (int r = 0; r < 16; r += 4)
            _mm_storeu_ps(y + m + r, hsum4(acc[r], acc[r + 1], acc[r + 2], acc[r + 3]));
    }
}
static int has_bf16(void) { return st_cpu_isa() >= ST_ISA_AVX512BF16; }

static float bf16f(uint16_t v) {
    uint32_t u = (uint32_t)v << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void bench_gemv(void) {
    int shapes[][2] = {{1024, 256}, {1024, 128}, {17, 768}, {1000, 250}};
    for (int s = 0; s < 4; s++) {
        int M = shapes[s][0], K = shapes[s][1];
        float *W = rnd((size_t)M * K, 1), *x = rnd(K, 1), *y = rnd(M, 1);
        printf("gemv M=%d K=%d (us):", M, K);
        for (int isa = 0; isa <= (int)st_cpu_isa() && isa <= ST_ISA_AVX512; isa++) {
            st_force_isa(isa);
            double t = TIME(2000, st_gemv(y, W, x, M, K, 1));
            printf("  %s %.2f [%.2f]", st_isa_name(isa), t, tmin);
        }
        double tb = TIME(2000, cblas_sgemv(CblasRowMajor, CblasNoTrans, M, K, 1, W, K, x, 1, 1, y, 1));
        printf("  openblas %.2f [%.2f]\n", tb, tmin);
        free(W), free(x), free(y);
    }
}

static void bench_bf16(void) {
    int shapes[][2] = {{1024, 256}, {1024, 128}, {16, 768}, {1000, 250}};
    for (int s = 0; s < 4; s++) {
        int M = shapes[s][0], K = shapes[s][1];
        float *W = rnd((size_t)M * K, 1), *x = rnd(K, 1), *y = rnd(M, 1);
        uint16_t *Wb = malloc((size_t)M * K * 2);
        st_f32_to_bf16(Wb, W, (size_t)M * K);
        // reference: the same bf16 weights in double
        double *ref = malloc(M * sizeof(double)), mx = 0;
        for (int m = 0; m < M; m++) {
            ref[m] = 0;
            for (int k = 0; k < K; k++) ref[m] += (double)bf16f(Wb[(size_t)m * K + k]) * x[k];
            mx = fmax(mx, fabs(ref[m]));
        }
        printf("gemv_bf16 M=%d K=%d (us):", M, K);
        for (int isa = 0; isa <= (int)st_cpu_isa() && isa <= ST_ISA_AVX512; isa++) {
            st_force_isa(isa);
            st_gemv_bf16(y, Wb, x, M, K, 0);
            double err = 0;
            for (int m = 0; m < M; m++) err = fmax(err, fabs(y[m] - ref[m]));
            double t = TIME(2000, st_gemv_bf16(y, Wb, x, M, K, 1));
            printf("  %s %.2f [%.2f] err %.1e", st_isa_name(isa), t, tmin, err);
        }
        if (has_bf16() && M % 16 == 0 && K % 32 == 0) {
            gemv_bf16_dp(y, Wb, x, M, K);
            double err = 0;
            for (int m = 0; m < M; m++) err = fmax(err, fabs(y[m] - ref[m]));
            double t = TIME(2000, gemv_bf16_dp(y, Wb, x, M, K));
            printf("  (b)vdpbf16ps %.2f [%.2f] err %.1e", t, tmin, err);
        }
        uint16_t *P = aligned_alloc(64, st_bf16_packed_count(M, K) * 2);
        st_pack_bf16(P, Wb, M, K);
        printf("\n  packed:");
        for (int isa = 0; isa <= (int)st_cpu_isa(); isa++) {
            st_force_isa(isa);
            st_gemv_bf16_packed(y, P, x, M, K, 0);
            double err = 0;
            for (int m = 0; m < M; m++) err = fmax(err, fabs(y[m] - ref[m]));
            double t = TIME(2000, st_gemv_bf16_packed(y, P, x, M, K, 1));
            printf("  %s %.2f [%.2f] err %.1e", st_isa_name(isa), t, tmin, err);
        }
        free(P);
        st_force_isa(ST_ISA_AVX512BF16);
        double tf = TIME(2000, st_gemv(y, W, x, M, K, 1));
        printf("  | fp32 %.2f, max|y| %.1f\n", tf, mx);
        free(W), free(x), free(y), free(Wb), free(ref);
    }
}

// Y[B, M] += X[B, K]·W^T for growing B against cblas_sgemm, to find where OpenBLAS wins.
static void bench_gemm(int M, int K) {
    int ldx = K + 16, ldy = M + 16; // padded so rows don't alias in the cache
    float *W = rnd((size_t)M * K, 1), *X = rnd(256 * (size_t)ldx, 1), *Y = rnd(256 * (size_t)ldy, 1);
    uint16_t *Wb = malloc((size_t)M * K * 2);
    st_f32_to_bf16(Wb, W, (size_t)M * K);
    const float *rows[256]; // the same rows through pointers, for the *_rows kernels
    for (int b = 0; b < 256; b++) rows[b] = X + (size_t)b * ldx;
    int Bs[] = {2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256};
    for (int i = 0; i < 12; i++) {
        int B = Bs[i], inner = B <= 32 ? 50 : 10;
        double fl = 2.0 * B * M * K;
        printf("gemm M=%d K=%d B=%3d (us):", M, K, B);
        for (int isa = ST_ISA_AVX512; isa >= 0; isa--) {
            if (isa > (int)st_cpu_isa() || (isa == 0 && B > 8)) continue;
            st_force_isa(isa);
            double t = TIME(inner, st_gemm_nt_small(Y, ldy, X, ldx, W, B, M, K, 1));
            printf("  %s %.1f [%.1f, %.0f GF/s]", st_isa_name(isa), t, tmin, fl / tmin / 1e3);
        }
        double tb = TIME(inner, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, M, K, 1, X, ldx,
                                            W, K, 1, Y, ldy));
        printf("  openblas %.1f [%.1f, %.0f GF/s]", tb, tmin, fl / tmin / 1e3);
        st_force_isa(ST_ISA_AVX512BF16);
        double tr = TIME(inner, st_gemm_nt_small_rows(Y, ldy, rows, 0, W, B, M, K, 1));
        double t2 = TIME(inner, st_gemm_nt_small_bf16(Y, ldy, X, ldx, Wb, B, M, K, 1));
        double t2r = TIME(inner, st_gemm_nt_small_bf16_rows(Y, ldy, rows, 0, Wb, B, M, K, 1));
        printf("  rows %.1f  bf16 %.1f  bf16 rows %.1f\n", tr, t2, t2r);
    }
    free(W), free(X), free(Y), free(Wb);
}

static void bench_act(void) {
    int B = 64, H = 256;
    size_t n = (size_t)B * H;
    float *gi = rnd(4 * n, 4), *gh = rnd(4 * n, 4), *h = rnd(n, 1), *c = rnd(n, 1), *o = rnd(4 * n, 1);
    float *acts = rnd(4 * n, 1), *tc = rnd(n, 1);
    printf("activations, ns per element (B=%d, H=%d):\n", B, H);
    for (int isa = 0; isa <= (int)st_cpu_isa() && isa <= ST_ISA_AVX512; isa++) {
        st_force_isa(isa);
        double ts = TIME(50, st_sigmoid(o, gi, 4 * n)), tt = TIME(50, st_tanh(o, gi, 4 * n));
        double tl = TIME(50, st_lstm_cell(h, H, c, H, gi, 4 * H, gh, 4 * H, B, H, NULL, NULL));
        double tla = TIME(50, st_lstm_cell(h, H, c, H, gi, 4 * H, gh, 4 * H, B, H, acts, tc));
        double tg = TIME(50, st_gru_cell(h, H, gi, 3 * H, gh, 3 * H, B, H, NULL));
        double tr = TIME(50, st_rnn_cell(h, H, gi, H, gh, H, B, H, 0));
        printf("  %-8s sigmoid %.3f  tanh %.3f  lstm %.2f (%.1f us a call)  lstm+acts %.2f  gru %.2f  rnn-tanh %.2f\n",
               st_isa_name(isa), ts * 1e3 / (4 * n), tt * 1e3 / (4 * n), tl * 1e3 / n, tl,
               tla * 1e3 / n, tg * 1e3 / n, tr * 1e3 / n);
    }
}

static void bench_conv(void) {
    size_t n = 1 << 20;
    float *f = rnd(n, 100), *g = rnd(n, 1);
    uint16_t *u = malloc(n * 2);
    printf("conversions, ns per element (n=%zu):\n", n);
    for (int isa = 0; isa <= (int)st_cpu_isa() && isa <= ST_ISA_AVX512; isa++) {
        st_force_isa(isa);
        double a = TIME(5, st_f32_to_bf16(u, f, n)), b = TIME(5, st_bf16_to_f32(g, u, n));
        double c = TIME(5, st_f32_to_f16(u, f, n)), d = TIME(5, st_f16_to_f32(g, u, n));
        printf("  %-8s f32->bf16 %.3f  bf16->f32 %.3f  f32->f16 %.3f  f16->f32 %.3f\n", st_isa_name(isa),
               a * 1e3 / n, b * 1e3 / n, c * 1e3 / n, d * 1e3 / n);
    }
}

// The cost of dispatching: a tiny gemv through the public entry (switch on the cached level),
// through a function pointer, and called directly.
static void bench_dispatch(void) {
    float *W = rnd(64, 1), *x = rnd(16, 1), *y = rnd(4, 1);
    st_force_isa(ST_ISA_AVX512BF16);
    void (*volatile fp)(float *, const float *, const float *, int, int, int) =
        st_active_isa() >= ST_ISA_AVX512 ? st_avx512_gemv : st_avx2_gemv;
    void (*f)(float *, const float *, const float *, int, int, int) = fp;
    double ts = TIME(1000000, st_gemv(y, W, x, 4, 16, 1));
    double tp = TIME(1000000, f(y, W, x, 4, 16, 1));
    double td = st_cpu_isa() >= ST_ISA_AVX512 ? TIME(1000000, st_avx512_gemv(y, W, x, 4, 16, 1))
                                              : TIME(1000000, st_avx2_gemv(y, W, x, 4, 16, 1));
    printf("dispatch, ns per 4x16 gemv: switch %.2f  pointer %.2f  direct %.2f\n", ts * 1e3, tp * 1e3, td * 1e3);
}

int main(int argc, char **argv) {
    openblas_set_num_threads(1);
    const char *what = argc > 1 ? argv[1] : "all";
    int all = !strcmp(what, "all");
    printf("cpu level: %s\n", st_isa_name(st_cpu_isa()));
    if (all || !strcmp(what, "gemv")) bench_gemv();
    if (all || !strcmp(what, "bf16")) bench_bf16();
    if (all || !strcmp(what, "gemm")) {
        bench_gemm(1024, 256);
        bench_gemm(1024, 128);
        bench_gemm(17, 768);
    }
    if (all || !strcmp(what, "act")) bench_act();
    if (all || !strcmp(what, "conv")) bench_conv();
    if (all || !strcmp(what, "dispatch")) bench_dispatch();
    return 0;
}
#endif
