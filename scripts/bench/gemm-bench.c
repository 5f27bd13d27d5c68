/*
 * gemm-bench - GFLOP/s of the three matrix products of cm-train, and of a
 * dense layer's forward and backward pass, on the shapes of training.
 *   cc -O2 -std=c11 -Ilib scripts/bench/gemm-bench.c build/libcm.a -lm -lpthread \
 *       -o /tmp/gemm-bench
 *   /tmp/gemm-bench [--peak | FLOPS_PER_CYCLE [GHZ]]
 * Each on 1 and on 2 threads.  The fraction of peak is against one
 * core's fp32 peak as measured (benchkit.h: chains of FMAs at the widest
 * vector), or FLOPS_PER_CYCLE times GHZ (by default the first "cpu MHz"
 * of /proc/cpuinfo) when given, times the number of threads: the peak of
 * as many cores.  --peak prints the measured peak alone, in GFLOP/s, for
 * the scripts that state fractions of it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchkit.h"
#include "nn/cm_nn.h"

typedef struct {
    int variant; /* 0 nt, 1 tn, 2 nn, 3 dense forward + backward */
    size_t m, n, k;
    float *A, *B, *C, *D, *E, *F;
    int threads;
} job;

static void run(const job *j)
{
    switch (j->variant) {
    case 0:
        cm_gemm_nt(j->m, j->n, j->k, j->A, j->B, j->C, 0, j->threads);
        break;
    case 1:
        cm_gemm_tn(j->m, j->n, j->k, j->A, j->B, j->C, 0, j->threads);
        break;
    case 2:
        cm_gemm_nn(j->m, j->n, j->k, j->A, j->B, j->C, 0, j->threads);
        break;
    default: /* batch m, in k, out n: X = A, W = B, b = D, Y = C, dW = E, dX = F */
        cm_dense_forward(j->m, j->k, j->n, j->A, j->B, j->D, j->C, j->threads);
        cm_dense_backward(j->m, j->k, j->n, j->A, j->B, j->C, j->E, j->D + j->n, j->F,
                          j->threads);
        break;
    }
}

/* GFLOP/s on 1 and on 2 threads into g: the best of 9 rounds of 50 to
 * 100 ms (on one thread) each, alternating, so that both meet the same
 * load from whatever else shares the machine. */
static void gflops(job j, double flops, double g[2])
{
    long reps = 1;
    j.threads = 1;
    for (;; reps *= 2) {
        double t0 = bench_now();
        for (long r = 0; r < reps; r++)
            run(&j);
        if (bench_now() - t0 >= 0.05)
            break;
    }
    double best[2] = {1e30, 1e30};
    for (int round = 0; round < 9; round++)
        for (int t = 0; t < 2; t++) {
            j.threads = t + 1;
            double t0 = bench_now();
            for (long r = 0; r < reps; r++)
                run(&j);
            double dt = (bench_now() - t0) / (double)reps;
            best[t] = dt < best[t] ? dt : best[t];
        }
    for (int t = 0; t < 2; t++)
        g[t] = flops / best[t] / 1e9;
}

static const char *plural(int threads)
{
    return threads == 1 ? "thread " : "threads";
}

int main(int argc, char **argv)
{
    const char *isa;
    double peak; /* of one core */
    if (argc > 1 && !strcmp(argv[1], "--peak")) {
        printf("%.1f\n", bench_fp32_peak(&isa));
        return 0;
    }
    if (argc > 1) {
        double per_cycle = atof(argv[1]), ghz = argc > 2 ? atof(argv[2]) : bench_cpu_ghz();
        peak = per_cycle * ghz;
        printf("# peak %.1f GFLOP/s on 1 core, %.1f on 2 = %g flops/cycle x %.3f GHz per core;\n",
               peak, 2 * peak, per_cycle, ghz);
    } else {
        peak = bench_fp32_peak(&isa);
        printf("# peak %.1f GFLOP/s on 1 core, %.1f on 2, as measured (%s FMAs, %.1f flops a "
               "cycle at the %.3f GHz of /proc/cpuinfo);\n", peak, 2 * peak,
               isa ? isa : "no", bench_cpu_ghz() > 0 ? peak / bench_cpu_ghz() : 0,
               bench_cpu_ghz());
    }
    printf("# each %% is of the peak of as many cores as threads\n");
    static const size_t shapes[][3] = {{32, 64, 24}, {32, 64, 64}, {256, 512, 512}, {512, 512, 512}};
    static const char *const names[] = {"nt", "tn", "nn"};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *A = bench_randoms(m * k, 1), *B = bench_randoms(k * n, 1),
              *C = bench_randoms(m * n, 1);
        double g[3][2];
        for (int v = 0; v < 3; v++)
            gflops((job){v, m, n, k, A, B, C, NULL, NULL, NULL, 1},
                   2.0 * (double)m * (double)n * (double)k, g[v]);
        for (int t = 0; t < 2; t++) {
            printf("gemm m=%-3zu n=%-3zu k=%-3zu %d %s", m, n, k, t + 1, plural(t + 1));
            for (int v = 0; v < 3; v++)
                printf("  %s %6.1f GFLOP/s (%3.0f%%)", names[v], g[v][t],
                       peak > 0 ? 100 * g[v][t] / ((t + 1) * peak) : 0);
            printf("\n");
        }
        free(A);
        free(B);
        free(C);
    }
    size_t batch = 256, in = 512, out = 512;
    job d = {3, batch, out, in, bench_randoms(batch * in, 1), bench_randoms(out * in, 1),
             bench_randoms(batch * out, 1), bench_randoms(2 * out, 1),
             bench_randoms(out * in, 1), bench_randoms(batch * in, 1), 1};
    double g[2];
    gflops(d, 6.0 * (double)batch * (double)in * (double)out, g);
    for (int t = 0; t < 2; t++)
        printf("dense %zu->%zu batch %zu forward+backward (dW, db, dX) %d %s %6.1f GFLOP/s "
               "(%3.0f%%, %.2fx 1 thread)\n",
               in, out, batch, t + 1, plural(t + 1), g[t],
               peak > 0 ? 100 * g[t] / ((t + 1) * peak) : 0, g[t] / g[0]);
    free(d.A);
    free(d.B);
    free(d.C);
    free(d.D);
    free(d.E);
    free(d.F);
    return 0;
}
