/* trainmeta.c - what a model says of its training: the settings recorded
 * (the declarations marked so, in their order), what its trainer adds,
 * the rows and their time range, and its metrics on the held-out rows
 * (or the training rows, when none were held out). */
#include <math.h>
#include <stdlib.h>

#include "train/trainer.h"

cm_status cm_train_measure(const cm_model *m, const cm_source *src, int part, size_t n,
                           double v[4], cm_error *err)
{
    /* a direct model's outputs are pooled: n rows of K forecasts each */
    size_t w = cm_model_encoder(m)->width, K = cm_model_encoder(m)->nout;
    /* rows a block at a time (a row's forecast has the same bits however
     * many share the pass; trees walk a block much faster) */
    enum { ROWS = 64 };
    float *scratch = malloc(cm_model_scratch(m, ROWS) * sizeof *scratch);
    double *p = malloc(ROWS * K * sizeof *p);
    cm_status st = scratch && p ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    double ae = 0, se = 0, ape = 0, mean = 0, ss = 0;
    size_t nape = 0;
    cm_chunk ch;
    while (!st && !(st = src->next(src->ctx, part, &ch, err)) && ch.n)
        for (size_t i = 0; i < ch.n * K; i++)
            mean += ch.yraw[i];
    n *= K;
    mean /= (double)(n ? n : 1);
    while (!st && !(st = src->next(src->ctx, part, &ch, err)) && ch.n)
        for (size_t i = 0; i < ch.n; i++) {
            if (i % ROWS == 0)
                cm_model_forward(m, ch.n - i < ROWS ? ch.n - i : ROWS, ch.x + i * w, p, scratch);
            for (size_t o = 0; o < K; o++) {
                double y = ch.yraw[i * K + o], d = p[(i % ROWS) * K + o] - y;
                ae += fabs(d);
                se += d * d;
                ss += (y - mean) * (y - mean);
                if (y != 0) {
                    ape += fabs(d / y);
                    nape++;
                }
            }
        }
    free(scratch);
    free(p);
    v[0] = ae / (double)n;
    v[1] = sqrt(se / (double)n);
    v[2] = nape ? 100 * ape / (double)nape : NAN;
    v[3] = ss > 0 ? 1 - se / ss : NAN;
    return st;
}

static cm_status metrics(cm_model *m, const cm_source *src, int part, size_t n,
                         const char *prefix, cm_error *err)
{
    double v[4];
    static const char *const names[] = {"mae", "rmse", "mape", "r2"};
    char k[64];
    cm_kv *meta = cm_model_meta_edit(m);
    snprintf(k, sizeof k, "%s_rows", prefix);
    cm_status st = cm_train_measure(m, src, part, n, v, err);
    if (!st)
        st = cm_kv_set_num(meta, k, (double)n, err);
    for (int i = 0; !st && i < 4; i++) {
        snprintf(k, sizeof k, "%s_%s", prefix, names[i]);
        if (!isnan(v[i]))
            st = cm_kv_set_num(meta, k, v[i], err);
    }
    return st;
}

cm_status cm_train_describe(cm_model *m, const cm_kv *s, const cm_train_cfg *c,
                            const cm_fit *f, cm_train_rows *src, cm_error *err)
{
    cm_kv *meta = cm_model_meta_edit(m);
    const cm_rowreader *d = &src->s;
    char buf[64];
    cm_status st = cm_kv_set(meta, "kind", c->kind->name, err);
    if (!st) st = cm_kv_set(meta, "cm_version", CM_VERSION_STRING, err);
    if (!st) st = cm_kv_set(meta, "target", cm_model_target(m), err);
    if (!st && cm_model_horizon(m) > 1) /* a direct model of these steps */
        st = cm_kv_set_num(meta, "horizon", (double)cm_model_horizon(m), err);
    /* every setting as given, then what they became */
    for (size_t i = 0; !st && i < cm_train_settings.n; i++) {
        const cm_setting *set = &cm_train_settings.set[i];
        const char *v = cm_kv_get(s, set->name);
        if ((set->flags & CM_SET_RECORD) && v)
            st = cm_kv_set(meta, set->name, v, err);
    }
    if (!st) st = cm_trainer_of(c->kind)->meta(f, meta, err);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)c->seed);
    if (!st) st = cm_kv_set(meta, "seed", buf, err);
    if (!st) st = cm_kv_set_num(meta, "rows", (double)(src->ntrain + src->nvalid), err);
    if (!st) st = cm_kv_set_num(meta, "train_rows", (double)src->ntrain, err);
    if (!st) st = cm_kv_set_num(meta, "valid_rows", (double)src->nvalid, err);
    if (!st && d->skipped) st = cm_kv_set_num(meta, "skipped_rows", (double)d->skipped, err);
    if (!st && d->no_window)
        st = cm_kv_set_num(meta, "rows_without_window", (double)d->no_window, err);
    if (!st && d->no_ahead)
        st = cm_kv_set_num(meta, "rows_without_ahead", (double)d->no_ahead, err);
    if (!st && d->have_time) {
        /* the step a forecast takes, or what was found instead */
        cm_step step;
        char why[200];
        if (*d->lost_series) {
            snprintf(why, sizeof why, "the series of '%.100s' are not in the stream",
                     d->lost_series);
            st = cm_kv_set(meta, "step_unknown", why, err);
        } else if (!cm_steps_decide(&d->steps, &step, why, sizeof why)) {
            cm_step_format(buf, sizeof buf, step);
            st = cm_kv_set(meta, "step", buf, err);
        } else {
            st = cm_kv_set(meta, "step_unknown", why, err);
        }
    }
    if (!st && d->have_time) {
        cm_fmt_time(buf, sizeof buf, d->tmin);
        st = cm_kv_set(meta, "time_min", buf, err);
        cm_fmt_time(buf, sizeof buf, d->tmax);
        if (!st) st = cm_kv_set(meta, "time_max", buf, err);
    }
    const char *created = cm_kv_get(s, "created");
    if (!st && created) {
        cm_fmt_time(buf, sizeof buf, strtoll(created, NULL, 10));
        st = cm_kv_set(meta, "created", buf, err);
    }
    cm_source from = cm_rows_source(src);
    if (!st)
        st = src->nvalid ? metrics(m, &from, 1, src->nvalid, "valid", err)
                         : metrics(m, &from, 0, src->ntrain, "train", err);
    /* what training saw of each number, for doubtful inputs later */
    const cm_encoder *e = cm_model_encoder(m);
    for (size_t k = 0; !st && k < e->nf; k++) {
        const cm_feature *in = &e->f[k];
        char key[CM_MAX_NAME + 8], lo[32], hi[32], v[80];
        if (in->cat || !(in->lo <= in->hi))
            continue;
        cm_fmt_f64(lo, sizeof lo, in->lo);
        cm_fmt_f64(hi, sizeof hi, in->hi);
        snprintf(key, sizeof key, "seen.%s", in->name);
        snprintf(v, sizeof v, "%s %s", lo, hi);
        st = cm_kv_set(meta, key, v, err);
    }
    return st;
}
