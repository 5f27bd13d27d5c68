/* test_optim.c - optimizer steps, learning-rate schedules and the ridge
 * solver, against numbers worked out by hand, by a plain double-precision
 * re-implementation, and by PyTorch. */
#include <math.h>
#include <string.h>

#include "nn/cm_nn.h"
#include "tap.h"

static uint64_t state = 11;
/* Uniform in [-1, 1). */
static double uniform(void)
{
    return (double)(tap_rand(&state) >> 11) * 0x1p-52 - 1.0;
}

static int close_to(double got, double want, double tol)
{
    return fabs(got - want) <= tol * fmax(1.0, fabs(want));
}

static int all_close(size_t n, const float *got, const double *want,
                     double tol)
{
    for (size_t i = 0; i < n; i++)
        if (!close_to(got[i], want[i], tol))
            return 0;
    return 1;
}

/* The gradient of sum_i c_i (p_i - t_i)^2 / 2, so that a trajectory
 * depends on where the previous steps went. */
static const float P0[3] = {1.0f, -2.0f, 0.5f};
static const float T[3] = {0.25f, 0.5f, -1.0f};
static const float C[3] = {1.0f, 2.0f, 0.5f};

static void quad_grad(const float *p, float *g)
{
    for (int i = 0; i < 3; i++)
        g[i] = C[i] * (p[i] - T[i]);
}

static void test_sgd(void)
{
    cm_optim o = {.kind = CM_OPT_SGD};
    float p[3] = {1, -2, 0.5f}, g[3] = {0.5f, 1, -2}, m[3] = {0}, v[3] = {0};
    cm_optim_step(&o, 0.1f, 1, 3, p, g, m, v);
    CHECK(all_close(3, p, (double[]){0.95, -2.1, 0.7}, 1e-6),
          "sgd step 1: p - lr g (%g %g %g)", p[0], p[1], p[2]);
    cm_optim_step(&o, 0.1f, 2, 3, p, g, m, v);
    CHECK(all_close(3, p, (double[]){0.9, -2.2, 0.9}, 1e-6),
          "sgd step 2 (%g %g %g)", p[0], p[1], p[2]);
    CHECK(m[0] == 0 && m[1] == 0 && m[2] == 0 && v[0] == 0 && v[1] == 0
              && v[2] == 0, "sgd keeps no state");

    /* g + wd p = (0.5 + 0.1, 1 - 0.2, -2 + 0.05) */
    o.weight_decay = 0.1f;
    memcpy(p, (float[]){1, -2, 0.5f}, sizeof p);
    cm_optim_step(&o, 0.1f, 1, 3, p, g, m, v);
    CHECK(all_close(3, p, (double[]){0.94, -2.08, 0.695}, 1e-6),
          "sgd with weight decay adds wd p to g (%g %g %g)", p[0], p[1], p[2]);
}

static void test_momentum(void)
{
    /* With a constant g, v runs g, 1.9 g, 2.71 g. */
    cm_optim o = {.kind = CM_OPT_MOMENTUM, .momentum = 0.9f};
    float p[3] = {1, -2, 0.5f}, g[3] = {0.5f, 1, -2}, m[3] = {0}, v[3] = {0};
    static const double want[3][3] = {
        {0.95, -2.1, 0.7}, {0.855, -2.29, 1.08}, {0.7195, -2.561, 1.622},
    };
    for (int s = 0; s < 3; s++) {
        cm_optim_step(&o, 0.1f, (uint64_t)s + 1, 3, p, g, m, v);
        CHECK(all_close(3, p, want[s], 1e-6),
              "momentum step %d by hand (%g %g %g)", s + 1, p[0], p[1], p[2]);
    }
    CHECK(all_close(3, v, (double[]){1.355, 2.71, -5.42}, 1e-6),
          "momentum buffer is 2.71 g after 3 steps");
}

