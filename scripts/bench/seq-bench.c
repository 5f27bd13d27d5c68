/*
 * seq-bench - GFLOP/s of a sequence model's layers, forward and backward
 * (what a training step spends), on the shapes of the bike benchmark:
 * batch 32, a window of 24 steps of 5 values, GRU and LSTM of 64 hidden
 * units, and the CNN's four causal convolutions of 32 filters, kernel 3,
 * dilations 1, 2, 4, 8; one thread.  Built with -DWITH_DNNL and -ldnnl
 * (scripts/bench/seqkernels.sh does when oneDNN's header is there), the
 * same layers through oneDNN's primitives beside them: LSTM, LBR GRU
 * (PyTorch's GRU) and dilated convolutions, forward training then
 * backward (data and weights).  Flops count the matrix products alone:
 * 2 x rows x cols x inner for each, the backward pass twice the forward.
 *   seq-bench [FLOPS_PER_CYCLE [GHZ]]   (as gemm-bench)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchkit.h"
#include "nn/cm_nn.h"
#ifdef WITH_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

enum { N = 32, T = 24, C = 5, H = 64, F = 32, K = 3, NCONV = 4 };
static const size_t dil[NCONV] = {1, 2, 4, 8};

/* Runs fn(ctx) for about half a second after a warm-up: seconds per call. */
static double timed(void (*fn)(void *), void *ctx)
{
    fn(ctx);
    size_t n = 0;
    double t0 = bench_now(), t;
    do {
        fn(ctx);
        n++;
    } while ((t = bench_now() - t0) < 0.5);
    return t / (double)n;
}

/* Inputs and weights of a trained network's size. */
static float *small(size_t n)
{
    return bench_randoms(n, 0.2f);
}

static double peak;

static void report(const char *what, double flops, double secs)
{
    printf("%-34s %8.1f GFLOP/s (%4.1f%% of one core's peak)  %8.1f us a batch\n", what,
           flops / secs * 1e-9, 100 * flops / secs * 1e-9 / peak, secs * 1e6);
}

/* ---- cm --------------------------------------------------------------------- */

typedef struct rnn_job {
    cm_rnn_kind k;
    float *x, *hs, *cache, *dhs, *dx, *work;
    cm_rnn_weights w, dw;
} rnn_job;

static void rnn_step(void *ctx)
{
    rnn_job *j = ctx;
    cm_rnn_forward(j->k, T, N, C, H, j->x, &j->w, j->hs, j->cache, 1);
    cm_rnn_backward(j->k, T, N, C, H, j->x, &j->w, j->hs, j->cache, j->dhs, &j->dw, j->dx,
                    j->work, 1);
}

static void bench_cm_rnn(cm_rnn_kind k)
{
    size_t G = (k == CM_RNN_GRU ? 3 : 4) * H;
    rnn_job j = {k, small(T * N * C), small(T * N * H),
                 small(cm_rnn_cache(k, T, N, H)), small(T * N * H), small(T * N * C),
                 small(cm_rnn_work(k, T, N, H)),
                 {small(G * C), small(G * H), small(G), small(G)},
                 {small(G * C), small(G * H), small(G), small(G)}};
    double flops = 3.0 * 2 * T * N * G * (C + H);
    report(k == CM_RNN_GRU ? "cm gru, forward + backward" : "cm lstm, forward + backward",
           flops, timed(rnn_step, &j));
    free(j.x), free(j.hs), free(j.cache), free(j.dhs), free(j.dx), free(j.work);
    free(j.w.Wih), free(j.w.Whh), free(j.w.bih), free(j.w.bhh);
    free(j.dw.Wih), free(j.dw.Whh), free(j.dw.bih), free(j.dw.bhh);
}

typedef struct conv_job {
    float *x[NCONV + 1], *W[NCONV], *b[NCONV], *col[NCONV], *dW[NCONV], *db[NCONV];
    float *dy, *dx, *dcol;
} conv_job;

static size_t cin(size_t l)
{
    return l ? F : C;
}

static void conv_step(void *ctx)
{
    conv_job *j = ctx;
    for (size_t l = 0; l < NCONV; l++)
        cm_conv_forward(N, T, cin(l), F, K, dil[l], NULL, 0, j->x[l], j->W[l], j->b[l], j->x[l + 1],
                        j->col[l], 1);
    for (size_t l = NCONV; l-- > 0;)
        cm_conv_backward(N, T, cin(l), F, K, dil[l], NULL, 0, j->col[l], j->W[l], j->dy, j->dW[l],
                         j->db[l], l ? j->dx : NULL, j->dcol, 1);
}

