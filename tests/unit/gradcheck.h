/* gradcheck.h - what the C tests of gradients share: seeded random
 * data, central differences of a scalar objective, and the measure of
 * how far analytic gradients are from them. */
#ifndef CM_GRADCHECK_H
#define CM_GRADCHECK_H

#include <math.h>
#include <stdlib.h>

#include "tap.h"

static uint64_t state = 5;
/* Uniform in [-1, 1). */
static inline double uniform(void)
{
    return (double)(tap_rand(&state) >> 11) * 0x1p-52 - 1.0;
}

static inline float *random_floats(size_t n, double scale)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(scale * uniform());
    return x;
}

static inline double *random_doubles(size_t n)
{
    double *x = malloc((n ? n : 1) * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = uniform();
    return x;
}

/* The nudge: 1e-3 where the function bends; a layer linear in each
 * argument takes a wider one, which costs nothing and rounds less. */
#define EPS 1e-3
#define EPS_LINEAR 1e-2

/* Compares analytic gradients g with numeric ones num over n entries: the
 * largest |num - g| relative to |g|, or to a tenth of the largest |g| for
 * entries smaller than that, whose numeric value is mostly the float
 * rounding of the objective divided by the nudge. */
static inline double grad_error(size_t n, const float *g, const double *num)
{
    double big = 0, worst = 0;
    for (size_t i = 0; i < n; i++)
        big = fmax(big, fabs(g[i]));
    for (size_t i = 0; i < n; i++) {
        double e = fabs(num[i] - g[i]) / fmax(fabs(g[i]), 0.1 * big + 1e-30);
        if (!(e <= worst))
            worst = e;
    }
    return worst;
}

/* Nudges *p up and down by eps, calling f(ctx) for the objective at each,
 * and returns the central difference over the step the floats really took. */
static inline double central(float *p, double eps, double (*f)(void *), void *ctx)
{
    float saved = *p, up = (float)(saved + eps), down = (float)(saved - eps);
    *p = up;
    double fu = f(ctx);
    *p = down;
    double fd = f(ctx);
    *p = saved;
    return (fu - fd) / ((double)up - (double)down);
}

#endif
