/* trainsrc.c - training rows as a model sees them: the scaling fitted on
 * the training part only, then design rows made by the model's own
 * encoder, handed out a chunk at a time in the same order on every pass,
 * so a stream whose every part fits in one chunk trains to the very same
 * bits as in memory. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/trainer.h"

static size_t part_len(const cm_train_rows *src, int part)
{
    return part ? src->nvalid : src->ntrain;
}

/* The next rows of part (0 training, 1 validation) as they were read:
 * rows [*from, *from + n) of src->d; n = 0 ends the part, and the call
 * after that starts it again. */
static cm_status next_raw(cm_train_rows *src, int part, size_t *from, size_t *n, cm_error *err)
{
    size_t len = part_len(src, part);
    if (src->pos == SIZE_MAX || src->part != part) {
        src->pos = 0;
        src->part = part;
        if (!src->memory && (part == 0 || src->s.taken != src->ntrain)) {
            if (cm_rowreader_restart(&src->s, err))
                return err->status;
            for (size_t skip = part ? src->ntrain : 0; src->s.taken < skip;) {
                src->d.n = 0;
                size_t k = skip - src->s.taken;
                if (cm_rowreader_take(&src->s, &src->d, k < src->chunk ? k : src->chunk, err))
                    return err->status;
            }
        }
    }
    if (src->pos == len) {
        src->pos = SIZE_MAX;
        *n = 0;
        return CM_OK;
    }
    if (src->memory) {
        *from = part ? src->ntrain : 0;
        *n = len;
    } else {
        src->d.n = 0;
        size_t k = len - src->pos;
        if (cm_rowreader_take(&src->s, &src->d, k < src->chunk ? k : src->chunk, err))
            return err->status;
        if (src->d.n == 0)
            return cm_fail(err, CM_ERR_DATA, "the input changed while it was read");
        *from = 0;
        *n = src->d.n;
    }
    src->pos += *n;
    return CM_OK;
}

/* Scaling from the training rows only: means and population deviations;
 * a constant column is divided by 1.  Sums run over a chunk at a time,
 * in row order: acc has a sum per numeric input and one for the target. */
#define ROW(idx, i) ((idx) ? (idx)[i] : (i))

static void add_sums(cm_encoder *e, const cm_rowset *d, const size_t *idx, size_t from,
                     size_t n, double *acc)
{
    size_t jn = 0, jc = 0;
    for (size_t k = 0; k < e->nf; k++) {
        cm_feature *f = &e->f[k];
        if (f->cat) {
            /* Slots for the codes up to the highest a training row has;
             * categories first met after it (in stream order) are unseen,
             * as they would be in production.  A lower code that only
             * held-out rows have keeps a slot that training never set. */
            for (size_t i = from; i < from + n; i++) {
                uint32_t code = d->cat[ROW(idx, i) * d->ncat + jc];
                if (code != CM_CODE_MISSING)
                    f->ncats = code + 1 > f->ncats ? code + 1 : f->ncats;
            }
            jc++;
            continue;
        }
        for (size_t i = from; i < from + n; i++)
            acc[jn] += d->num[ROW(idx, i) * d->nnum + jn];
        jn++;
    }
    for (size_t i = from; i < from + n; i++) /* each row's own target */
        acc[d->nnum] += d->y[ROW(idx, i) * d->nout];
}

static void add_squares(const cm_rowset *d, const size_t *idx, size_t from, size_t n,
                        const double *mean, double *acc, double *lo, double *hi)
{
    for (size_t j = 0; j < d->nnum; j++)
        for (size_t i = from; i < from + n; i++) {
            double x = d->num[ROW(idx, i) * d->nnum + j], z = x - mean[j];
            acc[j] += z * z;
            lo[j] = x < lo[j] ? x : lo[j];
            hi[j] = x > hi[j] ? x : hi[j];
        }
    for (size_t i = from; i < from + n; i++) {
        double z = d->y[ROW(idx, i) * d->nout] - mean[d->nnum];
        acc[d->nnum] += z * z;
    }
}

/* A window's inputs (the first ones, numbers all) share their column's
 * scaling, over every step of every training window (a value counts once
 * per window it is in): the pooled mean and deviation of the W inputs of
 * each column, from theirs. */
