/* train.c - fitting a model: the rows of a stream into memory, the last
 * fraction held out in time order, scaling fitted on the training rows
 * only, then ridge in closed form or an MLP by mini-batch descent. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/trainer.h"

/* ---- the rows ------------------------------------------------------------
 * Rows come from the stream into a data block: all of them in memory, or,
 * with --stream, a bounded chunk at a time, the stream read again from
 * its start for every pass.  Either way the passes below see the rows in
 * the same order and sum them in the same order, so a stream whose every
 * part fits in one chunk trains to the very same bits as in memory. */

typedef struct data {
    size_t n, cap, nnum, ncat;
    double *num;      /* n x nnum */
    uint32_t *cat;    /* n x ncat, codes of the stream */
    double *y;
    int64_t *t;       /* each row's time, for cross-validation with a gap */
} data;

static void data_free(data *d)
{
    free(d->num);
    free(d->cat);
    free(d->y);
    free(d->t);
}

static cm_status grow_data(data *d, size_t cap, cm_error *err)
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
    if (!t)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory: %zu rows do not fit", d->n);
    d->t = t;
    d->cap = cap;
    return CM_OK;
}

/* The stream and where reading stands in it. */
typedef struct rows {
    cm_reader *r;
    const cm_train_cfg *c;
    const cm_encoder *e;
    long target, time_col;
    const long *cols;
    cm_batch *b;        /* the batch in hand, and its next row */
    size_t bi;
    int done;           /* the end marker was read */
    uint64_t line;      /* stream rows read in this pass, for messages */
    size_t taken;       /* rows kept in this pass */
    /* counted on the first pass only */
    int first;
    uint64_t skipped;
    int64_t tmin, tmax;
    int have_time;
} rows;

static double value(const cm_batch *b, cm_dtype t, size_t c, size_t i)
{
    switch (t) {
    case CM_F32: return ((const float *)b->values[c])[i];
    case CM_F64: return ((const double *)b->values[c])[i];
    default: return (double)((const int64_t *)b->values[c])[i];
    }
}

static int on_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (!strncmp(p, name, n) && (p[n] == ',' || !p[n]))
            return 1;
    return 0;
}

