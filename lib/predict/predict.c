/* predict.c - a model replayed on new rows: raw CSV through the cleaning
 * and feature steps of its recipe (the very code of cm-clean and
 * cm-features, not a copy), or a cm stream through the steps it lacks,
 * then the model, one result per input row and in input order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clean/clean.h"
#include "features/featcore.h"
#include "model/model.h"
#include "predict/cm_predict.h"

struct cm_predictor {
    const cm_model *m;
    long clean_step, feat_step; /* in the model's recipe, or -1 */
    cm_tz *tz;                  /* of the clean step: times print in it */
    cm_kv fixed;                /* derived inputs given by name */
    /* one run */
    cm_clean *clean;
    cm_features *feat;
    const cm_schema *rows_schema; /* of the rows the model sees */
    cm_pred_fn fn;
    void *ctx;
    int has_actual, oom;
    int one;                    /* a row of fields: small batches */
    /* cm_predict_fields: a cleaner prepared once, and its one-row batch */
    cm_clean *prep;
    cm_features *pfeat;         /* reset for each row; NULL without the step */
    cm_batch *row;
    const char **fnames, **fvals;
    size_t *flens, nfields;
    uint64_t handed;            /* input rows handed out */
    uint64_t *drops;            /* rows cleaning left out, not yet handed */
    size_t ndrops, dhead, dcap;
    double *pred;
    uint8_t *ok;
    size_t *why, *at, cap;
    cm_pred_stats st;
};

static void release_prepared(cm_predictor *p);

static long find_step(const cm_schema *s, const char *op)
{
    for (size_t i = 0; i < cm_recipe_nsteps(s); i++)
        if (!strcmp(cm_recipe_op(s, i), op))
            return (long)i;
    return -1;
}