static void pool_window(const cm_train_rows *src, cm_encoder *e, const double *mean,
                        const double *q, double count)
{
    size_t C = src->s.win.channels, W = src->s.win.window;
    for (size_t c = 0; c < C; c++) {
        double m = 0, sq = 0;
        for (size_t k = 0; k < W; k++)
            m += mean[k * C + c];
        m /= (double)W;
        for (size_t k = 0; k < W; k++) {
            double d = mean[k * C + c] - m;
            sq += q[k * C + c] + count * d * d;
        }
        double sd = sqrt(sq / (count * (double)W));
        for (size_t k = 0; k < W; k++) {
            e->f[k * C + c].mean = m;
            e->f[k * C + c].sd = sd > 0 && isfinite(sd) ? sd : 1;
        }
    }
}

cm_status cm_rows_fit_scaling(cm_train_rows *src, cm_encoder *e, cm_error *err)
{
    size_t nn = src->d.nnum, from, n;
    double *mean = calloc(nn + 1, sizeof *mean), *q = calloc(nn + 1, sizeof *q);
    double *lo = malloc((nn + 1) * sizeof *lo), *hi = malloc((nn + 1) * sizeof *hi);
    cm_status st = mean && q && lo && hi ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t j = 0; !st && j <= nn; j++)
        lo[j] = INFINITY, hi[j] = -INFINITY;
    for (size_t k = 0; k < e->nf; k++)
        e->f[k].ncats = 0;
    while (!st && !(st = next_raw(src, 0, &from, &n, err)) && n)
        add_sums(e, &src->d, src->idx, from, n, mean);
    double count = (double)(src->ntrain ? src->ntrain : 1);
    for (size_t j = 0; !st && j <= nn; j++)
        mean[j] /= count;
    while (!st && !(st = next_raw(src, 0, &from, &n, err)) && n)
        add_squares(&src->d, src->idx, from, n, mean, q, lo, hi);
    if (!st) {
        size_t jn = 0, off = 0;
        for (size_t k = 0; k < e->nf; k++) {
            cm_feature *f = &e->f[k];
            f->offset = off;
            off += f->cat ? f->ncats + 1 : 1;
            if (f->cat)
                continue;
            double sd = sqrt(q[jn] / count);
            f->mean = mean[jn];
            f->sd = sd > 0 && isfinite(sd) ? sd : 1;
            f->lo = lo[jn] <= hi[jn] ? lo[jn] : NAN; /* no rows: nothing seen */
            f->hi = lo[jn] <= hi[jn] ? hi[jn] : NAN;
            jn++;
        }
        e->width = off;
        pool_window(src, e, mean, q, count);
        double sd = sqrt(q[nn] / count);
        e->tmean = mean[nn];
        e->tsd = sd > 0 && isfinite(sd) ? sd : 1;
    }
    /* Trees split on the values as they are, so their thresholds read in
     * the inputs' own units; their target is not scaled either, as
     * XGBoost's own users give it. */
    for (size_t k = 0; !st && e->raw && k < e->nf; k++)
        e->f[k].mean = 0, e->f[k].sd = 1;
    if (!st && e->raw)
        e->tmean = 0, e->tsd = 1;
    free(mean);
    free(q);
    free(lo);
    free(hi);
    return st;
}

/* The design matrix: standardized numbers and one-hot categories; the
 * targets (each of a direct model's) standardized by the row's own. */
void cm_rows_design(const cm_encoder *e, const cm_rowset *d, const size_t *idx,
                    size_t from, size_t n, float *x, float *y, double *yr)
{
    size_t k = d->nout;
    for (size_t v = from; v < from + n; v++) {
        size_t i = ROW(idx, v);
        cm_encoder_encode(e, d->num + i * d->nnum, d->cat + i * d->ncat,
                          x + (v - from) * e->width);
        for (size_t o = 0; o < k; o++) {
            y[(v - from) * k + o] = (float)((d->y[i * k + o] - e->tmean) / e->tsd);
            if (yr)
                yr[(v - from) * k + o] = d->y[i * k + o];
        }
    }
}

/* cm_source's next: in memory the design is made once for all rows. */
static cm_status next_chunk(void *ctx, int part, cm_chunk *out, cm_error *err)
{
    cm_train_rows *src = ctx;
    size_t from = 0, n;
    if (next_raw(src, part, &from, &n, err))
        return err->status;
    size_t w = src->e->width;
    out->n = n;
    out->whole = n == part_len(src, part);
    size_t k = src->d.nout;
    if (src->memory) {
        out->x = src->x + from * w;
        out->y = src->y + from * k;
    } else {
        cm_rows_design(src->e, &src->d, NULL, from, n, src->x, src->y, NULL);
        out->x = src->x;
        out->y = src->y;
    }
    out->yraw = src->yr ? src->yr + from * k : src->d.y + from * k;
    return CM_OK;
}

