/* test_nn.c - the numeric core of cm-train: the three matrix products
 * against a plain triple loop in double, and every gradient (dense layer,
 * activations, losses, and a two-layer network end to end) against
 * central differences of a scalar objective summed in double. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "nn/cm_nn.h"
#include "tap.h"

/* ---- matrix products ------------------------------------------------------ */

enum { NT, TN, NN };
static const char *const variant_name[] = {"nt", "tn", "nn"};

static void gemm_threads(int v, size_t m, size_t n, size_t k, const float *A,
                         const float *B, float *C, int acc, int threads)
{
    if (v == NT)
        cm_gemm_nt(m, n, k, A, B, C, acc, threads);
    else if (v == TN)
        cm_gemm_tn(m, n, k, A, B, C, acc, threads);
    else
        cm_gemm_nn(m, n, k, A, B, C, acc, threads);
}

static void gemm(int v, size_t m, size_t n, size_t k, const float *A,
                 const float *B, float *C, int acc)
{
    gemm_threads(v, m, n, k, A, B, C, acc, 1);
}

/* The largest error of C against the product in double, relative to the
 * sum of the magnitudes of the terms: float rounding bounds that by about
 * k machine epsilons, while a lost or doubled term shows as ~1/k. */
static double gemm_error(int v, size_t m, size_t n, size_t k, const float *A,
                         const float *B, const float *C0, const float *C, int acc)
{
    double worst = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double r = acc ? C0[i * n + j] : 0, s = fabs(r);
            for (size_t p = 0; p < k; p++) {
                double a = v == TN ? A[p * m + i] : A[i * k + p];
                double b = v == NT ? B[j * k + p] : B[p * n + j];
                r += a * b;
                s += fabs(a * b);
            }
            double e = fabs(C[i * n + j] - r) / (s > 0 ? s : 1);
            if (!(e <= worst)) /* NaN wins */
                worst = e;
        }
    return worst;
}

static void test_gemm_shape(size_t m, size_t n, size_t k)
{
    for (int v = 0; v < 3; v++) {
        float *A = random_floats(m * k, 1), *B = random_floats(k * n, 1);
        float *C0 = random_floats(m * n, 1), *C = malloc((m * n + 1) * sizeof *C);
        double bound = (double)(k + 2) * FLT_EPSILON;
        for (int acc = 0; acc < 2; acc++) {
            /* replace must not read C: NaN there would show */
            for (size_t i = 0; i < m * n; i++)
                C[i] = acc ? C0[i] : NAN;
            gemm(v, m, n, k, A, B, C, acc);
            double e = gemm_error(v, m, n, k, A, B, C0, C, acc);
            CHECK(e <= bound, "gemm_%s %zux%zux%zu %s: relative error %.2g (bound %.2g)",
                  variant_name[v], m, n, k, acc ? "accumulate" : "replace", e, bound);
        }
        free(A);
        free(B);
        free(C0);
        free(C);
    }
}