cm_predictor *cm_predictor_new(const cm_model *m, cm_error *err)
{
    cm_predictor *p = calloc(1, sizeof *p);
    if (!p || !(p->st.missing = calloc(cm_model_ninputs(m) + 1, sizeof *p->st.missing))) {
        free(p);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    p->m = m;
    const cm_schema *s = cm_model_schema(m);
    p->clean_step = find_step(s, "clean");
    p->feat_step = find_step(s, "features");
    const char *tz = p->clean_step >= 0
                   ? cm_kv_get(cm_recipe_params_c(s, (size_t)p->clean_step), "tz") : NULL;
    if (tz && !(p->tz = cm_tz_load(tz, err))) {
        cm_predictor_free(p);
        return NULL;
    }
    return p;
}

void cm_predictor_free(cm_predictor *p)
{
    if (!p)
        return;
    release_prepared(p);
    cm_tz_free(p->tz);
    cm_kv_release(&p->fixed);
    free(p->st.missing);
    free(p);
}

const cm_tz *cm_predictor_tz(const cm_predictor *p)
{
    return p->tz;
}

const cm_pred_stats *cm_predictor_stats(const cm_predictor *p)
{
    return &p->st;
}

/* A derived input is given, not derived: it must be a number column the
 * model reads that the raw row does not have. */
cm_status cm_predictor_fix(cm_predictor *p, const char *name, const char *value,
                           cm_error *err)
{
    double v;
    if (cm_parse_num(value, strlen(value), '.', &v)) {
        cm_fail(err, CM_ERR_DATA, "'%.64s' is not a number", value);
        snprintf(err->column, sizeof err->column, "%s", name);
        return err->status;
    }
    return cm_kv_set(&p->fixed, name, value, err);
}

/* ---- results, in input order ------------------------------------------------ */

static cm_status reserve(cm_predictor *p, size_t n, cm_error *err)
{
    if (n <= p->cap)
        return CM_OK;
    double *pred = realloc(p->pred, n * sizeof *pred);
    if (pred) p->pred = pred;
    uint8_t *ok = pred ? realloc(p->ok, n) : NULL;
    if (ok) p->ok = ok;
    size_t *why = ok ? realloc(p->why, n * sizeof *why) : NULL;
    if (why) p->why = why;
    size_t *at = why ? realloc(p->at, n * sizeof *at) : NULL;
    if (!at)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    p->at = at;
    p->cap = n;
    return CM_OK;
}

/* Rows left out by cleaning (no time) that come next (all: every one
 * still held), as results without a prediction; SIZE_MAX in at marks
 * them. */
static size_t add_drops(cm_predictor *p, size_t k, int all)
{
    while (p->dhead < p->ndrops && (all || p->drops[p->dhead] == p->handed + 1)) {
        p->at[k] = SIZE_MAX;
        p->ok[k] = 0;
        p->pred[k] = 0;
        p->why[k++] = SIZE_MAX;
        p->dhead++;
        p->handed++;
        p->st.no_time++;
    }
    return k;
}

/* Results to the caller; at the end, an empty batch when there were no
 * rows, so that it still learns the columns. */
static cm_status hand_over(cm_predictor *p, const cm_batch *b, size_t k, int end,
                           cm_error *err)
{
    cm_pred_batch out = {k, p->rows_schema, b, p->at, p->pred, p->ok, p->why,
                         p->has_actual};
    int call = k || (end && p->st.rows == 0);
    p->st.rows += k;
    return call ? p->fn(p->ctx, &out, err) : CM_OK;
}

/* The rows the model reads: given inputs set, forecasts made, rows left
 * out before them put back in their places. */
static cm_status on_rows(void *ctx, cm_batch *b, cm_error *err)
{
    cm_predictor *p = ctx;
    size_t n = cm_batch_nrows(b);
    for (size_t i = 0; i < cm_kv_count(&p->fixed); i++) {
        long c = cm_schema_find(p->rows_schema, cm_kv_key(&p->fixed, i));
        if (c < 0 || cm_schema_dtype(p->rows_schema, (size_t)c) != CM_F64)
            return cm_fail(err, CM_ERR_ARG, "%s: not an input the model derives",
                           cm_kv_key(&p->fixed, i));
        const char *v = cm_kv_value(&p->fixed, i);
        double x;
        cm_parse_num(v, strlen(v), '.', &x);
        for (size_t r = 0; r < n; r++) {
            ((double *)b->values[c])[r] = x;
            b->valid[c][r] = 1;
        }
    }
    if (reserve(p, n + (p->ndrops - p->dhead), err))
        return err->status;
    double *pred = p->pred + (p->ndrops - p->dhead);
    uint8_t *ok = p->ok + (p->ndrops - p->dhead);
    size_t *why = p->why + (p->ndrops - p->dhead);
    /* forecasts first into the tail, then moved down between the drops */
    if (cm_model_predict(p->m, p->rows_schema, b, pred, ok, why, &p->st.unseen, err))
        return err->status;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k = add_drops(p, k, 0);
        p->pred[k] = pred[i];
        p->ok[k] = ok[i];
        p->why[k] = why[i];
        p->at[k++] = i;
        p->handed++;
        if (ok[i] && !isfinite(pred[i])) { /* inputs far beyond the training range */
            p->ok[k - 1] = 0;
            p->st.not_finite++;
        } else if (ok[i])
            p->st.predicted++;
        else if (why[i] != SIZE_MAX)
            p->st.missing[why[i]]++;
    }
    return hand_over(p, b, k, 0, err);
}

static void on_drop(void *ctx, uint64_t row)
{
    cm_predictor *p = ctx;
    if (p->ndrops == p->dcap) {
        if (p->dhead > 0) { /* handed ones make room */
            memmove(p->drops, p->drops + p->dhead, (p->ndrops - p->dhead) * sizeof *p->drops);
            p->ndrops -= p->dhead;
            p->dhead = 0;
        }
        if (p->ndrops == p->dcap) {
            size_t cap = p->dcap ? 2 * p->dcap : 64;
            uint64_t *d = realloc(p->drops, cap * sizeof *d);
            if (!d) {
                p->oom = 1;
                return;
            }
            p->drops = d;
            p->dcap = cap;
        }
    }
    p->drops[p->ndrops++] = row;
}

/* ---- the steps -------------------------------------------------------------- */

/* The rows carry the actual target when the input had it. */
static void find_actual(cm_predictor *p)
{
    const char *t = cm_model_target(p->m);
    long c = p->clean ? cm_clean_find(p->clean, t) : -1;
    p->has_actual = cm_schema_find(p->rows_schema, t) >= 0 &&
                    !(c >= 0 && p->clean->cols[c].absent);
}