/* The target and the features: columns by name, kinds from the schema. */
static cm_status choose(const cm_train_cfg *c, const cm_schema *s, long *target,
                        long **cols, cm_encoder *e, cm_error *err)
{
    *target = -1;
    for (size_t i = 0; i < cm_schema_ncols(s); i++)
        if (c->target ? !strcmp(cm_schema_name(s, i), c->target)
                      : cm_schema_role(s, i) == CM_ROLE_TARGET)
            *target = (long)i;
    if (*target < 0)
        return cm_fail(err, CM_ERR_ARG, c->target ? "target: no column '%s'"
                       : "no target: name one with --target (or mark it with "
                       "cm-features --target)%s", c->target ? c->target : "");
    cm_dtype tt = cm_schema_dtype(s, (size_t)*target);
    if (tt == CM_CAT || tt == CM_TIME)
        return cm_fail(err, CM_ERR_ARG, "target: column '%s' is not a number",
                       cm_schema_name(s, (size_t)*target));
    if (c->features)
        for (const char *p = c->features; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
            size_t n = strcspn(p, ",");
            char name[CM_MAX_NAME + 1];
            snprintf(name, sizeof name, "%.*s", (int)n, p);
            if (cm_schema_find(s, name) < 0)
                return cm_fail(err, CM_ERR_ARG, "features: no column '%s'", name);
        }
    if (!(*cols = calloc(cm_schema_ncols(s) + 1, sizeof **cols)) ||
        !(e->f = calloc(cm_schema_ncols(s) + 1, sizeof *e->f)) ||
        !(e->target = malloc(strlen(cm_schema_name(s, (size_t)*target)) + 1)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    strcpy(e->target, cm_schema_name(s, (size_t)*target));
    for (size_t i = 0; i < cm_schema_ncols(s); i++) {
        cm_dtype t = cm_schema_dtype(s, i);
        const char *name = cm_schema_name(s, i);
        int use = c->features ? on_list(c->features, name)
                              : cm_schema_role(s, i) == CM_ROLE_FEATURE;
        if (!use || (long)i == *target)
            continue;
        if (t == CM_TIME) {
            if (c->features)
                return cm_fail(err, CM_ERR_ARG, "features: '%s' is a time; derive "
                               "its parts with cm-features", name);
            continue;
        }
        cm_feature *f = &e->f[e->nf];
        if (!(f->name = malloc(strlen(name) + 1)))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        strcpy(f->name, name);
        f->cat = t == CM_CAT;
        f->sd = 1;
        f->col = i;
        (*cols)[e->nf++] = (long)i;
    }
    if (e->nf == 0)
        return cm_fail(err, CM_ERR_ARG, "no feature columns to learn from");
    return CM_OK;
}

/* Row i of the batch in hand into d; 1 if kept, 0 if skipped. */
static int take_row(rows *s, data *d, size_t i, cm_error *err)
{
    const cm_batch *b = s->b;
    const cm_schema *sc = cm_reader_schema(s->r);
    const cm_encoder *e = s->e;
    unsigned long long line = (unsigned long long)s->line;
    size_t jn = 0, jc = 0;
    const char *missing = NULL;
    if (!b->valid[s->target][i])
        missing = e->target;
    for (size_t k = 0; k < e->nf && !missing; k++) {
        size_t col = (size_t)s->cols[k];
        if (!b->valid[col][i]) {
            missing = e->f[k].name;
        } else if (e->f[k].cat) {
            d->cat[d->n * d->ncat + jc++] = ((const uint32_t *)b->values[col])[i];
        } else {
            double v = value(b, cm_schema_dtype(sc, col), col, i);
            if (!isfinite(v))
                return cm_fail(err, CM_ERR_DATA, "row %llu: column '%s' is %g; inputs "
                               "must be finite numbers", line, e->f[k].name, v), -1;
            d->num[d->n * d->nnum + jn++] = v;
        }
    }
    double y = missing ? 0 : value(b, cm_schema_dtype(sc, (size_t)s->target),
                                   (size_t)s->target, i);
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
    d->t[d->n] = s->time_col >= 0 && b->valid[s->time_col][i]
               ? ((const int64_t *)b->values[s->time_col])[i] : INT64_MIN;
    if (s->first && s->time_col >= 0 && b->valid[s->time_col][i]) {
        int64_t t = ((const int64_t *)b->values[s->time_col])[i];
        if (!s->have_time || t < s->tmin) s->tmin = t;
        if (!s->have_time || t > s->tmax) s->tmax = t;
        s->have_time = 1;
    }
    d->n++;
    return 1;
}

/* Appends rows to d until it holds limit rows or the stream ends; d
 * grows as needed when its capacity is below limit. */
static cm_status take(rows *s, data *d, size_t limit, cm_error *err)
{
    while (d->n < limit) {
        if (!s->b || s->bi == cm_batch_nrows(s->b)) {
            if (s->done)
                return CM_OK;
            int got = cm_reader_next(s->r, &s->b, err);
            if (got < 0)
                return err->status;
            s->bi = 0;
            if (got == 0) {
                s->b = NULL;
                s->done = 1;
                return CM_OK;
            }
            continue;
        }
        if (d->n == d->cap && grow_data(d, d->cap ? d->cap * 2 : 4096, err))
            return err->status;
        s->line++;
        int kept = take_row(s, d, s->bi++, err);
        if (kept < 0)
            return err->status;
        s->taken += (size_t)kept;
    }
    return CM_OK;
}

static cm_status restart(rows *s, cm_error *err)
{
    s->b = NULL;
    s->bi = 0;
    s->done = 0;
    s->line = 0;
    s->taken = 0;
    s->first = 0;
    return cm_reader_rewind(s->r, err);
}

/* The source of training chunks (trainer.h): the rows, their design
 * matrix, and which part (training or validation) is being read. */
typedef struct source {
    rows s;
    data d;
    const cm_encoder *e;
    const size_t *idx;  /* in memory: row i is d's row idx[i] (NULL: i) */
    float *x, *y;       /* the design of d, once the scaling is fitted */
    double *yr;         /* with idx: the targets as read, in that order */
    size_t chunk;       /* most rows at a time; all of them in memory */
    size_t ntrain, nvalid;
    int memory, part;
    size_t pos;         /* rows of the part handed out; SIZE_MAX when idle */
} source;

static size_t part_len(const source *src, int part)
{
    return part ? src->nvalid : src->ntrain;
}

/* The next rows of part (0 training, 1 validation) as they were read:
 * rows [*from, *from + n) of src->d; n = 0 ends the part, and the call
 * after that starts it again. */
static cm_status next_raw(source *src, int part, size_t *from, size_t *n, cm_error *err)
{
    size_t len = part_len(src, part);
    if (src->pos == SIZE_MAX || src->part != part) {
        src->pos = 0;
        src->part = part;
        if (!src->memory && (part == 0 || src->s.taken != src->ntrain)) {
            if (restart(&src->s, err))
                return err->status;
            for (size_t skip = part ? src->ntrain : 0; src->s.taken < skip;) {
                src->d.n = 0;
                size_t k = skip - src->s.taken;
                if (take(&src->s, &src->d, k < src->chunk ? k : src->chunk, err))
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
        if (take(&src->s, &src->d, k < src->chunk ? k : src->chunk, err))
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

static void add_sums(cm_encoder *e, const data *d, const size_t *idx, size_t from,
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
                f->ncats = code + 1 > f->ncats ? code + 1 : f->ncats;
            }
            jc++;
            continue;
        }
        for (size_t i = from; i < from + n; i++)
            acc[jn] += d->num[ROW(idx, i) * d->nnum + jn];
        jn++;
    }
    for (size_t i = from; i < from + n; i++)
        acc[d->nnum] += d->y[ROW(idx, i)];
}

static void add_squares(const data *d, const size_t *idx, size_t from, size_t n,
                        const double *mean, double *acc)
{
    for (size_t j = 0; j < d->nnum; j++)
        for (size_t i = from; i < from + n; i++) {
            double z = d->num[ROW(idx, i) * d->nnum + j] - mean[j];
            acc[j] += z * z;
        }
    for (size_t i = from; i < from + n; i++) {
        double z = d->y[ROW(idx, i)] - mean[d->nnum];
        acc[d->nnum] += z * z;
    }
}

static cm_status fit_scaling(source *src, cm_encoder *e, cm_error *err)
{
    size_t nn = src->d.nnum, from, n;
    double *mean = calloc(nn + 1, sizeof *mean), *q = calloc(nn + 1, sizeof *q);
    cm_status st = mean && q ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < e->nf; k++)
        e->f[k].ncats = 0;
    while (!st && !(st = next_raw(src, 0, &from, &n, err)) && n)
        add_sums(e, &src->d, src->idx, from, n, mean);
    double count = (double)(src->ntrain ? src->ntrain : 1);
    for (size_t j = 0; j <= nn; j++)
        mean[j] /= count;
    while (!st && !(st = next_raw(src, 0, &from, &n, err)) && n)
        add_squares(&src->d, src->idx, from, n, mean, q);
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
            jn++;
        }
        e->width = off;
        double sd = sqrt(q[nn] / count);
        e->tmean = mean[nn];
        e->tsd = sd > 0 && isfinite(sd) ? sd : 1;
    }
    free(mean);
    free(q);
    return st;
}

