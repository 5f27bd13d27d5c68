/* train.c - fitting a model: the rows of a stream into memory, the last
 * fraction held out in time order, scaling fitted on the training rows
 * only, then ridge in closed form or an MLP by mini-batch descent. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trainer.h"

/* ---- the data ------------------------------------------------------------ */

typedef struct data {
    size_t n, cap, nnum, ncat;
    double *num;      /* n x nnum */
    uint32_t *cat;    /* n x ncat, codes of the stream */
    double *y;
    int64_t tmin, tmax;
    int have_time;
    uint64_t skipped;
} data;

static void data_free(data *d)
{
    free(d->num);
    free(d->cat);
    free(d->y);
}

static cm_status grow_data(data *d, cm_error *err)
{
    size_t cap = d->cap ? d->cap * 2 : 4096;
    double *num = realloc(d->num, cap * (d->nnum ? d->nnum : 1) * sizeof *num);
    if (num)
        d->num = num;
    uint32_t *cat = num ? realloc(d->cat, cap * (d->ncat ? d->ncat : 1) * sizeof *cat) : NULL;
    if (cat)
        d->cat = cat;
    double *y = cat ? realloc(d->y, cap * sizeof *y) : NULL;
    if (!y)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory: %zu rows do not fit", d->n);
    d->y = y;
    d->cap = cap;
    return CM_OK;
}

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

static cm_status load(cm_reader *r, const cm_train_cfg *c, long target, const long *cols,
                      const cm_encoder *e, long time_col, data *d, cm_error *err)
{
    const cm_schema *s = cm_reader_schema(r);
    for (size_t k = 0; k < e->nf; k++)
        e->f[k].cat ? d->ncat++ : d->nnum++;
    cm_batch *b;
    int got;
    uint64_t row = 0;
    while ((got = cm_reader_next(r, &b, err)) == 1) {
        for (size_t i = 0; i < cm_batch_nrows(b); i++, row++) {
            if (d->n == d->cap && grow_data(d, err))
                return err->status;
            size_t jn = 0, jc = 0;
            const char *missing = NULL;
            if (!b->valid[target][i])
                missing = e->target;
            for (size_t k = 0; k < e->nf && !missing; k++) {
                size_t col = (size_t)cols[k];
                if (!b->valid[col][i]) {
                    missing = e->f[k].name;
                } else if (e->f[k].cat) {
                    d->cat[d->n * d->ncat + jc++] = ((const uint32_t *)b->values[col])[i];
                } else {
                    double v = value(b, cm_schema_dtype(s, col), col, i);
                    if (!isfinite(v))
                        return cm_fail(err, CM_ERR_DATA, "row %llu: column '%s' is "
                                       "%g; inputs must be finite numbers",
                                       (unsigned long long)row + 1, e->f[k].name, v);
                    d->num[d->n * d->nnum + jn++] = v;
                }
            }
            double y = missing ? 0 : value(b, cm_schema_dtype(s, (size_t)target), (size_t)target, i);
            if (!missing && !isfinite(y))
                return cm_fail(err, CM_ERR_DATA, "row %llu: the target is %g",
                               (unsigned long long)row + 1, y);
            if (missing && !c->skip_missing)
                return cm_fail(err, CM_ERR_DATA, "row %llu: column '%s' is missing "
                               "(--skip-missing leaves such rows out)",
                               (unsigned long long)row + 1, missing);
            if (missing) {
                d->skipped++;
                continue;
            }
            d->y[d->n] = y;
            if (time_col >= 0 && b->valid[time_col][i]) {
                int64_t t = ((const int64_t *)b->values[time_col])[i];
                if (!d->have_time || t < d->tmin) d->tmin = t;
                if (!d->have_time || t > d->tmax) d->tmax = t;
                d->have_time = 1;
            }
            d->n++;
        }
    }
    return got < 0 ? err->status : CM_OK;
}

/* Scaling from the training rows only: means and population deviations;
 * a constant column is divided by 1. */
