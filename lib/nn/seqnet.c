/* seqnet.c - a sequence model: a window of the recent past through a
 * recurrent stack (GRU, LSTM) or a causal convolution stack, its last
 * step's state beside the row's current inputs, then a dense head:
 *
 *     window (W steps x C) -> rnn layers | conv layers, ReLU after each
 *                          -> h at the last step (width)
 *     [h, current] -> dense (head) -> ReLU (dropout) -> dense (nout)
 *
 * as ../shared/bench/peer-seq.py builds it.  The parameters are one flat
 * array in PyTorch's order of creation (the layers, then the head), so
 * that an optimizer steps them all at once and a model file stores them
 * as one tensor. */
#include <stdlib.h>
#include <string.h>

#include "nn/cm_nn.h"

struct cm_seqnet_ws {
    size_t batch;
    float *block;         /* everything below, when the workspace owns it */
    float *xt;            /* rnn: the window time-major, W x batch x C */
    float *out[CM_SEQ_MAX_LAYERS], *cache[CM_SEQ_MAX_LAYERS]; /* rnn hs and cache;
                                                             conv y and col */
    float *act[CM_SEQ_MAX_LAYERS]; /* conv: each layer's ReLU output, by step */
    /* conv: the steps each layer computes, those its last step sees */
    uint32_t *steps[CM_SEQ_MAX_LAYERS];
    size_t ns[CM_SEQ_MAX_LAYERS];
    uint8_t *seen;
    float *dconv;         /* conv, training: a layer's gradient at its steps */
    float *z, *z1, *a1, *y;
    float *dz, *d1, *dseq, *dtop, *dbelow, *work; /* training only */
    float *seq, *cur;     /* inference: a row of inputs split in two */
};

static size_t rnn_gates(cm_seq_kind k)
{
    return k == CM_SEQ_GRU ? 3 : 4;
}

static cm_rnn_kind rnn_kind(cm_seq_kind k)
{
    return k == CM_SEQ_GRU ? CM_RNN_GRU : CM_RNN_LSTM;
}

/* The inputs of layer l. */
static size_t layer_in(const cm_seqnet *n, size_t l)
{
    return l ? n->width : n->channels;
}

static size_t layer_params(const cm_seqnet *n, size_t l)
{
    size_t in = layer_in(n, l), w = n->width;
    if (n->kind == CM_SEQ_CNN)
        return w * in * n->kernel + w;
    size_t G = rnn_gates(n->kind) * w;
    return G * in + G * w + 2 * G;
}

size_t cm_seqnet_params(const cm_seqnet *n)
{
    size_t p = 0;
    for (size_t l = 0; l < n->layers; l++)
        p += layer_params(n, l);
    size_t z = n->width + n->current;
    return p + z * n->head + n->head + n->head * n->nout + n->nout;
}

/* Layer l's weights inside the flat array p. */
static cm_rnn_weights rnn_at(const cm_seqnet *n, float *p, size_t l)
{
    for (size_t i = 0; i < l; i++)
        p += layer_params(n, i);
    size_t in = layer_in(n, l), G = rnn_gates(n->kind) * n->width;
    return (cm_rnn_weights){p, p + G * in, p + G * in + G * n->width,
                            p + G * in + G * n->width + G};
}

static float *layer_at(const cm_seqnet *n, float *p, size_t l)
{
    for (size_t i = 0; i < l; i++)
        p += layer_params(n, i);
    return p;
}

/* The head's W1, b1, W2, b2 after the layers. */
static void head_at(const cm_seqnet *n, float *p, float **W1, float **b1, float **W2,
                    float **b2)
{
    p = layer_at(n, p, n->layers);
    size_t z = n->width + n->current;
    *W1 = p, *b1 = p + z * n->head, *W2 = *b1 + n->head, *b2 = *W2 + n->head * n->nout;
}

