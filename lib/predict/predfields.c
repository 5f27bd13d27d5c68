/* predfields.c - one row given as fields by name (cm-predict NAME=VALUE,
 * a cm-serve request): a cleaner set up once per predictor with every raw
 * field of the recipe as its header (those not given are empty), one
 * record at a time: the same conversion as a CSV replay, without reading
 * a header or compiling a plan per request.  The feature builder is also
 * made once and reset for each row, so nothing of one request reaches the
 * next. */
#include <stdlib.h>
#include <string.h>

#include "predict/predictor.h"

void cm_predict_forget(cm_predictor *p)
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
    const char *name, *kind;
    size_t n = 0;
    while (cm_clean_plan_field(p->clean, n, &name, &kind))
        n++;
    if (!(p->fnames = calloc(n + 1, sizeof *p->fnames)) ||
        !(p->fvals = calloc(n + 1, sizeof *p->fvals)) ||
        !(p->flens = calloc(n + 1, sizeof *p->flens)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        cm_clean_plan_field(p->clean, i, &p->fnames[i], &kind);
    p->nfields = n;
    /* any field may be missing: a row is a forecast or says what it lacks */
    p->lenient = 1;
    cm_clean_opts o = cm_predictor_clean_opts(p, 16, 0);
    cm_status st = (p->prep = cm_clean_start(p->clean, &o, err)) ? CM_OK : err->status;
    if (!st)
        st = cm_clean_prepare(p->prep, n, p->fnames, "(fields)", err);
    if (!st && !(p->row = cm_batch_new(cm_clean_out_schema(p->prep), 1)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st && p->feat)
        st = cm_predictor_features(p, cm_clean_out_schema(p->prep), 16, &p->pfeat, err);
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
            cm_predict_forget(p);
            return;
        }
    }
}

/* The fields by name into the prepared record; a derived input given by
 * name is fixed instead. */
static cm_status take_fields(cm_predictor *p, const char *const *names,
                             const char *const *values, size_t n, cm_error *err)
{
    for (size_t j = 0; j < p->nfields; j++) {
        p->fvals[j] = "";
        p->flens[j] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            if (!strcmp(names[i], names[j]))
                return cm_fail(err, CM_ERR_ARG, "%.64s: given twice", names[i]);
        size_t j = 0;
        while (j < p->nfields && strcmp(p->fnames[j], names[i]))
            j++;
        cm_status st = CM_OK;
        if (j < p->nfields) {
            p->fvals[j] = values[i];
            p->flens[j] = strlen(values[i]);
        } else if (cm_model_needs(p->m, names[i])) {
            st = cm_predictor_fix(p, names[i], values[i], err);
        } else {
            st = cm_fail(err, CM_ERR_ARG, "not a field of the model's input");
            snprintf(err->column, sizeof err->column, "%s", names[i]);
        }
        if (st)
            return st;
    }
    return CM_OK;
}

cm_status cm_predict_fields(cm_predictor *p, const char *const *names,
                            const char *const *values, size_t n, cm_pred_fn fn,
                            void *ctx, cm_error *err)
{
    if (!p->clean)
        return cm_fail(err, CM_ERR_ARG, "the model's recipe has no clean step: "
                       "give it a cm stream, not fields");
    /* the first call, or after forget_categories or a failed prepare */
    if (!p->row) {
        cm_predict_forget(p);
        if (prepare(p, err)) {
            cm_predict_forget(p);
            return err->status;
        }
    }
    cm_kv_clear(p->fixed);
    int drop = 0;
    cm_status st = take_fields(p, names, values, n, err);
    if (!st)
        st = cm_clean_record(p->prep, p->nfields, p->fvals, p->flens, 1, p->row, 0, &drop,
                             err);
    if (!st) {
        cm_predictor_start_run(p, fn, ctx);
        /* nothing of the last row's history may reach this one */
        if (p->pfeat)
            cm_features_reset(p->pfeat);
        p->builder = p->pfeat;
        cm_predictor_rows_from(p, p->pfeat ? cm_features_schema(p->pfeat)
                                           : cm_clean_out_schema(p->prep),
                               cm_clean_lacks(p->prep, cm_model_target(p->m)));
        if (drop) { /* no time: the row is left out, as in a replay */
            cm_predictor_on_drop(p, &(cm_clean_left){1, CM_CLEAN_NO_TIME, "", NULL, 0});
        } else {
            cm_batch_set_nrows(p->row, 1);
            st = p->builder ? cm_features_push(p->builder, p->row, cm_predictor_on_rows, p, err)
                            : cm_predictor_on_rows(p, p->row, err);
        }
        if (!st)
            st = cm_predictor_finish(p, err);
        p->builder = NULL; /* kept in pfeat, not for end_run to free */
        cm_predictor_end_run(p);
        forget_categories(p);
    }
    cm_kv_clear(p->fixed);
    return st;
}

typedef struct one {
    const cm_predictor *p;
    int got;
    cm_pred_one *out;
} one;

/* The first field that makes up the time: a row without a time blames it. */
static const char *time_field(const cm_predictor *p)
{
    const char *name, *kind;
    for (size_t i = 0; cm_clean_plan_field(p->clean, i, &name, &kind); i++)
        if (!strcmp(kind, "time"))
            return name;
    return NULL;
}

static cm_status take_one(void *ctx, const cm_pred_batch *b, cm_error *err)
{
    one *o = ctx;
    cm_pred_one *r = o->out;
    (void)err;
    if (!b->n || o->got)
        return CM_OK;
    o->got = 1;
    r->pred = b->pred[0];
    if (b->ok[0]) {
        r->why = CM_PRED_OK;
    } else if (b->at[0] == SIZE_MAX) { /* one record alone: only its time can lack */
        r->why = CM_PRED_NO_TIME;
        r->field = time_field(o->p);
    } else if (b->why[0] == SIZE_MAX) {
        r->why = CM_PRED_NOT_FINITE;
    } else {
        r->why = CM_PRED_MISSING;
        cm_pred_missing(o->p->m, b, 0, r->missing, sizeof r->missing);
        r->field = cm_model_input(o->p->m, b->why[0]);
    }
    return CM_OK;
}

cm_status cm_predict_row(cm_predictor *p, const char *const *names,
                         const char *const *values, size_t n, cm_pred_one *out,
                         cm_error *err)
{
    one res = {p, 0, out};
    *out = (cm_pred_one){0};
    return cm_predict_fields(p, names, values, n, take_one, &res, err);
}
