/*
 * cm_nn.h - the numerics of cm-train: matrix products, dense layers,
 * activations, losses, optimizers and learning-rate schedules, and the
 * ridge solver, and the networks they make up (an MLP, a linear map).
 * Internal to libcm.  Float32 row-major arrays throughout (ridge works in
 * double); nothing here prints or fails, and only the networks allocate
 * (and the stacks of the threads of a large product).
 */
#ifndef CM_NN_H
#define CM_NN_H

#include <stddef.h>
#include <stdint.h>

typedef enum { CM_ACT_NONE, CM_ACT_RELU, CM_ACT_TANH, CM_ACT_SIGMOID, CM_ACT_GELU } cm_act;
typedef enum { CM_LOSS_MSE, CM_LOSS_MAE, CM_LOSS_HUBER } cm_loss_kind;
typedef enum { CM_OPT_SGD, CM_OPT_MOMENTUM, CM_OPT_ADAM } cm_opt_kind;
typedef enum { CM_SCHED_CONSTANT, CM_SCHED_STEP, CM_SCHED_COSINE } cm_sched_kind;

/* ---- matrix products (gemm.c) ---------------------------------------------
 * Row-major; each matrix's rows are contiguous with no padding.  With
 * accumulate the product is added to C, otherwise it replaces C.  C must
 * not overlap A or B.  Results are bit-identical run to run, and the
 * AVX-512 and AVX2 kernels (chosen at run time) sum in the same order and
 * fuse the same multiply-adds, so they agree to the bit; the portable
 * kernel, without FMA, rounds each product and may differ.
 *
 * threads is how many threads a product may use (1 or less: the caller's
 * alone).  Only a product big enough to pay for them is split (about 12M
 * multiply-adds for two threads; starting one costs tens of microseconds),
 * and the split keeps each element's sums as on one thread, so the bits
 * are the same for any threads: training is reproducible across cores.
 * When a thread cannot be started, the caller does its part.  Each thread
 * takes about 40 KiB of stack. */

/* C[m x n] = A[m x k] . B[n x k]^T */
void cm_gemm_nt(size_t m, size_t n, size_t k, const float *A, const float *B,
                float *C, int accumulate, int threads);
/* C[m x n] = A[k x m]^T . B[k x n] */
void cm_gemm_tn(size_t m, size_t n, size_t k, const float *A, const float *B,
                float *C, int accumulate, int threads);
/* C[m x n] = A[m x k] . B[k x n] */
void cm_gemm_nn(size_t m, size_t n, size_t k, const float *A, const float *B,
                float *C, int accumulate, int threads);

/* Work on a block of C, rows [i0, i1) and columns [j0, j1), done by the
 * thread that has just written it: an activation of a layer's outputs,
 * or an optimizer step of the weights of a gradient, beside the product
 * on every thread instead of after it on one, on data still in cache.
 * The blocks are the parts of the split, so what fn does to each element
 * is the same for any threads. */
typedef struct cm_gemm_tail {
    void (*fn)(void *ctx, size_t i0, size_t i1, size_t j0, size_t j1);
    void *ctx;
} cm_gemm_tail;
/* The products above, then tail (NULL: none) on each part. */
void cm_gemm_nt_tail(size_t m, size_t n, size_t k, const float *A, const float *B,
                     float *C, int accumulate, int threads, const cm_gemm_tail *tail);
void cm_gemm_tn_tail(size_t m, size_t n, size_t k, const float *A, const float *B,
                     float *C, int accumulate, int threads, const cm_gemm_tail *tail);
void cm_gemm_nn_tail(size_t m, size_t n, size_t k, const float *A, const float *B,
                     float *C, int accumulate, int threads, const cm_gemm_tail *tail);

/* ---- a dense layer (dense.c): Y = X . W^T + b -----------------------------
 * X is batch x in, W is out x in, b is out (not NULL), Y is batch x out.
 * threads goes to the matrix products, so the bits do not depend on it. */
void cm_dense_forward(size_t batch, size_t in, size_t out, const float *X,
                      const float *W, const float *b, float *Y, int threads);