static void test_gemm(void)
{
    /* the shapes asked for, then edges of the 8 x 32 (AVX-512), 6 x 16
     * (AVX2) and 4 x 8 tiles: one row, one column, narrow last panels,
     * k past the 256 slice, k not a multiple of the 8 x 8 transpose */
    static const size_t shapes[][3] = {
        {1, 1, 1},    {3, 5, 7},     {31, 63, 17},  {32, 64, 24},  {256, 512, 512},
        {1, 70, 300}, {70, 1, 300},  {9, 16, 33},   {17, 48, 9},   {13, 40, 1},
        {6, 7, 8},    {65, 100, 513}, {48, 95, 257}, {100, 33, 64}, {64, 8, 5},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        test_gemm_shape(shapes[s][0], shapes[s][1], shapes[s][2]);

    /* k = 0: an empty sum, so replace gives zeros and accumulate nothing */
    float C[6] = {1, 2, 3, 4, 5, 6}, one = 1;
    cm_gemm_nn(2, 3, 0, &one, &one, C, 1, 1);
    CHECK(C[0] == 1 && C[5] == 6, "gemm k = 0, accumulate: C unchanged");
    for (int v = 0; v < 3; v++) {
        for (int i = 0; i < 6; i++)
            C[i] = NAN;
        gemm(v, 2, 3, 0, &one, &one, C, 0);
        int zero = 1;
        for (int i = 0; i < 6; i++)
            zero &= C[i] == 0;
        CHECK(zero, "gemm_%s k = 0, replace: C is zero", variant_name[v]);
    }
    float twelve[12] = {0};
    C[0] = 7;
    cm_gemm_nt(0, 3, 4, NULL, twelve, C, 0, 2);
    cm_gemm_tn(3, 0, 4, twelve, NULL, C, 0, 2);
    CHECK(C[0] == 7, "gemm with m or n = 0 writes nothing");
}

/* Same inputs, same bits: run to run, and wherever C sits in memory. */
static void test_gemm_determinism(void)
{
    size_t m = 100, n = 77, k = 300;
    float *A = random_floats(m * k, 1), *B = random_floats(k * n, 1);
    float *C1 = malloc(m * n * sizeof *C1), *C2 = malloc(m * n * sizeof *C2);
    float *C3 = malloc((m * n + 1) * sizeof *C3);
    for (int v = 0; v < 3; v++) {
        gemm(v, m, n, k, A, B, C1, 0);
        gemm(v, m, n, k, A, B, C2, 0);
        gemm(v, m, n, k, A, B, C3 + 1, 0);
        CHECK(!memcmp(C1, C2, m * n * sizeof *C1) && !memcmp(C1, C3 + 1, m * n * sizeof *C1),
              "gemm_%s: identical bits on a second run and at another alignment",
              variant_name[v]);
    }
    free(A);
    free(B);
    free(C1);
    free(C2);
    free(C3);
}

/* Any number of threads, the same bits: a --seed must give the same model
 * on any machine of the same kind, whatever its cores.  Shapes from below
 * the threshold (about 12M multiply-adds for two threads) to past it,
 * odd ones, and ones with too few panels or rows to split that way. */
static void test_gemm_threads(void)
{
    static const size_t shapes[][3] = {
        {31, 63, 17},  {64, 512, 512}, {129, 257, 600}, {256, 512, 512},
        {3000, 40, 200}, {5, 2000, 2000}, {4000, 1, 5000}, {333, 97, 1001},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *A = random_floats(m * k, 1), *B = random_floats(k * n, 1);
        float *C0 = random_floats(m * n, 1), *C1 = malloc(m * n * sizeof *C1);
        float *Ct = malloc(m * n * sizeof *Ct);
        for (int v = 0; v < 3; v++)
            for (int acc = 0; acc < 2; acc++) {
                memcpy(C1, C0, m * n * sizeof *C1);
                gemm_threads(v, m, n, k, A, B, C1, acc, 1);
                for (int threads = 2; threads <= 3; threads++) {
                    memcpy(Ct, C0, m * n * sizeof *Ct);
                    gemm_threads(v, m, n, k, A, B, Ct, acc, threads);
                    CHECK(!memcmp(C1, Ct, m * n * sizeof *C1),
                          "gemm_%s %zux%zux%zu %s: %d threads give the bits of one",
                          variant_name[v], m, n, k, acc ? "accumulate" : "replace", threads);
                }
            }
        free(A);
        free(B);
        free(C0);
        free(C1);
        free(Ct);
    }
}

/* The order of every sum is the one the blocking fixes, not the vector
 * width: each element of a tile adds a[p] * b[p] in order, fused, within
 * each slice of 256 and then slice after slice; a one-column nt product
 * (a network's last layer) keeps 32 partial sums folded in a fixed tree.
 * Written out here with fmaf, it must match to the bit, so that a model
 * trained with AVX2 is the one trained with AVX-512.  Without FMA the
 * portable kernel rounds each product, and this does not apply. */
static float ordered_dot(size_t k, const float *a, size_t as, const float *b, size_t bs)
{
    float t = 0, x = 0;
    for (size_t p = 0; p < k; p++) {
        t = fmaf(a[p * as], b[p * bs], t);
        if ((p + 1) % 256 == 0 || p + 1 == k) {
            x = p < 256 ? t : x + t;
            t = 0;
        }
    }
    return x;
}

static float ordered_dot32(size_t k, const float *a, const float *b)
{
    float s[32] = {0}, lane[16];
    size_t kl = k - k % 16, p = 0;
    for (; p + 32 <= kl; p += 32)
        for (int l = 0; l < 32; l++)
            s[l] = fmaf(a[p + l], b[p + l], s[l]);
    if (p < kl)
        for (int l = 0; l < 16; l++)
            s[l] = fmaf(a[p + l], b[p + l], s[l]);
    for (int l = 0; l < 16; l++)
        lane[l] = s[l] + s[l + 16];
    for (int w = 8; w > 0; w /= 2)
        for (int l = 0; l < w; l++)
            lane[l] += lane[l + w];
    float x = lane[0];
    for (p = kl; p < k; p++)
        x = fmaf(a[p], b[p], x);
    return x;
}

/* A tail sees each element of C once, after its product is written:
 * here it copies its block out and counts each element, so that a block
 * seen twice, missed, or seen before its sums are done shows. */
typedef struct tail_seen {
    const float *C;
    float *copy;
    unsigned char *count;
    size_t n;
    pthread_mutex_t lock;
} tail_seen;

static void copy_block(void *ctx, size_t i0, size_t i1, size_t j0, size_t j1)
{
    tail_seen *t = ctx;
    for (size_t i = i0; i < i1; i++)
        for (size_t j = j0; j < j1; j++)
            t->copy[i * t->n + j] = t->C[i * t->n + j];
    pthread_mutex_lock(&t->lock); /* blocks of one part touch no other's */
    for (size_t i = i0; i < i1; i++)
        for (size_t j = j0; j < j1; j++)
            t->count[i * t->n + j]++;
    pthread_mutex_unlock(&t->lock);
}

static void test_gemm_tail(void)
{
    static const size_t shapes[][3] = {{31, 63, 17}, {256, 512, 512}, {3000, 40, 200}, {5, 2000, 2000}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *A = random_floats(m * k, 1), *B = random_floats(k * n, 1);
        float *C1 = malloc(m * n * sizeof *C1), *Ct = malloc(m * n * sizeof *Ct);
        tail_seen t = {Ct, malloc(m * n * sizeof(float)), malloc(m * n), n,
                       PTHREAD_MUTEX_INITIALIZER};
        cm_gemm_tail tail = {copy_block, &t};
        for (int v = 0; v < 3; v++) {
            gemm(v, m, n, k, A, B, C1, 0);
            for (int threads = 1; threads <= 3; threads++) {
                memset(t.count, 0, m * n);
                memset(t.copy, 0, m * n * sizeof(float));
                if (v == NT)
                    cm_gemm_nt_tail(m, n, k, A, B, Ct, 0, threads, &tail);
                else if (v == TN)
                    cm_gemm_tn_tail(m, n, k, A, B, Ct, 0, threads, &tail);
                else
                    cm_gemm_nn_tail(m, n, k, A, B, Ct, 0, threads, &tail);
                size_t once = 0;
                for (size_t i = 0; i < m * n; i++)
                    once += t.count[i] == 1;
                CHECK(once == m * n && !memcmp(t.copy, C1, m * n * sizeof *C1),
                      "gemm_%s_tail %zux%zux%zu, %d threads: each element once, after its sums",
                      variant_name[v], m, n, k, threads);
            }
        }
        free(A), free(B), free(C1), free(Ct), free(t.copy), free(t.count);
    }
}

static void test_gemm_order(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (!__builtin_cpu_supports("fma")) {
        tap_skip("gemm order: no FMA on this CPU");
        return;
    }
#else
    tap_skip("gemm order: checked on x86-64 only");
    return;
#endif
    static const size_t shapes[][3] = {
        {7, 1, 5}, {9, 1, 64}, {3, 1, 100}, {20, 1, 600}, {13, 40, 1},
        {6, 7, 8}, {65, 100, 513}, {17, 48, 300}, {1, 70, 300},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *A = random_floats(m * k, 1), *B = random_floats(k * n, 1);
        float *C = malloc(m * n * sizeof *C);
        for (int v = 0; v < 3; v++) {
            gemm(v, m, n, k, A, B, C, 0);
            size_t bad = 0;
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < n; j++) {
                    float want;
                    if (v == NT && n == 1)
                        want = ordered_dot32(k, A + i * k, B);
                    else if (v == NT)
                        want = ordered_dot(k, A + i * k, 1, B + j * k, 1);
                    else if (v == TN)
                        want = ordered_dot(k, A + i, m, B + j, n);
                    else
                        want = ordered_dot(k, A + i * k, 1, B + j, n);
                    bad += memcmp(&want, &C[i * n + j], sizeof want) != 0;
                }
            CHECK(bad == 0, "gemm_%s %zux%zux%zu: every element in the fixed order (%zu differ)",
                  variant_name[v], m, n, k, bad);
        }
        free(A);
        free(B);
        free(C);
    }
}

