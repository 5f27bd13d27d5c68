/* trainmlp.c - the mlp kind's trainer: forward and backward through the
 * dense layers with dropout, and an optimizer step per tensor, for the
 * loop of trainsgd.c.  The activations and the optimizer run as tails of
 * the matrix products (cm_gemm_tail): on each thread's block of the
 * product, so that with -j they are split among the threads too, by the
 * same blocks, each element computed as on one thread. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/trainer.h"

typedef struct net {
    size_t nl, *size, maxw, batch;
    int threads; /* for the matrix products: the same bits for any number */
    cm_act act;
    int dropped; /* the last forward pass dropped outputs */
    float **W, **b, **gW, **gb, **mW, **vW, **mb, **vb;
    float **z, **a; /* per layer: pre-activations and outputs, batch rows */
    float **h, **mask; /* with dropout: what the next layer sees, and why */
    float *d[2]; /* gradients at a layer's inputs, alternately */
    cm_mlp *best; /* the model's network: the best epoch's weights */
} net;

static void net_free(net *t)
{
    float **all[] = {t->W, t->b, t->gW, t->gb, t->mW, t->vW, t->mb, t->vb, t->z, t->a,
                     t->h, t->mask};
    for (size_t k = 0; k < sizeof all / sizeof *all; k++) {
        for (size_t l = 0; all[k] && l < t->nl; l++)
            free(all[k][l]);
        free(all[k]);
    }
    free(t->d[0]), free(t->d[1]);
}

static float **arrays(size_t nl)
{
    return calloc(nl, sizeof(float *));
}

