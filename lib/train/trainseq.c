/* trainseq.c - the gru, lstm and cnn kinds' trainer: a sequence network
 * (nn/seqnet.c) over rows whose first inputs are the window, initialized
 * as PyTorch initializes it, its parameters stepped as one tensor, for the
 * loop of trainsgd.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/trainer.h"

typedef struct seqfit {
    cm_seqnet n;          /* its p: the weights being trained */
    cm_seqnet_ws *ws;
    size_t np, wc;        /* parameters; window inputs per row */
    float *grad, *m, *v, *best;
    float *seq, *cur, *mask;
    int threads, dropped;
} seqfit;

static void seqfit_free(seqfit *t)
{
    cm_seqnet_ws_free(t->ws);
    free(t->n.p), free(t->grad), free(t->m), free(t->v);
    free(t->seq), free(t->cur), free(t->mask);
}

/* PyTorch's defaults, in its order of creation: every weight and bias of
 * a recurrent layer uniform within 1/sqrt(hidden); of a convolution and
 * of a Linear layer within 1/sqrt(its fan in). */
static void init(seqfit *t, cm_rng *rng)
{
    const cm_seqnet *n = &t->n;
    float *p = n->p;
    size_t w = n->width;
    for (size_t l = 0; l < n->layers; l++) {
        size_t in = l ? w : n->channels;
        size_t len = n->kind == CM_SEQ_CNN ? w * in * n->kernel + w
                   : (n->kind == CM_SEQ_GRU ? 3 : 4) * w * (in + w + 2);
        double bound = 1 / sqrt((double)(n->kind == CM_SEQ_CNN ? in * n->kernel : w));
        for (size_t i = 0; i < len; i++)
            *p++ = (float)((2 * cm_rng_unit(rng) - 1) * bound);
    }
    size_t z = w + n->current, fan[2] = {z, n->head};
    size_t len[2] = {z * n->head + n->head, n->head * n->nout + n->nout};
    for (size_t k = 0; k < 2; k++) {
        double bound = 1 / sqrt((double)fan[k]);
        for (size_t i = 0; i < len[k]; i++)
            *p++ = (float)((2 * cm_rng_unit(rng) - 1) * bound);
    }
}

/* Rows of inputs (window, then current) into the network's two halves. */
static void split(seqfit *t, size_t rows, const float *x)
{
    size_t cur = t->n.current, row = t->wc + cur;
    for (size_t b = 0; b < rows; b++) {
        memcpy(t->seq + b * t->wc, x + b * row, t->wc * sizeof(float));
        memcpy(t->cur + b * cur, x + b * row + t->wc, cur * sizeof(float));
    }
}

static const float *forward(void *self, size_t rows, const float *x, float dropout, cm_rng *rng)
{
    seqfit *t = self;
    split(t, rows, x);
    t->dropped = rng && dropout > 0;
    if (t->dropped) {
        /* the MLP's dropout: kept with probability 1 - dropout, scaled by its inverse */
        float scale = 1 / (1 - dropout);
        for (size_t i = 0; i < rows * t->n.head; i++)
            t->mask[i] = cm_rng_unit(rng) < dropout ? 0 : scale;
    }
    return cm_seqnet_forward(&t->n, t->ws, rows, t->seq, t->cur, t->dropped ? t->mask : NULL,
                             t->threads);
}

static void backward(void *self, size_t rows, const float *x, const float *dout)
{
    (void)x;
    seqfit *t = self;
    cm_seqnet_backward(&t->n, t->ws, rows, t->dropped ? t->mask : NULL, dout, t->grad, NULL,
                       t->threads);
}

static void step(void *self, const cm_optim *o, float lr, uint64_t k)
{
    seqfit *t = self;
    cm_optim_step(o, lr, k, t->np, t->n.p, t->grad, t->m, t->v);
}

static void keep(void *self)
{
    seqfit *t = self;
    memcpy(t->best, t->n.p, t->np * sizeof(float));
}

/* The cells clamp what they take (nn/nnexp.h), a NaN too: a diverged
 * recurrent weight may not reach the loss. */