/* ---- finite differences ----------------------------------------------------- */


/* ---- dense layer -------------------------------------------------------------- */

typedef struct {
    size_t batch, in, out;
    float *X, *W, *b, *Y;
    double *R;
} dense_case;

/* sum(Y .* R), so that dY = R */
static double dense_objective(void *ctx)
{
    dense_case *d = ctx;
    cm_dense_forward(d->batch, d->in, d->out, d->X, d->W, d->b, d->Y, 1);
    double s = 0;
    for (size_t i = 0; i < d->batch * d->out; i++)
        s += d->Y[i] * d->R[i];
    return s;
}

static void test_dense(size_t batch, size_t in, size_t out)
{
    dense_case d = {batch, in, out, random_floats(batch * in, 1), random_floats(out * in, 1),
                    random_floats(out, 1), malloc(batch * out * sizeof(float)),
                    random_doubles(batch * out)};
    dense_objective(&d);
    double worst = 0;
    for (size_t i = 0; i < batch; i++)
        for (size_t j = 0; j < out; j++) {
            double y = d.b[j];
            for (size_t p = 0; p < in; p++)
                y += (double)d.X[i * in + p] * d.W[j * in + p];
            worst = fmax(worst, fabs(d.Y[i * out + j] - y) / (1 + fabs(y)));
        }
    CHECK(worst < 1e-5, "dense %zu->%zu batch %zu: forward is X W^T + b (error %.2g)", in,
          out, batch, worst);

    float *dY = malloc(batch * out * sizeof *dY), *dW = random_floats(out * in, 9);
    float *db = random_floats(out, 9), *dX = random_floats(batch * in, 9);
    for (size_t i = 0; i < batch * out; i++)
        dY[i] = (float)d.R[i];
    /* R is only float-exact once rounded, and the objective uses R */
    for (size_t i = 0; i < batch * out; i++)
        d.R[i] = dY[i];
    cm_dense_backward(batch, in, out, d.X, d.W, dY, dW, db, dX, 1);

    size_t nmax = out * in > batch * in ? out * in : batch * in;
    double *num = malloc((nmax > out ? nmax : out) * sizeof *num);
    for (size_t i = 0; i < out * in; i++)
        num[i] = central(&d.W[i], EPS_LINEAR, dense_objective, &d);
    double e = grad_error(out * in, dW, num);
    CHECK(e < 1e-3, "dense %zu->%zu batch %zu: dW matches central differences (%.2g)", in,
          out, batch, e);
    for (size_t i = 0; i < out; i++)
        num[i] = central(&d.b[i], EPS_LINEAR, dense_objective, &d);
    e = grad_error(out, db, num);
    CHECK(e < 1e-3, "dense %zu->%zu batch %zu: db matches central differences (%.2g)", in,
          out, batch, e);
    for (size_t i = 0; i < batch * in; i++)
        num[i] = central(&d.X[i], EPS_LINEAR, dense_objective, &d);
    e = grad_error(batch * in, dX, num);
    CHECK(e < 1e-3, "dense %zu->%zu batch %zu: dX matches central differences (%.2g)", in,
          out, batch, e);

    float *dW2 = malloc(out * in * sizeof *dW2), *db2 = malloc(out * sizeof *db2);
    cm_dense_backward(batch, in, out, d.X, d.W, dY, dW2, db2, NULL, 1);
    CHECK(!memcmp(dW, dW2, out * in * sizeof *dW) && !memcmp(db, db2, out * sizeof *db),
          "dense %zu->%zu batch %zu: without dX, the same dW and db", in, out, batch);

    free(d.X);
    free(d.W);
    free(d.b);
    free(d.Y);
    free(d.R);
    free(dY);
    free(dW);
    free(db);
    free(dX);
    free(dW2);
    free(db2);
    free(num);
}