/* Lays out a workspace for batch rows in mem (NULL: only counts) and
 * returns its floats: what a forward pass keeps; with train, what
 * backward needs too; without, room to split rows of inputs in two. */
static size_t ws_place(const cm_seqnet *n, size_t batch, int train, cm_seqnet_ws *ws,
                       float *mem)
{
    size_t W = n->window, w = n->width, z = w + n->current, cell = batch * W;
    size_t widest = n->channels > w ? n->channels : w, work = 0, at = 0;
#define TAKE(field, count)                                                     \
    do {                                                                       \
        size_t k_ = (count);                                                   \
        if (mem)                                                               \
            ws->field = mem + at;                                              \
        at += k_ ? k_ : 1;                                                     \
    } while (0)
    /* the same for indices and flags, in floats' room (4 bytes each) */
#define TAKE_AS(field, type, count)                                            \
    do {                                                                       \
        size_t k_ = ((count) * sizeof(type) + sizeof(float) - 1) / sizeof(float); \
        if (mem)                                                               \
            ws->field = (type *)(void *)(mem + at);                            \
        at += k_ ? k_ : 1;                                                     \
    } while (0)
    for (size_t l = 0; l < n->layers; l++) {
        size_t keep = n->kind == CM_SEQ_CNN
                          ? cm_conv_col(batch, W, layer_in(n, l), n->kernel)
                          : cm_rnn_cache(rnn_kind(n->kind), W, batch, w);
        TAKE(out[l], cell * w);
        TAKE(cache[l], keep);
        if (n->kind == CM_SEQ_CNN) {
            TAKE(act[l], cell * w);
            TAKE_AS(steps[l], uint32_t, W);
        }
        size_t need = n->kind == CM_SEQ_CNN ? keep : cm_rnn_work(rnn_kind(n->kind), W, batch, w);
        work = need > work ? need : work;
    }
    if (n->kind != CM_SEQ_CNN)
        TAKE(xt, cell * n->channels);
    else
        TAKE_AS(seen, uint8_t, W);
    TAKE(z, batch * z);
    TAKE(z1, batch * n->head);
    TAKE(a1, batch * n->head);
    TAKE(y, batch * n->nout);
    if (train) {
        TAKE(dz, batch * z);
        TAKE(d1, batch * n->head);
        TAKE(dseq, cell * n->channels);
        TAKE(dtop, cell * widest);
        TAKE(dbelow, cell * widest);
        TAKE(work, work);
        if (n->kind == CM_SEQ_CNN)
            TAKE(dconv, cell * w);
    } else {
        TAKE(seq, cell * n->channels);
        TAKE(cur, batch * n->current);
    }
#undef TAKE
#undef TAKE_AS
    if (mem)
        ws->batch = batch;
    return at;
}

void cm_seqnet_ws_free(cm_seqnet_ws *ws)
{
    if (ws)
        free(ws->block);
    free(ws);
}

cm_seqnet_ws *cm_seqnet_ws_new(const cm_seqnet *n, size_t batch)
{
    cm_seqnet_ws *ws = calloc(1, sizeof *ws);
    if (!ws || !(ws->block = malloc(ws_place(n, batch, 1, ws, NULL) * sizeof(float)))) {
        free(ws);
        return NULL;
    }
    ws_place(n, batch, 1, ws, ws->block);
    return ws;
}

/* The steps each convolution computes: the last step at the top, and at
 * each layer below, the steps those above it see. */
static void plan_steps(const cm_seqnet *n, cm_seqnet_ws *ws)
{
    size_t L = n->layers, W = n->window;
    ws->steps[L - 1][0] = (uint32_t)(W - 1);
    ws->ns[L - 1] = 1;
    for (size_t l = L - 1; l > 0; l--)
        ws->ns[l - 1] = cm_conv_steps(W, n->kernel, n->dilation[l], ws->steps[l], ws->ns[l],
                                      ws->seen, ws->steps[l - 1]);
}