static void test_adam_by_hand(void)
{
    /* A constant g makes the bias-corrected moments exactly g and g^2 at
     * every step, so each step moves lr (1 - eps/|g|) against sign(g). */
    cm_optim o = {.kind = CM_OPT_ADAM, .beta1 = 0.9f, .beta2 = 0.999f,
                  .eps = 1e-8f};
    float p[3] = {1, -2, 0.5f}, g[3] = {0.5f, 1, -2}, m[3] = {0}, v[3] = {0};
    static const double want[3][3] = {
        {0.9, -2.1, 0.6}, {0.8, -2.2, 0.7}, {0.7, -2.3, 0.8},
    };
    for (int s = 0; s < 3; s++) {
        cm_optim_step(&o, 0.1f, (uint64_t)s + 1, 3, p, g, m, v);
        CHECK(all_close(3, p, want[s], 1e-6),
              "adam step %d moves lr against sign(g) (%.9g %.9g %.9g)", s + 1,
              p[0], p[1], p[2]);
    }
    /* m = (1 - 0.9^3) g, v = (1 - 0.999^3) g^2 */
    CHECK(close_to(m[1], 0.271, 1e-6) && close_to(v[2], 4 * 0.002997001, 1e-6),
          "adam moments after 3 steps (m %.9g, v %.9g)", m[1], v[2]);
}

/* Adam and momentum as the papers write them, in double, with nothing
 * shared with lib/optim.c but the formulas. */
static void reference(const cm_optim *o, double lr, int steps, size_t n,
                      double *p, const double *t, const double *c)
{
    double m[64] = {0}, v[64] = {0};
    for (int s = 1; s <= steps; s++) {
        for (size_t i = 0; i < n; i++) {
            double g = c[i] * (p[i] - t[i]) + o->weight_decay * p[i];
            if (o->kind == CM_OPT_MOMENTUM) {
                v[i] = o->momentum * v[i] + g;
                p[i] -= lr * v[i];
            } else if (o->kind == CM_OPT_ADAM) {
                m[i] = o->beta1 * m[i] + (1 - o->beta1) * g;
                v[i] = o->beta2 * v[i] + (1 - o->beta2) * g * g;
                double mh = m[i] / (1 - pow(o->beta1, s));
                double vh = v[i] / (1 - pow(o->beta2, s));
                p[i] -= lr * mh / (sqrt(vh) + o->eps);
            } else {
                p[i] -= lr * g;
            }
        }
    }
}

/* 37 elements: not a multiple of any vector width, so a vectorized loop
 * also runs its scalar tail. */
static void test_against_reference(void)
{
    enum { N = 37, STEPS = 20 };
    static const cm_optim opts[] = {
        {.kind = CM_OPT_SGD, .weight_decay = 0.05f},
        {.kind = CM_OPT_MOMENTUM, .momentum = 0.8f, .weight_decay = 0.05f},
        {.kind = CM_OPT_ADAM, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
         .weight_decay = 0.05f},
    };
    static const char *names[] = {"sgd", "momentum", "adam"};
    double t[N], c[N], p0[N];
    for (int i = 0; i < N; i++) {
        t[i] = (float)uniform();
        c[i] = (float)(1.0 + uniform() * 0.5);
        p0[i] = (float)(2 * uniform());
    }
    for (int k = 0; k < 3; k++) {
        float p[N], g[N], m[N] = {0}, v[N] = {0};
        double want[N];
        for (int i = 0; i < N; i++)
            want[i] = p[i] = (float)p0[i];
        for (int s = 1; s <= STEPS; s++) {
            for (int i = 0; i < N; i++)
                g[i] = (float)c[i] * (p[i] - (float)t[i]);
            cm_optim_step(&opts[k], 0.05f, (uint64_t)s, N, p, g, m, v);
        }
        reference(&opts[k], 0.05f, STEPS, N, want, t, c);
        double worst = 0;
        for (int i = 0; i < N; i++)
            worst = fmax(worst, fabs(p[i] - want[i]));
        CHECK(worst < 1e-5, "%s: %d steps on %d elements match a double "
              "re-implementation (worst %.3g)", names[k], STEPS, N, worst);
    }
}

/* Produced once with PyTorch 1.13 (CPU, float32) by setting p.grad =
 * C * (p - T) before each of 5 steps of
 *   torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8,
 *                    weight_decay=0.01, foreach=False)
 *   torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01,
 *                   foreach=False)
 * from p = P0, with every hyperparameter first rounded to float32 (as our
 * struct holds them) and the results printed with %.9g. */