static int all_finite(void *self)
{
    const seqfit *t = self;
    for (size_t i = 0; i < t->np; i++)
        if (!isfinite(t->n.p[i]))
            return 0;
    return 1;
}

static cm_status fit_seq(const cm_train_cfg *c, const cm_encoder *enc, const cm_schema *s,
                         const cm_source *src, size_t ntrain, size_t nvalid,
                         void (*on_epoch)(void *, const cm_epoch *), void *ctx, cm_fit *out,
                         cm_error *err)
{
    (void)s;
    *out = (cm_fit){0};
    seqfit t = {.n = c->seq, .threads = c->threads};
    t.wc = c->seq.window * c->seq.channels;
    t.n.current = enc->width - t.wc;
    t.n.nout = enc->nout;
    t.n.p = NULL;
    t.np = cm_seqnet_params(&t.n);
    size_t batch = (size_t)c->batch;
    cm_seqnet *model = calloc(1, sizeof *model);
    cm_status st = model && (t.n.p = malloc(t.np * sizeof(float))) &&
                   (t.grad = calloc(t.np, sizeof(float))) &&
                   (t.m = calloc(t.np, sizeof(float))) && (t.v = calloc(t.np, sizeof(float))) &&
                   (t.best = malloc(t.np * sizeof(float))) &&
                   (t.seq = malloc(batch * t.wc * sizeof(float))) &&
                   (t.cur = malloc((batch * t.n.current + 1) * sizeof(float))) &&
                   (t.mask = malloc(batch * t.n.head * sizeof(float))) &&
                   (t.ws = cm_seqnet_ws_new(&t.n, batch))
                       ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory: a %s of %zu "
                                         "parameters", c->kind->name, t.np);
    if (model) {
        *model = t.n;
        model->p = t.best; /* the model keeps the best epoch's weights */
    }
    cm_rng rng;
    cm_rng_seed(&rng, c->seed);
    if (!st) {
        init(&t, &rng);
        cm_sgd_net ops = {&t, enc->width, enc->nout, forward, backward, step, keep, all_finite,
                          NULL};
        st = cm_sgd_fit(c, enc, &ops, &rng, src, ntrain, nvalid, on_epoch, ctx, out, err);
    }
    if (!st) {
        out->net = model;
    } else {
        free(t.best);
        free(model);
    }
    seqfit_free(&t);
    return st;
}

/* The window and the network's sizes, and its epochs. */
static cm_status seq_meta(const cm_fit *f, cm_kv *meta, cm_error *err)
{
    const cm_seqnet *n = f->net;
    cm_status st = cm_kv_set_num(meta, "window", (double)n->window, err);
    if (!st) st = cm_kv_set_num(meta, n->kind == CM_SEQ_CNN ? "filters" : "hidden",
                                (double)n->width, err);
    if (!st && n->kind != CM_SEQ_CNN)
        st = cm_kv_set_num(meta, "rnn_layers", (double)n->layers, err);
    if (!st && n->kind == CM_SEQ_CNN) {
        char buf[CM_SEQ_MAX_LAYERS * 8 + 8];
        size_t at = 0;
        for (size_t l = 0; l < n->layers; l++)
            at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%zu", l ? "," : "",
                                   n->dilation[l]);
        st = cm_kv_set_num(meta, "kernel", (double)n->kernel, err);
        if (!st) st = cm_kv_set(meta, "dilations", buf, err);
    }
    if (!st) st = cm_kv_set_num(meta, "head", (double)n->head, err);
    if (!st) st = cm_kv_set_num(meta, "parameters", (double)cm_seqnet_params(n), err);
    if (!st) st = cm_kv_set_num(meta, "epochs_run", f->epochs_run, err);
    if (!st) st = cm_kv_set_num(meta, "best_epoch", f->best_epoch, err);
    return st;
}

const cm_trainer cm_trainer_gru = {&cm_kind_gru, fit_seq, seq_meta};
const cm_trainer cm_trainer_lstm = {&cm_kind_lstm, fit_seq, seq_meta};
const cm_trainer cm_trainer_cnn = {&cm_kind_cnn, fit_seq, seq_meta};
