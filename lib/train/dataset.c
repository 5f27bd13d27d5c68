/* dataset.c - rows read once into memory to fit many models on parts of
 * them, as cm-tune's cross-validation does: the target, the inputs and
 * skip-missing choose the rows when loading; each fit takes every other
 * setting, on rows picked in any order, sharing the rows read only. */
#include <stdlib.h>
#include <string.h>

#include "train/trainer.h"

struct cm_dataset {
    cm_kv *settings;    /* a copy: c borrows its text */
    cm_train_cfg c;     /* as read: the target, the inputs, skip-missing */
    cm_train_rows src;  /* src.d holds every row */
    cm_encoder names;   /* names and kinds of the inputs, nothing fitted */
    long *cols;
    cm_schema *schema;  /* after the whole stream: every category */
    size_t n;
};

void cm_dataset_free(cm_dataset *ds)
{
    if (!ds)
        return;
    cm_rowset_free(&ds->src.d);
    cm_rowreader_release(&ds->src.s);
    cm_encoder_release(&ds->names);
    free(ds->cols);
    cm_train_cfg_free(&ds->c);
    cm_kv_free(ds->settings);
    cm_schema_free(ds->schema);
    free(ds);
}

cm_dataset *cm_dataset_load(cm_reader *r, const cm_kv *settings, cm_error *err)
{
    cm_dataset *ds = calloc(1, sizeof *ds);
    cm_status st = ds && (ds->settings = cm_kv_new()) ? cm_kv_copy(ds->settings, settings, err)
                 : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st)
        st = cm_train_cfg_read(ds->settings, &ds->c, err);
    if (!st && ds->c.stream)
        st = cm_fail(err, CM_ERR_ARG, "stream: a dataset is held in memory");
    if (!st && ds->c.valid_from)
        st = cm_fail(err, CM_ERR_ARG, "valid-from: a dataset's fits are on picked rows, "
                     "not the stream's (valid FRAC holds out the last of them)");
    if (!st)
        st = cm_rows_read(&ds->src, r, &ds->c, &ds->names, &ds->cols, err);
    if (!st && !(ds->schema = cm_rows_schema(&ds->src, err)))
        st = err->status;
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

int cm_dataset_step(const cm_dataset *ds, cm_step *step, char *why, size_t n)
{
    if (*ds->src.s.lost_series) {
        snprintf(why, n, "the series of '%.100s' are not in the data", ds->src.s.lost_series);
        return -1;
    }
    if (!ds->src.s.have_time) {
        snprintf(why, n, "the data have no time column");
        return -1;
    }
    return cm_steps_decide(&ds->src.s.steps, step, why, n);
}

/* FNV-1a over the rows as read, and the names of the target and inputs:
 * the same data give the same number on any machine of this byte order. */
uint64_t cm_dataset_fingerprint(const cm_dataset *ds)
{
    uint64_t h = 1469598103934665603ULL;
#define MIX(p, len) do { const unsigned char *q_ = (const void *)(p);               \
        for (size_t i_ = 0; i_ < (len); i_++) h = (h ^ q_[i_]) * 1099511628211ULL; } while (0)
    const cm_rowset *d = &ds->src.d;
    MIX(ds->names.target, strlen(ds->names.target) + 1);
    for (size_t k = 0; k < ds->names.nf; k++)
        MIX(ds->names.f[k].name, strlen(ds->names.f[k].name) + 1);
    MIX(d->num, ds->n * d->nnum * sizeof *d->num);
    MIX(d->cat, ds->n * d->ncat * sizeof *d->cat);
    MIX(d->y, ds->n * d->nout * sizeof *d->y);
#undef MIX
    return h;
}

static int same(const char *a, const char *b)
{
    return a ? b && !strcmp(a, b) : !b;
}

cm_model *cm_dataset_fit(const cm_dataset *ds, const cm_kv *settings, const size_t *pick,
                         size_t n, void (*on_epoch)(void *ctx, const cm_epoch *e),
                         void *ctx, cm_error *err)
{
    cm_train_cfg c = {0};
    cm_model *m = NULL;
    cm_schema *schema = NULL;
    cm_status st = cm_train_cfg_read(settings, &c, err);
    if (!st && (!same(c.target, ds->c.target) || !same(c.features, ds->c.features) ||
                c.skip_missing != ds->c.skip_missing || !same(c.horizon, ds->c.horizon)))
        st = cm_fail(err, CM_ERR_ARG, "target, features, skip-missing and horizon are "
                     "those the data were read with");
    /* trees keep the rows with a missing input, other kinds do not */
    if (!st && c.kind->raw != ds->names.raw)
        st = cm_fail(err, CM_ERR_ARG, "model: gbdt reads rows with missing inputs, %s "
                     "does not: search gbdt and the other kinds in separate runs",
                     c.kind->raw ? ds->c.kind->name : c.kind->name);
    /* a sequence model's rows are those with a window, their inputs
     * begin with it: every kind of a search reads them so, or none */
    if (!st && c.kind->seq != ds->c.kind->seq)
        st = cm_fail(err, CM_ERR_ARG, "model: gru, lstm and cnn read windows that %s "
                     "does not: search sequence models and the other kinds in separate runs",
                     c.kind->seq ? ds->c.kind->name : c.kind->name);
    c.seq.window = ds->c.seq.window;
    c.seq.channels = ds->c.seq.channels;
    c.seq_first = ds->c.seq_first;
    if (!st && !(schema = cm_schema_clone(ds->schema)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    cm_train_rows src = ds->src; /* the rows are shared, read only */
    src.s.c = &c;
    src.idx = pick;
    if (!st)
        m = cm_train_fit(settings, &c, &src, pick ? n : ds->n, &ds->names, schema, on_epoch,
                         ctx, !pick, err);
    else
        cm_schema_free(schema);
    cm_train_cfg_free(&c);
    return m;
}

cm_status cm_dataset_score(const cm_model *m, const cm_dataset *ds, const size_t *pick,
                           size_t n, double v[4], cm_error *err)
{
    const cm_encoder *e = cm_model_encoder(m);
    cm_train_rows src = ds->src;
    src.e = e;
    src.idx = pick;
    src.ntrain = 0;
    src.nvalid = n;
    src.pos = SIZE_MAX;
    cm_status st = CM_OK;
    size_t k = src.d.nout;
    if (!(src.x = malloc((n * e->width + 1) * sizeof *src.x)) ||
        !(src.y = malloc((n * k + 1) * sizeof *src.y)) ||
        !(src.yr = malloc((n * k + 1) * sizeof *src.yr)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st) {
        cm_rows_design(e, &src.d, pick, 0, n, src.x, src.y, src.yr);
        cm_source from = cm_rows_source(&src);
        st = cm_train_measure(m, &from, 1, n, v, err);
    }
    free(src.x);
    free(src.y);
    free(src.yr);
    return st;
}
