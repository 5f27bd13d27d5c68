/* trainmlp.c - the mlp kind's trainer: forward and backward through the
 * dense layers with dropout, and an optimizer step per tensor, for the
 * loop of trainsgd.c. */
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
    float *d1, *d2;
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
    free(t->d1), free(t->d2);
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
    if (!(t->d1 = malloc(batch * t->maxw * sizeof(float))) ||
        !(t->d2 = malloc(batch * t->maxw * sizeof(float))))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    return CM_OK;
}

/* Forward pass over n rows of x.  With rng (training) and dropout, each
 * hidden output is kept with probability 1 - dropout and scaled by its
 * inverse, so that inference needs no rescaling; h holds what the next
 * layer sees, a the activations themselves (for the backward pass). */
static const float *forward(void *self, size_t n, const float *x, float dropout, cm_rng *rng)
{
    net *t = self;
    cm_act act = t->act;
    const float *in = x;
    t->dropped = rng && dropout > 0;
    for (size_t l = 0; l < t->nl; l++) {
        size_t out = t->size[l + 1];
        cm_dense_forward(n, t->size[l], out, in, t->W[l], t->b[l], t->z[l], t->threads);
        if (l + 1 == t->nl)
            return t->z[l];
        cm_act_forward(act, n * out, t->z[l], t->a[l]);
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

/* Gradients of the mean loss (dout per row) for the n rows of x; the
 * weights' gradients land in gW and gb. */
static void backward(void *self, size_t n, const float *x, const float *dout)
{
    net *t = self;
    cm_act act = t->act;
    int dropped = t->dropped;
    const float *dy = dout;
    for (size_t l = t->nl; l-- > 0;) {
        size_t in = t->size[l], out = t->size[l + 1];
        const float *input = l == 0 ? x : dropped ? t->h[l - 1] : t->a[l - 1];
        cm_dense_backward(n, in, out, input, t->W[l], dy, t->gW[l], t->gb[l],
                          l ? t->d1 : NULL, t->threads);
        if (l == 0)
            break;
        if (dropped)
            for (size_t i = 0; i < n * in; i++)
                t->d1[i] *= t->mask[l - 1][i];
        cm_act_backward(act, n * in, t->z[l - 1], t->a[l - 1], t->d1, t->d2);
        dy = t->d2; /* the next dense layer down writes d1, reads d2 */
    }
}

static void step(void *self, const cm_optim *o, float lr, uint64_t k)
{
    net *t = self;
    for (size_t l = 0; l < t->nl; l++) {
        cm_optim_step(o, lr, k, t->size[l] * t->size[l + 1], t->W[l], t->gW[l], t->mW[l],
                      t->vW[l]);
        cm_optim_step(o, lr, k, t->size[l + 1], t->b[l], t->gb[l], t->mb[l], t->vb[l]);
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
    cm_sgd_net ops = {&t, enc->width, enc->nout, forward, backward, step, keep, NULL};
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
