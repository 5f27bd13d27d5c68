/*
 * nnexp.h - exp, sigmoid and tanh for the recurrent cells, inline and
 * without libm, so that a loop over a gate's units vectorizes (libm's
 * expf and tanhf, called per unit, were three fifths of an LSTM's
 * training step).  exp is Cephes' expf: 2^n times a polynomial on the
 * remainder, within 2 ulp of exp from -87.3 to 88; beyond, its argument is
 * clamped, so sigmoid and tanh reach 0, 1 and -1 and never overflow to
 * NaN.  tanh is 1 - 2 / (1 + e^2x): within 2e-7 of tanh everywhere (an
 * absolute error; relative, up to 4e-5 at |x| = 0.001).
 * Elementwise, correctly rounded operations alone: the same bits from
 * every clone of a loop and every thread count.
 *
 * GCC turns the clamps into vector min and max only under
 * -ffinite-math-only, and the floor's compare only without trapping math
 * (the Makefile's flags for the files that include this): a NaN is then
 * clamped like a number, so a caller that must see one (a diverged
 * weight) looks for it itself.
 */
#ifndef CM_NNEXP_H
#define CM_NNEXP_H

#include <stdint.h>
#include <string.h>

static inline float cm_nn_exp(float x)
{
    x = __builtin_fminf(x, 88.0f);
    x = __builtin_fmaxf(x, -87.3365447505531f); /* 2^-126: no subnormal */
    float fx = x * 1.44269504088896341f + 0.5f;
    float n = (float)(int32_t)fx; /* floor, by truncation and a step down */
    n = n > fx ? n - 1.0f : n;
    x = x - n * 0.693359375f;
    x = x - n * -2.12194440e-4f;
    float y = 1.9875691500e-4f;
    y = y * x + 1.3981999507e-3f;
    y = y * x + 8.3334519073e-3f;
    y = y * x + 4.1665795894e-2f;
    y = y * x + 1.6666665459e-1f;
    y = y * x + 5.0000001201e-1f;
    y = y * (x * x) + x + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float p;
    memcpy(&p, &bits, sizeof p);
    return y * p;
}

static inline float cm_nn_sigmoid(float x)
{
    return 1.0f / (1.0f + cm_nn_exp(-x));
}

static inline float cm_nn_tanh(float x)
{
    return 1.0f - 2.0f / (1.0f + cm_nn_exp(2.0f * x));
}

#endif
