/* act.c - the activations and their derivatives, elementwise.  ReLU's
 * loops are wide (nnwide.h), in place or not, each with restrict pointers
 * so that no run-time overlap check sends them down a scalar path; tanh,
 * sigmoid and GELU go through libm one element at a time. */
#include <math.h>
#include <string.h>

#include "nn/cm_nn.h"
#include "nn/nnwide.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

CM_WIDE static void relu(size_t n, const float *restrict x, float *restrict y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

CM_WIDE static void relu_in_place(size_t n, float *restrict y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

/* dy is read whatever x is: a conditional load would keep GCC from
 * turning the branch into a vector blend. */
CM_WIDE static void relu_back(size_t n, const float *restrict x, const float *restrict dy,
                              float *restrict dx)
{
    for (size_t i = 0; i < n; i++) {
        float d = dy[i];
        dx[i] = x[i] > 0.0f ? d : 0.0f;
    }
}

CM_WIDE static void relu_back_in_place(size_t n, const float *restrict x, float *restrict d)
{
    for (size_t i = 0; i < n; i++) {
        float v = d[i];
        d[i] = x[i] > 0.0f ? v : 0.0f;
    }
}

#define SQRT1_2 0.70710678118654752440f     /* 1 / sqrt(2) */
#define INV_SQRT_2PI 0.39894228040143267794f /* 1 / sqrt(2 pi) */

/* Phi(x), the standard normal distribution function. */
static float phi_cdf(float x)
{
    return 0.5f * (1.0f + erff(x * SQRT1_2));
}

void cm_act_forward(cm_act a, size_t n, const float *x, float *y)
{
    switch (a) {
    case CM_ACT_NONE:
        if (y != x)
            memmove(y, x, n * sizeof *y);
        break;
    case CM_ACT_RELU:
        if (x == y)
            relu_in_place(n, y);
        else
            relu(n, x, y);
        break;
    case CM_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            y[i] = tanhf(x[i]);
        break;
    case CM_ACT_SIGMOID:
        /* expf(-x) overflows to inf for x < -88, giving 0 as it should. */
        for (size_t i = 0; i < n; i++)
            y[i] = 1.0f / (1.0f + expf(-x[i]));
        break;
    case CM_ACT_GELU:
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] * phi_cdf(x[i]);
        break;
    }
}

void cm_act_backward(cm_act a, size_t n, const float *x, const float *y,
                     const float *dy, float *dx)
{
    switch (a) {
    case CM_ACT_NONE:
        if (dx != dy)
            memmove(dx, dy, n * sizeof *dx);
        break;
    case CM_ACT_RELU:
        if (dx == dy)
            relu_back_in_place(n, x, dx);
        else
            relu_back(n, x, dy, dx);
        break;
    case CM_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            dx[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case CM_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            dx[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    case CM_ACT_GELU:
        /* d/dx x Phi(x) = Phi(x) + x phi(x) */
        for (size_t i = 0; i < n; i++) {
            float xi = x[i];
            float pdf = INV_SQRT_2PI * expf(-0.5f * xi * xi);
            dx[i] = dy[i] * (phi_cdf(xi) + xi * pdf);
        }
        break;
    }
}
