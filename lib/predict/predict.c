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

/* A sequence model's windows alone, for a stream whose features step
 * made the rest (as cm-train derived them from it). */
static cm_features_plan *window_plan(const cm_kv *fp, cm_error *err)
{
    cm_kv *set = cm_kv_new();
    const char *by = cm_kv_get(fp, "by");
    cm_status st = set ? cm_kv_set(set, "sequence", cm_kv_get(fp, "sequence"), err)
                       : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st) st = cm_kv_set(set, "time-features", "none", err);
    if (!st && by) st = cm_kv_set(set, "by", by, err);
    cm_features_plan *plan = st ? NULL : cm_features_plan_new(set, err);
    cm_kv_free(set);
    return plan;
}

void cm_predictor_free(cm_predictor *p)
{
    if (!p)
        return;
    cm_predict_forget(p);
    cm_clean_plan_free(p->clean);
    cm_features_plan_free(p->feat);
    cm_features_plan_free(p->winplan);
    cm_kv_free(p->fixed);
    free(p->st.missing);
    free(p->tpred), free(p->tok), free(p->twhy), free(p->tfar);
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
    const cm_kv *fp = feat >= 0 ? cm_recipe_params_c(s, (size_t)feat) : NULL;
    if (fp && cm_kv_get(fp, "sequence") && !(p->winplan = window_plan(fp, err))) {
        cm_predictor_free(p);
        return NULL;
    }
    return p;
}

const cm_model *cm_predictor_model(const cm_predictor *p)
{
    return p->m;
}

const cm_clean_plan *cm_predictor_clean_plan(const cm_predictor *p)
{
    return p->clean;
}

const cm_features_plan *cm_predictor_features_plan(const cm_predictor *p)
{
    return p->feat;
}