static cm_status start_features(cm_predictor *p, const cm_schema *in, cm_error *err)
{
    if (p->feat_step < 0) {
        p->rows_schema = in;
        find_actual(p);
        return CM_OK;
    }
    cm_kv set = {0};
    const cm_kv *steps = cm_recipe_params_c(cm_model_schema(p->m), (size_t)p->feat_step);
    /* Rows whose lags lack history come out, to be counted, not lost. */
    cm_status st = cm_kv_copy(&set, steps, err);
    if (!st)
        st = cm_kv_set(&set, "keep-incomplete", "yes", err);
    if (!st && p->one)
        st = cm_kv_set(&set, "batch-rows", "16", err);
    if (!st && !(p->feat = cm_features_new_tz(in, &set, p->tz, err)))
        st = err->status;
    cm_kv_release(&set);
    if (!st) {
        p->rows_schema = cm_features_schema(p->feat);
        find_actual(p);
    }
    return st;
}

static cm_status on_clean(void *ctx, cm_batch *b, cm_error *err)
{
    cm_predictor *p = ctx;
    if (p->oom)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!p->rows_schema && start_features(p, cm_clean_out_schema(p->clean), err))
        return err->status;
    return p->feat ? cm_features_push(p->feat, b, on_rows, p, err) : on_rows(p, b, err);
}

/* Hands on what the features step still holds, then the rows left out
 * after the last one that came through. */
static cm_status finish(cm_predictor *p, cm_error *err)
{
    if (p->feat && cm_features_finish(p->feat, on_rows, p, err))
        return err->status;
    if (reserve(p, p->ndrops - p->dhead + 1, err))
        return err->status;
    return hand_over(p, NULL, add_drops(p, 0, 1), 1, err);
}

static void end_run(cm_predictor *p)
{
    cm_features_free(p->feat);
    cm_clean_free(p->clean);
    free(p->drops), free(p->pred), free(p->ok), free(p->why), free(p->at);
    p->feat = NULL;
    p->clean = NULL;
    p->drops = NULL;
    p->pred = NULL, p->ok = NULL, p->why = NULL, p->at = NULL;
    p->ndrops = p->dhead = p->dcap = p->cap = 0;
    p->rows_schema = NULL;
}

static void start_run(cm_predictor *p, cm_pred_fn fn, void *ctx)
{
    size_t n = cm_model_ninputs(p->m);
    uint64_t *missing = p->st.missing;
    memset(missing, 0, (n + 1) * sizeof *missing);
    p->st = (cm_pred_stats){.missing = missing};
    p->fn = fn;
    p->ctx = ctx;
    p->handed = 0;
}

/* The clean step's settings for a replay: a raw column the input lacks is
 * allowed when the model can do without it (lenient: any). */
static cm_status replay_settings(cm_predictor *p, int lenient, cm_kv *set, cm_error *err)
{
    const cm_schema *ms = cm_model_schema(p->m);
    const cm_kv *steps = cm_recipe_params_c(ms, (size_t)p->clean_step);
    cm_status st = cm_kv_copy(set, steps, err);
    if (!st)
        st = cm_kv_set(set, "replay", "yes", err);
    if (!st && p->one)
        st = cm_kv_set(set, "batch-rows", "16", err);
    cm_buf ok = {0};
    for (size_t i = 0; !st && i < cm_kv_count(steps); i++) {
        const char *k = cm_kv_key(steps, i), *name = k + 5;
        if (strncmp(k, "type.", 5))
            continue;
        /* needed: an input read as it is, and every part of the time */
        int needed = !lenient && (!strcmp(cm_kv_value(steps, i), "time") ||
                                  cm_model_needs(p->m, name));
        if (!needed) {
            if (ok.len)
                cm_buf_u8(&ok, ',');
            cm_buf_put(&ok, name, strlen(name));
        }
    }
    cm_buf_u8(&ok, 0);
    if (!st && ok.oom)
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st)
        st = cm_kv_set(set, "absent-ok", (const char *)ok.data, err);
    cm_buf_free(&ok);
    return st;
}

cm_status cm_predict_csv(cm_predictor *p, FILE *in, const char *name, int lenient,
                         cm_pred_fn fn, void *ctx, cm_error *err)
{
    if (p->clean_step < 0)
        return cm_fail(err, CM_ERR_ARG, "the model's recipe has no clean step: "
                       "give it a cm stream, not CSV");
    start_run(p, fn, ctx);
    cm_kv set = {0};
    cm_status st = replay_settings(p, lenient, &set, err);
    if (!st && !(p->clean = cm_clean_new_tz(&set, p->tz, err)))
        st = err->status;
    cm_kv_release(&set);
    if (!st) {
        cm_clean_on_drop(p->clean, on_drop, p);
        st = cm_clean_each(p->clean, in, name, on_clean, p, err);
    }
    if (!st && !p->rows_schema) /* no row at all: the header still tells */
        st = start_features(p, cm_clean_out_schema(p->clean), err);
    if (!st)
        st = finish(p, err);
    end_run(p);
    return st;
}

