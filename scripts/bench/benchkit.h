/*
 * benchkit.h - what the C benchmarks share: a monotonic clock, the
 * clock rate /proc/cpuinfo gives (for a nominal peak), and the same
 * small numbers for every run.
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