static cm_status net_new(net *t, const cm_mlp *m, size_t batch, float dropout,
                         cm_rng *rng, cm_error *err)
{
    t->nl = m->nlayers;
    t->size = m->size;
    t->batch = batch;
    t->maxw = 1;
    for (size_t l = 0; l <= t->nl; l++)
        t->maxw = t->size[l] > t->maxw ? t->size[l] : t->maxw;
    if (!(t->W = arrays(t->nl)) || !(t->b = arrays(t->nl)) || !(t->gW = arrays(t->nl)) ||
        !(t->gb = arrays(t->nl)) || !(t->mW = arrays(t->nl)) || !(t->vW = arrays(t->nl)) ||
        !(t->mb = arrays(t->nl)) || !(t->vb = arrays(t->nl)) || !(t->z = arrays(t->nl)) ||
        !(t->a = arrays(t->nl)) || !(t->h = arrays(t->nl)) || !(t->mask = arrays(t->nl)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t l = 0; l < t->nl; l++) {
        size_t in = t->size[l], out = t->size[l + 1];
        if (!(t->W[l] = malloc(in * out * sizeof(float))) ||
            !(t->b[l] = malloc(out * sizeof(float))) ||
            !(t->gW[l] = calloc(in * out, sizeof(float))) ||
            !(t->gb[l] = calloc(out, sizeof(float))) ||
            !(t->mW[l] = calloc(in * out, sizeof(float))) ||
            !(t->vW[l] = calloc(in * out, sizeof(float))) ||
            !(t->mb[l] = calloc(out, sizeof(float))) ||
            !(t->vb[l] = calloc(out, sizeof(float))) ||
            !(t->z[l] = malloc(batch * out * sizeof(float))) ||
            !(t->a[l] = malloc(batch * out * sizeof(float))) ||
            (dropout > 0 && (!(t->h[l] = malloc(batch * out * sizeof(float))) ||
                             !(t->mask[l] = malloc(batch * out * sizeof(float))))))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        /* PyTorch's default for Linear: uniform within 1/sqrt(fan_in). */
        double bound = 1 / sqrt((double)in);
        for (size_t i = 0; i < in * out; i++)
            t->W[l][i] = (float)((2 * cm_rng_unit(rng) - 1) * bound);
        for (size_t i = 0; i < out; i++)
            t->b[l][i] = (float)((2 * cm_rng_unit(rng) - 1) * bound);
    }
    if (!(t->d[0] = malloc(batch * t->maxw * sizeof(float))) ||
        !(t->d[1] = malloc(batch * t->maxw * sizeof(float))))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    return CM_OK;
}

/* Rows [i0, i1) and columns [j0, j1) of a batch x width matrix, as runs
 * of contiguous elements: fn on each (one run when the rows are whole). */
#define EACH_RUN(width, i0, i1, j0, j1, off, len, body)                        \
    do {                                                                       \
        size_t len = (j1) - (j0);                                              \
        if ((j0) == 0 && (j1) == (width)) {                                    \
            size_t off = (i0) * (width);                                       \
            len *= (i1) - (i0);                                                \
            body;                                                              \
        } else                                                                 \
            for (size_t r_ = (i0); r_ < (i1); r_++) {                          \
                size_t off = r_ * (width) + (j0);                              \
                body;                                                          \
            }                                                                  \
    } while (0)

/* The tail of a hidden layer's forward product: its outputs z through
 * the activation into a. */
typedef struct act_tail {
    cm_act act;
    const float *z;
    float *a;
    size_t width;
} act_tail;

static void act_block(void *ctx, size_t i0, size_t i1, size_t j0, size_t j1)
{
    const act_tail *t = ctx;
    EACH_RUN(t->width, i0, i1, j0, j1, off, len, cm_act_forward(t->act, len, t->z + off,
                                                                t->a + off));
}

/* The tail of the product dX = dY . W of layer l: the gradient at the
 * outputs of layer l - 1, through its dropout mask and activation, in
 * place. */
typedef struct back_tail {
    const struct net *t;
    size_t l;
    float *d;
} back_tail;

static void back_block(void *ctx, size_t i0, size_t i1, size_t j0, size_t j1)
{
    const back_tail *b = ctx;
    const struct net *t = b->t;
    size_t below = b->l - 1, width = t->size[b->l];
    float *d = b->d;
    const float *mask = t->dropped ? t->mask[below] : NULL;
    EACH_RUN(width, i0, i1, j0, j1, off, len, {
        if (mask)
            for (size_t i = 0; i < len; i++)
                d[off + i] *= mask[off + i];
        cm_act_backward(t->act, len, t->z[below] + off, t->a[below] + off, d + off, d + off);
    });
}

/* The tail of the product dW = dY^T . X: the optimizer's step of those
 * weights, their gradient just made. */
typedef struct step_tail {
    const cm_optim_at *at;
    float *w, *g, *m, *v;
    size_t width;
} step_tail;

static void step_block(void *ctx, size_t i0, size_t i1, size_t j0, size_t j1)
{
    const step_tail *s = ctx;
    EACH_RUN(s->width, i0, i1, j0, j1, off, len,
             cm_optim_apply(s->at, len, s->w + off, s->g + off, s->m + off, s->v + off));
}

/* Forward pass over n rows of x.  With rng (training) and dropout, each
 * hidden output is kept with probability 1 - dropout and scaled by its
 * inverse, so that inference needs no rescaling; h holds what the next
 * layer sees, a the activations themselves (for the backward pass). */
static const float *forward(void *self, size_t n, const float *x, float dropout, cm_rng *rng)
{
    net *t = self;
    const float *in = x;
    t->dropped = rng && dropout > 0;
    for (size_t l = 0; l < t->nl; l++) {
        size_t out = t->size[l + 1];
        int last = l + 1 == t->nl;
        act_tail at = {t->act, t->z[l], t->a[l], out};
        cm_gemm_tail tail = {act_block, &at};
        cm_dense_forward_tail(n, t->size[l], out, in, t->W[l], t->b[l], t->z[l], t->threads,
                              last ? NULL : &tail);
        if (last)
            return t->z[l];
        in = t->a[l];
        if (rng && dropout > 0) {
            float scale = 1 / (1 - dropout);
            for (size_t i = 0; i < n * out; i++) {
                t->mask[l][i] = cm_rng_unit(rng) < dropout ? 0 : scale;
                t->h[l][i] = t->a[l][i] * t->mask[l][i];
            }
            in = t->h[l];
        }
    }
    return t->z[t->nl - 1];
}

/* Gradients of the mean loss (dout per row) for the n rows of x, and
 * the optimizer's step k of each layer as soon as its weights' gradient
 * is made (the gradient below it is made first, from the weights before
 * the step). */
static void learn(void *self, size_t n, const float *x, const float *dout, const cm_optim *o,
                  float lr, uint64_t k)
{
    net *t = self;
    cm_optim_at at = cm_optim_prepare(o, lr, k);
    const float *dy = dout;
    for (size_t l = t->nl; l-- > 0;) {
        size_t in = t->size[l], out = t->size[l + 1];
        const float *input = l == 0 ? x : t->dropped ? t->h[l - 1] : t->a[l - 1];
        /* not the buffer dy is in: the products read dy to the end */
        float *dx = l ? t->d[dy == t->d[0]] : NULL;
        back_tail bt = {t, l, dx};
        step_tail st = {&at, t->W[l], t->gW[l], t->mW[l], t->vW[l], in};
        cm_gemm_tail dx_tail = {back_block, &bt}, dw_tail = {step_block, &st};
        cm_dense_backward_tail(n, in, out, input, t->W[l], dy, t->gW[l], t->gb[l], dx,
                               t->threads, &dx_tail, &dw_tail);
        cm_optim_apply(&at, out, t->b[l], t->gb[l], t->mb[l], t->vb[l]);
        dy = dx;
    }
}

static void keep(void *self)
{
    net *t = self;
    for (size_t l = 0; l < t->nl; l++) {
        memcpy(t->best->W[l], t->W[l], t->size[l] * t->size[l + 1] * sizeof(float));
        memcpy(t->best->b[l], t->b[l], t->size[l + 1] * sizeof(float));
    }
}

static cm_status fit_mlp(const cm_train_cfg *c, const cm_encoder *enc, const cm_schema *s,
                         const cm_source *src, size_t ntrain, size_t nvalid,
                         void (*on_epoch)(void *, const cm_epoch *), void *ctx, cm_fit *out,
                         cm_error *err)
{
    (void)s;
    size_t size[66];
    size[0] = enc->width;
    for (size_t l = 0; l < c->nlayers; l++)
        size[l + 1] = c->layers[l];
    size[c->nlayers + 1] = enc->nout;
    /* the model's network: the best epoch's weights are copied into it */
    cm_mlp *m = cm_mlp_new(size, c->nlayers + 1, c->act);
    if (!m)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    *out = (cm_fit){0};
    cm_rng rng;
    cm_rng_seed(&rng, c->seed);
    net t = {0};
    cm_status st = net_new(&t, m, (size_t)c->batch, c->dropout, &rng, err);
    t.threads = c->threads;
    t.act = c->act;
    t.best = m;
    cm_sgd_net ops = {&t, enc->width, enc->nout, forward, NULL, NULL, keep, NULL, learn};
    if (!st)
        st = cm_sgd_fit(c, enc, &ops, &rng, src, ntrain, nvalid, on_epoch, ctx, out, err);
    if (!st)
        out->net = m;
    else
        cm_mlp_free(m);
    net_free(&t);
    return st;
}

/* The widths and activation it became, and its epochs. */
static cm_status mlp_meta(const cm_fit *f, cm_kv *meta, cm_error *err)
{
    static const char *const acts[] = {"none", "relu", "tanh", "sigmoid", "gelu"};
    const cm_mlp *m = f->net;
    char buf[64];
    cm_buf text = {0};
    for (size_t l = 1; l < m->nlayers; l++) {
        int k = snprintf(buf, sizeof buf, "%s%zu", l > 1 ? "," : "", m->size[l]);
        cm_buf_put(&text, buf, (size_t)k);
    }
    cm_buf_u8(&text, 0);
    cm_status st = text.oom ? cm_fail(err, CM_ERR_NOMEM, "out of memory")
                            : cm_kv_set(meta, "layers", (const char *)text.data, err);
    cm_buf_free(&text);
    if (!st) st = cm_kv_set(meta, "activation", acts[m->act], err);
    if (!st) st = cm_kv_set_num(meta, "epochs_run", f->epochs_run, err);
    if (!st) st = cm_kv_set_num(meta, "best_epoch", f->best_epoch, err);
    return st;
}

const cm_trainer cm_trainer_mlp = {&cm_kind_mlp, fit_mlp, mlp_meta};
