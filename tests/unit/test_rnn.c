/* test_rnn.c - the GRU and LSTM layers (rnn.c): a step against the
 * equations written out in double, and every gradient (weights, biases,
 * input) against central differences through a whole window, for one
 * layer and for two stacked, the upper reading the lower's outputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "nn/cm_nn.h"
#include "tap.h"

static const char *const kind_name[] = {"gru", "lstm"};

typedef struct layer {
    size_t in, H;
    cm_rnn_weights w, dw;
    float *hs, *cache, *work, *dx;
} layer;

static size_t gate_rows(cm_rnn_kind k, size_t H)
{
    return (k == CM_RNN_GRU ? 3 : 4) * H;
}

static void layer_init(layer *l, cm_rnn_kind k, size_t T, size_t batch, size_t in, size_t H)
{
    size_t G = gate_rows(k, H);
    l->in = in, l->H = H;
    /* PyTorch's scale, 1/sqrt(H), doubled so the gates leave their middle */
    double a = 2 / sqrt((double)H);
    l->w = (cm_rnn_weights){random_floats(G * in, a), random_floats(G * H, a),
                            random_floats(G, a), random_floats(G, a)};
    l->dw = (cm_rnn_weights){malloc(G * in * sizeof(float)), malloc(G * H * sizeof(float)),
                             malloc(G * sizeof(float)), malloc(G * sizeof(float))};
    l->hs = malloc(T * batch * H * sizeof(float));
    l->cache = malloc(cm_rnn_cache(k, T, batch, H) * sizeof(float));
    l->work = malloc(cm_rnn_work(k, T, batch, H) * sizeof(float));
    l->dx = malloc(T * batch * in * sizeof(float));
}

static void layer_free(layer *l)
{
    free(l->w.Wih), free(l->w.Whh), free(l->w.bih), free(l->w.bhh);
    free(l->dw.Wih), free(l->dw.Whh), free(l->dw.bih), free(l->dw.bhh);
    free(l->hs), free(l->cache), free(l->work), free(l->dx);
}

typedef struct rnn_case {
    cm_rnn_kind k;
    size_t T, batch, nl;
    float *x;
    layer l[2];
    double *R; /* the objective: sum over every step's top h of h .* R */
} rnn_case;

static double objective(void *ctx)
{
    rnn_case *c = ctx;
    const float *in = c->x;
    for (size_t i = 0; i < c->nl; i++) {
        layer *l = &c->l[i];
        cm_rnn_forward(c->k, c->T, c->batch, l->in, l->H, in, &l->w, l->hs, l->cache, 1);
        in = l->hs;
    }
    const layer *top = &c->l[c->nl - 1];
    double s = 0;
    for (size_t i = 0; i < c->T * c->batch * top->H; i++)
        s += top->hs[i] * c->R[i];
    return s;
}

static void backward(rnn_case *c)
{
    objective(c);
    size_t n = c->T * c->batch * c->l[c->nl - 1].H;
    float *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = (float)c->R[i];
    for (size_t i = c->nl; i-- > 0;) {
        layer *l = &c->l[i];
        const float *in = i ? c->l[i - 1].hs : c->x;
        cm_rnn_backward(c->k, c->T, c->batch, l->in, l->H, in, &l->w, l->hs, l->cache, d,
                        &l->dw, l->dx, l->work, 1);
        d = realloc(d, c->T * c->batch * l->in * sizeof *d);
        memcpy(d, l->dx, c->T * c->batch * l->in * sizeof *d);
    }
    free(d);
}

/* A window sums the float rounding of many steps into the objective: a
 * nudge wider than EPS keeps that noise well below the differences,
 * while the curvature's error (the nudge squared) stays under 1e-4. */
#define EPS_RNN 1e-2

/* The worst gradient error over the n floats of p, whose gradient is g. */
static double check(rnn_case *c, float *p, const float *g, size_t n)
{
    double *num = malloc(n * sizeof *num);
    for (size_t i = 0; i < n; i++)
        num[i] = central(&p[i], EPS_RNN, objective, c);
    double e = grad_error(n, g, num);
    free(num);
    return e;
}