/* ---- activations ------------------------------------------------------------- */

static const char *const act_name[] = {"none", "relu", "tanh", "sigmoid", "gelu"};

static double act_ref(cm_act a, double x)
{
    switch (a) {
    case CM_ACT_RELU:
        return x > 0 ? x : 0;
    case CM_ACT_TANH:
        return tanh(x);
    case CM_ACT_SIGMOID:
        return 1 / (1 + exp(-x));
    case CM_ACT_GELU:
        return x * 0.5 * (1 + erf(x / sqrt(2.0)));
    default:
        return x;
    }
}

static void test_act(cm_act a)
{
    enum { N = 400 };
    float x[N], y[N], dy[N], dx[N], up[N], down[N], yu[N], yd[N];
    double num[N];
    for (int i = 0; i < N; i++) {
        /* over [-4, 4], but away from ReLU's kink */
        double v = 4 * uniform();
        x[i] = (float)(fabs(v) < 0.05 ? v + 0.1 : v);
        dy[i] = (float)uniform();
        up[i] = (float)(x[i] + EPS);
        down[i] = (float)(x[i] - EPS);
    }
    cm_act_forward(a, N, x, y);
    double worst = 0;
    for (int i = 0; i < N; i++)
        worst = fmax(worst, fabs(y[i] - act_ref(a, x[i])) / (1 + fabs(y[i])));
    CHECK(worst < 1e-6, "act %s: forward against double (error %.2g)", act_name[a], worst);

    cm_act_backward(a, N, x, y, dy, dx);
    cm_act_forward(a, N, up, yu);
    cm_act_forward(a, N, down, yd);
    for (int i = 0; i < N; i++)
        num[i] = dy[i] * ((double)yu[i] - yd[i]) / ((double)up[i] - down[i]);
    /* the float outputs carry ulp(y) / 2 EPS = 3e-5 of rounding into num,
     * against derivatives down to a tenth of sigmoid's 0.25 */
    double e = grad_error(N, dx, num);
    CHECK(e < 5e-3, "act %s: backward matches central differences (%.2g)", act_name[a], e);

    /* in place both ways, as the trainer and the model call them */
    float z[N], g[N];
    memcpy(z, x, sizeof z);
    memcpy(g, dy, sizeof g);
    cm_act_forward(a, N, z, z);
    cm_act_backward(a, N, x, y, g, g);
    CHECK(!memcmp(z, y, sizeof z) && !memcmp(g, dx, sizeof g),
          "act %s: y may be x, and dx may be dy", act_name[a]);

    /* far out, where exp overflows: finite, at the asymptotes */
    float big[4] = {-100, -30, 30, 100}, yb[4], db[4], ones[4] = {1, 1, 1, 1};
    cm_act_forward(a, 4, big, yb);
    cm_act_backward(a, 4, big, yb, ones, db);
    int finite = 1;
    for (int i = 0; i < 4; i++)
        finite &= isfinite(yb[i]) && isfinite(db[i]) &&
                  fabs(yb[i] - act_ref(a, big[i])) <= 1e-6 * (1 + fabs(big[i]));
    CHECK(finite, "act %s: finite and right at +-30 and +-100", act_name[a]);
}

