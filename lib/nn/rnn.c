/* rnn.c - GRU and LSTM layers over the steps of a window, and their
 * gradients by backpropagation through time.
 *
 * PyTorch's equations and weight layout (gates r,z,n for the GRU, i,f,g,o
 * for the LSTM), so that a model initialized as PyTorch does trains as
 * PyTorch's does.  The input's share of every gate at every step is one
 * matrix product over all steps at once (T*batch rows); only the hidden
 * state's share must go step by step. */
#include <math.h>
#include <string.h>

#include "nn/cm_nn.h"

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
    return T * batch * H * (gates(k) + kept(k)) + batch * H * gates(k);
}

size_t cm_rnn_work(cm_rnn_kind k, size_t T, size_t batch, size_t H)
{
    return T * batch * H * gates(k) + batch * H * (3 + gates(k));
}

static float sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

void cm_rnn_forward(cm_rnn_kind k, size_t T, size_t batch, size_t in, size_t H,
                    const float *x, const cm_rnn_weights *w, float *hs, float *cache,
                    int threads)
{
    size_t G = gates(k) * H, K = kept(k) * H, bh = batch * H;
    float *gi = cache, *keep = gi + T * batch * G, *gh = keep + T * batch * K;
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
            const float *h1 = hp ? hp + b * H : NULL;
            if (k == CM_RNN_GRU) {
                for (size_t j = 0; j < H; j++) {
                    float r = sigmoid(a[j] + e[j]), z = sigmoid(a[H + j] + e[H + j]);
                    float n = tanhf(a[2 * H + j] + r * e[2 * H + j]);
                    s[j] = r, s[H + j] = z, s[2 * H + j] = n, s[3 * H + j] = e[2 * H + j];
                    h[j] = (1.0f - z) * n + z * (h1 ? h1[j] : 0.0f);
                }
            } else {
                const float *c1 = t ? keep + ((t - 1) * batch + b) * K + 4 * H : NULL;
                for (size_t j = 0; j < H; j++) {
                    float i = sigmoid(a[j] + e[j]), f = sigmoid(a[H + j] + e[H + j]);
                    float g = tanhf(a[2 * H + j] + e[2 * H + j]);
                    float o = sigmoid(a[3 * H + j] + e[3 * H + j]);
                    float c = f * (c1 ? c1[j] : 0.0f) + i * g;
                    s[j] = i, s[H + j] = f, s[2 * H + j] = g, s[3 * H + j] = o, s[4 * H + j] = c;
                    h[j] = o * tanhf(c);
                }
            }
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
          *dgh = dc + bh;
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
            const float *h1 = hp ? hp + b * H : NULL;
            if (k == CM_RNN_GRU) {
                for (size_t j = 0; j < H; j++) {
                    float r = s[j], z = s[H + j], n = s[2 * H + j], en = s[3 * H + j];
                    float hprev = h1 ? h1[j] : 0.0f;
                    float dan = d[j] * (1.0f - z) * (1.0f - n * n);
                    float daz = d[j] * (hprev - n) * z * (1.0f - z);
                    float dar = dan * en * r * (1.0f - r);
                    ai[j] = dar, ai[H + j] = daz, ai[2 * H + j] = dan;
                    ah[j] = dar, ah[H + j] = daz, ah[2 * H + j] = dan * r;
                    p[j] = d[j] * z;
                }
            } else {
                const float *c1 = t ? keep + ((t - 1) * batch + b) * K + 4 * H : NULL;
                float *dcb = dc + b * H;
                for (size_t j = 0; j < H; j++) {
                    float i = s[j], f = s[H + j], g = s[2 * H + j], o = s[3 * H + j];
                    float tc = tanhf(s[4 * H + j]);
                    float dcj = dcb[j] + d[j] * o * (1.0f - tc * tc);
                    float dai = dcj * g * i * (1.0f - i);
                    float daf = dcj * (c1 ? c1[j] : 0.0f) * f * (1.0f - f);
                    float dag = dcj * i * (1.0f - g * g);
                    float dao = d[j] * tc * o * (1.0f - o);
                    ai[j] = ah[j] = dai, ai[H + j] = ah[H + j] = daf;
                    ai[2 * H + j] = ah[2 * H + j] = dag, ai[3 * H + j] = ah[3 * H + j] = dao;
                    dcb[j] = dcj * f; /* to step t - 1 */
                    p[j] = 0.0f;
                }
            }
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