/* The design matrix: standardized numbers and one-hot categories. */
static void design(const cm_encoder *e, const data *d, const size_t *idx, size_t from,
                   size_t n, float *x, float *y, double *yr)
{
    memset(x, 0, n * e->width * sizeof *x);
    for (size_t v = from; v < from + n; v++) {
        size_t jn = 0, jc = 0, i = ROW(idx, v);
        float *row = x + (v - from) * e->width;
        for (size_t k = 0; k < e->nf; k++) {
            const cm_feature *f = &e->f[k];
            if (f->cat) {
                uint32_t code = d->cat[i * d->ncat + jc++];
                row[f->offset + (code < f->ncats ? code : f->ncats)] = 1;
            } else {
                row[f->offset] = (float)((d->num[i * d->nnum + jn++] - f->mean) / f->sd);
            }
        }
        y[v - from] = (float)((d->y[i] - e->tmean) / e->tsd);
        if (yr)
            yr[v - from] = d->y[i];
    }
}

/* cm_source's next: in memory the design is made once for all rows. */
static cm_status next_chunk(void *ctx, int part, cm_chunk *out, cm_error *err)
{
    source *src = ctx;
    size_t from = 0, n;
    if (next_raw(src, part, &from, &n, err))
        return err->status;
    size_t w = src->e->width;
    out->n = n;
    out->whole = n == part_len(src, part);
    if (src->memory) {
        out->x = src->x + from * w;
        out->y = src->y + from;
    } else {
        design(src->e, &src->d, NULL, from, n, src->x, src->y, NULL);
        out->x = src->x;
        out->y = src->y;
    }
    out->yraw = src->yr ? src->yr + from : src->d.y + from;
    return CM_OK;
}