/* ---- losses ------------------------------------------------------------------------ */

typedef struct {
    cm_loss_kind kind;
    size_t n;
    float *pred, *target, delta;
} loss_case;

static double loss_objective(void *ctx)
{
    loss_case *c = ctx;
    return cm_loss(c->kind, c->n, c->pred, c->target, c->delta, NULL);
}

/* Residuals none of which is within 0.01 of a kink: 0 for MAE and Huber,
 * +-delta for Huber. */
static void test_loss(cm_loss_kind kind, const char *name, float delta)
{
    enum { N = 64 };
    float pred[N], target[N], grad[N];
    double num[N], want = 0;
    int below = 0, above = 0;
    for (int i = 0; i < N; i++) {
        target[i] = (float)uniform();
        /* half within delta (or 1), half beyond it up to three times */
        double d = delta > 0 ? delta : 1, r;
        do
            r = i % 2 ? d * uniform() : copysign(d * (1 + 2 * fabs(uniform())), uniform());
        while (fabs(r) < 0.01 || fabs(fabs(r) - delta) < 0.01);
        pred[i] = (float)(target[i] + r);
        r = (double)pred[i] - target[i];
        double ar = fabs(r);
        below += ar <= delta;
        above += ar > delta;
        want += kind == CM_LOSS_MSE ? r * r
              : kind == CM_LOSS_MAE ? ar
              : ar <= delta        ? 0.5 * r * r
                                   : delta * (ar - 0.5 * delta);
    }
    want /= N;
    loss_case c = {kind, N, pred, target, delta};
    double got = cm_loss(kind, N, pred, target, delta, grad);
    CHECK(fabs(got - want) <= 1e-12 * want, "loss %s: the mean (%.9g, want %.9g)", name, got,
          want);
    for (int i = 0; i < N; i++)
        num[i] = central(&pred[i], EPS, loss_objective, &c);
    double e = grad_error(N, grad, num);
    if (kind == CM_LOSS_HUBER)
        CHECK(e < 1e-3 && below > 5 && above > 5,
              "loss %s: gradient matches central differences (%.2g), %d residuals within "
              "delta and %d beyond", name, e, below, above);
    else
        CHECK(e < 1e-3, "loss %s: gradient matches central differences (%.2g)", name, e);
}

