/* optim.c - parameter updates (SGD, momentum, Adam) and learning-rate
 * schedules, following PyTorch's torch.optim so that a model trained here
 * can be checked step by step against one trained there. */
#include <math.h>

#include "nn/cm_nn.h"
#include "nn/nnwide.h"

/* The loops below take restrict pointers and scalars hoisted out of them,
 * so that GCC vectorizes them without a run-time overlap check and a
 * scalar copy of each loop.  GCC 12 vectorizes them only at -O3, and
 * Adam's sqrtf only without errno (v is never negative, so errno is never
 * set): they are a quarter of a training step at batch 32. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-math-errno")
#endif

CM_WIDE static void sgd(size_t n, float lr, float wd, float *restrict p,
                        const float *restrict g)
{
    for (size_t i = 0; i < n; i++)
        p[i] -= lr * (g[i] + wd * p[i]);
}

/* PyTorch keeps no buffer before the first step and then copies the
 * gradient into it; with v zeroed, mu * 0 + g is the same copy. */
CM_WIDE static void momentum(size_t n, float lr, float mu, float wd, float *restrict p,
                             const float *restrict g, float *restrict v)
{
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        v[i] = mu * v[i] + d;
        p[i] -= lr * v[i];
    }
}

/* The operations and their order are PyTorch's (m and v are lerped in
 * float, the bias corrections made in double and applied as one float
 * step size and one float divisor), so trajectories agree to a few ulps. */
CM_WIDE static void adam(size_t n, float size, float root2, float b1, float b2, float eps,
                         float wd, float *restrict p, const float *restrict g,
                         float *restrict m, float *restrict v)
{
    float c1 = 1.0f - b1, c2 = 1.0f - b2;
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        m[i] = b1 * m[i] + c1 * d;
        v[i] = b2 * v[i] + c2 * d * d;
        /* sqrtf's errno path keeps this loop scalar unless the build
         * says -fno-math-errno; v >= 0, so that flag changes no result. */
        float denom = sqrtf(v[i]) / root2 + eps;
        p[i] -= size * m[i] / denom;
    }
}

cm_optim_at cm_optim_prepare(const cm_optim *o, float lr, uint64_t step)
{
    cm_optim_at a = {*o, lr, lr, 1};
    if (o->kind == CM_OPT_ADAM) {
        /* Step 0 would divide by a zero bias correction; it means 1. */
        double k = (double)(step ? step : 1);
        a.size = (float)(lr / (1.0 - pow(o->beta1, k)));
        a.root2 = (float)sqrt(1.0 - pow(o->beta2, k));
    }
    return a;
}

void cm_optim_apply(const cm_optim_at *a, size_t n, float *p, const float *g, float *m,
                    float *v)
{
    const cm_optim *o = &a->o;
    switch (o->kind) {
    case CM_OPT_SGD:
        sgd(n, a->lr, o->weight_decay, p, g);
        break;
    case CM_OPT_MOMENTUM:
        momentum(n, a->lr, o->momentum, o->weight_decay, p, g, v);
        break;
    case CM_OPT_ADAM:
        adam(n, a->size, a->root2, o->beta1, o->beta2, o->eps, o->weight_decay, p, g, m, v);
        break;
    }
}

void cm_optim_step(const cm_optim *o, float lr, uint64_t step, size_t n,
                   float *p, const float *g, float *m, float *v)
{
    cm_optim_at a = cm_optim_prepare(o, lr, step);
    cm_optim_apply(&a, n, p, g, m, v);
}

float cm_schedule(cm_sched_kind s, float lr, int epoch, int epochs,
                  int step_size, float gamma)
{
    const double pi = 3.14159265358979323846;
    if (epoch <= 0)
        return lr;
    switch (s) {
    case CM_SCHED_CONSTANT:
        break;
    case CM_SCHED_STEP:
        if (step_size > 0)
            return (float)(lr * pow(gamma, epoch / step_size));
        break;
    case CM_SCHED_COSINE:
        /* PyTorch's CosineAnnealingLR with T_max = epochs: the last epoch
         * runs just above 0, which would be reached one epoch later. */
        if (epochs > 1)
            return (float)(lr * (1.0 + cos(pi * epoch / epochs)) / 2.0);
        break;
    }
    return lr;
}
