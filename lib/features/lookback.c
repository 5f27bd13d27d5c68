/* lookback.c - a series' look-back held apart from a builder's own
 * series, for forecasting: rows join it as they would a series, and a
 * row of a later time is derived from it by the builder's own code, the
 * forecast then taking the place of the value it lacked. */
#include <stdlib.h>
#include <string.h>

#include "features/featcore.h"

struct cm_lookback {
    cm_history h;
};

cm_lookback *cm_lookback_new(const cm_features *f, cm_error *err)
{
    cm_lookback *lb = calloc(1, sizeof *lb);
    if (!lb)
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
    else
        lb->h.ncols = f->nhist;
    return lb;
}

void cm_lookback_free(cm_lookback *lb)
{
    if (lb)
        cm_history_free(&lb->h);
    free(lb);
}

/* The time of row i; -1 when it has none (no look-back without one). */
static int row_time(const cm_features *f, const cm_batch *b, size_t i, int64_t *t)
{
    *t = 0;
    if (f->time_col < 0)
        return 0;
    if (!cm_batch_valid_c(b, (size_t)f->time_col)[i])
        return -1;
    *t = ((const int64_t *)cm_batch_values_c(b, (size_t)f->time_col))[i];
    return 0;
}

cm_status cm_lookback_push(cm_features *f, cm_lookback *lb, const cm_batch *b, size_t i,
                           cm_error *err)
{
    int64_t t;
    if (row_time(f, b, i, &t))
        return CM_OK;
    const cm_ccols in = cm_batch_ccols(b);
    cm_features_history_values(f, &in, i);
    return cm_features_remember(f, &lb->h, t, err);
}

cm_status cm_lookback_derive(cm_features *f, cm_lookback *lb, const cm_batch *b, size_t i,
                             cm_batch *out, size_t o, int *complete, cm_error *err)
{
    int64_t t;
    if (row_time(f, b, i, &t))
        return cm_fail(err, CM_ERR_ARG, "a row to derive needs its time");
    cm_status st = cm_features_sync_dicts(f, err);
    const cm_ccols in = cm_batch_ccols(b);
    const cm_cols ob = cm_batch_cols(out);
    return st ? st : cm_features_make_row(f, &lb->h, &in, i, t, &ob, o, 0, complete, err);
}

void cm_lookback_set(const cm_features *f, cm_lookback *lb, size_t col, double v, int ok)
{
    if (!lb->h.n)
        return;
    size_t s = cm_history_slot(&lb->h, lb->h.n - 1);
    for (size_t k = 0; k < f->nhist; k++)
        if (f->hist_col[k] == col) {
            lb->h.v[s * lb->h.ncols + k] = ok ? v : 0;
            lb->h.ok[s * lb->h.ncols + k] = (uint8_t)ok;
        }
}

cm_status cm_lookback_copy(cm_lookback *dst, const cm_lookback *src, cm_error *err)
{
    cm_history *d = &dst->h;
    const cm_history *s = &src->h;
    if (d->cap < s->n || d->ncols != s->ncols) {
        cm_history_free(d);
        size_t cap = cm_cap_for(0, s->n, 64), w = s->ncols ? s->ncols : 1;
        d->ncols = s->ncols;
        if (!(d->t = malloc(cap * sizeof *d->t)) || !(d->rowno = malloc(cap * sizeof *d->rowno)) ||
            !(d->v = malloc(cap * w * sizeof *d->v)) || !(d->ok = malloc(cap * w))) {
            cm_history_free(d);
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        }
        d->cap = cap;
    }
    /* in order from slot 0: the ring unrolled */
    for (size_t i = 0; i < s->n; i++) {
        size_t from = cm_history_slot(s, i);
        d->t[i] = s->t[from];
        d->rowno[i] = s->rowno[from];
        memcpy(d->v + i * d->ncols, s->v + from * s->ncols, s->ncols * sizeof *d->v);
        memcpy(d->ok + i * d->ncols, s->ok + from * s->ncols, s->ncols);
    }
    d->head = 0;
    d->n = s->n;
    d->rows = s->rows;
    return CM_OK;
}

int cm_lookback_last(const cm_lookback *lb, int64_t *t)
{
    if (!lb->h.n)
        return -1;
    *t = lb->h.t[cm_history_slot(&lb->h, lb->h.n - 1)];
    return 0;
}

size_t cm_lookback_rows(const cm_lookback *lb)
{
    return lb->h.n;
}
