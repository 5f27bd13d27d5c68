/* gemm.c - the three matrix products of training: Y = X W^T forward
 * (cm_gemm_nt), dW = dY^T X (tn) and dX = dY W (nn) backward.
 *
 * One loop nest serves all three: an MR x NR tile of C stays in vector
 * registers over a slice of k, each step adding one element of A per row
 * times one NR-wide row of B.  That row must be contiguous, so nn and tn
 * read B in place (or copy it, when reused enough to pay), while nt, whose
 * B is stored the other way round, transposes each panel first.
 *
 * The best tile depends on the instruction set: 8 x 32 floats in 16 of
 * the 32 zmm registers of AVX-512, 6 x 16 in 12 of the 16 ymm of AVX2.
 * target_clones cannot say that, as its clones share one body (and a
 * 64-byte GCC vector compiled for AVX2 lives in memory: 2 GFLOP/s), nor
 * can plain loops left to the auto-vectorizer, which lost 5-40% and
 * broke down on some tile shapes.  So each instruction set gets its own
 * instance of the same code, with its vector type and tile, under a
 * target attribute, and each call asks the CPU (a load and a test).
 * The order of the sums is fixed by the blocking alone: same machine,
 * same inputs, same bits.
 *
 * A training step spends most of its time here, so a large product is
 * split among threads, by whole tiles of C: each element then gets the
 * kernel and the order of sums it gets on one thread, and a --seed the
 * same model on any number of cores.  The threads are started per call:
 * at the sizes that pay for a thread, starting one costs a few percent,
 * and a pool would be global state or one more object for every caller
 * to carry. */
#include <pthread.h>
#include <stddef.h>

#include "nn/cm_nn.h"

#if defined(__GNUC__) && !defined(__clang__)
/* Vector arithmetic is only fused into FMA when contraction is allowed,
 * which -std=c11 turns off; O3 measured 10-30% faster than O2 here. */
#pragma GCC optimize("O3", "fp-contract=fast")
#if defined(__x86_64__) || defined(__i386__)
#define CM_X86 1
#endif
#endif

/* The k slice: a packed B panel of KC x 32 floats is a 32 KiB L1; 256
 * measured best of 128 to 384. */
#define KC 256
#define MR_MAX 8
#define NR_MAX 32
#define INLINE static inline __attribute__((always_inline))
/* Unrolled before scalar replacement, the tile never touches memory. */
#define UNROLL _Pragma("GCC unroll 16")

typedef float v4 __attribute__((vector_size(16)));
typedef float v4u __attribute__((vector_size(16), aligned(4)));
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));
typedef int v8i __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));

/* Element (i, j) of a matrix operand is p[i * rs + j * cs]. */
typedef struct {
    const float *p;
    size_t rs, cs;
} view;