static void test_loss_values(void)
{
    float p[3] = {1, 2, 3}, t[3] = {0, 0, 0}, g[3];
    CHECK(cm_loss(CM_LOSS_MSE, 3, p, t, 0, g) == 14.0 / 3 && g[2] == 2.0f,
          "loss mse of 1 2 3 against 0: 14/3, gradient 2 r / n");
    /* PyTorch: HuberLoss(delta=1.5)(tensor([1., 2., 3.]), zeros(3)) = 1.9167 */
    double h = cm_loss(CM_LOSS_HUBER, 3, p, t, 1.5f, g);
    CHECK(fabs(h - 5.75 / 3) < 1e-15 && g[0] == 1.0f / 3 && g[2] == 0.5f,
          "loss huber delta 1.5: 1.9167 as PyTorch, gradient r/n within, delta/n beyond");
    float q[3] = {1, 0, -1};
    cm_loss(CM_LOSS_MAE, 3, q, t, 0, g);
    CHECK(g[0] == 1.0f / 3 && g[1] == 0 && g[2] == -1.0f / 3,
          "loss mae: gradient sign(r)/n, and 0 at 0");
    CHECK(cm_loss(CM_LOSS_MSE, 0, p, t, 0, g) == 0, "loss of no rows is 0");
}

/* ---- two layers end to end: dense, relu, dense, mse -------------------- */

typedef struct {
    size_t batch, in, hidden, out;
    float *X, *W1, *b1, *W2, *b2, *T, *Z, *H, *Y;
} net_case;

static double net_loss(void *ctx)
{
    net_case *t = ctx;
    cm_dense_forward(t->batch, t->in, t->hidden, t->X, t->W1, t->b1, t->Z, 1);
    cm_act_forward(CM_ACT_RELU, t->batch * t->hidden, t->Z, t->H);
    cm_dense_forward(t->batch, t->hidden, t->out, t->H, t->W2, t->b2, t->Y, 1);
    return cm_loss(CM_LOSS_MSE, t->batch * t->out, t->Y, t->T, 0, NULL);
}

/* Which hidden units are on: a nudge that flips one is not a derivative. */
static void relu_mask(const net_case *t, unsigned char *mask)
{
    for (size_t i = 0; i < t->batch * t->hidden; i++)
        mask[i] = t->Z[i] > 0;
}

/* Central differences of the loss in each of n parameters at p, skipping
 * those whose nudge flips a ReLU; returns how many were skipped. */
