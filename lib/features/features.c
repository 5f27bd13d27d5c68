/* features.c - a features builder: its plan checked against the input
 * schema and turned into the output schema, and recorded as the
 * "features" step of its recipe. */
#include <stdlib.h>
#include <string.h>

#include "features/featcore.h"

static cm_status no_column(const cm_schema *s, const char *what, const char *name,
                           cm_error *err)
{
    return cm_schema_no_column(s, what, name, err);
}

/* ---- building ------------------------------------------------------------ */

static cm_status add_derived(cm_features *f, int kind, int part, size_t src,
                             int64_t span, int by_rows, int months, const char *name,
                             cm_error *err)
{
    derived *d = realloc(f->d, (f->nd + 1) * sizeof *d);
    if (!d)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    f->d = d;
    size_t out;
    cm_status st = cm_schema_add(f->out, name, CM_F64, CM_ROLE_FEATURE, &out, err);
    if (st == CM_ERR_DATA) /* the name is taken */
        return cm_fail(err, CM_ERR_ARG, cm_schema_find(f->in, name) >= 0
                       ? "the derived column '%s' exists already as an input "
                         "column; drop or rename it"
                       : "the derived column '%s' is asked for twice", name);
    if (st)
        return st;
    f->d[f->nd++] = (derived){kind, part, src, span, by_rows, months, out};
    int64_t secs = feat_span_seconds(span, months);
    if (kind >= D_LAG) {
        if (by_rows && (uint64_t)span > f->max_rows)
            f->max_rows = (uint64_t)span, f->reach_rows = out;
        if (!by_rows && secs > f->max_span)
            f->max_span = secs, f->reach_span = out;
    }
    return CM_OK;
}

/* The history slot of input column col (ABSENT: one the rows lack, all
 * missing), added on first use. */
static cm_status hist_slot(cm_features *f, size_t col, size_t *slot, cm_error *err)
{
    for (size_t i = 0; i < f->nhist; i++)
        if (f->hist_col[i] == col)
            return *slot = i, CM_OK;
    size_t *h = realloc(f->hist_col, (f->nhist + 1) * sizeof *h);
    if (!h)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    f->hist_col = h;
    h[f->nhist] = col;
    *slot = f->nhist++;
    return CM_OK;
}

/* The source of a lag, window or difference: a numeric input column. */
static cm_status source(cm_features *f, const char *what, const char *name,
                        size_t *slot, cm_error *err)
{
    long c = cm_schema_find(f->in, name);
    if (c < 0 && f->o.may_lack)
        return hist_slot(f, ABSENT, slot, err);
    if (c < 0)
        return no_column(f->in, what, name, err);
    cm_dtype t = cm_schema_dtype(f->in, (size_t)c);
    if (t == CM_CAT || t == CM_TIME)
        return cm_fail(err, CM_ERR_ARG, "%s: column '%s' is %s, not a number",
                       what, name, t == CM_CAT ? "a category" : "a time");
    return hist_slot(f, (size_t)c, slot, err);
}

static cm_status need_time(cm_features *f, const char *what, const char *spec,
                           cm_error *err)
{
    if (f->time_col >= 0)
        return CM_OK;
    return cm_fail(err, CM_ERR_ARG, "%s '%s': durations need a time column "
                   "(give a number of rows instead)", what, spec);
}

/* The sequence: a lag of each column at every step, oldest step first,
 * the columns in the order given within a step (a network reads them so:
 * seq_a_W, seq_b_W, ..., seq_a_1, seq_b_1). */