static size_t min_sz(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* c (mr x nr of ldc) = or += the tile t, computed MR x NV*L. */
#define KERNEL(name, target, vec, uvec, MR, NV)                                \
    target static void name(size_t kc, const float *restrict a, size_t ars,    \
                            size_t acs, const float *restrict b, size_t ldb,   \
                            float *restrict c, size_t ldc, size_t mr, size_t nr, \
                            int acc)                                           \
    {                                                                          \
        enum { L = sizeof(vec) / sizeof(float) };                              \
        vec t[MR][NV];                                                         \
        UNROLL                                                                 \
        for (size_t i = 0; i < MR; i++)                                        \
            UNROLL                                                             \
            for (size_t v = 0; v < NV; v++)                                    \
                t[i][v] = (vec){0};                                            \
        for (size_t p = 0; p < kc; p++) {                                      \
            vec bv[NV];                                                        \
            UNROLL                                                             \
            for (size_t v = 0; v < NV; v++)                                    \
                bv[v] = *(const uvec *)(b + p * ldb + v * L);                  \
            UNROLL                                                             \
            for (size_t i = 0; i < MR; i++) {                                  \
                float ai = a[i * ars + p * acs];                               \
                UNROLL                                                         \
                for (size_t v = 0; v < NV; v++)                                \
                    t[i][v] += ai * bv[v];                                     \
            }                                                                  \
        }                                                                      \
        if (mr == MR && nr == NV * L) {                                        \
            UNROLL                                                             \
            for (size_t i = 0; i < MR; i++)                                    \
                UNROLL                                                         \
                for (size_t v = 0; v < NV; v++) {                              \
                    uvec *cv = (uvec *)(c + i * ldc + v * L);                  \
                    *cv = acc ? *cv + t[i][v] : t[i][v];                       \
                }                                                              \
            return;                                                            \
        }                                                                      \
        /* Through memory only here, so that t stays in registers. */          \
        UNROLL                                                                 \
        for (size_t i = 0; i < MR; i++) {                                      \
            float row[NV * L];                                                 \
            UNROLL                                                             \
            for (size_t v = 0; v < NV; v++)                                    \
                *(uvec *)(row + v * L) = t[i][v];                              \
            for (size_t j = 0; i < mr && j < nr; j++)                          \
                c[i * ldc + j] = acc ? c[i * ldc + j] + row[j] : row[j];       \
        }                                                                      \
    }

typedef void kernel_fn(size_t kc, const float *restrict a, size_t ars, size_t acs,
                       const float *restrict b, size_t ldb, float *restrict c,
                       size_t ldc, size_t mr, size_t nr, int acc);

#ifdef CM_X86
/* d[l * ld + i] = s[i * ls + l] for an 8 x 8 block, in registers. */
INLINE void transpose8(const float *s, size_t ls, float *d, size_t ld)
{
    const v8i lo = {0, 8, 1, 9, 4, 12, 5, 13}, hi = {2, 10, 3, 11, 6, 14, 7, 15};
    const v8i lo2 = {0, 1, 8, 9, 4, 5, 12, 13}, hi2 = {2, 3, 10, 11, 6, 7, 14, 15};
    const v8i lo4 = {0, 1, 2, 3, 8, 9, 10, 11}, hi4 = {4, 5, 6, 7, 12, 13, 14, 15};
    v8 r[8], x[8], y[8];
    for (int i = 0; i < 8; i++)
        r[i] = *(const v8u *)(s + i * ls);
    for (int i = 0; i < 8; i += 2) {
        x[i] = __builtin_shuffle(r[i], r[i + 1], lo);
        x[i + 1] = __builtin_shuffle(r[i], r[i + 1], hi);
    }
    for (int i = 0; i < 8; i += 4) {
        y[i] = __builtin_shuffle(x[i], x[i + 2], lo2);
        y[i + 1] = __builtin_shuffle(x[i], x[i + 2], hi2);
        y[i + 2] = __builtin_shuffle(x[i + 1], x[i + 3], lo2);
        y[i + 3] = __builtin_shuffle(x[i + 1], x[i + 3], hi2);
    }
    for (int i = 0; i < 4; i++) {
        *(v8u *)(d + i * ld) = __builtin_shuffle(y[i], y[i + 4], lo4);
        *(v8u *)(d + (i + 4) * ld) = __builtin_shuffle(y[i], y[i + 4], hi4);
    }
}
#endif

/* Columns j0.. j0+nr of a k slice of B as kc rows of NR, zero-padded:
 * copied when B's rows are contiguous, transposed when its columns are. */
INLINE void pack_b(view b, size_t p0, size_t kc, size_t j0, size_t nr, size_t NR,
                   int fast_transpose, float *restrict d)
{
    const float *s = b.p + p0 * b.rs + j0 * b.cs;
    size_t j = 0;
    if (b.cs == 1) {
        for (size_t p = 0; p < kc; p++)
            for (size_t jj = 0; jj < NR; jj++)
                d[p * NR + jj] = jj < nr ? s[p * b.rs + jj] : 0.0f;
        return;
    }
#ifdef CM_X86
    if (fast_transpose)
        for (size_t k8 = kc & ~(size_t)7; j + 8 <= nr; j += 8) {
            for (size_t p = 0; p < k8; p += 8)
                transpose8(s + j * b.cs + p, b.cs, d + p * NR + j, NR);
            for (size_t p = k8; p < kc; p++)
                for (size_t jj = j; jj < j + 8; jj++)
                    d[p * NR + jj] = s[jj * b.cs + p];
        }
#else
    (void)fast_transpose;
#endif
    for (; j < nr; j++)
        for (size_t p = 0; p < kc; p++)
            d[p * NR + j] = s[j * b.cs + p];
    for (; j < NR; j++)
        for (size_t p = 0; p < kc; p++)
            d[p * NR + j] = 0.0f;
}

/* One instruction set's kernels: tiles of MR x NR (full), MR x NR/2 for
 * a narrow last panel (half), and of the mr < MR last rows at those two
 * widths (part[mr], part_half[mr]), which read A where it is: a batch of
 * 32 or 64 rows is no multiple of 6, and padding its last tile with zero
 * rows cost a copy and multiply-adds thrown away (a sixth of an MLP's
 * step at batch 32, callgrind).  Each element sums over k in the same
 * order in every kernel, so the bits do not depend on which computes it. */
typedef struct {
    kernel_fn *full, *half, *part[MR_MAX], *part_half[MR_MAX];
} kernels;

/* C (m x n, rows ldc apart) = or += A . B for A m x k and B k x n (as
 * views). */
INLINE void gemm(size_t m, size_t n, size_t k, view a, view b, float *C, size_t ldc,
                 int accumulate, size_t MR, size_t NR, kernels kern, int fast_transpose)
{
    _Alignas(64) float bbuf[KC * NR_MAX];
    if (m == 0 || n == 0)
        return;
    if (k == 0 && !accumulate)
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++)
                C[i * ldc + j] = 0.0f;
    /* A last tile of a few rows keeps too few sums going to hide the
     * latency of its multiply-adds: the last two tiles share their rows
     * instead (32 rows: 6 6 6 6 4 4, not 6 6 6 6 6 2). */
    size_t r = m % MR, split = m > MR && r && r <= MR / 2 ? m - MR - r : m;
    for (size_t pc = 0; pc < k; pc += KC) {
        size_t kc = min_sz(KC, k - pc);
        int acc = accumulate || pc > 0;
        for (size_t jr = 0; jr < n; jr += NR) {
            size_t nr = min_sz(NR, n - jr);
            int narrow = nr <= NR / 2;
            size_t width = narrow ? NR / 2 : NR;
            const float *bp = b.p + pc * b.rs + jr;
            size_t ldb = b.rs;
            /* A copy costs little once reused by enough tiles, and keeps
             * a long row stride from thrashing L1 (power-of-two n). */
            if (b.cs != 1 || nr < width || m >= 8 * MR) {
                pack_b(b, pc, kc, jr, nr, width, fast_transpose, bbuf);
                bp = bbuf;
                ldb = width;
            }
            for (size_t ic = 0, mr; ic < m; ic += mr) {
                mr = ic < split ? min_sz(MR, m - ic) : ic == split ? (MR + r + 1) / 2 : m - ic;
                const float *ap = a.p + ic * a.rs + pc * a.cs;
                size_t ars = a.rs, acs = a.cs;
                float *c = C + ic * ldc + jr;
                kernel_fn *f = mr < MR ? (narrow ? kern.part_half[mr] : kern.part[mr])
                                       : (narrow ? kern.half : kern.full);
                f(kc, ap, ars, acs, bp, ldb, c, ldc, mr, nr, acc);
            }
        }
    }
}