const float *cm_seqnet_forward(const cm_seqnet *n, cm_seqnet_ws *ws, size_t batch,
                               const float *seq, const float *cur, const float *mask,
                               int threads)
{
    size_t W = n->window, C = n->channels, w = n->width, z = w + n->current;
    const float *in = seq;
    if (n->kind == CM_SEQ_CNN) {
        plan_steps(n, ws);
        for (size_t l = 0; l < n->layers; l++) {
            const float *Wl = layer_at(n, n->p, l);
            size_t ns = ws->ns[l];
            cm_conv_forward(batch, W, layer_in(n, l), w, n->kernel, n->dilation[l],
                            ws->steps[l], ns, in, Wl, Wl + w * layer_in(n, l) * n->kernel,
                            ws->out[l], ws->cache[l], threads);
            /* ReLU, each computed step into its place among the steps */
            for (size_t b = 0; b < batch; b++)
                for (size_t i = 0; i < ns; i++)
                    cm_act_forward(CM_ACT_RELU, w, ws->out[l] + (b * ns + i) * w,
                                   ws->act[l] + (b * W + ws->steps[l][i]) * w);
            in = ws->act[l];
        }
        for (size_t b = 0; b < batch; b++) /* the last step of each row */
            memcpy(ws->z + b * z, in + (b * W + W - 1) * w, w * sizeof(float));
    } else {
        for (size_t t = 0; t < W; t++) /* rows of steps to steps of rows */
            for (size_t b = 0; b < batch; b++)
                memcpy(ws->xt + (t * batch + b) * C, seq + (b * W + t) * C, C * sizeof(float));
        in = ws->xt;
        for (size_t l = 0; l < n->layers; l++) {
            cm_rnn_weights rw = rnn_at(n, n->p, l);
            cm_rnn_forward(rnn_kind(n->kind), W, batch, layer_in(n, l), w, in, &rw, ws->out[l],
                           ws->cache[l], threads);
            in = ws->out[l];
        }
        const float *last = in + (W - 1) * batch * w;
        for (size_t b = 0; b < batch; b++)
            memcpy(ws->z + b * z, last + b * w, w * sizeof(float));
    }
    for (size_t b = 0; b < batch; b++)
        memcpy(ws->z + b * z + w, cur + b * n->current, n->current * sizeof(float));
    float *W1, *b1, *W2, *b2;
    head_at(n, n->p, &W1, &b1, &W2, &b2);
    cm_dense_forward(batch, z, n->head, ws->z, W1, b1, ws->z1, threads);
    cm_act_forward(CM_ACT_RELU, batch * n->head, ws->z1, ws->a1);
    if (mask)
        for (size_t i = 0; i < batch * n->head; i++)
            ws->a1[i] *= mask[i];
    cm_dense_forward(batch, n->head, n->nout, ws->a1, W2, b2, ws->y, threads);
    return ws->y;
}