static cm_status derive_sequence(cm_features *f, const feat_spec *sp, cm_error *err)
{
    char name[CM_MAX_NAME + 160];
    size_t *slot = calloc(sp->cols.n, sizeof *slot);
    cm_status st = slot ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t c = 0; !st && c < sp->cols.n; c++)
        st = source(f, "sequence", sp->cols.item[c], &slot[c], err);
    if (!st && f->time_col < 0)
        st = cm_fail(err, CM_ERR_ARG, "sequence '%s': a window needs a time column",
                     sp->text);
    for (int64_t k = sp->steps; !st && k >= 1; k--)
        for (size_t c = 0; !st && c < sp->cols.n; c++) {
            snprintf(name, sizeof name, CM_SEQ_NAME, sp->cols.item[c], (long long)k);
            st = add_derived(f, D_LAG, 0, slot[c], k * sp->spans[0].span, 0,
                             sp->spans[0].months, name, err);
        }
    free(slot);
    return st;
}

/* One lag.N, diff.N or rolling.N of the plan: its columns. */
static cm_status derive(cm_features *f, const feat_spec *sp, cm_error *err)
{
    const char *what = sp->kind == D_ROLL ? "rolling" : sp->kind == D_LAG ? "lag" : "diff";
    char name[CM_MAX_NAME + 160];
    size_t slot = 0;
    if (sp->kind == D_SEQ)
        return derive_sequence(f, sp, err);
    cm_status st = source(f, what, sp->col, &slot, err);
    if (!st && sp->kind == D_DIFF && cm_schema_find(f->in, sp->col) == f->target_col)
        return cm_fail(err, CM_ERR_ARG, "diff '%s': a difference of the target "
                       "uses the value to be forecast; lag it instead", sp->text);
    for (size_t i = 0; !st && i < sp->nspans; i++)
        if (!sp->spans[i].by_rows)
            st = need_time(f, what, sp->text, err);
    for (size_t i = 0; !st && sp->kind != D_ROLL && i < sp->nspans; i++) {
        const feat_span *s = &sp->spans[i];
        snprintf(name, sizeof name, "%s_%s%s", sp->col, sp->kind == D_LAG ? "lag" : "diff",
                 s->text);
        st = add_derived(f, sp->kind, 0, slot, s->span, s->by_rows, s->months, name, err);
    }
    for (size_t i = 0; !st && sp->kind == D_ROLL && i < sp->nstats; i++) {
        const feat_span *s = &sp->spans[0];
        snprintf(name, sizeof name, "%s_%s%s", sp->col, cm_feature_stats[sp->stats[i]],
                 s->text);
        st = add_derived(f, D_ROLL, sp->stats[i], slot, s->span, s->by_rows, s->months, name,
                         err);
    }
    return st;
}

static cm_status calendar(cm_features *f, cm_error *err)
{
    const cm_features_plan *p = f->p;
    char name[80];
    cm_status st = CM_OK;
    if (!strcmp(p->r.time_features, "none") || (!p->parts_given && f->time_col < 0))
        return CM_OK; /* the default set applies where there is a time */
    if (f->time_col < 0)
        return cm_fail(err, CM_ERR_ARG, "time features need a time column");
    for (size_t i = 0; !st && i < p->nparts; i++) {
        int part = p->parts[i];
        st = add_derived(f, D_PART, part, 0, 0, 0, 0, cm_feature_parts[part], err);
        if (!st && p->r.cyclic && part != P_YEAR && part != P_WEEKEND) {
            snprintf(name, sizeof name, "%s_sin", cm_feature_parts[part]);
            st = add_derived(f, D_SIN, part, 0, 0, 0, 0, name, err);
            snprintf(name, sizeof name, "%s_cos", cm_feature_parts[part]);
            if (!st)
                st = add_derived(f, D_COS, part, 0, 0, 0, 0, name, err);
        }
    }
    return st;
}

/* ---- the whole ------------------------------------------------------------ */

/* A column a setting names, which the input must have. */
static cm_status named(const cm_features *f, const char *what, const char *name,
                       long *col, cm_error *err)
{
    if (!name || (*col = cm_schema_find(f->in, name)) >= 0)
        return CM_OK;
    return no_column(f->in, what, name, err);
}

