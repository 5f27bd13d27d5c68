/* trainlin.c - the linear kind's trainer: ridge regression in closed form
 * on the standardized design, the intercept left out of the penalty; a
 * direct model's outputs are as many right-hand sides of the same
 * system. */
#include <stdlib.h>

#include "train/trainer.h"

static cm_status fit_ridge(const cm_train_cfg *c, const cm_encoder *e, const cm_schema *s,
                           const cm_source *src, size_t n, size_t nvalid,
                           void (*on_epoch)(void *, const cm_epoch *), void *ctx, cm_fit *out,
                           cm_error *err)
{
    (void)s, (void)nvalid, (void)on_epoch, (void)ctx;
    size_t w = e->width, K = e->nout;
    double *mean = calloc(w + 1, sizeof *mean), *g = calloc(w * w + 1, sizeof *g);
    double *xy = calloc(w * K + 1, sizeof *xy), *work = calloc(w * w + 1, sizeof *work);
    double *ym = calloc(K, sizeof *ym);
    cm_linear *lin = cm_linear_new(w, K);
    cm_status st = mean && g && xy && work && ym && lin ? CM_OK
                 : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    /* Centred columns, so the intercept is left out of the penalty. */
    cm_chunk ch;
    while (!st && !(st = src->next(src->ctx, 0, &ch, err)) && ch.n)
        for (size_t i = 0; i < ch.n; i++) {
            for (size_t o = 0; o < K; o++)
                ym[o] += ch.y[i * K + o];
            for (size_t j = 0; j < w; j++)
                mean[j] += ch.x[i * w + j];
        }
    for (size_t j = 0; !st && j < w; j++)
        mean[j] /= (double)n;
    for (size_t o = 0; !st && o < K; o++)
        ym[o] /= (double)n;
    while (!st && !(st = src->next(src->ctx, 0, &ch, err)) && ch.n)
        for (size_t i = 0; i < ch.n; i++) {
            const float *r = ch.x + i * w;
            for (size_t a = 0; a < w; a++) {
                double xa = r[a] - mean[a];
                for (size_t o = 0; o < K; o++) /* xy: output o's at xy[o * w] */
                    xy[o * w + a] += xa * (ch.y[i * K + o] - ym[o]);
                for (size_t b = 0; b <= a; b++)
                    g[a * w + b] += xa * (r[b] - mean[b]);
            }
        }
    if (!st) {
        for (size_t a = 0; a < w; a++)
            for (size_t b = 0; b < a; b++)
                g[b * w + a] = g[a * w + b];
        for (size_t o = 0; !st && o < K; o++) {
            double *coef = lin->coef + o * w;
            if (cm_ridge_solve(w, g, xy + o * w, c->l2, coef, work))
                st = cm_fail(err, CM_ERR_DATA, "the inputs are collinear and --l2 is 0: "
                             "no unique solution (use --l2 above 0)");
            lin->intercept[o] = ym[o];
            for (size_t j = 0; j < w; j++)
                lin->intercept[o] -= coef[j] * mean[j];
        }
    }
    free(mean), free(g), free(xy), free(work), free(ym);
    if (st) {
        cm_linear_free(lin);
        return st;
    }
    *out = (cm_fit){lin, 1, 0};
    return CM_OK;
}

static cm_status no_meta(const cm_fit *f, cm_kv *meta, cm_error *err)
{
    (void)f, (void)meta, (void)err;
    return CM_OK;
}

const cm_trainer cm_trainer_linear = {&cm_kind_linear, fit_ridge, no_meta};
