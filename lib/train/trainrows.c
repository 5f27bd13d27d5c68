/* trainrows.c - the rows of a stream for training: the target and the
 * inputs chosen by name, each row checked (a missing value is an error
 * unless skipped, a non-finite one always) and kept as numbers and codes.
 * A pass reads them all into memory, or a bounded chunk at a time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/trainer.h"

void cm_rowset_free(cm_rowset *d)
{
    free(d->num);
    free(d->cat);
    free(d->y);
    free(d->t);
    free(d->key);
}

cm_status cm_rowset_grow(cm_rowset *d, size_t cap, cm_error *err)
{
    double *num = realloc(d->num, cap * (d->nnum ? d->nnum : 1) * sizeof *num);
    if (num)
        d->num = num;
    uint32_t *cat = num ? realloc(d->cat, cap * (d->ncat ? d->ncat : 1) * sizeof *cat) : NULL;
    if (cat)
        d->cat = cat;
    double *y = cat ? realloc(d->y, cap * sizeof *y) : NULL;
    if (y)
        d->y = y;
    int64_t *t = y ? realloc(d->t, cap * sizeof *t) : NULL;
    if (t)
        d->t = t;
    uint32_t *key = t && d->key ? realloc(d->key, cap * sizeof *key) : NULL;
    if (key)
        d->key = key;
    if (!t || (d->key && !key))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory: %zu rows do not fit", d->n);
    d->cap = cap;
    return CM_OK;
}


/* The target and the features: columns by name, kinds from the schema. */
cm_status cm_train_choose(const cm_train_cfg *c, const cm_schema *s, long *target,
                          long **cols, cm_encoder *e, cm_error *err)
{
    *target = -1;
    for (size_t i = 0; i < cm_schema_ncols(s); i++)
        if (c->target ? !strcmp(cm_schema_name(s, i), c->target)
                      : cm_schema_role(s, i) == CM_ROLE_TARGET)
            *target = (long)i;
    if (*target < 0 && c->target)
        return cm_schema_no_column(s, "target", c->target, err);
    if (*target < 0)
        return cm_fail(err, CM_ERR_ARG, "no target: name one with --target (or mark it "
                       "with cm-features --target)");
    cm_dtype tt = cm_schema_dtype(s, (size_t)*target);
    if (tt == CM_CAT || tt == CM_TIME)
        return cm_fail(err, CM_ERR_ARG, "target: column '%s' is not a number",
                       cm_schema_name(s, (size_t)*target));
    cm_list features = {0};
    cm_status st = c->features ? cm_list_split(&features, c->features, err) : CM_OK;
    for (size_t i = 0; !st && i < features.n; i++)
        if (cm_schema_find(s, features.item[i]) < 0)
            st = cm_schema_no_column(s, "features", features.item[i], err);
    const char *tname = cm_schema_name(s, (size_t)*target);
    if (!st && (!(*cols = calloc(cm_schema_ncols(s) + 1, sizeof **cols)) ||
                !(e->f = calloc(cm_schema_ncols(s) + 1, sizeof *e->f)) ||
                !(e->target = cm_strndup(tname, strlen(tname)))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    e->raw = c->kind->raw;
    /* a sequence model's window first, oldest step first, as its network
     * reads its inputs; then the row's own */
    size_t wfirst = c->seq_first, wn = c->kind->seq ? c->seq.window * c->seq.channels : 0;
    for (size_t at = 0; !st && at < 2 * cm_schema_ncols(s); at++) {
        size_t i = at % cm_schema_ncols(s), r = at / cm_schema_ncols(s);
        cm_dtype t = cm_schema_dtype(s, i);
        const char *name = cm_schema_name(s, i);
        int in_window = i >= wfirst && i < wfirst + wn;
        int use = in_window || (c->features ? cm_list_find(&features, name) >= 0
                                            : cm_schema_role(s, i) == CM_ROLE_FEATURE);
        if (!use || (long)i == *target || in_window != (r == 0))
            continue;
        if (t == CM_TIME) {
            if (c->features)
                st = cm_fail(err, CM_ERR_ARG, "features: '%s' is a time; derive "
                             "its parts with cm-features", name);
            continue;
        }
        cm_feature *f = &e->f[e->nf];
        if (!(f->name = cm_strndup(name, strlen(name)))) {
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
            break;
        }
        f->cat = t == CM_CAT;
        f->sd = 1;
        f->lo = f->hi = NAN; /* until the scaling is fitted */
        f->col = i;
        (*cols)[e->nf++] = (long)i;
    }
    e->nout = 1; /* a direct model's horizon once its rows are read */
    cm_list_free(&features);
    if (!st && e->nf == 0)
        st = cm_fail(err, CM_ERR_ARG, "no feature columns to learn from");
    return st;
}

/* "valid-from '2011-12-01' (2011-12-01T00:00:00Z)" into buf. */
void cm_rowreader_from_label(const cm_rowreader *s, char *buf, size_t n)
{
    char t[40];
    cm_fmt_time(t, sizeof t, s->from);
    snprintf(buf, n, "valid-from '%.64s' (%s)", s->c->valid_from, t);
}

/* With valid-from, on the first pass: a row kept at or after it is held
 * out, and so must be every row kept after that one. */
static cm_status from_row(cm_rowreader *s, int has_t, int64_t t, cm_error *err)
{
    if (has_t && t >= s->from) {
        if (!s->nfrom++) {
            s->from_line = s->line;
            s->from_t = t;
        }
        return CM_OK;
    }
    if (has_t && !s->nfrom)
        return CM_OK;
    char label[160], at[40], first[40];
    unsigned long long line = (unsigned long long)s->line;
    cm_rowreader_from_label(s, label, sizeof label);
    if (!has_t)
        return cm_fail(err, CM_ERR_DATA, "row %llu has no time to compare with %s", line,
                       label);
    cm_fmt_time(at, sizeof at, t);
    cm_fmt_time(first, sizeof first, s->from_t);
    return cm_fail(err, CM_ERR_DATA, "row %llu (%s) is before %s but comes after row %llu "
                   "(%s): the rows are not in time order; sort them with cm-clean --sort",
                   line, at, label, (unsigned long long)s->from_line, first);
}

void cm_rowreader_release(cm_rowreader *s)
{
    cm_train_win_free(&s->win);
    cm_rowreader_release_step(s);
}

void cm_rowreader_release_step(cm_rowreader *s)
{
    cm_tz_free(s->tz);
    free(s->last_t);
    s->tz = NULL;
    s->last_t = NULL;
    s->nlast = 0;
}

/* Row i's time after the last of its series: a difference for the step. */
cm_status cm_rowreader_watch(cm_rowreader *s, size_t i, cm_error *err)
{
    const cm_ccols *b = &s->in;
    if (s->time_col < 0 || !b->valid[s->time_col][i])
        return CM_OK;
    size_t k = 0;
    if (s->series_col >= 0 && b->valid[s->series_col][i])
        k = (size_t)((const uint32_t *)b->values[s->series_col])[i] + 1;
    if (k >= s->nlast) {
        size_t n = cm_cap_for(s->nlast, k, 8);
        if (cm_resize(&s->last_t, s->nlast, n, sizeof *s->last_t, err))
            return CM_ERR_NOMEM;
        for (size_t j = s->nlast; j < n; j++)
            s->last_t[j] = INT64_MIN; /* none yet */
        s->nlast = n;
    }
    int64_t t = ((const int64_t *)b->values[s->time_col])[i];
    if (s->last_t[k] != INT64_MIN)
        cm_steps_observe(&s->steps, s->tz, s->last_t[k], t);
    s->last_t[k] = t;
    return CM_OK;
}

/* Row i of the batch in hand into d; 1 if kept, 0 if skipped. */
static int take_row(cm_rowreader *s, cm_rowset *d, size_t i, cm_error *err)
{
    const cm_ccols *b = &s->in;
    if (s->first && cm_rowreader_watch(s, i, err))
        return -1;
    const cm_schema *sc = s->schema;
    const cm_encoder *e = s->e;
    unsigned long long line = (unsigned long long)s->line;
    size_t jn = 0, jc = 0;
    const char *missing = NULL;
    /* a window with a step missing (a gap, or a missing value) trains
     * nothing, as lags are; it is no error */
    /* the first inputs are the window's (none without a window) */
    for (size_t k = 0; k < s->win.window * s->win.channels; k++)
        if (!b->valid[s->cols[k]][i]) {
            s->no_window += (uint64_t)s->first;
            return 0;
        }
    if (!b->valid[s->target][i])
        missing = e->target;
    for (size_t k = 0; k < e->nf && !missing; k++) {
        size_t col = (size_t)s->cols[k];
        if (!b->valid[col][i] && e->raw) { /* trees take it as missing */
            if (e->f[k].cat)
                d->cat[d->n * d->ncat + jc++] = CM_CODE_MISSING;
            else
                d->num[d->n * d->nnum + jn++] = NAN;
        } else if (!b->valid[col][i]) {
            missing = e->f[k].name;
        } else if (e->f[k].cat) {
            d->cat[d->n * d->ncat + jc++] = ((const uint32_t *)b->values[col])[i];
        } else {
            double v = cm_cell_f64(b->values[col], cm_schema_dtype(sc, col), i);
            if (!isfinite(v))
                return cm_fail(err, CM_ERR_DATA, "row %llu: column '%s' is %g; inputs "
                               "must be finite numbers", line, e->f[k].name, v), -1;
            d->num[d->n * d->nnum + jn++] = v;
        }
    }
    double y = missing ? 0 : cm_cell_f64(b->values[s->target],
                                         cm_schema_dtype(sc, (size_t)s->target), i);
    if (!missing && !isfinite(y))
        return cm_fail(err, CM_ERR_DATA, "row %llu: the target is %g", line, y), -1;
    if (missing && !s->c->skip_missing)
        return cm_fail(err, CM_ERR_DATA, "row %llu: column '%s' is missing "
                       "(--skip-missing leaves such rows out)", line, missing), -1;
    if (missing) {
        s->skipped += (uint64_t)s->first;
        return 0;
    }
    d->y[d->n] = y;
    if (d->key)
        d->key[d->n] = s->series_col >= 0 && b->valid[s->series_col][i]
                           ? ((const uint32_t *)b->values[s->series_col])[i] + 1 : 0;
    int has_t = s->time_col >= 0 && b->valid[s->time_col][i];
    int64_t t = has_t ? ((const int64_t *)b->values[s->time_col])[i] : 0;
    d->t[d->n] = has_t ? t : INT64_MIN;
    if (s->first && s->has_from && from_row(s, has_t, t, err))
        return -1;
    if (s->first && has_t) {
        if (!s->have_time || t < s->tmin) s->tmin = t;
        if (!s->have_time || t > s->tmax) s->tmax = t;
        s->have_time = 1;
    }
    d->n++;
    return 1;
}

/* Appends rows to d until it holds limit rows or the stream ends; d
 * grows as needed when its capacity is below limit. */
cm_status cm_rowreader_take(cm_rowreader *s, cm_rowset *d, size_t limit, cm_error *err)
{
    while (d->n < limit) {
        if (!s->b || s->bi == cm_batch_nrows(s->b)) {
            if (s->done)
                return CM_OK;
            if (s->win.rows) { /* the rows held, with their windows: one batch */
                int again = s->b != NULL;
                s->b = again ? NULL : s->win.rows;
                s->bi = 0;
                s->done = again;
                if (!again)
                    s->in = cm_batch_ccols(s->b);
                continue;
            }
            int got = cm_reader_next(s->r, &s->b, err);
            if (got < 0)
                return err->status;
            s->bi = 0;
            if (got == 0) {
                s->b = NULL;
                s->done = 1;
                return CM_OK;
            }
            s->in = cm_batch_ccols(s->b);
            continue;
        }
        if (d->n == d->cap && cm_rowset_grow(d, d->cap ? d->cap * 2 : 4096, err))
            return err->status;
        s->line++;
        int kept = take_row(s, d, s->bi++, err);
        if (kept < 0)
            return err->status;
        s->taken += (size_t)kept;
    }
    return CM_OK;
}

cm_status cm_rowreader_restart(cm_rowreader *s, cm_error *err)
{
    s->b = NULL;
    s->bi = 0;
    s->done = 0;
    s->line = 0;
    s->taken = 0;
    s->first = 0;
    cm_status st = cm_reader_rewind(s->r, err);
    s->schema = cm_reader_schema(s->r); /* read anew */
    return st;
}