/* c[i] = or += the dot product of row i of A (m x k) with b: nt with a
 * single column, where a tile would waste all but one of its columns.
 * The sum is split the same way whatever the vector width: 32 partial
 * sums (two rows of 16 lanes, as one AVX-512 register each), folded in a
 * fixed tree, so that a model trained on an AVX2 machine has the bits of
 * one trained with AVX-512 (the products of the tiles already do: each
 * lane of C sums over k in order).  The scalar tail is fused by name:
 * left to contraction, GCC fused some of its unrolled steps and not
 * others. */
#define DOT(name, target, vec, uvec, fma)                                      \
    target static void name(size_t m, size_t k, const float *restrict A,       \
                            const float *restrict b, float *restrict c, int acc) \
    {                                                                          \
        enum { L = sizeof(vec) / sizeof(float), W = 16, N = W / L };           \
        size_t kl = k - k % W;                                                 \
        for (size_t i = 0; i < m; i++) {                                       \
            const float *a = A + i * k;                                        \
            vec s0[N], s1[N];                                                  \
            UNROLL                                                             \
            for (size_t v = 0; v < N; v++)                                     \
                s0[v] = s1[v] = (vec){0};                                      \
            size_t p = 0;                                                      \
            for (; p + 2 * W <= kl; p += 2 * W) {                              \
                UNROLL                                                         \
                for (size_t v = 0; v < N; v++) {                               \
                    s0[v] += *(const uvec *)(a + p + v * L) *                  \
                             *(const uvec *)(b + p + v * L);                   \
                    s1[v] += *(const uvec *)(a + p + W + v * L) *              \
                             *(const uvec *)(b + p + W + v * L);               \
                }                                                              \
            }                                                                  \
            if (p < kl) {                                                      \
                UNROLL                                                         \
                for (size_t v = 0; v < N; v++)                                 \
                    s0[v] += *(const uvec *)(a + p + v * L) *                  \
                             *(const uvec *)(b + p + v * L);                   \
            }                                                                  \
            float lane[W];                                                     \
            UNROLL                                                             \
            for (size_t v = 0; v < N; v++)                                     \
                *(uvec *)(lane + v * L) = s0[v] + s1[v];                       \
            for (size_t w = W / 2; w > 0; w /= 2)                              \
                for (size_t l = 0; l < w; l++)                                 \
                    lane[l] += lane[l + w];                                    \
            float x = lane[0];                                                 \
            for (p = kl; p < k; p++)                                           \
                x = fma(a[p], b[p], x);                                        \
            c[i] = acc ? c[i] + x : x;                                         \
        }                                                                      \
    }