static const double torch_adam[5][3] = {
    {0.899999976, -1.89999998, 0.399999976},
    {0.800622463, -1.80012727, 0.300243139},
    {0.702443838, -1.70047438, 0.200918749},
    {0.606196344, -1.60113966, 0.102238744},
    {0.512794495, -1.50222731, 0.00443929434},
};
static const double torch_momentum[5][3] = {
    {0.924000025, -1.49800003, 0.424499989},
    {0.78727603, -0.645101964, 0.284900486},
    {0.609709561, 0.352171779, 0.0947310328},
    {0.413319051, 1.2789315, -0.131252751},
    {0.219822377, 1.95595002, -0.377944261},
};

static void test_against_torch(void)
{
    static const cm_optim opts[2] = {
        {.kind = CM_OPT_ADAM, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
         .weight_decay = 0.01f},
        {.kind = CM_OPT_MOMENTUM, .momentum = 0.9f, .weight_decay = 0.01f},
    };
    static const char *names[2] = {"adam", "momentum"};
    const double(*want[2])[3] = {torch_adam, torch_momentum};
    for (int k = 0; k < 2; k++) {
        float p[3], g[3], m[3] = {0}, v[3] = {0};
        memcpy(p, P0, sizeof p);
        for (int s = 0; s < 5; s++) {
            quad_grad(p, g);
            cm_optim_step(&opts[k], 0.1f, (uint64_t)s + 1, 3, p, g, m, v);
            /* A few ulps: PyTorch's kernels fuse some multiply-adds. */
            CHECK(all_close(3, p, want[k][s], 4e-7),
                  "%s step %d with weight decay matches PyTorch "
                  "(%.9g %.9g %.9g)", names[k], s + 1, p[0], p[1], p[2]);
        }
    }
}

static void test_weight_decay(void)
{
    /* With no gradient, weight decay alone pulls every weight toward 0. */
    static const cm_opt_kind kinds[] = {CM_OPT_SGD, CM_OPT_MOMENTUM,
                                        CM_OPT_ADAM};
    static const char *names[] = {"sgd", "momentum", "adam"};
    for (int k = 0; k < 3; k++) {
        cm_optim o = {.kind = kinds[k], .momentum = 0.9f, .beta1 = 0.9f,
                      .beta2 = 0.999f, .eps = 1e-8f};
        float p[3], q[3], g[3] = {0}, m[3] = {0}, v[3] = {0};
        memcpy(p, P0, sizeof p);
        cm_optim_step(&o, 0.01f, 1, 3, p, g, m, v);
        CHECK(!memcmp(p, P0, sizeof p), "%s: no gradient, no decay, no move",
              names[k]);
        o.weight_decay = 0.5f;
        int shrank = 1;
        for (int s = 1; s <= 10; s++) {
            memcpy(q, p, sizeof q);
            cm_optim_step(&o, 0.01f, (uint64_t)s, 3, p, g, m, v);
            for (int i = 0; i < 3; i++)
                shrank &= fabsf(p[i]) < fabsf(q[i]) && p[i] * q[i] > 0;
        }
        CHECK(shrank, "%s: weight decay shrinks toward 0 (%g %g %g)",
              names[k], p[0], p[1], p[2]);
    }
    cm_optim o = {.kind = CM_OPT_SGD, .weight_decay = 0.1f};
    float p[3], g[3] = {0}, m[3] = {0}, v[3] = {0};
    memcpy(p, P0, sizeof p);
    cm_optim_step(&o, 0.5f, 1, 3, p, g, m, v);
    CHECK(all_close(3, p, (double[]){0.95, -1.9, 0.475}, 1e-7),
          "sgd decay alone scales by 1 - lr wd (%g %g %g)", p[0], p[1], p[2]);
}