/* From dY (batch x out): dW = dY^T . X and db = column sums of dY
 * (replaced, not added), and dX = dY . W unless dX is NULL. */
void cm_dense_backward(size_t batch, size_t in, size_t out, const float *X,
                       const float *W, const float *dY, float *dW, float *db,
                       float *dX, int threads);
/* The same with a tail on Y's blocks (forward), and on dX's and dW's
 * (backward).  dX is made first, so that dW's tail may step W. */
void cm_dense_forward_tail(size_t batch, size_t in, size_t out, const float *X,
                           const float *W, const float *b, float *Y, int threads,
                           const cm_gemm_tail *y_tail);
void cm_dense_backward_tail(size_t batch, size_t in, size_t out, const float *X,
                            const float *W, const float *dY, float *dW, float *db,
                            float *dX, int threads, const cm_gemm_tail *dx_tail,
                            const cm_gemm_tail *dw_tail);

/* ---- activations (act.c), elementwise --------------------------------------
 * GELU is the exact one, x * Phi(x), as PyTorch's default.  y may be x. */
void cm_act_forward(cm_act a, size_t n, const float *x, float *y);
/* dx = dy * a'(x); x is the input, y the output of cm_act_forward. dx may
 * be dy. */
void cm_act_backward(cm_act a, size_t n, const float *x, const float *y,
                     const float *dy, float *dx);

/* ---- losses (loss.c) ----------------------------------------------------------
 * The mean over n of the loss of pred against target; when grad is not
 * NULL it gets d(mean loss)/d(pred[i]).  Huber is quadratic within delta
 * of the target, linear beyond (PyTorch's HuberLoss); MAE's gradient at 0
 * is 0; n = 0 gives 0. */
double cm_loss(cm_loss_kind l, size_t n, const float *pred, const float *target,
               float delta, float *grad);

/* ---- optimizers and schedules (optim.c) ------------------------------------- */

typedef struct cm_optim {
    cm_opt_kind kind;
    float momentum;     /* for CM_OPT_MOMENTUM: v = momentum * v + g */
    float beta1, beta2, eps; /* for CM_OPT_ADAM, bias-corrected */
    float weight_decay; /* L2: weight_decay * p is added to the gradient */
} cm_optim;

/* One update of p[n] from its gradient g[n] at learning rate lr; m and v
 * (n each, zero before the first step) hold the optimizer's state; step
 * counts updates from 1.  SGD: p -= lr g.  Momentum: v = mu v + g,
 * p -= lr v.  Adam: as Kingma and Ba, with PyTorch's placement of eps. */
void cm_optim_step(const cm_optim *o, float lr, uint64_t step, size_t n,
                   float *p, const float *g, float *m, float *v);
/* The same step in two halves: what it makes of lr and step once (Adam's
 * bias corrections), then the update of any number of slices of the
 * parameters, each as cm_optim_step would update it. */
typedef struct cm_optim_at {
    cm_optim o;
    float lr, size, root2;
} cm_optim_at;
cm_optim_at cm_optim_prepare(const cm_optim *o, float lr, uint64_t step);
void cm_optim_apply(const cm_optim_at *a, size_t n, float *p, const float *g, float *m,
                    float *v);

/* The learning rate for epoch (from 0) of epochs: constant; step (times
 * gamma every step_size epochs); cosine (from lr down to 0 over the run,
 * lr at epoch 0). */
float cm_schedule(cm_sched_kind s, float lr, int epoch, int epochs,
                  int step_size, float gamma);

/* ---- ridge regression (ridge.c) -----------------------------------------------
 * Solves (A + l2 I) w = b for the d x d symmetric matrix A (a Gram matrix
 * X^T X, row-major, only read) by Cholesky; work holds d*d doubles.
 * Returns 0, or -1 when the matrix is not positive definite (l2 = 0 with
 * collinear columns). */
int cm_ridge_solve(size_t d, const double *A, const double *b, double l2,
                   double *w, double *work);

