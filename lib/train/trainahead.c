/* trainahead.c - the rows of a direct model: each row's targets ahead of
 * it, found in its own series at exactly k steps after its time (the
 * series' step, in its zone's calendar, as forecasts take it), so that
 * one fit learns every step of the horizon from the features of the
 * first.  A row without all of them (the last of a series, one before a
 * gap) cannot teach every step and is left out. */
#include <stdlib.h>
#include <string.h>

#include "train/trainer.h"

/* The horizon in steps of the series (a count, or a span of them). */
static cm_status horizon_steps(const cm_rowreader *s, cm_step *step, size_t *h,
                               cm_error *err)
{
    char why[200];
    if (*s->lost_series)
        return cm_fail(err, CM_ERR_DATA, "horizon: the rows are of the series of '%s' (the "
                       "features step's --by), a column this stream lacks: make it again with "
                       "this cm-features, which keeps it", s->lost_series);
    if (!s->have_time)
        return cm_fail(err, CM_ERR_ARG, "horizon: the stream has no time column, so no "
                       "steps ahead");
    if (cm_steps_decide(&s->steps, step, why, sizeof why))
        return cm_fail(err, CM_ERR_DATA, "horizon: the step of the series is not clear: %s",
                       why);
    int64_t n;
    if (cm_steps_of("horizon", s->c->horizon, *step, CM_STEPS_MAX, &n, err))
        return err->status;
    *h = (size_t)n;
    return CM_OK;
}

cm_status cm_rows_ahead(cm_train_rows *src, size_t *dropped, cm_error *err)
{
    cm_rowset *d = &src->d;
    cm_step step;
    size_t H = 1, n = d->n, kept = 0;
    *dropped = 0;
    cm_status st = horizon_steps(&src->s, &step, &H, err);
    if (st || H == 1)
        return st; /* one step: the ordinary model */
    cm_rowkey *p = malloc((n + 1) * sizeof *p);
    double *y = malloc((n * H + 1) * sizeof *y);
    if (!p || !y) {
        free(p), free(y);
        return cm_fail(err, CM_ERR_NOMEM, "out of memory: %zu rows of %zu targets", n, H);
    }
    for (size_t i = 0; i < n; i++)
        p[i] = (cm_rowkey){d->key[i], d->t[i], i};
    qsort(p, n, sizeof *p, cm_rowkey_cmp);
    /* ok: the row has every target ahead; y: row i's at y[i * H] */
    uint8_t *ok = calloc(n + 1, 1);
    for (size_t a = 0; ok && a < n; a++) {
        size_t i = p[a].row, b = a;
        int all = d->t[i] != INT64_MIN;
        y[i * H] = d->y[i];
        for (size_t k = 1; all && k < H; k++) {
            int64_t want = cm_step_add(src->s.tz, d->t[i], step, (int64_t)k);
            while (b < n && p[b].series == p[a].series && p[b].t < want)
                b++;
            all = b < n && p[b].series == p[a].series && p[b].t == want;
            if (all)
                y[i * H + k] = d->y[p[b].row];
        }
        ok[i] = (uint8_t)all;
    }
    free(p);
    if (!ok) {
        free(y);
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    /* the rows kept, in the order read */
    for (size_t i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        memmove(d->num + kept * d->nnum, d->num + i * d->nnum, d->nnum * sizeof *d->num);
        memmove(d->cat + kept * d->ncat, d->cat + i * d->ncat, d->ncat * sizeof *d->cat);
        memmove(y + kept * H, y + i * H, H * sizeof *y);
        d->t[kept] = d->t[i];
        d->key[kept] = d->key[i];
        kept++;
    }
    free(ok);
    free(d->y);
    d->y = y;
    d->nout = H;
    d->n = kept;
    *dropped = n - kept;
    /* the counts of the first pass, of the rows kept */
    cm_rowreader *s = &src->s;
    s->taken = kept;
    if (s->has_from) {
        s->nfrom = 0;
        for (size_t i = 0; i < kept; i++)
            s->nfrom += d->t[i] >= s->from;
    }
    return kept ? CM_OK : cm_fail(err, CM_ERR_DATA, "horizon: no row has the %zu targets "
                                  "ahead of it that a direct model learns from", H);
}