cm_status cm_predict_stream(cm_predictor *p, cm_reader *r, cm_pred_fn fn, void *ctx,
                            cm_error *err)
{
    start_run(p, fn, ctx);
    const cm_schema *s = cm_reader_schema(r);
    /* A stream of cm-clean still needs the features; one of cm-features
     * has them all. */
    cm_status st = CM_OK;
    if (p->feat_step >= 0 && find_step(s, "features") < 0) {
        st = start_features(p, s, err);
    } else {
        p->rows_schema = s;
        find_actual(p);
    }
    cm_batch *b;
    int got = 0;
    while (!st && (got = cm_reader_next(r, &b, err)) == 1)
        st = p->feat ? cm_features_push(p->feat, b, on_rows, p, err) : on_rows(p, b, err);
    if (!st && got < 0)
        st = err->status;
    if (!st)
        st = finish(p, err);
    end_run(p);
    return st;
}

/* A row of fields goes to a cleaner set up once per predictor with every
 * raw field of the recipe as its header (those not given are empty), one
 * record at a time: the same conversion as a CSV replay, without reading
 * a header, a schema and settings per request.  The feature builder is
 * new for each row, so nothing of one request reaches the next. */
static void release_prepared(cm_predictor *p)
{
    cm_features_free(p->pfeat);
    p->pfeat = NULL;
    cm_clean_free(p->prep);
    cm_batch_free(p->row);
    free(p->fnames), free(p->fvals), free(p->flens);
    p->prep = NULL;
    p->row = NULL;
    p->fnames = p->fvals = NULL;
    p->flens = NULL;
}

