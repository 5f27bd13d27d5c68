/* fcrun.c - a forecaster: reading its history and future rows, then the
 * windows of a forecast (one per series, from its last time or the
 * origin given) or of a backtest (one per origin of a grid and series),
 * checked before a step is taken, run in blocks. */
#include <stdlib.h>
#include <string.h>

#include "forecast/forecast.h"

/* Results held at once: windows x steps of one block. */
#define BLOCK_ROWS 16384

void cm_forecaster_free(cm_forecaster *fc)
{
    if (!fc)
        return;
    fc_block_free(fc);
    cm_clean_free(fc->cleaner);
    cm_clean_free(fc->fut_cleaner);
    cm_clean_free(fc->prep);
    cm_batch_free(fc->fields);
    free(fc->fname);
    free(fc->fval);
    free(fc->flen);
    cm_features_free(fc->feat);
    fc_source_free(&fc->src);
    cm_batch_free(fc->rows.b);
    cm_batch_free(fc->fut.b);
    cm_batch_free(fc->raw.b);
    cm_schema_free(fc->raw_schema);
    for (size_t k = 0; k < fc->nser; k++)
        free(fc->ser[k].idx);
    free(fc->ser);
    free(fc->seen);
    free(fc->fidx);
    free(fc->st.missing);
    cm_schema_free(fc->in);
    free(fc);
}

cm_status cm_forecast_step(const cm_forecaster *fc, cm_step *out, cm_error *err)
{
    if (fc->o.step.unit) {
        *out = fc->o.step;
        return CM_OK;
    }
    const cm_kv *meta = cm_model_meta(fc->m);
    const char *s = cm_kv_get(meta, "step"), *why = cm_kv_get(meta, "step_unknown");
    if (s && !cm_step_parse(s, out))
        return CM_OK;
    return cm_fail(err, CM_ERR_ARG, "the model records no step between its rows (%s): give "
                   "one with --step", why ? why : "its training data had no time column "
                   "or was trained by an older cm");
}

/* A direct model forecasts its own steps, as many as it has. */
static cm_status direct_fits(const cm_forecaster *fc, cm_error *err)
{
    size_t h = cm_model_horizon(fc->m);
    const char *own = cm_kv_get(cm_model_meta(fc->m), "step");
    cm_step s;
    if (h == 1)
        return CM_OK;
    if (fc->o.horizon > (int64_t)h)
        return cm_fail(err, CM_ERR_ARG, "horizon: %lld steps, but the model is a direct one "
                       "of %zu (cm-train --horizon): train one of %lld, or one without "
                       "--horizon to forecast step by step", (long long)fc->o.horizon, h,
                       (long long)fc->o.horizon);
    if (own && !cm_step_parse(own, &s) && (s.unit != fc->step.unit || s.n != fc->step.n))
        return cm_fail(err, CM_ERR_ARG, "step: a direct model's outputs are steps of %s, "
                       "its own", own);
    return CM_OK;
}

cm_forecaster *cm_forecaster_new(cm_predictor *p, const cm_forecast_opts *o, cm_error *err)
{
    cm_forecaster *fc = calloc(1, sizeof *fc);
    if (!fc) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    fc->p = p;
    fc->m = cm_predictor_model(p);
    fc->o = *o;
    fc->tz = cm_predictor_tz(p);
    fc->time_col = fc->target_col = -1;
    cm_status st = (fc->st.missing = calloc(cm_model_ninputs(fc->m) + 1, sizeof(uint64_t)))
                       ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st && o->horizon < 1)
        st = cm_fail(err, CM_ERR_ARG, "horizon: %lld steps; it must be at least 1",
                     (long long)o->horizon);
    if (!st)
        st = cm_forecast_step(fc, &fc->step, err);
    if (!st)
        st = direct_fits(fc, err);
    if (st) {
        cm_forecaster_free(fc);
        return NULL;
    }
    /* a block: as many windows as fit BLOCK_ROWS results, at least one */
    fc->wcap = BLOCK_ROWS / (size_t)o->horizon ? BLOCK_ROWS / (size_t)o->horizon : 1;
    return fc;
}