/* Reads every row once: counts, checks, the time range, and in memory
 * keeps them all.  Streaming, the chunk size comes from the budget once
 * the widest design row is known. */
static cm_status first_pass(cm_train_rows *src, cm_error *err)
{
    cm_rowreader *s = &src->s;
    s->first = 1;
    if (src->memory)
        return cm_rowreader_take(s, &src->d, SIZE_MAX, err);
    do {
        src->d.n = 0;
        if (cm_rowreader_take(s, &src->d, 4096, err))
            return err->status;
    } while (src->d.n);
    return CM_OK;
}

cm_status cm_rows_size_chunks(cm_train_rows *src, const cm_schema *s, uint64_t budget,
                              size_t batch, cm_error *err)
{
    size_t width = 0;
    for (size_t k = 0; k < src->e->nf; k++)
        width += src->e->f[k].cat ? cm_dict_size(cm_schema_dict_c(s, src->e->f[k].col)) + 1 : 1;
    double per_row = (double)(src->d.nnum * sizeof(double) + src->d.ncat * sizeof(uint32_t) +
                              sizeof(double) + (width + 1) * sizeof(float));
    double fit = floor((double)budget / per_row);
    size_t need = src->ntrain > src->nvalid ? src->ntrain : src->nvalid;
    /* whole mini-batches, so that only a part's last one is short */
    fit = fit < (double)need ? floor(fit / (double)batch) * (double)batch : (double)need;
    if (fit < (double)batch && fit < (double)need)
        return cm_fail(err, CM_ERR_ARG, "buffer-size: too small for one batch of "
                       "%zu rows of %.0f bytes", batch, per_row);
    src->chunk = fit > 0 ? (size_t)fit : 1;
    return cm_rowset_grow(&src->d, src->chunk, err);
}

/* valid-from as an instant: with its offset, or a wall time of the zone
 * of the stream's time column (UTC when it names none). */
static cm_status from_time(cm_rowreader *s, const cm_schema *sc, const char *text,
                           cm_error *err)
{
    if (s->time_col < 0)
        return cm_fail(err, CM_ERR_ARG, "valid-from: the stream has no time column to "
                       "compare with (--valid FRAC holds out the last rows instead)");
    const char *zone = cm_kv_get(cm_schema_col_meta_c(sc, (size_t)s->time_col), "tz");
    cm_tz *tz = zone ? cm_tz_load(zone, err) : NULL;
    int64_t t;
    if (zone && !tz)
        return err->status;
    int bad = cm_time_instant(text, tz, &t);
    cm_tz_free(tz);
    if (bad)
        return cm_fail(err, CM_ERR_ARG, "valid-from: '%.64s' is not an ISO 8601 time or "
                       "date such as 2011-12-01", text);
    s->has_from = 1;
    s->from = t;
    return CM_OK;
}

/* The stream's time column, or -1. */
static long time_column(const cm_schema *s)
{
    long t = -1;
    for (size_t i = 0; i < cm_schema_ncols(s); i++)
        if (cm_schema_role(s, i) == CM_ROLE_TIME && cm_schema_dtype(s, i) == CM_TIME)
            t = (long)i;
    return t;
}

/* The series whose consecutive times tell the step: the key of the
 * stream's features step (--by), or else a column of role id; and the
 * zone of the times, whose calendar a step of days follows. */
static cm_status step_setup(cm_rowreader *s, const cm_schema *sc, cm_error *err)
{
    s->series_col = -1;
    for (size_t i = 0; i < cm_recipe_nsteps(sc); i++) {
        if (strcmp(cm_recipe_op(sc, i), "features"))
            continue;
        cm_features_plan *p = cm_features_plan_new(cm_recipe_params_c(sc, i), err);
        if (!p)
            return err->status;
        const char *by = cm_features_plan_by(p);
        s->series_col = by ? cm_schema_find(sc, by) : -1;
        if (by && s->series_col < 0) /* a stream of an older cm-features */
            snprintf(s->lost_series, sizeof s->lost_series, "%.100s", by);
        cm_features_plan_free(p);
    }
    for (size_t c = 0; s->series_col < 0 && !*s->lost_series && c < cm_schema_ncols(sc); c++)
        if (cm_schema_role(sc, c) == CM_ROLE_ID && cm_schema_dtype(sc, c) == CM_CAT)
            s->series_col = (long)c;
    const char *zone = s->time_col >= 0
                           ? cm_kv_get(cm_schema_col_meta_c(sc, (size_t)s->time_col), "tz")
                           : NULL;
    if (zone && !(s->tz = cm_tz_load(zone, err)))
        return err->status;
    return CM_OK;
}