static void test_grad(cm_rnn_kind k, size_t nl, size_t T, size_t batch, size_t in, size_t H)
{
    rnn_case c = {k, T, batch, nl, random_floats(T * batch * in, 1), {{0}}, NULL};
    for (size_t i = 0; i < nl; i++)
        layer_init(&c.l[i], k, T, batch, i ? H : in, H);
    c.R = random_doubles(T * batch * H);
    backward(&c);
    for (size_t i = 0; i < nl; i++) {
        layer *l = &c.l[i];
        size_t G = gate_rows(k, H);
        const char *const what[] = {"W_ih", "W_hh", "b_ih", "b_hh"};
        float *p[] = {l->w.Wih, l->w.Whh, l->w.bih, l->w.bhh};
        float *g[] = {l->dw.Wih, l->dw.Whh, l->dw.bih, l->dw.bhh};
        size_t n[] = {G * l->in, G * H, G, G};
        for (int j = 0; j < 4; j++) {
            double e = check(&c, p[j], g[j], n[j]);
            CHECK(e < 5e-3, "%s, %zu layer%s, %zu steps: d/d %s of layer %zu by central "
                  "differences (worst %.2g)", kind_name[k], nl, nl > 1 ? "s" : "", T, what[j],
                  i + 1, e);
        }
    }
    double e = check(&c, c.x, c.l[0].dx, T * batch * in);
    CHECK(e < 5e-3, "%s, %zu layer%s, %zu steps: d/d x, every step, by central differences "
          "(worst %.2g)", kind_name[k], nl, nl > 1 ? "s" : "", T, e);
    for (size_t i = 0; i < nl; i++)
        layer_free(&c.l[i]);
    free(c.x), free(c.R);
}

static double sig(double v)
{
    return 1 / (1 + exp(-v));
}

/* Two steps of one row, by PyTorch's equations in double. */
static void test_equations(cm_rnn_kind k)
{
    size_t in = 3, H = 2, T = 2, G = gate_rows(k, H);
    layer l;
    layer_init(&l, k, T, 1, in, H);
    float *x = random_floats(T * in, 1);
    cm_rnn_forward(k, T, 1, in, H, x, &l.w, l.hs, l.cache, 1);
    double h[2] = {0, 0}, cc[2] = {0, 0}, worst = 0;
    for (size_t t = 0; t < T; t++) {
        double a[8], e[8], hn[2];
        for (size_t r = 0; r < G; r++) {
            a[r] = l.w.bih[r], e[r] = l.w.bhh[r];
            for (size_t j = 0; j < in; j++)
                a[r] += (double)l.w.Wih[r * in + j] * x[t * in + j];
            for (size_t j = 0; j < H; j++)
                e[r] += (double)l.w.Whh[r * H + j] * h[j];
        }
        for (size_t j = 0; j < H; j++) {
            if (k == CM_RNN_GRU) {
                double r = sig(a[j] + e[j]), z = sig(a[H + j] + e[H + j]);
                double n = tanh(a[2 * H + j] + r * e[2 * H + j]);
                hn[j] = (1 - z) * n + z * h[j];
            } else {
                double i = sig(a[j] + e[j]), f = sig(a[H + j] + e[H + j]);
                double g = tanh(a[2 * H + j] + e[2 * H + j]), o = sig(a[3 * H + j] + e[3 * H + j]);
                cc[j] = f * cc[j] + i * g;
                hn[j] = o * tanh(cc[j]);
            }
        }
        for (size_t j = 0; j < H; j++) {
            h[j] = hn[j];
            worst = fmax(worst, fabs(h[j] - l.hs[t * H + j]));
        }
    }
    CHECK(worst < 1e-6, "%s: two steps are PyTorch's equations (worst %.2g)", kind_name[k],
          worst);
    layer_free(&l);
    free(x);
}

int main(void)
{
    for (int k = CM_RNN_GRU; k <= CM_RNN_LSTM; k++) {
        test_equations((cm_rnn_kind)k);
        test_grad((cm_rnn_kind)k, 1, 1, 2, 3, 4);
        test_grad((cm_rnn_kind)k, 1, 6, 3, 2, 4);
        test_grad((cm_rnn_kind)k, 2, 5, 2, 3, 3);
    }
    return tap_done();
}