/* Reads every row once: counts, checks, the time range, and in memory
 * keeps them all.  Streaming, the chunk size comes from the budget once
 * the widest design row is known. */
static cm_status first_pass(source *src, cm_error *err)
{
    rows *s = &src->s;
    s->first = 1;
    if (src->memory)
        return take(s, &src->d, SIZE_MAX, err);
    do {
        src->d.n = 0;
        if (take(s, &src->d, 4096, err))
            return err->status;
    } while (src->d.n);
    return CM_OK;
}

static cm_status size_chunks(source *src, const cm_schema *s, uint64_t budget, size_t batch,
                             cm_error *err)
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
    return grow_data(&src->d, src->chunk, err);
}

/* ---- ridge ------------------------------------------------------------------ */

static cm_status fit_ridge(cm_model *m, const cm_source *src, size_t n, double l2,
                           cm_error *err)
{
    size_t w = m->enc.width;
    double *mean = calloc(w + 1, sizeof *mean), *g = calloc(w * w + 1, sizeof *g);
    double *xy = calloc(w + 1, sizeof *xy), *work = calloc(w * w + 1, sizeof *work);
    m->coef = calloc(w + 1, sizeof *m->coef);
    cm_status st = mean && g && xy && work && m->coef ? CM_OK
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
        if (cm_ridge_solve(w, g, xy, l2, m->coef, work))
            st = cm_fail(err, CM_ERR_DATA, "the inputs are collinear and --l2 is 0: "
                         "no unique solution (use --l2 above 0)");
        m->intercept = ym;
        for (size_t j = 0; j < w; j++)
            m->intercept -= m->coef[j] * mean[j];
    }
    free(mean), free(g), free(xy), free(work);
    return st;
}

/* ---- metrics and metadata --------------------------------------------------- */

static cm_status set_num(cm_kv *kv, const char *k, double v, cm_error *err)
{
    char buf[40];
    cm_fmt_f64(buf, sizeof buf, v);
    return cm_kv_set(kv, k, buf, err);
}

/* MAE, RMSE, MAPE and R² over part (n rows), in the target's units (NAN
 * where undefined). */
