/* trainlin.c - the linear kind's trainer: ridge regression in closed form
 * on the standardized design, the intercept left out of the penalty. */
#include <stdlib.h>

#include "train/trainer.h"

static cm_status fit_ridge(const cm_train_cfg *c, const cm_encoder *e, const cm_source *src,
                           size_t n, size_t nvalid, void (*on_epoch)(void *, const cm_epoch *),
                           void *ctx, cm_fit *out, cm_error *err)
{
    (void)nvalid, (void)on_epoch, (void)ctx;
    size_t w = e->width;
    double *mean = calloc(w + 1, sizeof *mean), *g = calloc(w * w + 1, sizeof *g);
    double *xy = calloc(w + 1, sizeof *xy), *work = calloc(w * w + 1, sizeof *work);
    cm_linear *lin = cm_linear_new(w);
    cm_status st = mean && g && xy && work && lin ? CM_OK
                 : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    /* Centred columns, so the intercept is left out of the penalty. */
    double ym = 0;
    cm_chunk ch;
    while (!st && !(st = src->next(src->ctx, 0, &ch, err)) && ch.n)
        for (size_t i = 0; i < ch.n; i++) {
            ym += ch.y[i];
            for (size_t j = 0; j < w; j++)
                mean[j] += ch.x[i * w + j];
        }
    for (size_t j = 0; !st && j < w; j++)
        mean[j] /= (double)n;
    ym /= (double)n;
    while (!st && !(st = src->next(src->ctx, 0, &ch, err)) && ch.n)
        for (size_t i = 0; i < ch.n; i++) {
            const float *r = ch.x + i * w;
            double yc = ch.y[i] - ym;
            for (size_t a = 0; a < w; a++) {
                double xa = r[a] - mean[a];
                xy[a] += xa * yc;
                for (size_t b = 0; b <= a; b++)
                    g[a * w + b] += xa * (r[b] - mean[b]);
            }
        }
    if (!st) {
        for (size_t a = 0; a < w; a++)
            for (size_t b = 0; b < a; b++)
                g[b * w + a] = g[a * w + b];
        if (cm_ridge_solve(w, g, xy, c->l2, lin->coef, work))
            st = cm_fail(err, CM_ERR_DATA, "the inputs are collinear and --l2 is 0: "
                         "no unique solution (use --l2 above 0)");
        lin->intercept = ym;
        for (size_t j = 0; j < w; j++)
            lin->intercept -= lin->coef[j] * mean[j];
    }
    free(mean), free(g), free(xy), free(work);
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