cm_status cm_forecaster_reset(cm_forecaster *fc, const cm_forecast_opts *o, cm_error *err)
{
    fc_block_free(fc); /* before wcap changes: it frees wcap windows */
    fc->rows.n = fc->fut.n = 0;
    for (size_t k = 0; k < fc->nser; k++)
        fc->ser[k].n = fc->ser[k].fut0 = fc->ser[k].nfut = 0;
    fc->nseen = fc->nfidx = 0;
    fc->have_future = 0;
    uint64_t *missing = fc->st.missing;
    memset(missing, 0, (cm_model_ninputs(fc->m) + 1) * sizeof *missing);
    fc->st = (cm_fc_stats){.missing = missing};
    fc->o = *o;
    if (o->horizon < 1)
        return cm_fail(err, CM_ERR_ARG, "horizon: %lld steps; it must be at least 1",
                       (long long)o->horizon);
    if (cm_forecast_step(fc, &fc->step, err) || direct_fits(fc, err))
        return err->status;
    fc->wcap = BLOCK_ROWS / (size_t)o->horizon ? BLOCK_ROWS / (size_t)o->horizon : 1;
    return CM_OK;
}

const cm_fc_stats *cm_forecast_stats(const cm_forecaster *fc)
{
    return &fc->st;
}

/* ---- reading ----------------------------------------------------------------------- */

/* The cleaner's rows: the schema adopted from the first batch. */
static cm_status on_clean(void *ctx, cm_batch *b, cm_error *err)
{
    cm_forecaster *fc = ctx;
    if (!fc->src.s && ((!fc->in && fc_adopt(fc, cm_clean_out_schema(fc->cleaner), err)) ||
                       fc_source_bind(fc, &fc->src, cm_clean_out_schema(fc->cleaner), err)))
        return err->status;
    return fc_history_batch(fc, b, err);
}

static cm_status read_history(cm_forecaster *fc, FILE *in, const char *name, cm_error *err)
{
    if (cm_input_peek(in) == CM_INPUT_CM)
        return fc_read_stream(fc, in, name, err);
    if (!(fc->cleaner = cm_predictor_cleaner(fc->p, 0, err)))
        return err->status;
    cm_status st = cm_clean_each(fc->cleaner, in, name, on_clean, fc, err);
    if (!st && !fc->in) /* a header alone: the columns all the same */
        st = fc_adopt(fc, cm_clean_out_schema(fc->cleaner), err);
    fc->src.s = NULL;
    return st;
}

/* The future file's rows, kept in their own schema until the history's
 * is known. */
static cm_status on_future(void *ctx, cm_batch *b, cm_error *err)
{
    cm_forecaster *fc = ctx;
    const cm_schema *s = cm_clean_out_schema(fc->fut_cleaner);
    for (size_t i = 0; i < cm_batch_nrows(b); i++) {
        if (fc_rows_add(s, &fc->raw, err))
            return err->status;
        cm_batch_copy_row(s, fc->raw.b, fc->raw.n++, b, i);
    }
    return CM_OK;
}