static cm_status build(cm_features *f, cm_error *err)
{
    const cm_schema *in = f->in;
    const cm_features_plan *p = f->p;
    const char *target = p->r.target, *hcol = p->r.holiday_col;
    long tcol = -1, unused;
    cm_status st = f->o.may_lack && target && cm_schema_find(in, target) < 0
                       ? CM_OK : named(f, "target", target, &tcol, err);
    for (size_t c = 0; !target && c < cm_schema_ncols(in); c++)
        if (cm_schema_role(in, c) == CM_ROLE_TARGET)
            tcol = (long)c; /* an earlier stage's target stays the target */
    if (!st && tcol >= 0 && cm_schema_dtype(in, (size_t)tcol) != CM_F32 &&
        cm_schema_dtype(in, (size_t)tcol) != CM_F64 && cm_schema_dtype(in, (size_t)tcol) != CM_I64)
        st = cm_fail(err, CM_ERR_ARG, "target: column '%s' is %s; cm forecasts "
                     "numbers", cm_schema_name(in, (size_t)tcol),
                     cm_schema_dtype(in, (size_t)tcol) == CM_CAT ? "a category" : "a time");
    if (!st && (p->r.holidays || hcol) && f->time_col < 0)
        st = cm_fail(err, CM_ERR_ARG, "holidays need a time column");
    if (!st && f->time_col >= 0 &&
        cm_list_find(&p->drop, cm_schema_name(in, (size_t)f->time_col)) >= 0)
        st = cm_fail(err, CM_ERR_ARG, "drop: '%s' is the time column; it stays",
                     cm_schema_name(in, (size_t)f->time_col));
    f->target_col = tcol;
    if (!st)
        st = named(f, "by", p->r.by, &f->by_col, err);
    if (!st && p->r.by && cm_schema_dtype(in, (size_t)f->by_col) != CM_CAT)
        st = cm_fail(err, CM_ERR_ARG, "by: column '%s' is not a category", p->r.by);
    if (!st)
        st = named(f, "holiday-col", hcol, &f->holiday_col, err);
    if (!st && hcol && cm_schema_dtype(in, (size_t)f->holiday_col) != CM_CAT)
        st = cm_fail(err, CM_ERR_ARG, "holiday-col: column '%s' is not a category", hcol);
    for (size_t i = 0; !st && i < p->drop.n; i++)
        if (*p->drop.item[i])
            st = named(f, "drop", p->drop.item[i], &unused, err);
    for (size_t i = 0; !st && i < p->keep.n; i++)
        st = named(f, "keep", p->keep.item[i], &unused, err);
    if (st)
        return st;

    /* Passed through: the input's columns, chosen, with the target last. */
    if (!(f->out = cm_schema_new()) || cm_kv_copy(cm_schema_meta(f->out),
                                                  cm_schema_meta_c(in), err) ||
        cm_kv_set(cm_schema_meta(f->out), "producer", "cm-features " CM_VERSION_STRING, err))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!(f->pass = calloc(cm_schema_ncols(in) + 1, sizeof *f->pass)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (int round = 0; round < 2 && !st; round++) {
        if (round == 1) {
            /* derived columns go between the inputs and the target */
            st = calendar(f, err);
            if (!st && (p->r.holidays || hcol))
                st = add_derived(f, D_HOLIDAY, 0, 0, 0, 0, 0, "is_holiday", err);
            for (size_t i = 0; !st && i < p->nspecs; i++)
                st = derive(f, &p->specs[i], err);
        }
        for (size_t c = 0; c < cm_schema_ncols(in) && !st; c++) {
            const char *name = cm_schema_name(in, c);
            int is_target = (long)c == tcol;
            if (is_target != round)
                continue;
            int carried = f->o.carry && !strcmp(name, f->o.carry);
            int left_out = (p->r.keep && cm_list_find(&p->keep, name) < 0) ||
                           cm_list_find(&p->drop, name) >= 0;
            /* the series key left out stays, as an id and not an input:
             * the rows must still say which series each is */
            int key_only = left_out && (long)c == f->by_col;
            if ((long)c != f->time_col && !is_target && !carried && left_out && !key_only)
                continue;
            size_t o;
            cm_role role = is_target ? CM_ROLE_TARGET
                         : key_only ? CM_ROLE_ID
                         : cm_schema_role(in, c) == CM_ROLE_TARGET ? CM_ROLE_FEATURE
                                                                  : cm_schema_role(in, c);
            st = cm_schema_add(f->out, name, cm_schema_dtype(in, c), role, &o, err);
            if (!st)
                st = cm_kv_copy(cm_schema_col_meta(f->out, o),
                                cm_schema_col_meta_c(in, c), err);
            cm_dtype dt = cm_schema_dtype(in, c);
            f->pass[f->npass++] = (feat_pass){c, o, cm_dtype_width(dt), dt == CM_CAT};
        }
    }
    return st;
}

/* The recipe: the input's steps, then this one with every setting. */
static cm_status recipe(cm_features *f, cm_error *err)
{
    cm_status st = CM_OK;
    for (size_t i = 0; !st && i < cm_recipe_nsteps(f->in); i++) {
        size_t k;
        st = cm_recipe_add(f->out, cm_recipe_op(f->in, i), &k, err);
        if (!st)
            st = cm_kv_copy(cm_recipe_params(f->out, k), cm_recipe_params_c(f->in, i), err);
    }
    size_t k;
    if (!st)
        st = cm_recipe_add(f->out, "features", &k, err);
    if (!st)
        st = cm_kv_copy(cm_recipe_params(f->out, k), f->p->settings, err);
    if (!st && !f->p->parts_given && f->time_col >= 0)
        st = cm_kv_set(cm_recipe_params(f->out, k), "time-features", DEFAULT_PARTS, err);
    return st;
}

void cm_features_free(cm_features *f)
{
    if (!f)
        return;
    cm_schema_free(f->out);
    cm_tz_free(f->tz_owned);
    free(f->pass);
    free(f->d);
    free(f->hist_col);
    for (size_t i = 0; i < f->nser; i++)
        cm_history_free(&f->ser[i].h);
    free(f->ser);
    cm_batch_free(f->ob);
    free(f->vals);
    free(f->oks);
    free(f->dropped_by);
    cm_features_plan_free(f->owned);
    free(f);
}

void cm_features_reach(const cm_features *f, int64_t *span, uint64_t *rows,
                       const char **what)
{
    *span = f->max_span;
    *rows = f->max_rows;
    *what = f->max_span > 0 ? cm_schema_name(f->out, f->reach_span)
          : f->max_rows ? cm_schema_name(f->out, f->reach_rows) : NULL;
}

int64_t cm_features_earliest(const cm_features *f, int64_t t)
{
    int64_t from = t;
    for (size_t i = 0; i < f->nd; i++)
        if (f->d[i].kind >= D_LAG && !f->d[i].by_rows) {
            int64_t b = cm_features_back_time(f, &f->d[i], t);
            from = b < from ? b : from;
        }
    return from;
}

cm_features *cm_features_new(const cm_schema *in, const cm_kv *settings, cm_error *err)
{
    cm_features_plan *p = cm_features_plan_new(settings, err);
    cm_features *f = p ? cm_features_start(in, p, NULL, err) : NULL;
    if (f)
        f->owned = p;
    else
        cm_features_plan_free(p);
    return f;
}

cm_features *cm_features_start(const cm_schema *in, const cm_features_plan *p,
                               const cm_features_opts *o, cm_error *err)
{
    cm_features *f = calloc(1, sizeof *f);
    if (!f) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    f->p = p;
    if (o)
        f->o = *o;
    f->in = in;
    f->max_span = -1;
    f->time_col = f->by_col = f->holiday_col = -1;
    f->min_count = (size_t)p->r.min_count;
    f->max_history = (size_t)p->r.max_history;
    f->keep_incomplete = p->r.keep_incomplete || f->o.keep_incomplete;
    for (size_t c = 0; c < cm_schema_ncols(in); c++)
        if (cm_schema_role(in, c) == CM_ROLE_TIME && cm_schema_dtype(in, c) == CM_TIME)
            f->time_col = (long)c;
    cm_status st = CM_OK;
    const char *zone = f->time_col >= 0
                           ? cm_kv_get(cm_schema_col_meta_c(in, (size_t)f->time_col), "tz")
                           : NULL;
    const cm_tz *lent = f->o.tz;
    if (zone && lent && !strcmp(cm_tz_name(lent), zone))
        f->tz = lent; /* the caller's copy: no zone file read per replay */
    else if (zone && !(f->tz = f->tz_owned = cm_tz_load(zone, err)))
        st = err->status;
    if (!st)
        st = build(f, err);
    if (!st)
        st = recipe(f, err);
    size_t nout = f->out ? cm_schema_ncols(f->out) : 0;
    /* rows written together; a one-row replay wants few, a file many */
    size_t rows = f->o.batch_rows ? f->o.batch_rows : 4096;
    if (!st && (!(f->ob = cm_batch_new(f->out, rows)) ||
                !(f->vals = calloc(f->nhist + 1, sizeof *f->vals)) ||
                !(f->oks = calloc(f->nhist + 1, 1)) ||
                !(f->dropped_by = calloc(nout + 1, sizeof *f->dropped_by))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (st) {
        cm_features_free(f);
        return NULL;
    }
    return f;
}

void cm_features_reset(cm_features *f)
{
    for (size_t i = 0; i < f->nser; i++)
        cm_history_free(&f->ser[i].h);
    free(f->ser);
    f->ser = NULL;
    f->nser = 0;
    f->on = f->day_start = 0;
    f->cur_day = 0;
    f->day_holiday = f->have_day = 0;
    f->rows_in = f->rows_out = f->dropped = f->no_time = 0;
    memset(f->dropped_by, 0, (cm_schema_ncols(f->out) + 1) * sizeof *f->dropped_by);
}

const cm_schema *cm_features_schema(const cm_features *f)
{
    return f->out;
}

int cm_features_verdict(const cm_features *f, char *buf, size_t n)
{
    uint64_t lost = f->rows_in - f->rows_out;
    if (!f->rows_in || lost * 2 <= f->rows_in)
        return 0;
    int all = f->rows_out == 0;
    size_t len = (size_t)snprintf(buf, n, all ? "every row was dropped: " : "%llu of %llu rows "
                                  "dropped: ", (unsigned long long)lost,
                                  (unsigned long long)f->rows_in);
    buf += len < n ? len : n, n -= len < n ? len : n;
    if (f->no_time > f->dropped) {
        snprintf(buf, n, "%llu without a time", (unsigned long long)f->no_time);
    } else {
        size_t top = 0, nout = cm_schema_ncols(f->out);
        for (size_t c = 1; c < nout; c++)
            if (f->dropped_by[c] > f->dropped_by[top])
                top = c;
        snprintf(buf, n, "a derived value missing, most often '%s' (%llu rows; a lag or "
                 "window without history: --keep-incomplete keeps such rows)",
                 nout ? cm_schema_name(f->out, top) : "?",
                 (unsigned long long)(nout ? f->dropped_by[top] : 0));
    }
    return all ? -1 : 1;
}

void cm_features_report(const cm_features *f, FILE *out)
{
    fprintf(out, "rows read: %llu\nrows written: %llu\nrows dropped: %llu "
            "(a derived value missing), %llu (no time)\n", (unsigned long long)f->rows_in,
            (unsigned long long)f->rows_out, (unsigned long long)f->dropped,
            (unsigned long long)f->no_time);
    for (size_t c = 0; c < cm_schema_ncols(f->out); c++)
        if (f->dropped_by[c])
            fprintf(out, "  %s: missing in %llu dropped rows\n", cm_schema_name(f->out, c),
                    (unsigned long long)f->dropped_by[c]);
}