static double conv_flops(void)
{
    double f = 0;
    for (size_t l = 0; l < NCONV; l++)
        f += 3.0 * 2 * N * T * F * cin(l) * K;
    return f;
}

static void bench_cm_conv(void)
{
    conv_job j;
    memset(&j, 0, sizeof j);
    j.x[0] = small(N * T * C);
    for (size_t l = 0; l < NCONV; l++) {
        j.x[l + 1] = small(N * T * F);
        j.W[l] = small(F * cin(l) * K), j.b[l] = small(F);
        j.dW[l] = small(F * cin(l) * K), j.db[l] = small(F);
        j.col[l] = small(cm_conv_col(N, T, cin(l), K));
    }
    j.dy = small(N * T * F), j.dx = small(N * T * F);
    j.dcol = small(cm_conv_col(N, T, F, K));
    report("cm cnn (4 convolutions), fwd + bwd", conv_flops(), timed(conv_step, &j));
    for (size_t l = 0; l <= NCONV; l++)
        free(j.x[l]);
    for (size_t l = 0; l < NCONV; l++)
        free(j.W[l]), free(j.b[l]), free(j.dW[l]), free(j.db[l]), free(j.col[l]);
    free(j.dy), free(j.dx), free(j.dcol);
}

/* ---- oneDNN ----------------------------------------------------------------- */