/* Without FMA in the instruction set, a product rounded, then the sum. */
static inline float unfused(float a, float b, float c)
{
    return c + a * b;
}

/* The variants, as views of A and B. */
enum { NT, TN, NN };

/* The rows i0..i1 and columns j0..j1 of C = or += A . B (m x n x k), for
 * one thread, by the instance run. */
typedef struct part {
    void (*run)(const struct part *);
    int variant, accumulate;
    size_t m, n, k;
    const float *A, *B;
    float *C;
    size_t i0, i1, j0, j1;
    const cm_gemm_tail *tail;
} part;

/* An instance and its tile, by which C is split. */
typedef struct {
    void (*run)(const part *);
    size_t MR, NR;
} instance;

/* The kernels of the last rows, 1 to 7 (as many as an instance's MR
 * needs; the rest unused), at a width of NV vectors. */
#define PARTS(name, target, vec, uvec, NV)                                     \
    KERNEL(name##1, target, vec, uvec, 1, NV)                                  \
    KERNEL(name##2, target, vec, uvec, 2, NV)                                  \
    KERNEL(name##3, target, vec, uvec, 3, NV)                                  \
    KERNEL(name##4, target, vec, uvec, 4, NV)                                  \
    KERNEL(name##5, target, vec, uvec, 5, NV)                                  \
    KERNEL(name##6, target, vec, uvec, 6, NV)                                  \
    KERNEL(name##7, target, vec, uvec, 7, NV)

#define INSTANCE(name, target, vec, uvec, MR, NV, fast_transpose, fma)         \
    KERNEL(name##_full, target, vec, uvec, MR, NV)                             \
    KERNEL(name##_half, target, vec, uvec, MR, NV / 2)                         \
    PARTS(name##_part, target, vec, uvec, NV)                                  \
    PARTS(name##_phalf, target, vec, uvec, NV / 2)                             \
    DOT(name##_dot, target, vec, uvec, fma)                                    \
    target static void name(const part *t)                                     \
    {                                                                          \
        enum { NR = NV * sizeof(vec) / sizeof(float) };                        \
        kernels kern = {name##_full,                                           \
                        name##_half,                                           \
                        {NULL, name##_part1, name##_part2, name##_part3,       \
                         name##_part4, name##_part5, name##_part6,             \
                         name##_part7},                                        \
                        {NULL, name##_phalf1, name##_phalf2, name##_phalf3,    \
                         name##_phalf4, name##_phalf5, name##_phalf6,          \
                         name##_phalf7}};                                      \
        size_t m = t->m, n = t->n, k = t->k;                                   \
        view a = t->variant == TN ? (view){t->A, 1, m} : (view){t->A, k, 1};   \
        view b = t->variant == NT ? (view){t->B, 1, k} : (view){t->B, n, 1};   \
        float *c = t->C + t->i0 * n + t->j0;                                   \
        a.p += t->i0 * a.rs;                                                   \
        b.p += t->j0 * b.cs;                                                   \
        if (t->variant == NT && n == 1 && k > 0)                               \
            name##_dot(t->i1 - t->i0, k, a.p, b.p, c, t->accumulate);          \
        else                                                                   \
            gemm(t->i1 - t->i0, t->j1 - t->j0, k, a, b, c, n, t->accumulate,   \
                 MR, NR, kern, fast_transpose);                                \
    }                                                                          \
    static const instance name##_instance = {name, MR, NV * sizeof(vec) / sizeof(float)};

#ifdef CM_X86
INSTANCE(gemm_avx512, __attribute__((target("avx512f"))), v16, v16u, 8, 2, 1, __builtin_fmaf)
INSTANCE(gemm_avx2, __attribute__((target("avx2,fma"))), v8, v8u, 6, 2, 1, __builtin_fmaf)
#endif
INSTANCE(gemm_base, , v4, v4u, 4, 2, 0, unfused)

static instance pick(void)
{
#ifdef CM_X86
    if (__builtin_cpu_supports("avx512f"))
        return gemm_avx512_instance;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return gemm_avx2_instance;
#endif
    return gemm_base_instance;
}

/* Fewer multiply-adds than this per thread, and a thread costs more than
 * it brings: starting, waking and joining one took 60-80 us here, and two
 * threads broke even at 8M multiply-adds (1.0x), gained 1.25x at 12M
 * and 1.35x at 16M.  MAX_PARTS bounds the stack taken by the bookkeeping. */
#define MIN_WORK ((size_t)6 << 20)
#define MAX_PARTS 64

static size_t ceil_div(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

static void *run_part(void *arg)
{
    const part *t = arg;
    t->run(t);
    if (t->tail && t->tail->fn)
        t->tail->fn(t->tail->ctx, t->i0, t->i1, t->j0, t->j1);
    return NULL;
}

/* Each part of C is whole tiles of the single-threaded blocking (rows at
 * multiples of MR, or columns at multiples of NR), computed by the same
 * kernel over the same k slices in the same order: the bits do not depend
 * on the number of threads.  Columns split without repacking B in every
 * thread; rows serve when there are too few panels to go round. */
static void product(int variant, size_t m, size_t n, size_t k, const float *A,
                    const float *B, float *C, int accumulate, int threads,
                    const cm_gemm_tail *tail)
{
    if (m == 0 || n == 0)
        return;
    instance in = pick();
    part whole = {in.run, variant, accumulate, m, n, k, A, B, C, 0, m, 0, n, tail};
    size_t parts = min_sz(threads > 1 ? (size_t)threads : 1, MAX_PARTS);
    parts = min_sz(parts, m * n * k / MIN_WORK);
    /* The way whose largest part has fewer elements; columns on a tie. */
    size_t cols = ceil_div(n, in.NR), rows = ceil_div(m, in.MR);
    int by_cols = parts > 1 && ceil_div(cols, parts) * in.NR * m
                                   <= ceil_div(rows, parts) * in.MR * n;
    size_t units = by_cols ? cols : rows, unit = by_cols ? in.NR : in.MR;
    parts = min_sz(parts, units);
    if (parts <= 1) {
        run_part(&whole);
        return;
    }
    part p[MAX_PARTS];
    pthread_t tid[MAX_PARTS];
    int started[MAX_PARTS];
    for (size_t t = 0; t < parts; t++) {
        size_t lo = units * t / parts * unit, hi = units * (t + 1) / parts * unit;
        p[t] = whole;
        if (by_cols) {
            p[t].j0 = lo;
            p[t].j1 = min_sz(hi, n);
        } else {
            p[t].i0 = lo;
            p[t].i1 = min_sz(hi, m);
        }
    }
    /* A thread that cannot start leaves its part to this one: same bits. */
    for (size_t t = 1; t < parts; t++) {
        started[t] = pthread_create(&tid[t], NULL, run_part, &p[t]) == 0;
        if (!started[t])
            run_part(&p[t]);
    }
    run_part(&p[0]);
    for (size_t t = 1; t < parts; t++)
        if (started[t])
            pthread_join(tid[t], NULL);
}

void cm_gemm_nt(size_t m, size_t n, size_t k, const float *A, const float *B,
                float *C, int accumulate, int threads)
{
    product(NT, m, n, k, A, B, C, accumulate, threads, NULL);
}

void cm_gemm_tn(size_t m, size_t n, size_t k, const float *A, const float *B,
                float *C, int accumulate, int threads)
{
    product(TN, m, n, k, A, B, C, accumulate, threads, NULL);
}

void cm_gemm_nn(size_t m, size_t n, size_t k, const float *A, const float *B,
                float *C, int accumulate, int threads)
{
    product(NN, m, n, k, A, B, C, accumulate, threads, NULL);
}

void cm_gemm_nt_tail(size_t m, size_t n, size_t k, const float *A, const float *B,
                     float *C, int accumulate, int threads, const cm_gemm_tail *tail)
{
    product(NT, m, n, k, A, B, C, accumulate, threads, tail);
}

void cm_gemm_tn_tail(size_t m, size_t n, size_t k, const float *A, const float *B,
                     float *C, int accumulate, int threads, const cm_gemm_tail *tail)
{
    product(TN, m, n, k, A, B, C, accumulate, threads, tail);
}

void cm_gemm_nn_tail(size_t m, size_t n, size_t k, const float *A, const float *B,
                     float *C, int accumulate, int threads, const cm_gemm_tail *tail)
{
    product(NN, m, n, k, A, B, C, accumulate, threads, tail);
}
