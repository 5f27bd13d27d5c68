/* test_seqnet.c - the sequence network (seqnet.c) end to end, for each
 * kind with two layers: every parameter's gradient, the current inputs'
 * (the concatenation into the head) and the window's, against central
 * differences of sum(y .* R); and the output rows independent of one
 * another and of the batch they come in. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "nn/cm_nn.h"
#include "tap.h"

static const char *const kind_name[] = {"gru", "lstm", "cnn"};

typedef struct net_case {
    cm_seqnet n;
    cm_seqnet_ws *ws;
    size_t batch;
    float *seq, *cur;
    double *R;
} net_case;

static double objective(void *ctx)
{
    net_case *c = ctx;
    const float *y = cm_seqnet_forward(&c->n, c->ws, c->batch, c->seq, c->cur, NULL, 1);
    double s = 0;
    for (size_t i = 0; i < c->batch * c->n.nout; i++)
        s += y[i] * c->R[i];
    return s;
}

/* A ReLU's kink within the nudge makes the central difference wrong
 * there: two nudges that disagree mark it, and it is left out. */
static double numeric(net_case *c, float *p, int *kink)
{
    double a = central(p, 1e-2, objective, c), b = central(p, 5e-3, objective, c);
    *kink = fabs(a - b) > 1e-3 * (fabs(a) + fabs(b)) + 1e-4;
    return a;
}

static double check(net_case *c, float *p, const float *g, size_t n, size_t *kinks)
{
    double *num = malloc((n ? n : 1) * sizeof *num);
    for (size_t i = 0; i < n; i++) {
        int kink;
        num[i] = numeric(c, &p[i], &kink);
        if (kink)
            num[i] = g[i], ++*kinks;
    }
    double e = grad_error(n, g, num);
    free(num);
    return e;
}

static void test_grad(cm_seq_kind k)
{
    net_case c = {{k, 5, 2, 3, 3, 2, 2, {1, 2}, 4, 2, NULL}, NULL, 3, NULL, NULL, NULL};
    size_t np = cm_seqnet_params(&c.n);
    c.n.p = random_floats(np, 0.8);
    c.ws = cm_seqnet_ws_new(&c.n, c.batch);
    c.seq = random_floats(c.batch * c.n.window * c.n.channels, 1);
    c.cur = random_floats(c.batch * c.n.current, 1);
    c.R = random_doubles(c.batch * c.n.nout);
    float *grad = malloc(np * sizeof *grad), *dcur = malloc(c.batch * c.n.current * sizeof *dcur);
    float *dy = malloc(c.batch * c.n.nout * sizeof *dy);
    for (size_t i = 0; i < c.batch * c.n.nout; i++)
        dy[i] = (float)c.R[i];
    objective(&c);
    cm_seqnet_backward(&c.n, c.ws, c.batch, NULL, dy, grad, dcur, 1);
    size_t nseq = c.batch * c.n.window * c.n.channels;
    float *dseq = malloc(nseq * sizeof *dseq);
    memcpy(dseq, cm_seqnet_dseq(c.ws), nseq * sizeof *dseq);
    size_t kinks = 0;
    size_t head = (c.n.width + c.n.current) * c.n.head + c.n.head + c.n.head * c.n.nout + c.n.nout;
    double el = check(&c, c.n.p, grad, np - head, &kinks);
    double eh = check(&c, c.n.p + np - head, grad + np - head, head, &kinks);
    double ec = check(&c, c.cur, dcur, c.batch * c.n.current, &kinks);
    double es = check(&c, c.seq, dseq, nseq, &kinks);
    CHECK(el < 1e-2, "%s, 2 layers, window 5: d/d the layers' %zu parameters by central "
          "differences (worst %.2g)", kind_name[k], np - head, el);
    CHECK(eh < 1e-2, "%s: d/d the head's %zu parameters (worst %.2g)", kind_name[k], head, eh);
    CHECK(ec < 1e-2, "%s: d/d the current inputs, through the concatenation into the head "
          "(worst %.2g)", kind_name[k], ec);
    CHECK(es < 1e-2, "%s: d/d every step of the window (worst %.2g; %zu nudges across a ReLU "
          "left out)", kind_name[k], es, kinks);
    /* one row alone gives what it gave in the batch */
    const float *y = cm_seqnet_forward(&c.n, c.ws, c.batch, c.seq, c.cur, NULL, 1);
    float *yb = malloc(c.batch * c.n.nout * sizeof *yb);
    memcpy(yb, y, c.batch * c.n.nout * sizeof *yb);
    cm_seqnet_ws *one = cm_seqnet_ws_new(&c.n, 1);
    int same = 1;
    for (size_t b = 0; b < c.batch; b++) {
        const float *y1 = cm_seqnet_forward(&c.n, one, 1, c.seq + b * c.n.window * c.n.channels,
                                            c.cur + b * c.n.current, NULL, 1);
        for (size_t o = 0; o < c.n.nout; o++)
            same &= fabsf(y1[o] - yb[b * c.n.nout + o]) <= 1e-6f * (1 + fabsf(y1[o]));
    }
    CHECK(same, "%s: each row's output the same alone as in a batch", kind_name[k]);
    /* inference in the caller's scratch, from rows as a model encodes
     * them (window, then current): the very bits of the training pass */
    size_t wc = c.n.window * c.n.channels, row = wc + c.n.current;
    float *x = malloc(c.batch * row * sizeof *x);
    float *scratch = malloc(cm_seqnet_run_scratch(&c.n, c.batch) * sizeof *scratch);
    for (size_t b = 0; b < c.batch; b++) {
        memcpy(x + b * row, c.seq + b * wc, wc * sizeof *x);
        memcpy(x + b * row + wc, c.cur + b * c.n.current, c.n.current * sizeof *x);
    }
    const float *yr = cm_seqnet_run(&c.n, c.batch, x, scratch, 1);
    CHECK(!memcmp(yr, yb, c.batch * c.n.nout * sizeof *yb),
          "%s: cm_seqnet_run of encoded rows gives the training pass's outputs bit for bit",
          kind_name[k]);
    free(x), free(scratch);
    cm_seqnet_ws_free(one), cm_seqnet_ws_free(c.ws);
    free(yb), free(grad), free(dcur), free(dy), free(dseq);
    free(c.n.p), free(c.seq), free(c.cur), free(c.R);
}

int main(void)
{
    for (int k = CM_SEQ_GRU; k <= CM_SEQ_CNN; k++)
        test_grad((cm_seq_kind)k);
    return tap_done();
}
