/* trainmlp.c - the mlp kind's trainer: an MLP fitted by mini-batch descent: a fresh seeded
 * order each epoch, forward and backward through the dense layers, one
 * optimizer step per tensor, validation after each epoch, the best
 * epoch's weights kept. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "train/trainer.h"

typedef struct net {
    size_t nl, *size, maxw, batch;
    int threads; /* for the matrix products: the same bits for any number */
    float **W, **b, **gW, **gb, **mW, **vW, **mb, **vb;
    float **z, **a; /* per layer: pre-activations and outputs, batch rows */
    float **h, **mask; /* with dropout: what the next layer sees, and why */
    float *d1, *d2;
    float *xb, *yb, *pred, *grad;
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
    free(t->xb), free(t->yb), free(t->pred), free(t->grad);
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
    size_t nout = t->size[t->nl];
    if (!(t->d1 = malloc(batch * t->maxw * sizeof(float))) ||
        !(t->d2 = malloc(batch * t->maxw * sizeof(float))) ||
        !(t->xb = malloc(batch * t->size[0] * sizeof(float))) ||
        !(t->yb = malloc(batch * nout * sizeof(float))) ||
        !(t->pred = malloc(batch * nout * sizeof(float))) ||
        !(t->grad = malloc(batch * nout * sizeof(float))))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    return CM_OK;
}

/* Forward pass over n rows of x.  With rng (training) and dropout, each
 * hidden output is kept with probability 1 - dropout and scaled by its
 * inverse, so that inference needs no rescaling; h holds what the next
 * layer sees, a the activations themselves (for the backward pass). */