/* ---- recurrent layers (rnn.c) ------------------------------------------------
 * A GRU or an LSTM layer over T steps of a batch, as PyTorch's nn.GRU and
 * nn.LSTM: Wih is G x in, Whh G x H, bih and bhh G, with G = 3H (gates
 * r, z, n) or 4H (i, f, g, o); h0 = c0 = 0.  x is time-major, T x batch x
 * in (step t's rows contiguous), and hs gets every step's h, T x batch x
 * H: the input of a layer stacked above, and h_T its last rows. */
typedef enum { CM_RNN_GRU, CM_RNN_LSTM } cm_rnn_kind;
typedef struct cm_rnn_weights {
    float *Wih, *Whh, *bih, *bhh;
} cm_rnn_weights;
/* Floats forward keeps for backward, and backward's scratch. */
size_t cm_rnn_cache(cm_rnn_kind k, size_t T, size_t batch, size_t H);
size_t cm_rnn_work(cm_rnn_kind k, size_t T, size_t batch, size_t H);
void cm_rnn_forward(cm_rnn_kind k, size_t T, size_t batch, size_t in, size_t H,
                    const float *x, const cm_rnn_weights *w, float *hs, float *cache,
                    int threads);
/* From dhs (T x batch x H: the gradient arriving at each step's h, from a
 * layer above or, at the last step, the head), through time: dw's four
 * arrays replaced, and dx (T x batch x in) unless NULL. */
void cm_rnn_backward(cm_rnn_kind k, size_t T, size_t batch, size_t in, size_t H,
                     const float *x, const cm_rnn_weights *w, const float *hs,
                     const float *cache, const float *dhs, cm_rnn_weights *dw, float *dx,
                     float *work, int threads);

/* ---- causal dilated convolutions (conv.c) --------------------------------------
 * PyTorch's Conv1d(cin, cout, kernel, dilation) over T steps, the input
 * left-padded with (kernel-1)*dilation zeros: step t sees t, t-d, ...,
 * t-(kernel-1)d, never a later step, and the length stays T.  x is batch x
 * T x cin (a row's steps in order, a step's channels together), W is cout
 * x cin x kernel (PyTorch's order), b is cout.  Only the ns steps listed
 * in steps (ascending) are computed (steps NULL: all T of them): y is
 * batch x ns x cout, those steps' outputs in order.  col (cm_conv_col
 * floats) keeps the gathered inputs for backward. */
size_t cm_conv_col(size_t batch, size_t T, size_t cin, size_t kernel);
void cm_conv_forward(size_t batch, size_t T, size_t cin, size_t cout, size_t kernel,
                     size_t dilation, const uint32_t *steps, size_t ns, const float *x,
                     const float *W, const float *b, float *y, float *col, int threads);
/* From dy (batch x ns x cout, the listed steps'), dW and db replaced; dx
 * (batch x T x cin, zero at the steps no listed step sees) unless NULL,
 * through dcol (cm_conv_col floats of scratch). */
void cm_conv_backward(size_t batch, size_t T, size_t cin, size_t cout, size_t kernel,
                      size_t dilation, const uint32_t *steps, size_t ns, const float *col,
                      const float *W, const float *dy, float *dW, float *db, float *dx,
                      float *dcol, int threads);
/* The steps of a layer's input that the nabove steps listed of its output
 * see, into steps (ascending; seen is T bytes of scratch): their number. */
size_t cm_conv_steps(size_t T, size_t kernel, size_t dilation, const uint32_t *above,
                     size_t nabove, uint8_t *seen, uint32_t *steps);

/* ---- sequence networks (seqnet.c) ---------------------------------------------
 * A window of W steps of C values through a GRU or LSTM stack, or a
 * causal convolution stack with ReLU after each (dilation[l] for layer
 * l), width wide; its last step's state beside the row's current inputs
 * into a dense head (ReLU, optional dropout mask) and nout outputs: the
 * network of ../shared/bench/peer-seq.py.  p holds cm_seqnet_params
 * floats in PyTorch's order: each layer's (GRU/LSTM: W_ih, W_hh, b_ih,
 * b_hh; conv: W, b), then the head's W1, b1, W2, b2. */