void cm_seqnet_backward(const cm_seqnet *n, cm_seqnet_ws *ws, size_t batch,
                        const float *mask, const float *dy, float *grad, float *dcur,
                        int threads)
{
    size_t W = n->window, w = n->width, z = w + n->current, cell = batch * W;
    float *W1, *b1, *W2, *b2, *gW1, *gb1, *gW2, *gb2;
    head_at(n, n->p, &W1, &b1, &W2, &b2);
    head_at(n, grad, &gW1, &gb1, &gW2, &gb2);
    cm_dense_backward(batch, n->head, n->nout, ws->a1, W2, dy, gW2, gb2, ws->d1, threads);
    if (mask)
        for (size_t i = 0; i < batch * n->head; i++)
            ws->d1[i] *= mask[i];
    cm_act_backward(CM_ACT_RELU, batch * n->head, ws->z1, ws->a1, ws->d1, ws->d1);
    cm_dense_backward(batch, z, n->head, ws->z, W1, ws->d1, gW1, gb1, ws->dz, threads);
    if (dcur)
        for (size_t b = 0; b < batch; b++)
            memcpy(dcur + b * n->current, ws->dz + b * z + w, n->current * sizeof(float));
    /* Only the last step's state reaches the head: the gradient at the
     * top layer's outputs is zero at every other step. */
    memset(ws->dtop, 0, cell * w * sizeof(float));
    if (n->kind == CM_SEQ_CNN) {
        for (size_t b = 0; b < batch; b++)
            memcpy(ws->dtop + (b * W + W - 1) * w, ws->dz + b * z, w * sizeof(float));
        for (size_t l = n->layers; l-- > 0;) {
            size_t in = layer_in(n, l), ns = ws->ns[l];
            float *p = layer_at(n, n->p, l), *g = layer_at(n, grad, l);
            /* the gradient at the computed steps, through their ReLU */
            for (size_t b = 0; b < batch; b++)
                for (size_t i = 0; i < ns; i++) {
                    size_t at = (b * W + ws->steps[l][i]) * w, c = (b * ns + i) * w;
                    cm_act_backward(CM_ACT_RELU, w, ws->out[l] + c, ws->act[l] + at,
                                    ws->dtop + at, ws->dconv + c);
                }
            cm_conv_backward(batch, W, in, w, n->kernel, n->dilation[l], ws->steps[l], ns,
                             ws->cache[l], p, ws->dconv, g, g + w * in * n->kernel,
                             l ? ws->dbelow : ws->dseq, ws->work, threads);
            if (l) {
                float *t = ws->dtop;
                ws->dtop = ws->dbelow, ws->dbelow = t;
            }
        }
    } else {
        float *last = ws->dtop + (W - 1) * batch * w;
        for (size_t b = 0; b < batch; b++)
            memcpy(last + b * w, ws->dz + b * z, w * sizeof(float));
        for (size_t l = n->layers; l-- > 0;) {
            cm_rnn_weights rw = rnn_at(n, n->p, l), gw = rnn_at(n, grad, l);
            const float *in = l ? ws->out[l - 1] : ws->xt;
            cm_rnn_backward(rnn_kind(n->kind), W, batch, layer_in(n, l), w, in, &rw,
                            ws->out[l], ws->cache[l], ws->dtop, &gw,
                            l ? ws->dbelow : ws->dseq, ws->work, threads);
            if (l) {
                float *t = ws->dtop;
                ws->dtop = ws->dbelow, ws->dbelow = t;
            }
        }
        /* the window's gradient back to rows of steps, as seq came */
        size_t C = n->channels;
        memcpy(ws->dbelow, ws->dseq, cell * C * sizeof(float));
        for (size_t t = 0; t < W; t++)
            for (size_t b = 0; b < batch; b++)
                memcpy(ws->dseq + (b * W + t) * C, ws->dbelow + (t * batch + b) * C,
                       C * sizeof(float));
    }
}

const float *cm_seqnet_dseq(const cm_seqnet_ws *ws)
{
    return ws->dseq;
}

size_t cm_seqnet_run_scratch(const cm_seqnet *n, size_t batch)
{
    return ws_place(n, batch, 0, NULL, NULL);
}

const float *cm_seqnet_run(const cm_seqnet *n, size_t batch, const float *x, float *scratch,
                           int threads)
{
    cm_seqnet_ws ws = {0};
    ws_place(n, batch, 0, &ws, scratch);
    size_t wc = n->window * n->channels, row = wc + n->current;
    for (size_t b = 0; b < batch; b++) {
        memcpy(ws.seq + b * wc, x + b * row, wc * sizeof(float));
        memcpy(ws.cur + b * n->current, x + b * row + wc, n->current * sizeof(float));
    }
    return cm_seqnet_forward(n, &ws, batch, ws.seq, ws.cur, NULL, threads);
}
