/* predict.c - a model replayed on new rows: raw CSV through the cleaning
 * and feature steps of its recipe (the very code of cm-clean and
 * cm-features, their plans compiled once), or a cm stream through the
 * steps it lacks, then the model, one result per input row and in input
 * order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "predict/predictor.h"

static long find_step(const cm_schema *s, const char *op)
{
    for (size_t i = 0; i < cm_recipe_nsteps(s); i++)
        if (!strcmp(cm_recipe_op(s, i), op))
            return (long)i;
    return -1;
}

void cm_predictor_free(cm_predictor *p)
{
    if (!p)
        return;
    cm_predict_forget(p);
    cm_clean_plan_free(p->clean);
    cm_features_plan_free(p->feat);
    cm_kv_free(p->fixed);
    free(p->st.missing);
    free(p);
}

cm_predictor *cm_predictor_new(const cm_model *m, cm_error *err)
{
    cm_predictor *p = calloc(1, sizeof *p);
    if (!p || !(p->st.missing = calloc(cm_model_ninputs(m) + 1, sizeof *p->st.missing)) ||
        !(p->fixed = cm_kv_new())) {
        cm_predictor_free(p);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    p->m = m;
    const cm_schema *s = cm_model_schema(m);
    long clean = find_step(s, "clean"), feat = find_step(s, "features");
    if ((clean >= 0 && !(p->clean = cm_clean_plan_new(cm_recipe_params_c(s, (size_t)clean),
                                                      err))) ||
        (feat >= 0 && !(p->feat = cm_features_plan_new(cm_recipe_params_c(s, (size_t)feat),
                                                       err)))) {
        cm_predictor_free(p);
        return NULL;
    }
    return p;
}

const cm_tz *cm_predictor_tz(const cm_predictor *p)
{
    return p->clean ? cm_clean_plan_tz(p->clean) : NULL;
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
    return cm_kv_set(p->fixed, name, value, err);
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

/* Inputs given by name replace what the rows derived. */
static cm_status put_fixed(cm_predictor *p, cm_batch *b, cm_error *err)
{
    size_t n = cm_batch_nrows(b);
    for (size_t i = 0; i < cm_kv_count(p->fixed); i++) {
        long c = cm_schema_find(p->rows_schema, cm_kv_key(p->fixed, i));
        if (c < 0 || cm_schema_dtype(p->rows_schema, (size_t)c) != CM_F64)
            return cm_fail(err, CM_ERR_ARG, "%s: not an input the model derives",
                           cm_kv_key(p->fixed, i));
        const char *v = cm_kv_value(p->fixed, i);
        double x;
        cm_parse_num(v, strlen(v), '.', &x);
        double *values = cm_batch_values(b, (size_t)c);
        uint8_t *valid = cm_batch_valid(b, (size_t)c);
        for (size_t r = 0; r < n; r++) {
            values[r] = x;
            valid[r] = 1;
        }
    }
    return CM_OK;
}

/* The rows the model reads: given inputs set, forecasts made, rows left
 * out before them put back in their places. */
cm_status cm_predictor_on_rows(void *ctx, cm_batch *b, cm_error *err)
{
    cm_predictor *p = ctx;
    size_t n = cm_batch_nrows(b);
    if (put_fixed(p, b, err) || reserve(p, n + (p->ndrops - p->dhead), err))
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

void cm_predictor_on_drop(void *ctx, uint64_t row)
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

/* Hands on what the features step still holds, then the rows left out
 * after the last one that came through. */
cm_status cm_predictor_finish(cm_predictor *p, cm_error *err)
{
    if (p->builder && cm_features_finish(p->builder, cm_predictor_on_rows, p, err))
        return err->status;
    if (reserve(p, p->ndrops - p->dhead + 1, err))
        return err->status;
    return hand_over(p, NULL, add_drops(p, 0, 1), 1, err);
}

/* ---- the steps -------------------------------------------------------------- */

/* The rows carry the actual target when the input had it. */
void cm_predictor_rows_from(cm_predictor *p, const cm_schema *rows, int lacks_target)
{
    p->rows_schema = rows;
    p->has_actual = cm_schema_find(rows, cm_model_target(p->m)) >= 0 && !lacks_target;
}

static int lacks_target(const cm_predictor *p)
{
    return p->cleaner && cm_clean_lacks(p->cleaner, cm_model_target(p->m));
}

/* Rows whose lags lack history come out, to be counted, not lost. */
cm_status cm_predictor_features(cm_predictor *p, const cm_schema *in, size_t batch_rows,
                                cm_features **out, cm_error *err)
{
    cm_features_opts o = {1, batch_rows, cm_predictor_tz(p)};
    return (*out = cm_features_start(in, p->feat, &o, err)) ? CM_OK : err->status;
}

static cm_status start_features(cm_predictor *p, const cm_schema *in, cm_error *err)
{
    if (p->feat && cm_predictor_features(p, in, 0, &p->builder, err))
        return err->status;
    cm_predictor_rows_from(p, p->builder ? cm_features_schema(p->builder) : in,
                           lacks_target(p));
    return CM_OK;
}

static cm_status on_clean(void *ctx, cm_batch *b, cm_error *err)
{
    cm_predictor *p = ctx;
    if (p->oom)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!p->rows_schema && start_features(p, cm_clean_out_schema(p->cleaner), err))
        return err->status;
    return p->builder ? cm_features_push(p->builder, b, cm_predictor_on_rows, p, err)
                      : cm_predictor_on_rows(p, b, err);
}