static cm_status measure(const cm_model *m, const cm_source *src, int part, size_t n,
                         double v[4], cm_error *err)
{
    size_t w = m->enc.width;
    float *scratch = malloc(cm_model_scratch(m, 1) * sizeof *scratch);
    cm_status st = scratch ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    double ae = 0, se = 0, ape = 0, mean = 0, ss = 0;
    size_t nape = 0;
    cm_chunk ch;
    while (!st && !(st = src->next(src->ctx, part, &ch, err)) && ch.n)
        for (size_t i = 0; i < ch.n; i++)
            mean += ch.yraw[i];
    mean /= (double)(n ? n : 1);
    while (!st && !(st = src->next(src->ctx, part, &ch, err)) && ch.n)
        for (size_t i = 0; i < ch.n; i++) {
            double p, y = ch.yraw[i];
            cm_model_forward(m, 1, ch.x + i * w, &p, scratch);
            ae += fabs(p - y);
            se += (p - y) * (p - y);
            ss += (y - mean) * (y - mean);
            if (y != 0) {
                ape += fabs((p - y) / y);
                nape++;
            }
        }
    free(scratch);
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
    snprintf(k, sizeof k, "%s_rows", prefix);
    cm_status st = measure(m, src, part, n, v, err);
    if (!st) st = set_num(&m->meta, k, (double)n, err);
    for (int i = 0; !st && i < 4; i++) {
        snprintf(k, sizeof k, "%s_%s", prefix, names[i]);
        if (!isnan(v[i]))
            st = set_num(&m->meta, k, v[i], err);
    }
    return st;
}

static cm_status describe_run(cm_model *m, const cm_kv *s, const cm_train_cfg *c,
                              const rows *d, size_t ntrain, size_t nvalid,
                              int epochs_run, int best_epoch, cm_error *err)
{
    cm_kv *meta = &m->meta;
    char buf[64];
    cm_status st = cm_kv_set(meta, "kind", c->kind == CM_MODEL_LINEAR ? "linear" : "mlp", err);
    if (!st) st = cm_kv_set(meta, "cm_version", CM_VERSION_STRING, err);
    if (!st) st = cm_kv_set(meta, "target", m->enc.target, err);
    /* every setting as given, then what they became */
    static const char *const keep[] = {"l2", "activation", "dropout", "loss", "huber-delta",
        "optimizer", "lr", "momentum", "beta1", "beta2", "eps", "weight-decay",
        "schedule", "step-size", "gamma", "batch", "epochs", "seed", "valid",
        "patience", "features", "skip-missing", "stream", "buffer-size", "argv"};
    for (size_t i = 0; !st && i < sizeof keep / sizeof *keep; i++)
        if (cm_kv_get(s, keep[i]))
            st = cm_kv_set(meta, keep[i], cm_kv_get(s, keep[i]), err);
    if (!st && c->kind == CM_MODEL_MLP) {
        cm_buf text = {0};
        for (size_t l = 1; l < m->nlayers; l++) {
            int k = snprintf(buf, sizeof buf, "%s%zu", l > 1 ? "," : "", m->size[l]);
            cm_buf_put(&text, buf, (size_t)k);
        }
        cm_buf_u8(&text, 0);
        st = text.oom ? cm_fail(err, CM_ERR_NOMEM, "out of memory")
                      : cm_kv_set(meta, "layers", (const char *)text.data, err);
        cm_buf_free(&text);
        static const char *const acts[] = {"none", "relu", "tanh", "sigmoid", "gelu"};
        if (!st) st = cm_kv_set(meta, "activation", acts[m->act], err);
        if (!st) st = set_num(meta, "epochs_run", epochs_run, err);
        if (!st) st = set_num(meta, "best_epoch", best_epoch, err);
    }
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)c->seed);
    if (!st) st = cm_kv_set(meta, "seed", buf, err);
    if (!st) st = set_num(meta, "rows", (double)(ntrain + nvalid), err);
    if (!st) st = set_num(meta, "train_rows", (double)ntrain, err);
    if (!st) st = set_num(meta, "valid_rows", (double)nvalid, err);
    if (!st && d->skipped) st = set_num(meta, "skipped_rows", (double)d->skipped, err);
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
    return st;
}