static const float *forward(net *t, cm_act act, size_t n, const float *x,
                            float dropout, cm_rng *rng)
{
    const float *in = x;
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
static void backward(net *t, cm_act act, size_t n, const float *x, const float *dout,
                     int dropped)
{
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

static void copy_weights(const net *t, float **to_W, float **to_b)
{
    for (size_t l = 0; l < t->nl; l++) {
        memcpy(to_W[l], t->W[l], t->size[l] * t->size[l + 1] * sizeof(float));
        memcpy(to_b[l], t->b[l], t->size[l + 1] * sizeof(float));
    }
}

/* The mean loss over the held-out rows, a mini-batch at a time (over
 * every output of a direct model's). */
static cm_status eval_loss(net *t, cm_act act, cm_loss_kind loss, float delta,
                           const cm_source *src, size_t n, double *out, cm_error *err)
{
    double sum = 0;
    size_t nout = t->size[t->nl];
    cm_chunk ch;
    cm_status st;
    while (!(st = src->next(src->ctx, 1, &ch, err)) && ch.n)
        for (size_t i = 0; i < ch.n; i += t->batch) {
            size_t k = ch.n - i < t->batch ? ch.n - i : t->batch;
            const float *p = forward(t, act, k, ch.x + i * t->size[0], 0, NULL);
            sum += cm_loss(loss, k * nout, p, ch.y + i * nout, delta, NULL) * (double)k;
        }
    *out = n ? sum / (double)n : NAN;
    return st;
}

/* A fresh order for n rows (Fisher-Yates).  A part read as one chunk
 * keeps shuffling the order of the epoch before, as in memory; chunks of
 * a longer part start each from their own order. */
static size_t *shuffle(size_t *perm, size_t *cap, size_t n, int whole, cm_rng *rng)
{
    if (n > *cap || !whole) {
        if (n > *cap) {
            size_t *p = realloc(perm, n * sizeof *p);
            if (!p)
                return free(perm), NULL;
            perm = p;
            *cap = n;
        }
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)cm_rng_below(rng, i), tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
    return perm;
}

/* One pass over the training rows: a fresh order, then a step per
 * mini-batch; the summed loss into *sum. */
typedef struct epoch_state {
    size_t *perm, cap;
    uint64_t step;
    cm_rng rng;
} epoch_state;

static cm_status train_epoch(net *t, const cm_train_cfg *c, const cm_source *src, float lr,
                             epoch_state *es, double *sum, cm_error *err)
{
    size_t w = t->size[0], batch = (size_t)c->batch, nout = t->size[t->nl];
    cm_chunk ch;
    cm_status st;
    *sum = 0;
    while (!(st = src->next(src->ctx, 0, &ch, err)) && ch.n) {
        if (!(es->perm = shuffle(es->perm, &es->cap, ch.n, ch.whole, &es->rng)))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < ch.n; i += batch) {
            size_t n = ch.n - i < batch ? ch.n - i : batch;
            for (size_t r = 0; r < n; r++) {
                memcpy(t->xb + r * w, ch.x + es->perm[i + r] * w, w * sizeof(float));
                memcpy(t->yb + r * nout, ch.y + es->perm[i + r] * nout, nout * sizeof(float));
            }
            const float *p = forward(t, c->act, n, t->xb, c->dropout, &es->rng);
            /* the mean over every output: a direct model's steps weigh alike */
            *sum += cm_loss(c->loss, n * nout, p, t->yb, c->huber, t->grad) * (double)n;
            backward(t, c->act, n, t->xb, t->grad, c->dropout > 0);
            es->step++;
            for (size_t l = 0; l < t->nl; l++) {
                cm_optim_step(&c->opt, lr, es->step, t->size[l] * t->size[l + 1], t->W[l],
                              t->gW[l], t->mW[l], t->vW[l]);
                cm_optim_step(&c->opt, lr, es->step, t->size[l + 1], t->b[l], t->gb[l],
                              t->mb[l], t->vb[l]);
            }
        }
    }
    return st;
}

/* What the caller hears after epoch e (from 0), losses in the target's
 * units: MSE scales with sd squared, MAE with sd; Huber has no such unit
 * and stays standardized. */
static void report(const cm_train_cfg *c, const cm_encoder *enc, int e, size_t ntrain,
                   const struct timespec *t0, double train, double valid, int improved,
                   void (*on_epoch)(void *, const cm_epoch *), void *ctx)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
    double unit = c->loss == CM_LOSS_MSE ? enc->tsd * enc->tsd
                : c->loss == CM_LOSS_MAE ? enc->tsd : 1;
    cm_epoch ep = {e + 1, c->epochs, train * unit, isnan(valid) ? NAN : valid * unit,
                   (double)ntrain * (e + 1) / (secs > 0 ? secs : 1e-9),
                   secs / (e + 1) * (c->epochs - e - 1), improved};
    on_epoch(ctx, &ep);
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
    epoch_state es = {0};
    cm_rng_seed(&es.rng, c->seed);
    net t = {0};
    cm_status st = net_new(&t, m, (size_t)c->batch, c->dropout, &es.rng, err);
    t.threads = c->threads;
    double best = INFINITY, first_loss = NAN;
    int since_best = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int e = 0; !st && e < c->epochs; e++) {
        float lr = cm_schedule(c->sched, c->lr, e, c->epochs, c->step_size, c->gamma);
        double train, valid = NAN;
        st = train_epoch(&t, c, src, lr, &es, &train, err);
        if (!st && nvalid)
            st = eval_loss(&t, c->act, c->loss, c->huber, src, nvalid, &valid, err);
        if (st)
            break;
        train /= (double)(ntrain ? ntrain : 1);
        if (e == 0)
            first_loss = train;
        if (!isfinite(train) || train > 1e6 * (first_loss + 1)) {
            char lossbuf[40];
            cm_fmt_f64(lossbuf, sizeof lossbuf, train);
            st = cm_fail(err, CM_ERR_DATA, "training diverged in epoch %d (loss %s): "
                         "lower --lr", e + 1, lossbuf);
            break;
        }
        double score = nvalid ? valid : train;
        int improved = score < best;
        if (improved) {
            best = score;
            out->best_epoch = e + 1;
            since_best = 0;
            copy_weights(&t, m->W, m->b);
        } else {
            since_best++;
        }
        out->epochs_run = e + 1;
        if (on_epoch)
            report(c, enc, e, ntrain, &t0, train, valid, improved, on_epoch, ctx);
        if (c->patience && since_best >= c->patience)
            break;
    }
    /* The model keeps the best epoch's weights (the last ones if no epoch
     * gave a comparable score). */
    if (!st && out->best_epoch == 0) {
        copy_weights(&t, m->W, m->b);
        out->best_epoch = out->epochs_run;
    }
    if (!st)
        out->net = m;
    else
        cm_mlp_free(m);
    net_free(&t);
    free(es.perm);
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