typedef enum { CM_SEQ_GRU, CM_SEQ_LSTM, CM_SEQ_CNN } cm_seq_kind;
enum { CM_SEQ_MAX_LAYERS = 16 };
typedef struct cm_seqnet {
    cm_seq_kind kind;
    size_t window, channels, current;
    size_t width, layers; /* hidden units (gru, lstm) or filters (cnn) */
    size_t kernel, dilation[CM_SEQ_MAX_LAYERS]; /* cnn */
    size_t head, nout;
    float *p;
} cm_seqnet;
size_t cm_seqnet_params(const cm_seqnet *n);
/* What a pass over up to batch rows keeps; NULL when out of memory. */
typedef struct cm_seqnet_ws cm_seqnet_ws;
cm_seqnet_ws *cm_seqnet_ws_new(const cm_seqnet *n, size_t batch);
void cm_seqnet_ws_free(cm_seqnet_ws *ws);
/* The outputs (batch x nout) of batch rows: seq batch x W x C (each
 * row's steps oldest first), cur batch x current; mask, when not NULL,
 * multiplies the head's ReLU outputs (dropout's kept-and-scaled). */
const float *cm_seqnet_forward(const cm_seqnet *n, cm_seqnet_ws *ws, size_t batch,
                               const float *seq, const float *cur, const float *mask,
                               int threads);
/* After forward on the same rows: from dy (batch x nout), grad (laid out
 * as p) replaced, dcur (batch x current) unless NULL, and the window's
 * gradient (batch x W x C) in cm_seqnet_dseq. */
void cm_seqnet_backward(const cm_seqnet *n, cm_seqnet_ws *ws, size_t batch,
                        const float *mask, const float *dy, float *grad, float *dcur,
                        int threads);
const float *cm_seqnet_dseq(const cm_seqnet_ws *ws);
/* Inference alone, in the caller's scratch (cm_seqnet_run_scratch
 * floats): the outputs of batch rows of x, each row the window (W x C,
 * oldest step first) then the current inputs, as a model encodes them. */
size_t cm_seqnet_run_scratch(const cm_seqnet *n, size_t batch);
const float *cm_seqnet_run(const cm_seqnet *n, size_t batch, const float *x, float *scratch,
                           int threads);

/* ---- networks for inference (net.c) --------------------------------------------- */

/* Dense layers, the activation after every one but the last. */
typedef struct cm_mlp {
    size_t nlayers;  /* layer l maps size[l] inputs to size[l + 1] outputs */
    size_t *size;    /* nlayers + 1 widths */
    float **W, **b;  /* W[l]: size[l + 1] x size[l]; b[l]: size[l + 1] */
    cm_act act;
} cm_mlp;

/* Room for the widths given (nlayers + 1 of them), the weights not set;
 * NULL when out of memory. */
cm_mlp *cm_mlp_new(const size_t *size, size_t nlayers, cm_act act);
void cm_mlp_free(cm_mlp *n);
/* Floats of scratch for a forward pass over batch rows: the widest layer
 * twice per row. */
size_t cm_mlp_scratch(const cm_mlp *n, size_t batch);
/* The last layer's outputs for batch rows of x, in scratch (batch x the
 * last width), on one thread. */
const float *cm_mlp_forward(const cm_mlp *n, size_t batch, const float *x, float *scratch);

/* y = coef . x + intercept, in double. */
/* A linear map of width inputs to nout outputs: output o of a row is
 * intercept[o] + coef[o * width ..] . x, summed in input order. */
typedef struct cm_linear {
    size_t width, nout;
    double *coef, *intercept;
} cm_linear;
cm_linear *cm_linear_new(size_t width, size_t nout);
void cm_linear_free(cm_linear *l);
/* y[r * nout + o] for the batch rows of x. */
void cm_linear_forward(const cm_linear *l, size_t batch, const float *x, double *y);

#endif