#ifdef WITH_DNNL
#define OK(call)                                                               \
    do {                                                                       \
        dnnl_status_t s_ = (call);                                             \
        if (s_ != dnnl_success) {                                              \
            fprintf(stderr, "seq-bench: %s: status %d\n", #call, (int)s_);       \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

static dnnl_engine_t eng;
static dnnl_stream_t strm;

static dnnl_memory_desc_t md(int nd, const dnnl_dims_t dims, dnnl_format_tag_t tag)
{
    dnnl_memory_desc_t d;
    OK(dnnl_memory_desc_init_by_tag(&d, nd, dims, dnnl_f32, tag));
    return d;
}

/* A memory of what pd wants for what, filled with small numbers. */
static dnnl_memory_t mem(const_dnnl_primitive_desc_t pd, dnnl_query_t what, int index)
{
    const dnnl_memory_desc_t *d = dnnl_primitive_desc_query_md(pd, what, index);
    dnnl_memory_t m;
    OK(dnnl_memory_create(&m, d, eng, DNNL_MEMORY_ALLOCATE));
    void *p;
    OK(dnnl_memory_get_data_handle(m, &p));
    size_t n = dnnl_memory_desc_get_size(d) / sizeof(float);
    float *r = small(n);
    memcpy(p, r, n * sizeof(float));
    free(r);
    return m;
}

typedef struct prim {
    dnnl_primitive_t p;
    int nargs;
    dnnl_exec_arg_t args[24];
} prim;

static void arg(prim *p, int which, dnnl_memory_t m)
{
    p->args[p->nargs++] = (dnnl_exec_arg_t){which, m};
}

typedef struct dnnl_job {
    prim step[2 * NCONV + NCONV];
    int n;
} dnnl_job;

static void dnnl_step(void *ctx)
{
    dnnl_job *j = ctx;
    for (int i = 0; i < j->n; i++)
        OK(dnnl_primitive_execute(j->step[i].p, strm, j->step[i].nargs, j->step[i].args));
    OK(dnnl_stream_wait(strm));
}

static void bench_dnnl_rnn(int lstm)
{
    int G = lstm ? 4 : 3;
    dnnl_dims_t src = {T, N, C}, dst = {T, N, H}, wl = {1, 1, C, G, H}, wi = {1, 1, H, G, H},
                bias = {1, 1, G + !lstm, H};
    dnnl_memory_desc_t s = md(3, src, dnnl_tnc), d = md(3, dst, dnnl_tnc),
                       w1 = md(5, wl, dnnl_format_tag_any), w2 = md(5, wi, dnnl_format_tag_any),
                       b = md(4, bias, dnnl_ldgo);
    dnnl_rnn_desc_t fd, bd;
    if (lstm) {
        OK(dnnl_lstm_forward_desc_init(&fd, dnnl_forward_training, dnnl_unidirectional_left2right,
                                       &s, NULL, NULL, &w1, &w2, &b, &d, NULL, NULL, 0));
        OK(dnnl_lstm_backward_desc_init(&bd, dnnl_backward, dnnl_unidirectional_left2right, &s,
                                        NULL, NULL, &w1, &w2, &b, &d, NULL, NULL, &s, NULL,
                                        NULL, &w1, &w2, &b, &d, NULL, NULL, 0));
    } else {
        OK(dnnl_lbr_gru_forward_desc_init(&fd, dnnl_forward_training,
                                          dnnl_unidirectional_left2right, &s, NULL, &w1, &w2,
                                          &b, &d, NULL, 0));
        OK(dnnl_lbr_gru_backward_desc_init(&bd, dnnl_backward, dnnl_unidirectional_left2right,
                                           &s, NULL, &w1, &w2, &b, &d, NULL, &s, NULL, &w1, &w2,
                                           &b, &d, NULL, 0));
    }
    dnnl_primitive_desc_t fpd, bpd;
    OK(dnnl_primitive_desc_create(&fpd, &fd, NULL, eng, NULL));
    OK(dnnl_primitive_desc_create(&bpd, &bd, NULL, eng, fpd));
    dnnl_job j = {.n = 2};
    dnnl_memory_t x = mem(fpd, dnnl_query_src_md, 0), W1 = mem(fpd, dnnl_query_weights_md, 0),
                  W2 = mem(fpd, dnnl_query_weights_md, 1), B = mem(fpd, dnnl_query_weights_md, 2),
                  y = mem(fpd, dnnl_query_dst_md, 0), ws = mem(fpd, dnnl_query_workspace_md, 0);
    prim *f = &j.step[0], *bk = &j.step[1];
    OK(dnnl_primitive_create(&f->p, fpd));
    arg(f, DNNL_ARG_SRC_LAYER, x), arg(f, DNNL_ARG_WEIGHTS_LAYER, W1);
    arg(f, DNNL_ARG_WEIGHTS_ITER, W2), arg(f, DNNL_ARG_BIAS, B);
    arg(f, DNNL_ARG_DST_LAYER, y), arg(f, DNNL_ARG_WORKSPACE, ws);
    /* backward: its own layouts of the weights (reorders left out: a
     * trainer would keep them so) */
    dnnl_memory_t bW1 = mem(bpd, dnnl_query_weights_md, 0),
                  bW2 = mem(bpd, dnnl_query_weights_md, 1),
                  dx = mem(bpd, dnnl_query_diff_src_md, 0),
                  dW1 = mem(bpd, dnnl_query_diff_weights_md, 0),
                  dW2 = mem(bpd, dnnl_query_diff_weights_md, 1),
                  dB = mem(bpd, dnnl_query_diff_weights_md, 2),
                  dy = mem(bpd, dnnl_query_diff_dst_md, 0);
    OK(dnnl_primitive_create(&bk->p, bpd));
    arg(bk, DNNL_ARG_SRC_LAYER, x), arg(bk, DNNL_ARG_WEIGHTS_LAYER, bW1);
    arg(bk, DNNL_ARG_WEIGHTS_ITER, bW2), arg(bk, DNNL_ARG_BIAS, B);
    arg(bk, DNNL_ARG_DST_LAYER, y), arg(bk, DNNL_ARG_WORKSPACE, ws);
    arg(bk, DNNL_ARG_DIFF_SRC_LAYER, dx), arg(bk, DNNL_ARG_DIFF_WEIGHTS_LAYER, dW1);
    arg(bk, DNNL_ARG_DIFF_WEIGHTS_ITER, dW2), arg(bk, DNNL_ARG_DIFF_BIAS, dB);
    arg(bk, DNNL_ARG_DIFF_DST_LAYER, dy);
    double flops = 3.0 * 2 * T * N * G * H * (C + H);
    report(lstm ? "oneDNN lstm, forward + backward" : "oneDNN lbr_gru, forward + backward",
           flops, timed(dnnl_step, &j));
}

/* The layers forward, then back from the last: each one's weights, and
 * its input's gradient but the first's. */
static void bench_dnnl_conv(void)
{
    dnnl_job j = {.n = 0};
    prim back[NCONV][2];
    memset(back, 0, sizeof back);
    dnnl_memory_t act[NCONV + 1] = {0};
    for (int l = 0; l < NCONV; l++) {
        int in = (int)cin((size_t)l);
        dnnl_dims_t src = {N, in, T}, wt = {F, in, K}, bias = {F}, dst = {N, F, T};
        dnnl_dims_t stride = {1}, dl = {(dnnl_dim_t)dil[l] - 1},
                    padl = {(dnnl_dim_t)((K - 1) * dil[l])}, padr = {0};
        dnnl_memory_desc_t s = md(3, src, dnnl_format_tag_any), w = md(3, wt, dnnl_format_tag_any),
                           b = md(1, bias, dnnl_x), d = md(3, dst, dnnl_format_tag_any);
        dnnl_convolution_desc_t fd, bdd, bwd;
        OK(dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training,
                                                      dnnl_convolution_direct, &s, &w, &b, &d,
                                                      stride, dl, padl, padr));
        OK(dnnl_dilated_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &s,
                                                            &w, &d, stride, dl, padl, padr));
        OK(dnnl_dilated_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct,
                                                               &s, &w, &b, &d, stride, dl, padl,
                                                               padr));
        dnnl_primitive_desc_t fpd, dpd, wpd;
        OK(dnnl_primitive_desc_create(&fpd, &fd, NULL, eng, NULL));
        OK(dnnl_primitive_desc_create(&dpd, &bdd, NULL, eng, fpd));
        OK(dnnl_primitive_desc_create(&wpd, &bwd, NULL, eng, fpd));
        if (!act[l])
            act[l] = mem(fpd, dnnl_query_src_md, 0);
        act[l + 1] = mem(fpd, dnnl_query_dst_md, 0);
        prim *f = &j.step[j.n++], *bw = &back[l][0], *bd = &back[l][1];
        OK(dnnl_primitive_create(&f->p, fpd));
        dnnl_memory_t W = mem(fpd, dnnl_query_weights_md, 0),
                      B = mem(fpd, dnnl_query_weights_md, 1);
        arg(f, DNNL_ARG_SRC, act[l]), arg(f, DNNL_ARG_WEIGHTS, W), arg(f, DNNL_ARG_BIAS, B);
        arg(f, DNNL_ARG_DST, act[l + 1]);
        dnnl_memory_t dy = mem(wpd, dnnl_query_diff_dst_md, 0),
                      dW = mem(wpd, dnnl_query_diff_weights_md, 0),
                      dB = mem(wpd, dnnl_query_diff_weights_md, 1);
        OK(dnnl_primitive_create(&bw->p, wpd));
        arg(bw, DNNL_ARG_SRC, act[l]), arg(bw, DNNL_ARG_DIFF_DST, dy);
        arg(bw, DNNL_ARG_DIFF_WEIGHTS, dW), arg(bw, DNNL_ARG_DIFF_BIAS, dB);
        dnnl_memory_t dx = mem(dpd, dnnl_query_diff_src_md, 0);
        OK(dnnl_primitive_create(&bd->p, dpd));
        arg(bd, DNNL_ARG_DIFF_DST, dy), arg(bd, DNNL_ARG_WEIGHTS, W);
        arg(bd, DNNL_ARG_DIFF_SRC, dx);
    }
    for (int l = NCONV; l-- > 0;) {
        j.step[j.n++] = back[l][0];
        if (l)
            j.step[j.n++] = back[l][1];
    }
    report("oneDNN cnn (4 convolutions), fwd + bwd", conv_flops(), timed(dnnl_step, &j));
}
#endif

int main(int argc, char **argv)
{
    const char *isa;
    peak = argc > 1 ? atof(argv[1]) * (argc > 2 ? atof(argv[2]) : bench_cpu_ghz())
                    : bench_fp32_peak(&isa);
    printf("# batch %d, window %d of %d values; peak %.1f GFLOP/s on 1 core (%s); one "
           "thread\n", N, T, C, peak, argc > 1 ? "flops/cycle x GHz as given"
                                               : "fp32 FMAs, as measured");
#ifdef WITH_DNNL
    OK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    OK(dnnl_stream_create(&strm, eng, dnnl_stream_default_flags));
#endif
    bench_cm_rnn(CM_RNN_GRU);
#ifdef WITH_DNNL
    bench_dnnl_rnn(0);
#endif
    bench_cm_rnn(CM_RNN_LSTM);
#ifdef WITH_DNNL
    bench_dnnl_rnn(1);
#endif
    bench_cm_conv();
#ifdef WITH_DNNL
    bench_dnnl_conv();
#endif
    return 0;
}
