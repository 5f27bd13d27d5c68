/* rnn.c - GRU and LSTM layers over the steps of a window, and their
 * gradients by backpropagation through time.
 *
 * PyTorch's equations and weight layout (gates r,z,n for the GRU, i,f,g,o
 * for the LSTM), so that a model initialized as PyTorch does trains as
 * PyTorch's does.  The input's share of every gate at every step is one
 * matrix product over all steps at once (T*batch rows); only the hidden
 * state's share must go step by step. */
#include <string.h>

#include "nn/cm_nn.h"
#include "nn/nnexp.h"

/* The cells' loops over a layer's units vectorize at -O3 (the Makefile's
 * HOT), their clones for AVX2 and AVX-512 chosen when the program
 * starts; elementwise, they give the same bits as the baseline. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define WIDE __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define WIDE
#endif

static size_t gates(cm_rnn_kind k)
{
    return k == CM_RNN_GRU ? 3 : 4;
}

/* What forward keeps per step and row, in units of H: the GRU's r, z, n
 * and the hidden share of n before r scales it; the LSTM's i, f, g, o and
 * the cell c. */
static size_t kept(cm_rnn_kind k)
{
    return k == CM_RNN_GRU ? 4 : 5;
}

size_t cm_rnn_cache(cm_rnn_kind k, size_t T, size_t batch, size_t H)
{
    return T * batch * H * (gates(k) + kept(k)) + batch * H * gates(k) + H;
}

size_t cm_rnn_work(cm_rnn_kind k, size_t T, size_t batch, size_t H)
{
    return T * batch * H * gates(k) + batch * H * (3 + gates(k)) + H;
}

/* One row's step forward: gate pre-activations a (input share) and e
 * (hidden share), the previous h1 and c1 (zeros at the first step: a
 * branch in the loop would keep it from vectorizing), what backward
 * needs into s, the new h. */
WIDE static void gru_cell(size_t H, const float *restrict a, const float *restrict e,
                          const float *restrict h1, float *restrict s, float *restrict h)
{
    for (size_t j = 0; j < H; j++) {
        float r = cm_nn_sigmoid(a[j] + e[j]), z = cm_nn_sigmoid(a[H + j] + e[H + j]);
        float n = cm_nn_tanh(a[2 * H + j] + r * e[2 * H + j]);
        s[j] = r, s[H + j] = z, s[2 * H + j] = n, s[3 * H + j] = e[2 * H + j];
        h[j] = (1.0f - z) * n + z * h1[j];
    }
}

WIDE static void lstm_cell(size_t H, const float *restrict a, const float *restrict e,
                           const float *restrict c1, float *restrict s, float *restrict h)
{
    for (size_t j = 0; j < H; j++) {
        float i = cm_nn_sigmoid(a[j] + e[j]), f = cm_nn_sigmoid(a[H + j] + e[H + j]);
        float g = cm_nn_tanh(a[2 * H + j] + e[2 * H + j]);
        float o = cm_nn_sigmoid(a[3 * H + j] + e[3 * H + j]);
        float c = f * c1[j] + i * g;
        s[j] = i, s[H + j] = f, s[2 * H + j] = g, s[3 * H + j] = o, s[4 * H + j] = c;
        h[j] = o * cm_nn_tanh(c);
    }
}

/* One row's step back: d the gradient at its h, into the gate
 * pre-activations' gradients ai (input share) and ah (hidden share), and
 * p the share of h1's; the LSTM's dc carried to the step before. */
WIDE static void gru_cell_back(size_t H, const float *restrict s, const float *restrict d,
                               const float *restrict h1, float *restrict ai,
                               float *restrict ah, float *restrict p)
{
    for (size_t j = 0; j < H; j++) {
        float r = s[j], z = s[H + j], n = s[2 * H + j], en = s[3 * H + j];
        float hprev = h1[j];
        float dan = d[j] * (1.0f - z) * (1.0f - n * n);
        float daz = d[j] * (hprev - n) * z * (1.0f - z);
        float dar = dan * en * r * (1.0f - r);
        ai[j] = dar, ai[H + j] = daz, ai[2 * H + j] = dan;
        ah[j] = dar, ah[H + j] = daz, ah[2 * H + j] = dan * r;
        p[j] = d[j] * z;
    }
}

WIDE static void lstm_cell_back(size_t H, const float *restrict s, const float *restrict d,
                                const float *restrict c1, float *restrict dcb,
                                float *restrict ai, float *restrict ah, float *restrict p)
{
    for (size_t j = 0; j < H; j++) {
        float i = s[j], f = s[H + j], g = s[2 * H + j], o = s[3 * H + j];
        float tc = cm_nn_tanh(s[4 * H + j]);
        float dcj = dcb[j] + d[j] * o * (1.0f - tc * tc);
        float dai = dcj * g * i * (1.0f - i);
        float daf = dcj * c1[j] * f * (1.0f - f);
        float dag = dcj * i * (1.0f - g * g);
        float dao = d[j] * tc * o * (1.0f - o);
        ai[j] = dai, ai[H + j] = daf, ai[2 * H + j] = dag, ai[3 * H + j] = dao;
        dcb[j] = dcj * f; /* to step t - 1 */
    }
    /* the same for both shares: one more store in the loop and GCC 12
     * no longer vectorizes it */
    memcpy(ah, ai, 4 * H * sizeof *ah);
    memset(p, 0, H * sizeof *p);
}

