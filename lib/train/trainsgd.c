/* trainsgd.c - the fitting loop of the networks trained by descent (the
 * mlp kind and the sequence kinds): a fresh seeded order each epoch, a
 * forward and backward pass and an optimizer step per mini-batch,
 * validation after each epoch, the best epoch's weights kept, early
 * stopping and the divergence check.  The network itself is behind
 * cm_sgd_net. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "train/trainer.h"

/* The mean loss over the held-out rows, a mini-batch at a time (over
 * every output of a direct model's). */
static cm_status eval_loss(const cm_sgd_net *t, const cm_train_cfg *c, const cm_source *src,
                           size_t n, double *out, cm_error *err)
{
    double sum = 0;
    size_t batch = (size_t)c->batch;
    cm_chunk ch;
    cm_status st;
    while (!(st = src->next(src->ctx, 1, &ch, err)) && ch.n)
        for (size_t i = 0; i < ch.n; i += batch) {
            size_t k = ch.n - i < batch ? ch.n - i : batch;
            const float *p = t->forward(t->self, k, ch.x + i * t->width, 0, NULL);
            sum += cm_loss(c->loss, k * t->nout, p, ch.y + i * t->nout, c->huber, NULL) *
                   (double)k;
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

/* Where the epochs stand: the order, the optimizer's step count, the
 * random stream, and one mini-batch gathered. */
typedef struct epoch_state {
    size_t *perm, cap;
    uint64_t step;
    cm_rng *rng;
    float *xb, *yb, *grad;
} epoch_state;

/* One pass over the training rows: a fresh order, then a step per
 * mini-batch; the summed loss into *sum. */
static cm_status train_epoch(const cm_sgd_net *t, const cm_train_cfg *c, const cm_source *src,
                             float lr, epoch_state *es, double *sum, cm_error *err)
{
    size_t w = t->width, batch = (size_t)c->batch, nout = t->nout;
    cm_chunk ch;
    cm_status st;
    *sum = 0;
    while (!(st = src->next(src->ctx, 0, &ch, err)) && ch.n) {
        if (!(es->perm = shuffle(es->perm, &es->cap, ch.n, ch.whole, es->rng)))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < ch.n; i += batch) {
            size_t n = ch.n - i < batch ? ch.n - i : batch;
            for (size_t r = 0; r < n; r++) {
                memcpy(es->xb + r * w, ch.x + es->perm[i + r] * w, w * sizeof(float));
                memcpy(es->yb + r * nout, ch.y + es->perm[i + r] * nout, nout * sizeof(float));
            }
            const float *p = t->forward(t->self, n, es->xb, c->dropout, es->rng);
            /* the mean over every output: a direct model's steps weigh alike */
            *sum += cm_loss(c->loss, n * nout, p, es->yb, c->huber, es->grad) * (double)n;
            if (t->learn) {
                t->learn(t->self, n, es->xb, es->grad, &c->opt, lr, ++es->step);
            } else {
                t->backward(t->self, n, es->xb, es->grad);
                t->step(t->self, &c->opt, lr, ++es->step);
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

cm_status cm_sgd_fit(const cm_train_cfg *c, const cm_encoder *enc, const cm_sgd_net *t,
                     cm_rng *rng, const cm_source *src, size_t ntrain, size_t nvalid,
                     void (*on_epoch)(void *, const cm_epoch *), void *ctx, cm_fit *out,
                     cm_error *err)
{
    size_t batch = (size_t)c->batch;
    epoch_state es = {.rng = rng};
    cm_status st = (es.xb = malloc(batch * t->width * sizeof(float))) &&
                   (es.yb = malloc(batch * t->nout * sizeof(float))) &&
                   (es.grad = malloc(batch * t->nout * sizeof(float)))
                       ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    double best = INFINITY, first_loss = NAN;
    int since_best = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int e = 0; !st && e < c->epochs; e++) {
        float lr = cm_schedule(c->sched, c->lr, e, c->epochs, c->step_size, c->gamma);
        double train, valid = NAN;
        st = train_epoch(t, c, src, lr, &es, &train, err);
        if (!st && nvalid)
            st = eval_loss(t, c, src, nvalid, &valid, err);
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
        if (t->finite && !t->finite(t->self)) {
            st = cm_fail(err, CM_ERR_DATA, "training diverged in epoch %d (a weight is not "
                         "finite): lower --lr", e + 1);
            break;
        }
        double score = nvalid ? valid : train;
        int improved = score < best;
        if (improved) {
            best = score;
            out->best_epoch = e + 1;
            since_best = 0;
            t->keep(t->self);
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
        t->keep(t->self);
        out->best_epoch = out->epochs_run;
    }
    free(es.perm), free(es.xb), free(es.yb), free(es.grad);
    return st;
}