/* After the first pass: valid-from must leave rows on either side. */
static cm_status from_split(const cm_rowreader *s, cm_error *err)
{
    if (s->nfrom > 0 && s->nfrom < s->taken)
        return CM_OK;
    char label[160], lo[40], hi[40];
    cm_rowreader_from_label(s, label, sizeof label);
    cm_fmt_time(lo, sizeof lo, s->tmin);
    cm_fmt_time(hi, sizeof hi, s->tmax);
    if (!s->nfrom)
        return cm_fail(err, CM_ERR_DATA, "%s: no row is at or after it, none is left to "
                       "validate on (the rows run from %s to %s)", label, lo, hi);
    return cm_fail(err, CM_ERR_DATA, "%s: every row is at or after it, none is left to "
                   "train on (the rows run from %s to %s)", label, lo, hi);
}

cm_status cm_rows_read(cm_train_rows *src, cm_reader *r, cm_train_cfg *c, cm_encoder *e,
                       long **cols, cm_error *err)
{
    const cm_schema *s = cm_reader_schema(r);
    *src = (cm_train_rows){.s = {.r = r, .c = c, .e = e, .target = -1, .time_col = -1},
                    .e = e, .pos = SIZE_MAX, .memory = !c->stream};
    cm_status st = CM_OK;
    if (c->kind->seq) {
        /* the rows come from the windows' builder, under its schema */
        src->s.time_col = time_column(s);
        st = step_setup(&src->s, s, err);
        if (!st)
            st = cm_train_win_build(&src->s.win, &src->s, c, err);
        cm_rowreader_release_step(&src->s);
        if (!st)
            s = cm_features_schema(src->s.win.feat);
        c->seq.window = src->s.win.window;
        c->seq.channels = src->s.win.channels;
        c->seq_first = src->s.win.first;
    }
    src->s.schema = s;
    src->s.time_col = time_column(s);
    if (!st)
        st = cm_train_choose(c, s, &src->s.target, cols, e, err);
    src->s.cols = *cols;
    src->d.nout = 1;
    /* a direct model finds each row's targets ahead in its series: the
     * rows keep their series (cm_rowset_grow grows a key array it has) */
    if (!st && c->horizon && !(src->d.key = malloc(sizeof *src->d.key)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t k = 0; !st && k < e->nf; k++)
        e->f[k].cat ? src->d.ncat++ : src->d.nnum++;
    if (!st && c->valid_from)
        st = from_time(&src->s, s, c->valid_from, err);
    if (!st)
        st = step_setup(&src->s, s, err);
    if (!st && c->stream) /* a pipe fails here, before a pass over it */
        st = cm_rowreader_restart(&src->s, err);
    if (!st)
        st = first_pass(src, err);
    if (!st && src->s.taken == 0 && src->s.no_window) {
        char step[32];
        cm_step_format(step, sizeof step, src->s.win.step);
        st = cm_fail(err, CM_ERR_DATA, "no rows to learn from: none of the %llu rows has a "
                     "whole window of %zu steps of %s before it (a gap or a missing value "
                     "in each); a shorter --window keeps more",
                     (unsigned long long)(src->s.no_window + src->s.skipped),
                     src->s.win.window, step);
    } else if (!st && src->s.taken == 0) {
        st = cm_fail(err, CM_ERR_DATA, "no rows to learn from%s",
                     src->s.skipped ? " (all were skipped for missing values)" : "");
    }
    if (!st && c->horizon)
        st = cm_rows_ahead(src, &src->s.no_ahead, err);
    e->nout = src->d.nout;
    if (!st && src->s.has_from)
        st = from_split(&src->s, err);
    return st;
}

cm_schema *cm_rows_schema(const cm_train_rows *src, cm_error *err)
{
    if (src->s.win.feat)
        return cm_train_win_schema(&src->s.win, err);
    cm_schema *s = cm_schema_clone(src->s.schema);
    if (!s)
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
    return s;
}

/* Fits m (its encoder's names and kinds, its schema set) on the n rows of
 * src: the last fraction c->valid held out, scaling from the others. */
cm_source cm_rows_source(cm_train_rows *src)
{
    return (cm_source){next_chunk, src};
}