cm_clean *cm_predictor_cleaner(cm_predictor *p, int by_hand, cm_error *err)
{
    if (!p->clean) {
        cm_fail(err, CM_ERR_ARG, "the model's recipe has no clean step: give it a cm "
                "stream, not CSV");
        return NULL;
    }
    /* a forecaster holds its rows itself: none needs a number; rows of
     * fields may lack any (they say what they lack) */
    p->lenient = by_hand;
    cm_clean_opts o = cm_predictor_clean_opts(p, 0, by_hand);
    o.number = 0;
    return cm_clean_start(p->clean, &o, err);
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

/* ---- results ------------------------------------------------------------------ */

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

/* The rows the model reads: given inputs set, forecasts made, and on to
 * be put in input order. */
cm_status cm_predictor_on_rows(void *ctx, cm_batch *b, cm_error *err)
{
    cm_predictor *p = ctx;
    size_t n = cm_batch_nrows(b);
    if (p->late.status) {
        *err = p->late;
        return err->status;
    }
    if (n > p->tcap) {
        size_t cap = cm_cap_for(p->tcap, n, 1024);
        if (cm_resize(&p->tpred, p->tcap, cap, sizeof *p->tpred, err) ||
            cm_resize(&p->tok, p->tcap, cap, 1, err) ||
            cm_resize(&p->twhy, p->tcap, cap, sizeof *p->twhy, err) ||
            cm_resize(&p->tfar, p->tcap, cap, sizeof *p->tfar, err))
            return CM_ERR_NOMEM;
        p->tcap = cap;
    }
    if (put_fixed(p, b, err) ||
        cm_model_predict(p->m, p->rows_schema, b, p->tpred, p->tok, p->twhy, &p->st.unseen,
                         err) ||
        cm_model_far(p->m, p->rows_schema, b, p->tfar, err))
        return err->status;
    for (size_t i = 0; i < n; i++)
        if (p->tok[i] && !isfinite(p->tpred[i])) { /* inputs far beyond the training range */
            p->tok[i] = 0;
            p->twhy[i] = SIZE_MAX;
            p->st.not_finite++;
        }
    for (size_t i = 0; i < n; i++)
        if (p->tfar[i] && p->tok[i] && !p->st.far++)
            p->st.far_input = p->tfar[i];
    return cm_order_rows(p, b, p->tpred, p->tok, p->twhy, p->tfar, err);
}

static cm_status start_features(cm_predictor *p, const cm_schema *in, cm_error *err);

/* A record cleaning left out may come before any row: the rows the
 * model reads are known by then, as the cleaned rows are. */
void cm_predictor_on_drop(void *ctx, const cm_clean_left *l)
{
    cm_predictor *p = ctx;
    if (!p->rows_schema && p->cleaner && !p->late.status)
        start_features(p, cm_clean_out_schema(p->cleaner), &p->late);
    cm_order_left(p, l);
}

/* Hands on what the features step still holds, then the results still
 * waiting for their turn. */
cm_status cm_predictor_finish(cm_predictor *p, cm_error *err)
{
    if (p->builder && cm_features_finish(p->builder, cm_predictor_on_rows, p, err))
        return err->status;
    return cm_order_finish(p, err);
}

/* ---- the steps -------------------------------------------------------------- */

/* The rows carry the actual target when the input had it, and their
 * record numbers when cleaning may have reordered them. */
void cm_predictor_rows_from(cm_predictor *p, const cm_schema *rows, int lacks_target)
{
    p->rows_schema = rows;
    p->has_actual = cm_schema_find(rows, cm_model_target(p->m)) >= 0 && !lacks_target;
    cm_order_start(p, cm_schema_find(rows, CM_CLEAN_RECORD));
    /* rows cleaning leaves out keep their time, ids and actual value */
    const cm_schema *clean = p->cleaner ? cm_clean_out_schema(p->cleaner) : NULL;
    size_t n = cm_schema_ncols(rows);
    free(p->from_clean);
    p->from_clean = clean ? malloc((n + 1) * sizeof *p->from_clean) : NULL;
    for (size_t c = 0; p->from_clean && c < n; c++)
        p->from_clean[c] = cm_schema_find(clean, cm_schema_name(rows, c));
}

static int lacks_target(const cm_predictor *p)
{
    return p->cleaner && cm_clean_lacks(p->cleaner, cm_model_target(p->m));
}

/* A replay: rows whose lags lack history come out, to be counted, not
 * lost; the record numbers carried. */
static cm_features_opts replay_opts(const cm_predictor *p, size_t batch_rows)
{
    return (cm_features_opts){1, batch_rows, cm_predictor_tz(p), CM_CLEAN_RECORD, 1};
}

cm_status cm_predictor_features(cm_predictor *p, const cm_schema *in, size_t batch_rows,
                                cm_features **out, cm_error *err)
{
    cm_features_opts o = replay_opts(p, batch_rows);
    return (*out = cm_features_start(in, p->feat, &o, err)) ? CM_OK : err->status;
}

/* Rows through plan, when there is one. */
static cm_status start_plan(cm_predictor *p, const cm_features_plan *plan, const cm_schema *in,
                            cm_error *err)
{
    cm_features_opts o = replay_opts(p, 0);
    if (plan && !(p->builder = cm_features_start(in, plan, &o, err)))
        return err->status;
    cm_predictor_rows_from(p, p->builder ? cm_features_schema(p->builder) : in,
                           lacks_target(p));
    return CM_OK;
}

static cm_status start_features(cm_predictor *p, const cm_schema *in, cm_error *err)
{
    return start_plan(p, p->feat, in, err);
}

static cm_status on_clean(void *ctx, cm_batch *b, cm_error *err)
{
    cm_predictor *p = ctx;
    if (p->late.status) {
        *err = p->late;
        return err->status;
    }
    if (!p->rows_schema && start_features(p, cm_clean_out_schema(p->cleaner), err))
        return err->status;
    return p->builder ? cm_features_push(p->builder, b, cm_predictor_on_rows, p, err)
                      : cm_predictor_on_rows(p, b, err);
}

void cm_predictor_end_run(cm_predictor *p)
{
    cm_features_free(p->builder);
    cm_clean_free(p->cleaner);
    cm_order_free(p);
    p->builder = NULL;
    p->cleaner = NULL;
    p->rows_schema = NULL;
    cm_error_clear(&p->late);
}

void cm_predictor_start_run(cm_predictor *p, cm_pred_fn fn, void *ctx)
{
    size_t n = cm_model_ninputs(p->m);
    uint64_t *missing = p->st.missing;
    memset(missing, 0, (n + 1) * sizeof *missing);
    p->st = (cm_pred_stats){.missing = missing};
    p->fn = fn;
    p->ctx = ctx;
    cm_order_start(p, -1);
}

/* A raw column the input lacks is allowed when the model can do without
 * it: one it does not read as it is, and no part of the time (lenient:
 * any). */
static int may_lack(void *ctx, const char *column, int is_time)
{
    const cm_predictor *p = ctx;
    return p->lenient || (!is_time && !cm_model_needs(p->m, column));
}

/* A replay of the clean step: the target, which the rows come to have
 * forecast, may be missing without leaving a row out. */
cm_clean_opts cm_predictor_clean_opts(cm_predictor *p, size_t batch_rows, int by_hand)
{
    return (cm_clean_opts){1, may_lack, p, batch_rows, cm_model_target(p->m), !by_hand,
                           by_hand};
}

cm_status cm_predict_csv(cm_predictor *p, FILE *in, const char *name, int lenient,
                         cm_pred_fn fn, void *ctx, cm_error *err)
{
    if (!p->clean)
        return cm_fail(err, CM_ERR_ARG, "the model's recipe has no clean step: "
                       "give it a cm stream, not CSV");
    cm_predictor_start_run(p, fn, ctx);
    p->lenient = lenient;
    cm_clean_opts o = cm_predictor_clean_opts(p, 0, 0);
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
     * has them all, but for a sequence model's windows, which cm-train
     * derived itself. */
    cm_status st = CM_OK;
    if (p->feat && find_step(s, "features") < 0)
        st = start_features(p, s, err);
    else if (p->winplan && cm_schema_find(s, cm_model_input(p->m, 0)) < 0)
        st = start_plan(p, p->winplan, s, err);
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