void cm_rnn_forward(cm_rnn_kind k, size_t T, size_t batch, size_t in, size_t H,
                    const float *x, const cm_rnn_weights *w, float *hs, float *cache,
                    int threads)
{
    size_t G = gates(k) * H, K = kept(k) * H, bh = batch * H;
    float *gi = cache, *keep = gi + T * batch * G, *gh = keep + T * batch * K;
    float *zero = gh + batch * G; /* h0 and c0 */
    memset(zero, 0, H * sizeof *zero);
    /* every step's input share, bias b_ih included */
    for (size_t r = 0; r < T * batch; r++)
        memcpy(gi + r * G, w->bih, G * sizeof *gi);
    cm_gemm_nt(T * batch, G, in, x, w->Wih, gi, 1, threads);
    for (size_t t = 0; t < T; t++) {
        const float *hp = t ? hs + (t - 1) * bh : NULL; /* h0 = 0 */
        for (size_t b = 0; b < batch; b++)
            memcpy(gh + b * G, w->bhh, G * sizeof *gh);
        if (hp)
            cm_gemm_nt(batch, G, H, hp, w->Whh, gh, 1, threads);
        for (size_t b = 0; b < batch; b++) {
            const float *a = gi + (t * batch + b) * G, *e = gh + b * G;
            float *s = keep + (t * batch + b) * K, *h = hs + t * bh + b * H;
            const float *h1 = hp ? hp + b * H : zero;
            if (k == CM_RNN_GRU)
                gru_cell(H, a, e, h1, s, h);
            else
                lstm_cell(H, a, e, t ? keep + ((t - 1) * batch + b) * K + 4 * H : zero, s, h);
        }
    }
}

void cm_rnn_backward(cm_rnn_kind k, size_t T, size_t batch, size_t in, size_t H,
                     const float *x, const cm_rnn_weights *w, const float *hs,
                     const float *cache, const float *dhs, cm_rnn_weights *dw, float *dx,
                     float *work, int threads)
{
    size_t G = gates(k) * H, K = kept(k) * H, bh = batch * H;
    const float *keep = cache + T * batch * G;
    float *dgi = work, *dh = dgi + T * batch * G, *dhp = dh + bh, *dc = dhp + bh,
          *dgh = dc + bh, *zero = dgh + batch * G;
    memset(zero, 0, H * sizeof *zero);
    memset(dh, 0, bh * sizeof *dh);
    memset(dc, 0, bh * sizeof *dc);
    memset(dw->Whh, 0, G * H * sizeof *dw->Whh);
    memset(dw->bhh, 0, G * sizeof *dw->bhh);
    for (size_t t = T; t-- > 0;) {
        const float *hp = t ? hs + (t - 1) * bh : NULL;
        for (size_t i = 0; i < bh; i++) /* from above, and from step t + 1 */
            dh[i] += dhs[t * bh + i];
        for (size_t b = 0; b < batch; b++) {
            const float *s = keep + (t * batch + b) * K, *d = dh + b * H;
            float *ai = dgi + (t * batch + b) * G, *ah = dgh + b * G, *p = dhp + b * H;
            const float *h1 = hp ? hp + b * H : zero;
            if (k == CM_RNN_GRU)
                gru_cell_back(H, s, d, h1, ai, ah, p);
            else
                lstm_cell_back(H, s, d, t ? keep + ((t - 1) * batch + b) * K + 4 * H : zero,
                               dc + b * H, ai, ah, p);
        }
        for (size_t b = 0; b < batch; b++)
            for (size_t j = 0; j < G; j++)
                dw->bhh[j] += dgh[b * G + j];
        if (hp) {
            cm_gemm_tn(G, H, batch, dgh, hp, dw->Whh, 1, threads);
            cm_gemm_nn(batch, H, G, dgh, w->Whh, dhp, 1, threads);
        }
        memcpy(dh, dhp, bh * sizeof *dh);
    }
    cm_gemm_tn(G, in, T * batch, dgi, x, dw->Wih, 0, threads);
    memset(dw->bih, 0, G * sizeof *dw->bih);
    for (size_t r = 0; r < T * batch; r++)
        for (size_t j = 0; j < G; j++)
            dw->bih[j] += dgi[r * G + j];
    if (dx)
        cm_gemm_nn(T * batch, in, G, dgi, w->Wih, dx, 0, threads);
}