/* ---- the whole ------------------------------------------------------------------ */

/* Rows read once into memory, to fit many models on parts of them. */
struct cm_dataset {
    cm_train_cfg c;     /* as read: the target, the inputs, skip-missing */
    source src;         /* src.d holds every row */
    cm_encoder enc;     /* names and kinds of the inputs, nothing fitted */
    long *cols;
    cm_schema *schema;  /* after the whole stream: every category */
    size_t n;
};

void cm_dataset_free(cm_dataset *ds)
{
    if (!ds)
        return;
    data_free(&ds->src.d);
    cm_encoder_release(&ds->enc);
    free(ds->cols);
    free(ds->c.layers);
    cm_schema_free(ds->schema);
    free(ds);
}

/* The target, the inputs and the first pass; memory or streaming as c
 * says, the rows source left ready for a fit. */
static cm_status read_rows(cm_reader *r, cm_train_cfg *c, cm_encoder *e, long **cols,
                           source *src, cm_error *err)
{
    const cm_schema *s = cm_reader_schema(r);
    *src = (source){.s = {.r = r, .c = c, .e = e, .target = -1, .time_col = -1},
                    .e = e, .pos = SIZE_MAX, .memory = !c->stream};
    for (size_t i = 0; i < cm_schema_ncols(s); i++)
        if (cm_schema_role(s, i) == CM_ROLE_TIME && cm_schema_dtype(s, i) == CM_TIME)
            src->s.time_col = (long)i;
    cm_status st = choose(c, s, &src->s.target, cols, e, err);
    src->s.cols = *cols;
    for (size_t k = 0; !st && k < e->nf; k++)
        e->f[k].cat ? src->d.ncat++ : src->d.nnum++;
    if (!st && c->stream) /* a pipe fails here, before a pass over it */
        st = restart(&src->s, err);
    if (!st)
        st = first_pass(src, err);
    if (!st && src->s.taken == 0)
        st = cm_fail(err, CM_ERR_DATA, "no rows to learn from%s",
                     src->s.skipped ? " (all were skipped for missing values)" : "");
    return st;
}

/* Fits m (its encoder's names and kinds, its schema set) on the n rows of
 * src: the last fraction c->valid held out, scaling from the others. */