static void test_schedules(void)
{
    float lr = 0.1f;
    int ok = 1;
    for (int e = 0; e < 100; e += 7)
        ok &= cm_schedule(CM_SCHED_CONSTANT, lr, e, 100, 3, 0.5f) == lr;
    CHECK(ok, "constant schedule keeps lr");

    /* gamma 0.5 every 3 epochs */
    static const struct { int epoch; double lr; } step[] = {
        {0, 0.1}, {1, 0.1}, {2, 0.1}, {3, 0.05}, {5, 0.05}, {6, 0.025},
        {8, 0.025}, {9, 0.0125}, {30, 0.1 / 1024},
    };
    for (size_t i = 0; i < sizeof step / sizeof *step; i++) {
        float got = cm_schedule(CM_SCHED_STEP, lr, step[i].epoch, 40, 3, 0.5f);
        CHECK(close_to(got, step[i].lr, 1e-6), "step schedule at epoch %d: %g",
              step[i].epoch, got);
    }
    CHECK(cm_schedule(CM_SCHED_STEP, lr, 50, 100, 0, 0.5f) == lr,
          "step schedule with step_size 0 never decays");

    /* 0.1 (1 + cos(pi e / 10)) / 2; cos(0.9 pi) = -0.95105651629515357 */
    CHECK(cm_schedule(CM_SCHED_COSINE, lr, 0, 10, 0, 0) == lr,
          "cosine starts at lr");
    CHECK(close_to(cm_schedule(CM_SCHED_COSINE, lr, 5, 10, 0, 0), 0.05, 1e-6),
          "cosine is lr / 2 half way");
    float last = cm_schedule(CM_SCHED_COSINE, lr, 9, 10, 0, 0);
    CHECK(close_to(last, 0.1 * (1 - 0.95105651629515357) / 2, 1e-6)
              && last > 0, "cosine's last epoch is just above 0 (%.9g)", last);
    float prev = lr;
    ok = 1;
    for (int e = 1; e < 10; e++) {
        float cur = cm_schedule(CM_SCHED_COSINE, lr, e, 10, 0, 0);
        ok &= cur < prev;
        prev = cur;
    }
    CHECK(ok, "cosine falls every epoch");
    CHECK(cm_schedule(CM_SCHED_COSINE, lr, 0, 1, 0, 0) == lr,
          "cosine over one epoch is lr");
}

static double norm2(size_t d, const double *w)
{
    double s = 0;
    for (size_t i = 0; i < d; i++)
        s += w[i] * w[i];
    return sqrt(s);
}

static void test_ridge_small(void)
{
    double w[3], work[9];
    /* The second-difference matrix; its inverse is
     * [[3,2,1],[2,4,2],[1,2,3]] / 4. */
    static const double A[9] = {2, -1, 0, -1, 2, -1, 0, -1, 2};
    int rc = cm_ridge_solve(3, A, (double[]){1, 2, 3}, 0, w, work);
    CHECK(rc == 0 && close_to(w[0], 2.5, 1e-14) && close_to(w[1], 4, 1e-14)
              && close_to(w[2], 3.5, 1e-14),
          "3x3 solve against the known inverse (%.17g %.17g %.17g)", w[0],
          w[1], w[2]);
    /* The lower triangle of work is L with L L^T = A; L00 = sqrt 2. */
    CHECK(close_to(work[0], sqrt(2), 1e-15)
              && close_to(work[3], -1 / sqrt(2), 1e-15),
          "work holds the Cholesky factor");

    /* y = 1, 3, 4, 8 at x = 0..3 with an intercept: X^T X = [[4,6],[6,14]],
     * X^T y = (16, 35); det 20 gives w = (224 - 210, 140 - 96) / 20. */
    static const double G[4] = {4, 6, 6, 14}, xy[2] = {16, 35};
    rc = cm_ridge_solve(2, G, xy, 0, w, work);
    CHECK(rc == 0 && close_to(w[0], 0.7, 1e-14) && close_to(w[1], 2.2, 1e-14),
          "least squares line 0.7 + 2.2 x (%.17g %.17g)", w[0], w[1]);
    /* l2 = 1: [[5,6],[6,15]], det 39, w = (240 - 210, 175 - 96) / 39. */
    rc = cm_ridge_solve(2, G, xy, 1, w, work);
    CHECK(rc == 0 && close_to(w[0], 30.0 / 39, 1e-14)
              && close_to(w[1], 79.0 / 39, 1e-14),
          "ridge l2 = 1 by hand (%.17g %.17g)", w[0], w[1]);

    /* The norm of the ridge solution falls as l2 grows, toward 0. */
    static const double l2s[] = {0, 0.1, 1, 10, 100, 1e4, 1e8};
    double prev = INFINITY;
    int ok = 1;
    for (size_t i = 0; i < sizeof l2s / sizeof *l2s; i++) {
        ok &= cm_ridge_solve(2, G, xy, l2s[i], w, work) == 0;
        ok &= norm2(2, w) < prev;
        prev = norm2(2, w);
    }
    CHECK(ok && prev < 1e-6, "larger l2 shrinks w toward 0 (%.3g at 1e8)",
          prev);

    /* Scales 14 orders apart are still a well-posed system. */
    rc = cm_ridge_solve(2, (double[]){1e6, 0, 0, 1e-8}, (double[]){1e6, 1e-8},
                        0, w, work);
    CHECK(rc == 0 && close_to(w[0], 1, 1e-14) && close_to(w[1], 1, 1e-14),
          "pivots are judged against their own diagonal, not the largest");
}

