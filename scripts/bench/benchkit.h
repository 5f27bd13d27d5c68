/*
 * benchkit.h - what the C benchmarks share: a monotonic clock, the
 * clock rate /proc/cpuinfo gives, one core's fp32 peak as measured, and
 * the same small numbers for every run.
 */
#ifndef CM_BENCHKIT_H
#define CM_BENCHKIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The first "cpu MHz" of /proc/cpuinfo in GHz, 0 when there is none
 * (under turbo or a hypervisor it may be the base clock). */
static inline double bench_cpu_ghz(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    double mhz = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "cpu MHz", 7) && sscanf(strchr(line, ':') + 1, "%lf", &mhz) == 1)
            break;
    if (f)
        fclose(f);
    return mhz / 1000;
}

/* One core's fp32 peak in GFLOP/s, measured: 12 independent chains of
 * fused multiply-adds, so that every FMA unit is busy whatever its
 * latency, at the widest vector the CPU has.  Truer than a nominal flops
 * a cycle times "cpu MHz": the clock under turbo is not the one
 * /proc/cpuinfo gives, and AVX-512 on some cores is two 256-bit halves.
 * The best of 5 runs of 2^22 steps; *isa names the vectors (0 when
 * neither AVX2 with FMA nor AVX-512 is there). */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define BENCH_FMA(name, isa, type, set1, fmadd, lanes)                         \
    __attribute__((target(isa))) static double name(long n)                    \
    {                                                                          \
        type b = set1(0.999999f), c = set1(1e-7f);                             \
        type a0 = set1(0), a1 = set1(1), a2 = set1(2), a3 = set1(3);           \
        type a4 = set1(4), a5 = set1(5), a6 = set1(6), a7 = set1(7);           \
        type a8 = set1(8), a9 = set1(9), a10 = set1(10), a11 = set1(11);       \
        double t0 = bench_now();                                               \
        for (long r = 0; r < n; r++) {                                         \
            a0 = fmadd(a0, b, c), a1 = fmadd(a1, b, c), a2 = fmadd(a2, b, c);   \
            a3 = fmadd(a3, b, c), a4 = fmadd(a4, b, c), a5 = fmadd(a5, b, c);   \
            a6 = fmadd(a6, b, c), a7 = fmadd(a7, b, c), a8 = fmadd(a8, b, c);   \
            a9 = fmadd(a9, b, c), a10 = fmadd(a10, b, c), a11 = fmadd(a11, b, c); \
        }                                                                      \
        double t = bench_now() - t0;                                           \
        type sum = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11; \
        float out[16];                                                         \
        memcpy(out, &sum, sizeof sum);                                         \
        volatile float sink = out[0];                                          \
        (void)sink;                                                            \
        return 2.0 * 12 * (lanes) * (double)n / t / 1e9;                       \
    }
BENCH_FMA(bench_fma256, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, 8)
BENCH_FMA(bench_fma512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, 16)
#endif

static inline double bench_fp32_peak(const char **isa)
{
    double best = 0;
    *isa = NULL;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    int wide = __builtin_cpu_supports("avx512f");
    if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
        return 0;
    *isa = wide ? "AVX-512" : "AVX2";
    for (int r = 0; r < 5; r++) {
        double g = wide ? bench_fma512(1L << 22) : bench_fma256(1L << 22);
        best = g > best ? g : best;
    }
#endif
    return best;
}

/* n numbers in [-scale/2, scale/2), the same every run (malloc'ed). */
static inline float *bench_randoms(size_t n, float scale)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    unsigned s = 12345;
    for (size_t i = 0; x && i < n; i++) {
        s = s * 1103515245u + 12345u;
        x[i] = ((float)((s >> 9) & 0xffff) / 65536.0f - 0.5f) * scale;
    }
    return x;
}

#endif
