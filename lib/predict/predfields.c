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
    cm_clean_opts o = cm_predictor_clean_opts(p, 16, 1);
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

/* A doubt about the forecast, told if there is room. */
static char *doubt(cm_pred_one *r)
{
    return r->ndoubt++ < CM_PRED_DOUBTS ? r->doubt[r->ndoubt - 1] : NULL;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int same_but_case(const char *a, size_t na, const char *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (lower(a[i]) != lower(b[i]))
            return 0;
    return 1;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Category k of the row not among those the model learned: in its
 * unseen slot, which is a guess; the known ones are named. */
static void unseen(const cm_model *m, const char *name, const char *s, size_t len,
                   cm_pred_one *r)
{
    const cm_schema *ms = cm_model_schema(m);
    long col = cm_schema_find(ms, name);
    const cm_dict *d = col >= 0 ? cm_schema_dict_c(ms, (size_t)col) : NULL;
    size_t ncats = cm_model_categories(m, name);
    uint32_t code;
    if (!d || (cm_dict_find(d, s, len, &code) && code < ncats))
        return;
    char *t = doubt(r);
    const char **known = t ? malloc((ncats + 1) * sizeof *known) : NULL;
    if (!known)
        return;
    size_t n = sizeof r->doubt[0], k = (size_t)snprintf(t, n, "%s: '%.*s' was not seen in "
                                                         "training (known:", name,
                                                         (int)(len > 40 ? 40 : len), s);
    const char *like = NULL;
    for (uint32_t c = 0; c < ncats; c++) {
        size_t cl;
        known[c] = cm_dict_string(d, c, &cl);
        if (same_but_case(known[c], cl, s, len))
            like = known[c];
    }
    qsort(known, ncats, sizeof *known, by_text); /* as a person looks them up */
    for (size_t c = 0; c < ncats && c <= 12 && k < n; c++)
        k += (size_t)snprintf(t + k, n - k, c < 12 ? "%s %s" : ", ...", c ? "," : "",
                              known[c]);
    if (k < n && like)
        k += (size_t)snprintf(t + k, n - k, "; '%s' differs only in case", like);
    if (k < n)
        snprintf(t + k, n - k, ")");
    free(known);
}

/* What makes the forecast of row i of b doubtful. */
static void doubts(const cm_predictor *p, const cm_pred_batch *b, size_t i, cm_pred_one *r)
{
    const cm_model *m = p->m;
    size_t row = b->at[i];
    for (size_t k = 0; row != SIZE_MAX && k < cm_model_ninputs(m); k++) {
        const char *name = cm_model_input(m, k);
        long c = cm_schema_find(b->schema, name);
        if (c < 0 || cm_schema_dtype(b->schema, (size_t)c) != CM_CAT ||
            !cm_batch_valid_c(b->b, (size_t)c)[row])
            continue;
        size_t len;
        uint32_t code = ((const uint32_t *)cm_batch_values_c(b->b, (size_t)c))[row];
        const char *s = cm_dict_string(cm_schema_dict_c(b->schema, (size_t)c), code, &len);
        unseen(m, name, s, len, r);
    }
    double lo, hi;
    if (b->far[i] && cm_model_seen(m, b->far[i] - 1, &lo, &hi)) {
        const char *name = cm_model_input(m, b->far[i] - 1);
        long c = cm_schema_find(b->schema, name);
        char *t = doubt(r);
        if (t && c >= 0) {
            char v[32], a[32], z[32];
            cm_fmt_f64(v, sizeof v, cm_cell_f64(cm_batch_values_c(b->b, (size_t)c),
                                                cm_schema_dtype(b->schema, (size_t)c), row));
            cm_fmt_f64(a, sizeof a, lo);
            cm_fmt_f64(z, sizeof z, hi);
            snprintf(t, sizeof r->doubt[0], "%s: %s is far outside the %s to %s that "
                     "training saw", name, v, a, z);
        }
    }
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
        doubts(o->p, b, 0, r);
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