static size_t net_numeric(net_case *t, float *p, size_t n, const float *g, double *num,
                          unsigned char *m0, unsigned char *m1)
{
    size_t skipped = 0;
    for (size_t i = 0; i < n; i++) {
        float saved = p[i];
        p[i] = (float)(saved + EPS);
        net_loss(t);
        relu_mask(t, m1);
        int flip = memcmp(m0, m1, t->batch * t->hidden) != 0;
        p[i] = (float)(saved - EPS);
        net_loss(t);
        relu_mask(t, m1);
        flip |= memcmp(m0, m1, t->batch * t->hidden) != 0;
        p[i] = saved;
        num[i] = central(&p[i], EPS, net_loss, t);
        if (flip) {
            num[i] = g[i];
            skipped++;
        }
    }
    return skipped;
}

static void test_two_layers(void)
{
    size_t batch = 21, in = 7, hidden = 37, out = 3;
    net_case t = {batch, in, hidden, out,
                  random_floats(batch * in, 1), random_floats(hidden * in, 0.5),
                  random_floats(hidden, 0.5), random_floats(out * hidden, 0.3),
                  random_floats(out, 0.3), random_floats(batch * out, 1),
                  malloc(batch * hidden * sizeof(float)), malloc(batch * hidden * sizeof(float)),
                  malloc(batch * out * sizeof(float))};
    net_loss(&t);
    unsigned char *m0 = malloc(batch * hidden), *m1 = malloc(batch * hidden);
    relu_mask(&t, m0);

    /* backward, as the trainer chains it */
    float *G = malloc(batch * out * sizeof *G), *dH = malloc(batch * hidden * sizeof *dH);
    float *dZ = malloc(batch * hidden * sizeof *dZ), *dX = malloc(batch * in * sizeof *dX);
    float *dW1 = malloc(hidden * in * sizeof *dW1), *db1 = malloc(hidden * sizeof *db1);
    float *dW2 = malloc(out * hidden * sizeof *dW2), *db2 = malloc(out * sizeof *db2);
    cm_loss(CM_LOSS_MSE, batch * out, t.Y, t.T, 0, G);
    cm_dense_backward(batch, hidden, out, t.H, t.W2, G, dW2, db2, dH, 1);
    cm_act_backward(CM_ACT_RELU, batch * hidden, t.Z, t.H, dH, dZ);
    cm_dense_backward(batch, in, hidden, t.X, t.W1, dZ, dW1, db1, dX, 1);

    struct {
        const char *name;
        float *p, *g;
        size_t n;
    } params[] = {
        {"W1", t.W1, dW1, hidden * in}, {"b1", t.b1, db1, hidden},
        {"W2", t.W2, dW2, out * hidden}, {"b2", t.b2, db2, out},
        {"X", t.X, dX, batch * in},
    };
    double *num = malloc(batch * hidden * sizeof *num);
    for (size_t k = 0; k < sizeof params / sizeof *params; k++) {
        size_t skipped = net_numeric(&t, params[k].p, params[k].n, params[k].g, num, m0, m1);
        double e = grad_error(params[k].n, params[k].g, num);
        CHECK(e < 5e-3 && skipped * 10 < params[k].n,
              "two layers (dense relu dense mse): d loss / d %s matches central differences "
              "(%.2g; %zu of %zu nudges flip a ReLU, skipped)",
              params[k].name, e, skipped, params[k].n);
    }
    free(t.X);
    free(t.W1);
    free(t.b1);
    free(t.W2);
    free(t.b2);
    free(t.T);
    free(t.Z);
    free(t.H);
    free(t.Y);
    free(m0);
    free(m1);
    free(G);
    free(dH);
    free(dZ);
    free(dX);
    free(dW1);
    free(db1);
    free(dW2);
    free(db2);
    free(num);
}

int main(void)
{
    test_gemm();
    test_gemm_determinism();
    test_gemm_threads();
    test_gemm_tail();
    test_gemm_order();
    test_dense(5, 7, 3);
    test_dense(37, 19, 33);
    test_dense(9, 12, 1);
    for (cm_act a = CM_ACT_NONE; a <= CM_ACT_GELU; a++)
        test_act(a);
    test_loss(CM_LOSS_MSE, "mse", 0);
    test_loss(CM_LOSS_MAE, "mae", 0);
    test_loss(CM_LOSS_HUBER, "huber delta 1", 1.0f);
    test_loss(CM_LOSS_HUBER, "huber delta 0.3", 0.3f);
    test_loss_values();
    test_two_layers();
    return tap_done();
}