static cm_status fit(cm_model *m, const cm_kv *settings, const cm_train_cfg *c,
                     source *src, size_t n, void (*on_epoch)(void *, const cm_epoch *),
                     void *ctx, int describe, cm_error *err)
{
    /* floor(n * frac), robust to 100 * 0.29 = 28.999999999999996 */
    src->nvalid = (size_t)floor((double)n * c->valid + 1e-9);
    src->ntrain = n - src->nvalid;
    src->pos = SIZE_MAX;
    cm_status st = CM_OK;
    if (src->ntrain == 0)
        st = cm_fail(err, CM_ERR_DATA, "no training rows left after holding out "
                     "--valid %g of %zu", c->valid, n);
    if (!st && !src->memory)
        st = size_chunks(src, m->schema, c->buffer, (size_t)c->batch, err);
    if (!st)
        st = fit_scaling(src, &m->enc, err);
    size_t design_rows = src->memory ? n : src->chunk;
    if (!st && (!(src->x = malloc((design_rows * m->enc.width + 1) * sizeof *src->x)) ||
                !(src->y = malloc((design_rows + 1) * sizeof *src->y)) ||
                (src->idx && !(src->yr = malloc((n + 1) * sizeof *src->yr)))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory: %zu rows x %zu inputs",
                     design_rows, m->enc.width);
    if (!st && src->memory)
        design(&m->enc, &src->d, src->idx, 0, n, src->x, src->y, src->yr);
    cm_source from = {next_chunk, src};
    int epochs_run = 1, best_epoch = 0;
    m->kind = c->kind;
    if (!st && c->kind == CM_MODEL_LINEAR) {
        st = fit_ridge(m, &from, src->ntrain, c->l2, err);
    } else if (!st) {
        m->act = c->act;
        m->nlayers = c->nlayers + 1;
        if (!(m->size = calloc(m->nlayers + 1, sizeof *m->size)) ||
            !(m->W = calloc(m->nlayers, sizeof *m->W)) ||
            !(m->b = calloc(m->nlayers, sizeof *m->b)))
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
        for (size_t l = 0; !st && l <= m->nlayers; l++)
            m->size[l] = l == 0 ? m->enc.width : l == m->nlayers ? 1 : c->layers[l - 1];
        if (!st)
            st = cm_train_mlp(m, c, &from, src->ntrain, src->nvalid, on_epoch, ctx,
                              &epochs_run, &best_epoch, err);
    }
    /* A fit on picked rows (a fold) is scored by its caller; the stream's
     * time range and counts would not describe it. */
    if (!st && describe)
        st = describe_run(m, settings, c, &src->s, src->ntrain, src->nvalid, epochs_run,
                          best_epoch, err);
    if (!st && describe)
        st = src->nvalid ? metrics(m, &from, 1, src->nvalid, "valid", err)
                         : metrics(m, &from, 0, src->ntrain, "train", err);
    free(src->x);
    free(src->y);
    free(src->yr);
    src->x = src->y = NULL;
    src->yr = NULL;
    return st;
}

static cm_status copy_encoder(cm_encoder *to, const cm_encoder *from, cm_error *err)
{
    *to = (cm_encoder){0};
    if (!(to->f = calloc(from->nf + 1, sizeof *to->f)) ||
        !(to->target = malloc(strlen(from->target) + 1)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    strcpy(to->target, from->target);
    for (size_t k = 0; k < from->nf; k++, to->nf++) {
        to->f[k] = from->f[k];
        if (!(to->f[k].name = malloc(strlen(from->f[k].name) + 1)))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        strcpy(to->f[k].name, from->f[k].name);
    }
    return CM_OK;
}

cm_dataset *cm_dataset_load(cm_reader *r, const cm_kv *settings, cm_error *err)
{
    cm_dataset *ds = calloc(1, sizeof *ds);
    cm_status st = ds ? cm_train_cfg_read(settings, &ds->c, err)
                      : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st && ds->c.stream)
        st = cm_fail(err, CM_ERR_ARG, "stream: a dataset is held in memory");
    if (!st)
        st = read_rows(r, &ds->c, &ds->enc, &ds->cols, &ds->src, err);
    if (!st && !(ds->schema = cm_schema_clone(cm_reader_schema(r))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (st) {
        cm_dataset_free(ds);
        return NULL;
    }
    ds->n = ds->src.s.taken;
    ds->src.s.r = NULL; /* every row is in memory now */
    return ds;
}

size_t cm_dataset_rows(const cm_dataset *ds)
{
    return ds->n;
}

const int64_t *cm_dataset_times(const cm_dataset *ds)
{
    return ds->src.s.time_col >= 0 ? ds->src.d.t : NULL;
}

/* FNV-1a over the rows as read, and the names of the target and inputs:
 * the same data give the same number on any machine of this byte order. */
uint64_t cm_dataset_fingerprint(const cm_dataset *ds)
{
    uint64_t h = 1469598103934665603ULL;
#define MIX(p, len) do { const unsigned char *q_ = (const void *)(p);               \
        for (size_t i_ = 0; i_ < (len); i_++) h = (h ^ q_[i_]) * 1099511628211ULL; } while (0)
    const data *d = &ds->src.d;
    MIX(ds->enc.target, strlen(ds->enc.target) + 1);
    for (size_t k = 0; k < ds->enc.nf; k++)
        MIX(ds->enc.f[k].name, strlen(ds->enc.f[k].name) + 1);
    MIX(d->num, ds->n * d->nnum * sizeof *d->num);
    MIX(d->cat, ds->n * d->ncat * sizeof *d->cat);
    MIX(d->y, ds->n * sizeof *d->y);
#undef MIX
    return h;
}

static cm_model *new_model(const cm_dataset *ds, cm_error *err)
{
    cm_model *m = calloc(1, sizeof *m);
    if (!m || copy_encoder(&m->enc, &ds->enc, err) ||
        !(m->schema = cm_schema_clone(ds->schema))) {
        if (!m || !err->status)
            cm_fail(err, CM_ERR_NOMEM, "out of memory");
        cm_model_free(m);
        return NULL;
    }
    return m;
}

cm_model *cm_dataset_fit(const cm_dataset *ds, const cm_kv *settings, const size_t *pick,
                         size_t n, void (*on_epoch)(void *ctx, const cm_epoch *e),
                         void *ctx, cm_error *err)
{
    cm_train_cfg c = {0};
    cm_model *m = NULL;
    cm_status st = cm_train_cfg_read(settings, &c, err);
    if (!st && ((c.target ? !ds->c.target || strcmp(c.target, ds->c.target) : !!ds->c.target) ||
                (c.features ? !ds->c.features || strcmp(c.features, ds->c.features)
                            : !!ds->c.features) ||
                c.skip_missing != ds->c.skip_missing))
        st = cm_fail(err, CM_ERR_ARG, "target, features and skip-missing are those "
                     "the data were read with");
    if (!st && !(m = new_model(ds, err)))
        st = err->status;
    source src = ds->src; /* the rows are shared, read only */
    src.s.c = &c;
    src.e = m ? &m->enc : NULL;
    src.idx = pick;
    if (!st)
        st = fit(m, settings, &c, &src, pick ? n : ds->n, on_epoch, ctx, !pick, err);
    free(c.layers);
    if (st) {
        cm_model_free(m);
        return NULL;
    }
    return m;
}

cm_status cm_dataset_score(const cm_model *m, const cm_dataset *ds, const size_t *pick,
                           size_t n, double v[4], cm_error *err)
{
    source src = ds->src;
    src.e = &m->enc;
    src.idx = pick;
    src.ntrain = 0;
    src.nvalid = n;
    src.pos = SIZE_MAX;
    cm_status st = CM_OK;
    if (!(src.x = malloc((n * m->enc.width + 1) * sizeof *src.x)) ||
        !(src.y = malloc((n + 1) * sizeof *src.y)) ||
        !(src.yr = malloc((n + 1) * sizeof *src.yr)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st) {
        design(&m->enc, &src.d, pick, 0, n, src.x, src.y, src.yr);
        cm_source from = {next_chunk, &src};
        st = measure(m, &from, 1, n, v, err);
    }
    free(src.x);
    free(src.y);
    free(src.yr);
    return st;
}

cm_model *cm_train(cm_reader *r, const cm_kv *settings,
                   void (*on_epoch)(void *ctx, const cm_epoch *e), void *ctx,
                   cm_error *err)
{
    cm_train_cfg c = {0};
    long *cols = NULL;
    source src;
    cm_model *m = calloc(1, sizeof *m);
    cm_status st = m ? cm_train_cfg_read(settings, &c, err)
                     : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st)
        st = read_rows(r, &c, &m->enc, &cols, &src, err);
    /* after the whole stream, so that it has every category */
    if (!st && !(m->schema = cm_schema_clone(cm_reader_schema(r))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st)
        st = fit(m, settings, &c, &src, src.s.taken, on_epoch, ctx, 1, err);
    free(cols);
    free(c.layers);
    data_free(&src.d);
    if (st) {
        cm_model_free(m);
        return NULL;
    }
    return m;
}