static int untouched(size_t d, const double *w)
{
    for (size_t i = 0; i < d; i++)
        if (w[i] != 42)
            return 0;
    return 1;
}

static void test_ridge_singular(void)
{
    double w[3] = {42, 42, 42}, work[9];
    int rc = cm_ridge_solve(2, (double[]){1, 2, 2, 4}, (double[]){1, 2}, 0, w,
                            work);
    CHECK(rc == -1 && untouched(2, w), "rank-1 2x2 with l2 = 0 fails");

    /* The Gram matrix of columns a, b and a + b, from data. */
    double X[5][3], G[9] = {0}, xy[3] = {0};
    for (int r = 0; r < 5; r++) {
        X[r][0] = r + 1;
        X[r][1] = (r * r) % 7 - 2.5;
        X[r][2] = X[r][0] + X[r][1];
        for (int i = 0; i < 3; i++) {
            xy[i] += X[r][i] * (r - 2);
            for (int j = 0; j < 3; j++)
                G[i * 3 + j] += X[r][i] * X[r][j];
        }
    }
    rc = cm_ridge_solve(3, G, xy, 0, w, work);
    CHECK(rc == -1 && untouched(3, w), "collinear columns with l2 = 0 fail");
    rc = cm_ridge_solve(3, G, xy, 0.1, w, work);
    CHECK(rc == 0 && isfinite(w[0]) && isfinite(w[1]) && isfinite(w[2]),
          "the same with l2 = 0.1 solves");

    w[0] = w[1] = 42;
    CHECK(cm_ridge_solve(2, (double[]){0, 0, 0, 0}, (double[]){1, 1}, 0, w,
                         work) == -1 && untouched(2, w),
          "a zero matrix fails");
    CHECK(cm_ridge_solve(2, (double[]){1, 0, 0, -1}, (double[]){1, 1}, 0, w,
                         work) == -1 && untouched(2, w),
          "an indefinite matrix fails");
    CHECK(cm_ridge_solve(2, (double[]){1, NAN, NAN, 1}, (double[]){1, 1}, 0, w,
                         work) == -1 && untouched(2, w),
          "a NaN entry fails");
    CHECK(cm_ridge_solve(0, NULL, NULL, 0, w, work) == 0,
          "an empty system solves");
}

static void test_ridge_random(void)
{
    enum { D = 50, R = 80 };
    static double M[R][D], A[D * D], b[D], w[D], work[D * D];
    for (int r = 0; r < R; r++)
        for (int j = 0; j < D; j++)
            M[r][j] = uniform();
    for (int i = 0; i < D; i++) {
        b[i] = uniform() * 10;
        for (int j = 0; j < D; j++) {
            double s = 0;
            for (int r = 0; r < R; r++)
                s += M[r][i] * M[r][j];
            A[i * D + j] = s;
        }
    }
    static const double l2s[] = {0, 0.5};
    for (int k = 0; k < 2; k++) {
        double l2 = l2s[k];
        int rc = cm_ridge_solve(D, A, b, l2, w, work);
        double res = 0;
        for (int i = 0; i < D; i++) {
            double s = l2 * w[i] - b[i];
            for (int j = 0; j < D; j++)
                s += A[i * D + j] * w[j];
            res += s * s;
        }
        res = sqrt(res) / norm2(D, b);
        CHECK(rc == 0 && res < 1e-12,
              "random 50x50 SPD, l2 = %g: relative residual %.3g", l2, res);
    }
}

int main(void)
{
    test_sgd();
    test_momentum();
    test_adam_by_hand();
    test_against_reference();
    test_against_torch();
    test_weight_decay();
    test_schedules();
    test_ridge_small();
    test_ridge_singular();
    test_ridge_random();
    return tap_done();
}