static void fit_scaling(cm_encoder *e, const data *d, size_t ntrain)
{
    size_t jn = 0, jc = 0;
    for (size_t k = 0; k < e->nf; k++) {
        cm_feature *f = &e->f[k];
        if (f->cat) {
            /* Slots for the codes up to the highest a training row has;
             * categories first met after it (in stream order) are unseen,
             * as they would be in production.  A lower code that only
             * held-out rows have keeps a slot that training never set. */
            uint32_t top = 0;
            for (size_t i = 0; i < ntrain; i++) {
                uint32_t code = d->cat[i * d->ncat + jc];
                top = code + 1 > top ? code + 1 : top;
            }
            f->ncats = top;
            jc++;
            continue;
        }
        double m = 0, q = 0;
        for (size_t i = 0; i < ntrain; i++)
            m += d->num[i * d->nnum + jn];
        m /= (double)(ntrain ? ntrain : 1);
        for (size_t i = 0; i < ntrain; i++) {
            double z = d->num[i * d->nnum + jn] - m;
            q += z * z;
        }
        double sd = sqrt(q / (double)(ntrain ? ntrain : 1));
        f->mean = m;
        f->sd = sd > 0 && isfinite(sd) ? sd : 1;
        jn++;
    }
    size_t off = 0;
    for (size_t k = 0; k < e->nf; k++) {
        e->f[k].offset = off;
        off += e->f[k].cat ? e->f[k].ncats + 1 : 1;
    }
    e->width = off;
    double m = 0, q = 0;
    for (size_t i = 0; i < ntrain; i++)
        m += d->y[i];
    m /= (double)(ntrain ? ntrain : 1);
    for (size_t i = 0; i < ntrain; i++)
        q += (d->y[i] - m) * (d->y[i] - m);
    double sd = sqrt(q / (double)(ntrain ? ntrain : 1));
    e->tmean = m;
    e->tsd = sd > 0 && isfinite(sd) ? sd : 1;
}

/* The design matrix: standardized numbers and one-hot categories. */
static float *design(const cm_encoder *e, const data *d, float **ys)
{
    float *x = calloc(d->n * e->width + 1, sizeof *x);
    float *y = malloc((d->n + 1) * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return NULL;
    }
    for (size_t i = 0; i < d->n; i++) {
        size_t jn = 0, jc = 0;
        float *row = x + i * e->width;
        for (size_t k = 0; k < e->nf; k++) {
            const cm_feature *f = &e->f[k];
            if (f->cat) {
                uint32_t code = d->cat[i * d->ncat + jc++];
                row[f->offset + (code < f->ncats ? code : f->ncats)] = 1;
            } else {
                row[f->offset] = (float)((d->num[i * d->nnum + jn++] - f->mean) / f->sd);
            }
        }
        y[i] = (float)((d->y[i] - e->tmean) / e->tsd);
    }
    *ys = y;
    return x;
}

/* ---- ridge ------------------------------------------------------------------ */

static cm_status fit_ridge(cm_model *m, const float *x, const float *y, size_t n,
                           double l2, cm_error *err)
{
    size_t w = m->enc.width;
    double *mean = calloc(w + 1, sizeof *mean), *g = calloc(w * w + 1, sizeof *g);
    double *xy = calloc(w + 1, sizeof *xy), *work = calloc(w * w + 1, sizeof *work);
    m->coef = calloc(w + 1, sizeof *m->coef);
    if (!mean || !g || !xy || !work || !m->coef) {
        free(mean), free(g), free(xy), free(work);
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    /* Centred columns, so the intercept is left out of the penalty. */
    double ym = 0;
    for (size_t i = 0; i < n; i++) {
        ym += y[i];
        for (size_t j = 0; j < w; j++)
            mean[j] += x[i * w + j];
    }
    for (size_t j = 0; j < w; j++)
        mean[j] /= (double)n;
    ym /= (double)n;
    for (size_t i = 0; i < n; i++) {
        const float *r = x + i * w;
        double yc = y[i] - ym;
        for (size_t a = 0; a < w; a++) {
            double xa = r[a] - mean[a];
            xy[a] += xa * yc;
            for (size_t b = 0; b <= a; b++)
                g[a * w + b] += xa * (r[b] - mean[b]);
        }
    }
    for (size_t a = 0; a < w; a++)
        for (size_t b = 0; b < a; b++)
            g[b * w + a] = g[a * w + b];
    int bad = cm_ridge_solve(w, g, xy, l2, m->coef, work);
    m->intercept = ym;
    for (size_t j = 0; j < w; j++)
        m->intercept -= m->coef[j] * mean[j];
    free(mean), free(g), free(xy), free(work);
    if (bad)
        return cm_fail(err, CM_ERR_DATA, "the inputs are collinear and --l2 is 0: "
                       "no unique solution (use --l2 above 0)");
    return CM_OK;
}

/* ---- metrics and metadata --------------------------------------------------- */

static cm_status set_num(cm_kv *kv, const char *k, double v, cm_error *err)
{
    char buf[40];
    cm_fmt_f64(buf, sizeof buf, v);
    return cm_kv_set(kv, k, buf, err);
}

static cm_status metrics(cm_model *m, const float *x, const data *d, size_t first,
                         size_t n, const char *prefix, cm_error *err)
{
    size_t w = m->enc.width;
    float *scratch = malloc(cm_model_scratch(m, 1) * sizeof *scratch);
    if (!scratch)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    double ae = 0, se = 0, ape = 0, mean = 0, ss = 0;
    size_t nape = 0;
    for (size_t i = first; i < first + n; i++)
        mean += d->y[i];
    mean /= (double)(n ? n : 1);
    for (size_t i = first; i < first + n; i++) {
        double p, y = d->y[i];
        cm_model_forward(m, 1, x + i * w, &p, scratch);
        ae += fabs(p - y);
        se += (p - y) * (p - y);
        ss += (y - mean) * (y - mean);
        if (y != 0) {
            ape += fabs((p - y) / y);
            nape++;
        }
    }
    free(scratch);
    char k[64];
    cm_status st = CM_OK;
    snprintf(k, sizeof k, "%s_rows", prefix);
    if (!st) st = set_num(&m->meta, k, (double)n, err);
    snprintf(k, sizeof k, "%s_mae", prefix);
    if (!st) st = set_num(&m->meta, k, ae / (double)n, err);
    snprintf(k, sizeof k, "%s_rmse", prefix);
    if (!st) st = set_num(&m->meta, k, sqrt(se / (double)n), err);
    snprintf(k, sizeof k, "%s_mape", prefix);
    if (!st && nape) st = set_num(&m->meta, k, 100 * ape / (double)nape, err);
    snprintf(k, sizeof k, "%s_r2", prefix);
    if (!st && ss > 0) st = set_num(&m->meta, k, 1 - se / ss, err);
    return st;
}

static cm_status describe_run(cm_model *m, const cm_kv *s, const cm_train_cfg *c, const data *d,
                              size_t ntrain, size_t nvalid, int epochs_run,
                              int best_epoch, cm_error *err)
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
        "patience", "features", "skip-missing", "argv"};
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
    if (!st) st = set_num(meta, "rows", (double)d->n, err);
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