cm_status cm_forecast_future(cm_forecaster *fc, FILE *in, const char *name, cm_error *err)
{
    const cm_schema *s = NULL;
    cm_reader *r = NULL;
    cm_status st = CM_OK;
    if (cm_input_peek(in) == CM_INPUT_CM) {
        if (!(r = cm_reader_new(in, err)))
            return err->status;
        s = cm_reader_schema(r);
        cm_batch *b;
        int got;
        while (!st && (got = cm_reader_next(r, &b, err)) == 1)
            for (size_t i = 0; !st && i < cm_batch_nrows(b); i++)
                if (!(st = fc_rows_add(s, &fc->raw, err)))
                    cm_batch_copy_row(s, fc->raw.b, fc->raw.n++, b, i);
        if (!st && got < 0)
            st = err->status;
    } else if (!(fc->fut_cleaner = cm_predictor_cleaner(fc->p, 0, err))) {
        st = err->status;
    } else {
        st = cm_clean_each(fc->fut_cleaner, in, name, on_future, fc, err);
        s = cm_clean_out_schema(fc->fut_cleaner);
    }
    /* its dictionaries whole, for the strings of its codes */
    if (!st && !(fc->raw_schema = cm_schema_clone(s)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    cm_reader_free(r);
    cm_clean_free(fc->fut_cleaner);
    fc->fut_cleaner = NULL;
    fc->have_future = !st;
    return st;
}

/* The zone of the time column of s, or "UTC". */
static const char *zone_of(const cm_schema *s)
{
    for (size_t c = 0; c < cm_schema_ncols(s); c++)
        if (cm_schema_role(s, c) == CM_ROLE_TIME && cm_schema_dtype(s, c) == CM_TIME) {
            const char *z = cm_kv_get(cm_schema_col_meta_c(s, c), "tz");
            return z ? z : "UTC";
        }
    return "UTC";
}

/* The future file's rows into the forecaster's schema, and indexed; what
 * is wrong with them said to be theirs (CM_DETAIL_FUTURE). */
static cm_status import_future(cm_forecaster *fc, cm_error *err)
{
    fc_source src = {0};
    if (strcmp(zone_of(fc->raw_schema), zone_of(fc->in)))
        return cm_fail_as(err, CM_ERR_DATA, CM_DETAIL_FUTURE, "times in %s, the history's "
                          "in %s: clean both the same way", zone_of(fc->raw_schema),
                          zone_of(fc->in));
    cm_status st = fc_source_bind(fc, &src, fc->raw_schema, err);
    for (size_t i = 0; !st && i < fc->raw.n; i++) {
        long tc = src.col[fc->time_col];
        if (tc < 0 || !cm_batch_valid_c(fc->raw.b, (size_t)tc)[i])
            continue;
        if (!(st = fc_rows_add(fc->in, &fc->fut, err)))
            st = fc_import(fc, &src, fc->raw.b, i, fc->fut.b, fc->fut.n++, err);
    }
    fc_source_free(&src);
    if (st && st != CM_ERR_NOMEM)
        err->detail = CM_DETAIL_FUTURE;
    return st ? st : fc_index_future(fc, err);
}

/* ---- what a forecast needs ------------------------------------------------------------ */

/* The covariates: columns of the rows the model reads as they are or
 * looks back on, but the time, the target and the series; named into
 * buf, their number returned. */
static size_t covariates(const cm_forecaster *fc, char *buf, size_t n)
{
    const cm_features_plan *plan = cm_predictor_features_plan(fc->p);
    const char *by = plan ? cm_features_plan_by(plan) : NULL;
    size_t count = 0, len = 0;
    if (n)
        *buf = '\0';
    for (size_t c = 0; c < cm_schema_ncols(fc->in); c++) {
        const char *name = cm_schema_name(fc->in, c);
        if ((long)c == fc->time_col || (long)c == fc->target_col || (by && !strcmp(by, name)))
            continue;
        if (!cm_model_needs(fc->m, name) && !(plan && cm_features_plan_reads(plan, name)))
            continue;
        if (len < n)
            len += (size_t)snprintf(buf + len, n - len, "%s%s", count ? ", " : "", name);
        count++;
    }
    return count;
}

/* A forecast past the end of the history needs the covariates of its
 * times from somewhere. */
static cm_status check_future(const cm_forecaster *fc, size_t k, int64_t origin, cm_error *err)
{
    char names[300];
    int64_t t1 = cm_step_add(fc->tz, origin, fc->step, 1);
    if (fc->o.future == CM_FUTURE_LAST || fc->have_future ||
        fc_find(fc, k, t1, 0) != SIZE_MAX || !covariates(fc, names, sizeof names))
        return CM_OK;
    char t[40];
    cm_fmt_time(t, sizeof t, t1);
    return cm_fail(err, CM_ERR_ARG, "the model needs future values of %s, from %s on: give "
                   "them with --future FILE, or carry the last ones with --future-fill last",
                   names, t);
}

/* The index in series k of its last row at or before t, or SIZE_MAX. */
static size_t last_at(const cm_forecaster *fc, size_t k, int64_t t)
{
    const fc_series *s = &fc->ser[k];
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fc_time(fc, fc->rows.b, s->idx[mid]) <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : SIZE_MAX;
}

/* The steps from t back to from, a part of one counting whole: the rows
 * of history a look-back to from needs (at least 1). */
static int64_t steps_back(cm_step step, int64_t from, int64_t t)
{
    int64_t k = step.unit == CM_STEP_SECOND ? (t - from + step.n - 1) / step.n
                                            : cm_step_between(step, from, t);
    return k < 1 ? 1 : k;
}

/* Whether series k's rows up to its pos-th cover the look-back of a
 * forecast from origin; why not, into buf. */
static int covered(const cm_forecaster *fc, size_t k, size_t pos, int64_t origin, char *buf,
                   size_t n)
{
    int64_t span;
    uint64_t rows;
    const char *what;
    if (!fc->feat)
        return 1;
    cm_features_reach(fc->feat, &span, &rows, &what);
    const fc_series *s = &fc->ser[k];
    int64_t first = fc_time(fc, fc->rows.b, s->idx[0]);
    int64_t t1 = cm_step_add(fc->tz, origin, fc->step, 1);
    char a[40], b[40], step[32];
    int64_t from = cm_features_earliest(fc->feat, t1);
    if (span > 0 && first > from) {
        /* in steps, as a user counts the rows to add; the times say
         * which */
        int64_t need = steps_back(fc->step, from, t1);
        int64_t have = first <= origin ? cm_step_between(fc->step, first, origin) + 1 : 0;
        cm_fmt_time(a, sizeof a, from);
        cm_fmt_time(b, sizeof b, first);
        cm_step_format(step, sizeof step, fc->step);
        snprintf(buf, n, "the history is shorter than the look-back: %lld steps of %s needed "
                 "before the first forecast, and %lld there (%s reaches back to %s, and the "
                 "history starts at %s)", (long long)need, step,
                 (long long)(have < need ? have : need - 1), what, a, b);
        return 0;
    }
    if (rows && pos + 1 < rows) {
        snprintf(buf, n, "the history is shorter than the look-back: %s needs %llu rows "
                 "before the first forecast, and the history has %zu", what,
                 (unsigned long long)rows, pos + 1);
        return 0;
    }
    return 1;
}

/* ---- look-backs ---------------------------------------------------------------------- */

void fc_fill_row(cm_forecaster *fc, size_t a, size_t b, int64_t t, cm_batch *to, size_t i)
{
    int64_t ta = fc_time(fc, fc->rows.b, a), tb = fc_time(fc, fc->rows.b, b);
    cm_batch_copy_row(fc->in, to, i, fc->rows.b, a);
    ((int64_t *)cm_batch_values(to, (size_t)fc->time_col))[i] = t;
    for (size_t c = 0; c < cm_schema_ncols(fc->in); c++) {
        if ((long)c == fc->time_col || cm_schema_dtype(fc->in, c) != CM_F64 ||
            !cm_batch_valid_c(to, c)[i])
            continue;
        double *v = cm_batch_values(to, c);
        if (fc->o.gaps == CM_GAPS_LINEAR && cm_batch_valid_c(fc->rows.b, c)[b]) {
            double vb = ((const double *)cm_batch_values_c(fc->rows.b, c))[b];
            v[i] += (vb - v[i]) * (double)(t - ta) / (double)(tb - ta);
        }
        fc->st.filled++;
    }
}

/* The most steps one gap is filled with by default: a million hours is
 * a century (a tenth of a second to fill), and a history with rows
 * centuries apart (a typo in a year) would otherwise hold a forecast for
 * hours, row by row. */
#define FC_MAX_FILL (1 << 20)

/* Rows at the steps missing between rows a and b (fill-history). */
static cm_status fill_gap(cm_forecaster *fc, cm_lookback *lb, size_t a, size_t b,
                          cm_batch *tmp, cm_error *err)
{
    int64_t ta = fc_time(fc, fc->rows.b, a), tb = fc_time(fc, fc->rows.b, b);
    int64_t most = fc->o.max_fill > 0 ? fc->o.max_fill : FC_MAX_FILL;
    if (cm_step_add(fc->tz, ta, fc->step, most + 1) < tb) {
        char x[40], y[40];
        cm_fmt_time(x, sizeof x, ta);
        cm_fmt_time(y, sizeof y, tb);
        return cm_fail(err, CM_ERR_LIMIT, "fill-history: the gap from %s to %s is more than "
                       "%lld steps, too long to fill", x, y, (long long)most);
    }
    for (int64_t j = 1;; j++) {
        int64_t t = cm_step_add(fc->tz, ta, fc->step, j);
        if (t >= tb)
            return CM_OK;
        fc_fill_row(fc, a, b, t, tmp, 0);
        if (cm_lookback_push(fc->feat, lb, tmp, 0, err))
            return err->status;
    }
}

/* Series k's rows [from, to] join lb, the gaps between them filled when
 * asked. */
static cm_status push_rows(cm_forecaster *fc, cm_lookback *lb, size_t k, size_t from, size_t to,
                           cm_error *err)
{
    const fc_series *s = &fc->ser[k];
    cm_batch *tmp = NULL;
    cm_status st = CM_OK;
    if (fc->o.gaps && !(tmp = cm_batch_new(fc->in, 1)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (tmp)
        cm_batch_set_nrows(tmp, 1);
    for (size_t i = from; !st && i <= to && i < s->n; i++) {
        if (tmp && i > 0)
            st = fill_gap(fc, lb, s->idx[i - 1], s->idx[i], tmp, err);
        if (!st)
            st = cm_lookback_push(fc->feat, lb, fc->rows.b, s->idx[i], err);
    }
    cm_batch_free(tmp);
    return st;
}

/* The next window of the block, running it when the block is full. */
static cm_status add_window(cm_forecaster *fc, size_t k, int64_t origin, size_t pos,
                            const cm_lookback *from, cm_fc_fn fn, void *ctx, cm_error *err)
{
    if (!fc->win && !(fc->win = calloc(fc->wcap, sizeof *fc->win)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    fc_window *w = &fc->win[fc->nwin];
    if (fc->feat && !w->lb && !(w->lb = cm_lookback_new(fc->feat, err)))
        return err->status;
    if (fc->feat && cm_lookback_copy(w->lb, from, err))
        return err->status;
    w->series = k;
    w->origin = origin;
    w->pos = pos;
    w->last = fc->ser[k].idx[pos];
    return ++fc->nwin == fc->wcap ? fc_run_block(fc, fn, ctx, err) : CM_OK;
}

/* ---- forecasts ------------------------------------------------------------------------ */

static cm_status forecast(cm_forecaster *fc, cm_fc_fn fn, void *ctx, cm_error *err)
{
    cm_status st = CM_OK;
    for (size_t n = 0; !st && n < fc->nseen; n++) {
        size_t k = fc->seen[n];
        const fc_series *s = &fc->ser[k];
        size_t pos = fc->o.has_origin ? last_at(fc, k, fc->o.origin) : s->n - 1;
        if (pos == SIZE_MAX)
            continue; /* a series that begins after the origin */
        int64_t origin = fc->o.has_origin ? fc->o.origin
                                          : fc_time(fc, fc->rows.b, s->idx[pos]);
        char why[300];
        if (!covered(fc, k, pos, origin, why, sizeof why)) {
            st = cm_fail(err, CM_ERR_DATA, "%s", why);
            break;
        }
        st = check_future(fc, k, origin, err);
        cm_lookback *fresh = fc->feat ? cm_lookback_new(fc->feat, err) : NULL;
        if (!st && fc->feat && !fresh)
            st = err->status;
        if (!st && fc->feat)
            st = push_rows(fc, fresh, k, 0, pos, err);
        if (!st)
            st = add_window(fc, k, origin, pos, fresh, fn, ctx, err);
        cm_lookback_free(fresh);
        fc->st.series++;
    }
    return st ? st : fc_run_block(fc, fn, ctx, err);
}

/* ---- backtests ------------------------------------------------------------------------ */

/* The most origins of one backtest: every hour of a century.  A history
 * that spans more (a year mistyped) would run for hours on windows
 * with nothing in them. */
#define FC_MAX_ORIGINS (1 << 20)

/* The grid of origins: from `from`, every `every` steps, while a whole
 * window fits before the end; or the last `windows` that fit. */
static cm_status origins(const cm_forecaster *fc, int64_t first, int64_t end, int64_t **out,
                         size_t *n, cm_error *err)
{
    int64_t H = fc->o.horizon, every = fc->o.every ? fc->o.every : H;
    cm_step stride = {fc->step.unit, fc->step.n * every};
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    /* an origin's window ends at or before the last time */
    int64_t last = cm_step_add(fc->tz, end, fc->step, -H);
    int64_t o = fc->o.has_from ? fc->o.from : last;
    for (int64_t j = 0;; j++) {
        int64_t t = cm_step_add(fc->tz, o, stride, fc->o.has_from ? j : -j);
        if (fc->o.has_from ? t > last : t < first)
            break;
        if (fc->o.windows && *n == (size_t)fc->o.windows)
            break;
        if (*n == FC_MAX_ORIGINS) {
            char x[40], y[40];
            cm_fmt_time(x, sizeof x, first);
            cm_fmt_time(y, sizeof y, end);
            return cm_fail(err, CM_ERR_LIMIT, "backtest: more than %d origins from %s to %s: "
                           "give --windows, --from or a longer --every", FC_MAX_ORIGINS, x, y);
        }
        if (*n == cap) {
            cap = cm_cap_for(cap, *n, 256);
            if (cm_resize(out, *n, cap, sizeof **out, err))
                return CM_ERR_NOMEM;
        }
        (*out)[(*n)++] = t;
    }
    if (!fc->o.has_from) /* from the end back: put in time order */
        for (size_t i = 0; i < *n / 2; i++) {
            int64_t x = (*out)[i];
            (*out)[i] = (*out)[*n - 1 - i];
            (*out)[*n - 1 - i] = x;
        }
    return CM_OK;
}

static cm_status backtest(cm_forecaster *fc, cm_fc_fn fn, void *ctx, cm_error *err)
{
    int64_t first = INT64_MAX, end = INT64_MIN;
    for (size_t n = 0; n < fc->nseen; n++) {
        const fc_series *s = &fc->ser[fc->seen[n]];
        int64_t a = fc_time(fc, fc->rows.b, s->idx[0]), z = fc_time(fc, fc->rows.b, s->idx[s->n - 1]);
        first = a < first ? a : first;
        end = z > end ? z : end;
    }
    if (fc->o.has_until && fc->o.until < end)
        end = fc->o.until;
    int64_t *at = NULL;
    size_t no = 0;
    cm_status st = origins(fc, first, end, &at, &no, err);
    if (!st && !no)
        st = cm_fail(err, CM_ERR_DATA, "no origin of the backtest leaves %lld steps before the "
                     "end of the history", (long long)fc->o.horizon);
    /* each series' look-back, carried from origin to origin */
    cm_lookback **run = st ? NULL : calloc(fc->nser + 1, sizeof *run);
    size_t *pushed = run ? calloc(fc->nser + 1, sizeof *pushed) : NULL;
    if (!st && !pushed)
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t n = 0; !st && fc->feat && n < fc->nseen; n++)
        if (!(run[fc->seen[n]] = cm_lookback_new(fc->feat, err)))
            st = err->status;
    for (size_t i = 0; !st && i < no; i++) {
        for (size_t n = 0; !st && n < fc->nseen; n++) {
            size_t k = fc->seen[n], pos = last_at(fc, k, at[i]);
            char why[300];
            if (pos == SIZE_MAX || !covered(fc, k, pos, at[i], why, sizeof why))
                continue; /* too early in this series for a window */
            if (fc->feat && pos + 1 > pushed[k]) {
                st = push_rows(fc, run[k], k, pushed[k], pos, err);
                pushed[k] = pos + 1;
            }
            if (!st)
                st = add_window(fc, k, at[i], pos, run[k], fn, ctx, err);
        }
    }
    if (!st)
        st = fc_run_block(fc, fn, ctx, err);
    for (size_t k = 0; run && k < fc->nser; k++)
        cm_lookback_free(run[k]);
    free(run);
    free(pushed);
    free(at);
    fc->st.series = fc->nseen;
    return st;
}

/* ---- runs ---------------------------------------------------------------------------- */

static cm_status ready(cm_forecaster *fc, cm_error *err)
{
    char names[300];
    fc->covariates = fc->in ? covariates(fc, names, sizeof names) : 0;
    if (!fc->rows.n)
        return cm_fail(err, CM_ERR_DATA, "the history has no rows to forecast from");
    if (fc->have_future && !fc->fut.b && (fc->raw.n || fc->raw_schema))
        return import_future(fc, err);
    return CM_OK;
}

static cm_status run(cm_forecaster *fc, cm_fc_fn fn, void *ctx, cm_error *err)
{
    cm_status st = ready(fc, err);
    if (!st)
        st = fc->o.backtest ? backtest(fc, fn, ctx, err) : forecast(fc, fn, ctx, err);
    return st;
}

cm_status cm_forecast_run(cm_forecaster *fc, FILE *in, const char *name, cm_fc_fn fn,
                          void *ctx, cm_error *err)
{
    cm_status st = read_history(fc, in, name, err);
    if (!st)
        fc_trim(fc, 1);
    return st ? st : run(fc, fn, ctx, err);
}

/* ---- rows of fields ------------------------------------------------------------------- */

/* The cleaner of rows given by hand: every raw field of the recipe is a
 * column (those not given are empty). */
static cm_status prepare(cm_forecaster *fc, cm_error *err)
{
    const cm_clean_plan *plan = cm_predictor_clean_plan(fc->p);
    const char *name, *kind;
    size_t n = 0;
    while (plan && cm_clean_plan_field(plan, n, &name, &kind))
        n++;
    if (!(fc->prep = cm_predictor_cleaner(fc->p, 1, err)))
        return err->status;
    /* kept: each record's fields are matched to them by name */
    fc->fname = calloc(n + 1, sizeof *fc->fname);
    fc->fval = calloc(n + 1, sizeof *fc->fval);
    fc->flen = calloc(n + 1, sizeof *fc->flen);
    if (!fc->fname || !fc->fval || !fc->flen)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    fc->nfield = n;
    for (size_t i = 0; i < n; i++)
        cm_clean_plan_field(plan, i, &fc->fname[i], &kind);
    cm_status st = cm_clean_prepare(fc->prep, n, fc->fname, "(fields)", err);
    const cm_schema *s = st ? NULL : cm_clean_out_schema(fc->prep);
    if (!st && !(fc->fields = cm_batch_new(s, 1)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st && !fc->in)
        st = fc_adopt(fc, s, err);
    if (!st)
        st = fc_source_bind(fc, &fc->src, s, err);
    return st;
}

/* The fields of one row through the model's clean step into fc->fields. */
static cm_status clean_fields(cm_forecaster *fc, const char *const *names,
                              const char *const *values, size_t n, cm_error *err)
{
    if (!fc->prep && prepare(fc, err))
        return err->status;
    size_t nf = fc->nfield;
    const char **f = fc->fval;
    size_t *len = fc->flen;
    cm_status st = CM_OK;
    for (size_t j = 0; j < nf; j++)
        f[j] = "", len[j] = 0;
    for (size_t i = 0, next = 0; !st && i < n; i++) {
        /* fields in the step's own order (a CSV's, mostly) are found at
         * once: the search starts after the field found before */
        size_t j = next, tries = 0;
        while (tries < nf && strcmp(fc->fname[j], names[i]))
            j = (j + 1) % nf, tries++;
        next = (j + 1) % (nf ? nf : 1);
        if (tries == nf) {
            st = cm_fail(err, CM_ERR_ARG, "not a field of the model's input");
            snprintf(err->column, sizeof err->column, "%s", names[i]);
        } else {
            f[j] = values[i];
            len[j] = strlen(values[i]);
        }
    }
    int drop = 0;
    if (!st)
        st = cm_clean_record(fc->prep, nf, f, len, 1, fc->fields, 0, &drop, err);
    if (!st && drop)
        st = cm_fail(err, CM_ERR_DATA, "a row without its time");
    return st;
}

cm_status cm_forecast_fields(cm_forecaster *fc, int history, const char *const *names,
                             const char *const *values, size_t n, cm_error *err)
{
    if (clean_fields(fc, names, values, n, err))
        return err->status;
    fc_rows *to = history ? &fc->rows : &fc->fut;
    if (fc_rows_add(fc->in, to, err) || fc_import(fc, &fc->src, fc->fields, 0, to->b, to->n, err))
        return err->status;
    to->n++;
    fc->have_future |= !history;
    return history ? fc_join(fc, fc->rows.n - 1, err) : CM_OK;
}

cm_status cm_forecast_fields_run(cm_forecaster *fc, cm_fc_fn fn, void *ctx, cm_error *err)
{
    cm_status st = fc->fut.n ? fc_index_future(fc, err) : CM_OK;
    return st ? st : run(fc, fn, ctx, err);
}

cm_status cm_forecast_peek(cm_forecaster *fc, const char *const *names,
                           const char *const *values, size_t n, int64_t *t, char *series,
                           size_t seriesn, const char *const **fields, cm_error *err)
{
    if (clean_fields(fc, names, values, n, err))
        return err->status;
    *fields = fc->fval;
    const cm_schema *s = fc->src.s;
    *t = ((const int64_t *)cm_batch_values_c(fc->fields, (size_t)fc->src.col[fc->time_col]))[0];
    series[0] = '\0';
    const char *by = fc->feat ? cm_features_plan_by(cm_predictor_features_plan(fc->p)) : NULL;
    long c = by ? cm_schema_find(s, by) : -1;
    if (c >= 0 && cm_batch_valid_c(fc->fields, (size_t)c)[0]) {
        size_t len;
        const char *str = cm_dict_string(cm_schema_dict_c(s, (size_t)c),
                                         ((const uint32_t *)cm_batch_values_c(fc->fields,
                                                                              (size_t)c))[0],
                                         &len);
        if (len >= seriesn)
            return cm_fail(err, CM_ERR_DATA, "%s: a series name of %zu bytes; at most %zu",
                           by, len, seriesn - 1);
        memcpy(series, str, len);
        series[len] = '\0';
    }
    return CM_OK;
}

cm_status cm_forecast_reach(cm_forecaster *fc, int64_t *span, uint64_t *rows, int64_t *need,
                            cm_error *err)
{
    if (!fc->prep && prepare(fc, err))
        return err->status;
    const char *what;
    *span = -1;
    *rows = 0;
    *need = 1;
    if (fc->feat)
        cm_features_reach(fc->feat, span, rows, &what);
    if (*span > 0) /* from any time: the steps of the calendar counted as they fall */
        *need = steps_back(fc->step, cm_features_earliest(fc->feat, 0), 0);
    if ((int64_t)*rows > *need)
        *need = (int64_t)*rows;
    return CM_OK;
}
