/* seqkind.c - the gru, lstm and cnn kinds: a sequence network
 * (nn/seqnet.c) over rows whose first window x channels inputs are the
 * window, oldest step first, and the rest the row's current inputs.  The
 * file keeps the network's shape, then its parameters as one tensor in
 * PyTorch's order. */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

static const char *const seq_names[] = {"gru", "lstm", "cnn"};

static void seq_forward(const void *net, size_t batch, const float *x, double *y,
                        float *scratch)
{
    const cm_seqnet *n = net;
    const float *out = cm_seqnet_run(n, batch, x, scratch, 1);
    for (size_t i = 0; i < batch * n->nout; i++)
        y[i] = (double)out[i];
}

static size_t seq_scratch(const void *net, size_t batch)
{
    return cm_seqnet_run_scratch(net, batch);
}

/* The shape: window, channels, current, width, layers, kernel, head,
 * nout, then a dilation per layer (cnn) */
enum { SH_WINDOW, SH_CHANNELS, SH_CURRENT, SH_WIDTH, SH_LAYERS, SH_KERNEL, SH_HEAD, SH_NOUT,
       SH_N };

static cm_status seq_save(const void *net, cm_tensor_out *o, cm_error *err)
{
    const cm_seqnet *n = net;
    int32_t shape[SH_N + CM_SEQ_MAX_LAYERS];
    size_t v[SH_N] = {n->window, n->channels, n->current, n->width, n->layers, n->kernel,
                      n->head, n->nout};
    for (size_t i = 0; i < SH_N; i++)
        shape[i] = (int32_t)v[i];
    size_t k = SH_N;
    for (size_t l = 0; n->kind == CM_SEQ_CNN && l < n->layers; l++)
        shape[k++] = (int32_t)n->dilation[l];
    cm_status st = cm_tensor_write(o, "shape", CM_TENSOR_I32, k, 0, shape, err);
    return st ? st : cm_tensor_write(o, "params", CM_TENSOR_F32, cm_seqnet_params(n), 0, n->p,
                                     err);
}

static void seq_free(void *net)
{
    cm_seqnet *n = net;
    if (n)
        free(n->p);
    free(n);
}

/* Sizes a file may hold: each within what cm-train makes, so that no
 * product of them overflows. */
static int shape_bad(const cm_seqnet *n, size_t width, size_t nout)
{
    return n->window < 1 || n->window > 10000 || n->channels < 1 || n->channels > 4096 ||
           n->current > 1u << 20 || n->width < 1 || n->width > 65536 || n->layers < 1 ||
           n->layers > CM_SEQ_MAX_LAYERS || n->head < 1 || n->head > 65536 ||
           n->nout != nout || n->window * n->channels + n->current != width ||
           (n->kind == CM_SEQ_CNN && (n->kernel < 1 || n->kernel > 64));
}

static void *seq_load_kind(cm_seq_kind kind, cm_tensor_in *in, size_t width, size_t nout,
                           cm_error *err)
{
    cm_seqnet *n = calloc(1, sizeof *n);
    int32_t *shape = NULL;
    size_t len = 0;
    if (!n) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    n->kind = kind;
    cm_status st = cm_tensor_read_vec(in, "shape", CM_TENSOR_I32, &len, (void **)&shape, err);
    if (!st) {
        int bad = len < SH_N;
        for (size_t i = 0; !bad && i < len; i++)
            bad = shape[i] < 0;
        if (!bad) {
            n->window = (size_t)shape[SH_WINDOW], n->channels = (size_t)shape[SH_CHANNELS];
            n->current = (size_t)shape[SH_CURRENT], n->width = (size_t)shape[SH_WIDTH];
            n->layers = (size_t)shape[SH_LAYERS], n->kernel = (size_t)shape[SH_KERNEL];
            n->head = (size_t)shape[SH_HEAD], n->nout = (size_t)shape[SH_NOUT];
            bad = shape_bad(n, width, nout) ||
                  len != SH_N + (kind == CM_SEQ_CNN ? n->layers : 0);
            for (size_t l = 0; !bad && kind == CM_SEQ_CNN && l < n->layers; l++)
                bad = (n->dilation[l] = (size_t)shape[SH_N + l]) < 1 ||
                      n->dilation[l] > 1u << 16;
        }
        if (bad)
            st = cm_fail(err, CM_ERR_CORRUPT, "corrupt model file: the %s network's shape",
                         seq_names[kind]);
    }
    if (!st)
        st = cm_tensor_read(in, "params", CM_TENSOR_F32, cm_seqnet_params(n), 0,
                            (void **)&n->p, err);
    free(shape);
    if (st) {
        seq_free(n);
        return NULL;
    }
    return n;
}

static void *gru_load(cm_tensor_in *in, const cm_kv *meta, size_t width, size_t nout,
                      cm_error *err)
{
    (void)meta;
    return seq_load_kind(CM_SEQ_GRU, in, width, nout, err);
}

static void *lstm_load(cm_tensor_in *in, const cm_kv *meta, size_t width, size_t nout,
                       cm_error *err)
{
    (void)meta;
    return seq_load_kind(CM_SEQ_LSTM, in, width, nout, err);
}

static void *cnn_load(cm_tensor_in *in, const cm_kv *meta, size_t width, size_t nout,
                      cm_error *err)
{
    (void)meta;
    return seq_load_kind(CM_SEQ_CNN, in, width, nout, err);
}

static void seq_describe(const void *net, const cm_model *m, FILE *out)
{
    (void)m;
    const cm_seqnet *n = net;
    fprintf(out, "sequence: %s, a window of %zu steps of %zu values; %zu %s x %zu layer%s",
            seq_names[n->kind], n->window, n->channels, n->width,
            n->kind == CM_SEQ_CNN ? "filters" : "hidden", n->layers, n->layers > 1 ? "s" : "");
    if (n->kind == CM_SEQ_CNN) {
        fprintf(out, ", kernel %zu, dilations", n->kernel);
        for (size_t l = 0; l < n->layers; l++)
            fprintf(out, "%c%zu", l ? ',' : ' ', n->dilation[l]);
    }
    fprintf(out, "\nhead: %zu + %zu current -> %zu -> %zu\nparameters: %zu\n", n->width,
            n->current, n->head, n->nout, cm_seqnet_params(n));
}

/* Multiply-adds of one row: every layer at every step, then the head. */
static size_t seq_cost(const void *net)
{
    const cm_seqnet *n = net;
    size_t c = 0;
    for (size_t l = 0; l < n->layers; l++) {
        size_t in = l ? n->width : n->channels;
        c += n->kind == CM_SEQ_CNN ? n->window * n->width * in * n->kernel
             : n->window * (n->kind == CM_SEQ_GRU ? 3 : 4) * n->width * (in + n->width);
    }
    return c + (n->width + n->current) * n->head + n->head * n->nout;
}

const cm_kind cm_kind_gru = {"gru", seq_forward, seq_scratch, seq_save, gru_load,
                             seq_describe, seq_free, 0, seq_cost, 1};
const cm_kind cm_kind_lstm = {"lstm", seq_forward, seq_scratch, seq_save, lstm_load,
                              seq_describe, seq_free, 0, seq_cost, 1};
const cm_kind cm_kind_cnn = {"cnn", seq_forward, seq_scratch, seq_save, cnn_load,
                             seq_describe, seq_free, 0, seq_cost, 1};