void cm_predictor_end_run(cm_predictor *p)
{
    cm_features_free(p->builder);
    cm_clean_free(p->cleaner);
    free(p->drops), free(p->pred), free(p->ok), free(p->why), free(p->at);
    p->builder = NULL;
    p->cleaner = NULL;
    p->drops = NULL;
    p->pred = NULL, p->ok = NULL, p->why = NULL, p->at = NULL;
    p->ndrops = p->dhead = p->dcap = p->cap = 0;
    p->rows_schema = NULL;
}

void cm_predictor_start_run(cm_predictor *p, cm_pred_fn fn, void *ctx)
{
    size_t n = cm_model_ninputs(p->m);
    uint64_t *missing = p->st.missing;
    memset(missing, 0, (n + 1) * sizeof *missing);
    p->st = (cm_pred_stats){.missing = missing};
    p->fn = fn;
    p->ctx = ctx;
    p->handed = 0;
}

/* A raw column the input lacks is allowed when the model can do without
 * it: one it does not read as it is, and no part of the time (lenient:
 * any). */
static int may_lack(void *ctx, const char *column, int is_time)
{
    const cm_predictor *p = ctx;
    return p->lenient || (!is_time && !cm_model_needs(p->m, column));
}

cm_clean_opts cm_predictor_clean_opts(cm_predictor *p, size_t batch_rows)
{
    return (cm_clean_opts){1, may_lack, p, batch_rows};
}

cm_status cm_predict_csv(cm_predictor *p, FILE *in, const char *name, int lenient,
                         cm_pred_fn fn, void *ctx, cm_error *err)
{
    if (!p->clean)
        return cm_fail(err, CM_ERR_ARG, "the model's recipe has no clean step: "
                       "give it a cm stream, not CSV");
    cm_predictor_start_run(p, fn, ctx);
    p->lenient = lenient;
    cm_clean_opts o = cm_predictor_clean_opts(p, 0);
    cm_status st = (p->cleaner = cm_clean_start(p->clean, &o, err)) ? CM_OK : err->status;
    if (!st) {
        cm_clean_on_drop(p->cleaner, cm_predictor_on_drop, p);
        st = cm_clean_each(p->cleaner, in, name, on_clean, p, err);
    }
    if (!st && !p->rows_schema) /* no row at all: the header still tells */
        st = start_features(p, cm_clean_out_schema(p->cleaner), err);
    if (!st)
        st = cm_predictor_finish(p, err);
    cm_predictor_end_run(p);
    p->lenient = 0;
    return st;
}

cm_status cm_predict_stream(cm_predictor *p, cm_reader *r, cm_pred_fn fn, void *ctx,
                            cm_error *err)
{
    cm_predictor_start_run(p, fn, ctx);
    const cm_schema *s = cm_reader_schema(r);
    /* A stream of cm-clean still needs the features; one of cm-features
     * has them all. */
    cm_status st = CM_OK;
    if (p->feat && find_step(s, "features") < 0)
        st = start_features(p, s, err);
    else
        cm_predictor_rows_from(p, s, 0);
    cm_batch *b;
    int got = 0;
    while (!st && (got = cm_reader_next(r, &b, err)) == 1)
        st = p->builder ? cm_features_push(p->builder, b, cm_predictor_on_rows, p, err)
                        : cm_predictor_on_rows(p, b, err);
    if (!st && got < 0)
        st = err->status;
    if (!st)
        st = cm_predictor_finish(p, err);
    cm_predictor_end_run(p);
    return st;
}