static cm_status prepare(cm_predictor *p, cm_error *err)
{
    cm_model_field f;
    size_t n = 0;
    while (cm_model_field_at(p->m, n, &f))
        n++;
    if (!(p->fnames = calloc(n + 1, sizeof *p->fnames)) ||
        !(p->fvals = calloc(n + 1, sizeof *p->fvals)) ||
        !(p->flens = calloc(n + 1, sizeof *p->flens)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        cm_model_field_at(p->m, i, &f);
        p->fnames[i] = f.name;
    }
    p->nfields = n;
    cm_kv set = {0};
    p->one = 1;
    cm_status st = replay_settings(p, 1, &set, err);
    p->one = 0;
    if (!st && !(p->prep = cm_clean_new_tz(&set, p->tz, err)))
        st = err->status;
    cm_kv_release(&set);
    if (!st)
        st = cm_clean_prepare(p->prep, n, p->fnames, "(fields)", err);
    if (!st && !(p->row = cm_batch_new(cm_clean_out_schema(p->prep), 1)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    /* the feature builder too, once: each row resets it */
    p->one = 1;
    if (!st && p->feat_step >= 0 && !(st = start_features(p, cm_clean_out_schema(p->prep), err))) {
        p->pfeat = p->feat;
        p->feat = NULL;
    }
    p->one = 0;
    return st;
}

/* Categories a row brings are added to the cleaner's dictionaries; a
 * server meeting endless new ones starts a fresh cleaner now and then. */
static void forget_categories(cm_predictor *p)
{
    const cm_schema *s = cm_clean_out_schema(p->prep);
    for (size_t c = 0; c < cm_schema_ncols(s); c++) {
        const cm_dict *d = cm_schema_dict_c(s, c);
        if (d && cm_dict_size(d) > 65536) {
            release_prepared(p);
            return;
        }
    }
}

cm_status cm_predict_fields(cm_predictor *p, const char *const *names,
                            const char *const *values, size_t n, cm_pred_fn fn,
                            void *ctx, cm_error *err)
{
    if (p->clean_step < 0)
        return cm_fail(err, CM_ERR_ARG, "the model's recipe has no clean step: "
                       "give it a cm stream, not fields");
    /* the first call, or after forget_categories or a failed prepare */
    if (!p->row) {
        release_prepared(p);
        if (prepare(p, err)) {
            release_prepared(p);
            return err->status;
        }
    }
    cm_status st = CM_OK;
    cm_kv_release(&p->fixed);
    for (size_t j = 0; j < p->nfields; j++) {
        p->fvals[j] = "";
        p->flens[j] = 0;
    }
    for (size_t i = 0; !st && i < n; i++) {
        for (size_t j = 0; j < i; j++)
            if (!strcmp(names[i], names[j]))
                st = cm_fail(err, CM_ERR_ARG, "%.64s: given twice", names[i]);
        size_t j = 0;
        while (j < p->nfields && strcmp(p->fnames[j], names[i]))
            j++;
        if (st) {
            break;
        } else if (j < p->nfields) {
            p->fvals[j] = values[i];
            p->flens[j] = strlen(values[i]);
        } else if (cm_model_needs(p->m, names[i])) {
            st = cm_predictor_fix(p, names[i], values[i], err);
        } else {
            st = cm_fail(err, CM_ERR_ARG, "not a field of the model's input");
            snprintf(err->column, sizeof err->column, "%s", names[i]);
        }
    }
    int drop = 0;
    if (!st)
        st = cm_clean_record(p->prep, p->nfields, p->fvals, p->flens, 1, p->row, 0, &drop,
                             err);
    if (!st) {
        start_run(p, fn, ctx);
        /* nothing of the last row's history may reach this one */
        if (p->pfeat)
            cm_features_reset(p->pfeat);
        p->feat = p->pfeat;
        p->rows_schema = p->pfeat ? cm_features_schema(p->pfeat) : cm_clean_out_schema(p->prep);
        find_actual(p);
        if (drop) { /* no time: the row is left out, as in a replay */
            on_drop(p, 1);
        } else {
            cm_batch_set_nrows(p->row, 1);
            st = p->feat ? cm_features_push(p->feat, p->row, on_rows, p, err)
                         : on_rows(p, p->row, err);
        }
        if (!st)
            st = finish(p, err);
        p->feat = NULL; /* kept in pfeat, not for end_run to free */
        end_run(p);
        forget_categories(p);
    }
    cm_kv_release(&p->fixed);
    return st;
}

typedef struct one {
    const cm_model *m;
    int got, ok;
    double pred;
    char *missing;
    size_t mn;
} one;

static cm_status take_one(void *ctx, const cm_pred_batch *p, cm_error *err)
{
    one *o = ctx;
    (void)err;
    if (p->n && !o->got) {
        o->got = 1;
        o->ok = p->ok[0];
        o->pred = p->pred[0];
        if (!o->ok)
            cm_pred_missing(o->m, p, 0, o->missing, o->mn);
    }
    return CM_OK;
}

int cm_predict_row(cm_predictor *p, const char *const *names, const char *const *values,
                   size_t n, double *pred, char *missing, size_t mn, cm_error *err)
{
    one res = {p->m, 0, 0, 0, missing, mn};
    if (mn)
        missing[0] = '\0';
    if (cm_predict_fields(p, names, values, n, take_one, &res, err))
        return -1;
    *pred = res.pred;
    return res.ok;
}

size_t cm_pred_missing(const cm_model *m, const cm_pred_batch *p, size_t i, char *buf,
                       size_t n)
{
    size_t len = 0, r = p->at[i];
    if (n)
        buf[0] = '\0';
    if (r == SIZE_MAX) /* cleaning left the row out: it had no time */
        return (size_t)snprintf(buf, n, "the time");
    for (size_t k = 0; k < cm_model_ninputs(m); k++) {
        const char *name = cm_model_input(m, k);
        long c = cm_schema_find(p->schema, name);
        int gone = c < 0 || !cm_batch_valid_c(p->b, (size_t)c)[r];
        if (!gone && cm_schema_dtype(p->schema, (size_t)c) == CM_F64)
            gone = !isfinite(((const double *)cm_batch_values_c(p->b, (size_t)c))[r]);
        if (gone && len < n) {
            int w = snprintf(buf + len, n - len, "%s%s", len ? ", " : "", name);
            len += w > 0 ? (size_t)w : 0;
        }
    }
    return len < n ? len : n ? n - 1 : 0;
}

/* The fields of the training input, their types and categories, then
 * the inputs the recipe derives, then the model's metadata. */
void cm_model_describe_inputs(const cm_model *m, FILE *out)
{
    const cm_schema *s = cm_model_schema(m);
    long step = find_step(s, "clean");
    fprintf(out, "target: %s\n", cm_model_target(m));
    if (step >= 0) {
        const cm_kv *k = cm_recipe_params_c(s, (size_t)step);
        fputs("fields:\n", out);
        for (size_t i = 0; i < cm_kv_count(k); i++) {
            const char *key = cm_kv_key(k, i), *v = cm_kv_value(k, i), *name = key + 5;
            if (strncmp(key, "type.", 5) || !strcmp(v, "skip"))
                continue;
            long c = cm_schema_find(s, name);
            const cm_dict *d = c >= 0 ? cm_schema_dict_c(s, (size_t)c) : NULL;
            /* only those the model learned; the others take its unseen slot */
            uint32_t known = 0;
            for (size_t f = 0; f < m->enc.nf; f++)
                if (m->enc.f[f].cat && !strcmp(m->enc.f[f].name, name))
                    known = m->enc.f[f].ncats;
            fprintf(out, "  %s: %s", name, !strcmp(v, "num") ? "number"
                                           : !strcmp(v, "cat") ? "category" : "time");
            for (uint32_t j = 0; d && j < cm_dict_size(d) && j < known; j++) {
                size_t len;
                const char *str = cm_dict_string(d, j, &len);
                fprintf(out, "%s%.*s", j ? ", " : " (", (int)len, str);
            }
            fputs(d && cm_dict_size(d) && known ? ")\n" : "\n", out);
        }
        const char *tz = cm_kv_get(k, "tz");
        if (tz)
            fprintf(out, "time zone: %s\n", tz);
    }
    fputs("derived inputs:", out);
    for (size_t i = 0, n = 0; i < cm_model_ninputs(m); i++) {
        const char *name = cm_model_input(m, i);
        char key[CM_MAX_NAME + 8];
        snprintf(key, sizeof key, "type.%s", name);
        if (step < 0 || !cm_kv_get(cm_recipe_params_c(s, (size_t)step), key))
            fprintf(out, "%s%s", n++ ? ", " : " ", name);
    }
    fputs("\nmetadata:\n", out);
    const cm_kv *meta = cm_model_meta(m);
    for (size_t i = 0; i < cm_kv_count(meta); i++)
        fprintf(out, "  %s=%s\n", cm_kv_key(meta, i), cm_kv_value(meta, i));
}

/* The raw fields of the training input, one by one: 0 past the last. */
int cm_model_field_at(const cm_model *m, size_t i, cm_model_field *out)
{
    const cm_schema *s = cm_model_schema(m);
    long step = find_step(s, "clean");
    if (step < 0)
        return 0;
    const cm_kv *k = cm_recipe_params_c(s, (size_t)step);
    for (size_t j = 0, n = 0; j < cm_kv_count(k); j++) {
        const char *key = cm_kv_key(k, j), *v = cm_kv_value(k, j);
        if (strncmp(key, "type.", 5) || !strcmp(v, "skip") || n++ < i)
            continue;
        *out = (cm_model_field){key + 5, !strcmp(v, "num") ? "number"
                                        : !strcmp(v, "cat") ? "category" : "time", 0, NULL};
        long c = cm_schema_find(s, out->name);
        const cm_dict *d = c >= 0 ? cm_schema_dict_c(s, (size_t)c) : NULL;
        for (size_t f = 0; d && f < m->enc.nf; f++)
            if (m->enc.f[f].cat && !strcmp(m->enc.f[f].name, out->name))
                out->ncats = m->enc.f[f].ncats;
        out->dict = d;
        return 1;
    }
    return 0;
}

const char *cm_model_field_category(const cm_model_field *f, size_t k, size_t *len)
{
    return cm_dict_string(f->dict, (uint32_t)k, len);
}

int cm_model_is_field(const cm_model *m, const char *name)
{
    cm_model_field f;
    for (size_t i = 0; cm_model_field_at(m, i, &f); i++)
        if (!strcmp(f.name, name))
            return 1;
    return 0;
}

char cm_model_decimal(const cm_model *m)
{
    const cm_schema *s = cm_model_schema(m);
    long step = find_step(s, "clean");
    const char *d = step >= 0 ? cm_kv_get(cm_recipe_params_c(s, (size_t)step), "decimal") : NULL;
    return d && d[0] == ',' ? ',' : '.';
}