cm_model *cm_train(cm_reader *r, const cm_kv *settings,
                   void (*on_epoch)(void *ctx, const cm_epoch *e), void *ctx,
                   cm_error *err)
{
    cm_train_cfg c = {0};
    data d = {0};
    long target = -1, *cols = NULL, time_col = -1;
    float *x = NULL, *y = NULL;
    cm_model *m = calloc(1, sizeof *m);
    cm_status st = m ? cm_train_cfg_read(settings, &c, err) : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    const cm_schema *s = cm_reader_schema(r);
    for (size_t i = 0; i < cm_schema_ncols(s); i++)
        if (cm_schema_role(s, i) == CM_ROLE_TIME && cm_schema_dtype(s, i) == CM_TIME)
            time_col = (long)i;
    if (!st)
        st = choose(&c, s, &target, &cols, &m->enc, err);
    if (!st)
        st = load(r, &c, target, cols, &m->enc, time_col, &d, err);
    if (!st && d.n == 0)
        st = cm_fail(err, CM_ERR_DATA, "no rows to learn from%s",
                     d.skipped ? " (all were skipped for missing values)" : "");
    /* floor(n * frac), robust to 100 * 0.29 = 28.999999999999996 */
    size_t nvalid = (size_t)floor((double)d.n * c.valid + 1e-9), ntrain = d.n - nvalid;
    if (!st && ntrain == 0)
        st = cm_fail(err, CM_ERR_DATA, "no training rows left after holding out "
                     "--valid %g of %zu", c.valid, d.n);
    if (!st && !(m->schema = cm_schema_clone(s)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st) {
        fit_scaling(&m->enc, &d, ntrain);
        if (!(x = design(&m->enc, &d, &y)))
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory: %zu rows x %zu inputs",
                         d.n, m->enc.width);
    }
    int epochs_run = 1, best_epoch = 0;
    m->kind = c.kind;
    if (!st && c.kind == CM_MODEL_LINEAR) {
        st = fit_ridge(m, x, y, ntrain, c.l2, err);
    } else if (!st) {
        m->act = c.act;
        m->nlayers = c.nlayers + 1;
        if (!(m->size = calloc(m->nlayers + 1, sizeof *m->size)) ||
            !(m->W = calloc(m->nlayers, sizeof *m->W)) ||
            !(m->b = calloc(m->nlayers, sizeof *m->b)))
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
        for (size_t l = 0; !st && l <= m->nlayers; l++)
            m->size[l] = l == 0 ? m->enc.width : l == m->nlayers ? 1 : c.layers[l - 1];
        if (!st)
            st = cm_train_mlp(m, &c, x, y, ntrain, nvalid, on_epoch, ctx, &epochs_run,
                         &best_epoch, err);
    }
    if (!st)
        st = describe_run(m, settings, &c, &d, ntrain, nvalid, epochs_run, best_epoch, err);
    if (!st)
        st = nvalid ? metrics(m, x, &d, ntrain, nvalid, "valid", err)
                    : metrics(m, x, &d, 0, ntrain, "train", err);
    free(x);
    free(y);
    free(cols);
    free(c.layers);
    data_free(&d);
    if (st) {
        cm_model_free(m);
        return NULL;
    }
    return m;
}
