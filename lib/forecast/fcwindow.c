/* fcwindow.c - a block of windows advancing together: at step k every
 * window's row for its k-th future time is made (the covariates of a
 * future row, or of its last row carried; its own forecasts as the
 * target's past), derived from its look-back by the features step's own
 * code, and forecast in one batched pass of the model; each forecast then
 * joins its window's look-back, for the lags of the steps after it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forecast/forecast.h"

void fc_block_free(cm_forecaster *fc)
{
    for (size_t w = 0; fc->win && w < fc->wcap; w++)
        cm_lookback_free(fc->win[w].lb);
    free(fc->win);
    fc->win = NULL;
    fc->nwin = 0;
    cm_batch_free(fc->stepin);
    cm_batch_free(fc->stepout);
    cm_batch_free(fc->res.b);
    fc->stepin = fc->stepout = fc->res.b = NULL;
    fc->res.n = 0;
    free(fc->pred), free(fc->actual), free(fc->ok), free(fc->has_actual), free(fc->why);
    free(fc->steps), free(fc->origins);
    fc->pred = fc->actual = NULL;
    fc->ok = fc->has_actual = NULL;
    fc->why = NULL;
    fc->steps = fc->origins = NULL;
}

/* The schema of the rows the model reads. */
static const cm_schema *out_schema(const cm_forecaster *fc)
{
    return fc->feat ? cm_features_schema(fc->feat) : fc->in;
}

/* The history's row of window w at its k-th step, time t, or SIZE_MAX:
 * where a regular series has it, else by search. */
static size_t history_at(const cm_forecaster *fc, const fc_window *w, int64_t k, int64_t t)
{
    const fc_series *s = &fc->ser[w->series];
    size_t guess = w->pos + (size_t)k;
    if (guess < s->n && fc_time(fc, fc->rows.b, s->idx[guess]) == t)
        return s->idx[guess];
    return fc_find(fc, w->series, t, 0);
}

/* The row window w takes its covariates from at time t: the future
 * file's at t, else the history's own, row a (a backtest's oracle, or
 * rows after an origin given), else (future last) its last row; NULL, j
 * SIZE_MAX: none. */
static const cm_batch *cover(const cm_forecaster *fc, const fc_window *w, int64_t t, size_t a,
                             size_t *j)
{
    if (fc->o.future == CM_FUTURE_LAST) {
        *j = w->last;
        return fc->rows.b;
    }
    if (fc->have_future && (*j = fc_find(fc, w->series, t, 1)) != SIZE_MAX)
        return fc->fut.b;
    *j = a;
    return a != SIZE_MAX ? fc->rows.b : NULL;
}

/* A row at time t, inside a gap of series k's history, made as
 * --fill-history fills gaps (fcrun.c) into row i of to; 0 when t is in no
 * gap. */
static int gap_row(cm_forecaster *fc, size_t k, int64_t t, cm_batch *to, size_t i)
{
    const fc_series *s = &fc->ser[k];
    size_t lo = 0, hi = s->n;
    while (lo < hi) { /* the first row after t */
        size_t mid = lo + (hi - lo) / 2;
        if (fc_time(fc, fc->rows.b, s->idx[mid]) <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!fc->o.gaps || lo == 0 || lo == s->n)
        return 0;
    fc_fill_row(fc, s->idx[lo - 1], s->idx[lo], t, to, i);
    return 1;
}

/* The actual value of result r: the history's at t (row a), whatever
 * gave the covariates, for scoring. */
static void set_actual(cm_forecaster *fc, size_t r, size_t a)
{
    fc->has_actual[r] = a != SIZE_MAX && fc->target_col >= 0 &&
                        cm_batch_valid_c(fc->rows.b, (size_t)fc->target_col)[a];
    if (fc->has_actual[r]) {
        fc->actual[r] = cm_cell_f64(cm_batch_values_c(fc->rows.b, (size_t)fc->target_col),
                                    cm_schema_dtype(fc->in, (size_t)fc->target_col), a);
    }
}

/* Row i of stepin: window w at its k-th step, time t, whose result is r.
 * A source row gives it all but the target; without one, it has only the
 * series and the time (a future file that lacks the time is an error,
 * when covariates are needed). */
static cm_status make_input(cm_forecaster *fc, const fc_window *w, size_t i, int64_t k,
                            int64_t t, size_t r, uint8_t *bare, cm_error *err)
{
    size_t j, a = history_at(fc, w, k, t);
    const cm_batch *src = cover(fc, w, t, a, &j);
    if (!src && fc->o.future == CM_FUTURE_ROWS && gap_row(fc, w->series, t, fc->stepin, i)) {
        src = fc->stepin; /* filled in place */
        j = i;
    }
    if (!src && fc->have_future && fc->covariates) {
        char at[40];
        cm_fmt_time(at, sizeof at, t);
        return cm_fail_as(err, CM_ERR_DATA, CM_DETAIL_FUTURE, "no row at %s%s, whose "
                          "covariates the model needs", at, fc_series_label(fc, w->series));
    }
    size_t nc = cm_schema_ncols(fc->in);
    if (src != fc->stepin)
        cm_batch_copy_row(fc->in, fc->stepin, i, src ? src : fc->rows.b, src ? j : w->last);
    set_actual(fc, r, a);
    *bare = !src;
    if (!src) { /* the series key and the time alone */
        const char *by = fc->feat ? cm_features_plan_by(cm_predictor_features_plan(fc->p))
                                  : NULL;
        long key = by ? cm_schema_find(fc->in, by) : -1;
        for (size_t c = 0; c < nc; c++)
            if ((long)c != key)
                cm_batch_valid(fc->stepin, c)[i] = 0;
    }
    ((int64_t *)cm_batch_values(fc->stepin, (size_t)fc->time_col))[i] = t;
    cm_batch_valid(fc->stepin, (size_t)fc->time_col)[i] = 1;
    if (fc->target_col >= 0) /* what is forecast is not known */
        cm_batch_valid(fc->stepin, (size_t)fc->target_col)[i] = 0;
    return CM_OK;
}

static cm_status block_room(cm_forecaster *fc, size_t rows, cm_error *err)
{
    const cm_schema *os = out_schema(fc);
    /* a step's rows, one a window: as many as this block has (one, for a
     * forecast of one series), up to a whole block's */
    if (fc->stepin && cm_batch_capacity(fc->stepin) < fc->nwin) {
        cm_batch_free(fc->stepin), cm_batch_free(fc->stepout);
        fc->stepin = fc->stepout = NULL;
    }
    if (!fc->stepin && (!(fc->stepin = cm_batch_new(fc->in, fc->nwin)) ||
                        (fc->feat && !(fc->stepout = cm_batch_new(os, fc->nwin)))))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (fc->res.n >= rows)
        return CM_OK;
    cm_batch_free(fc->res.b);
    fc->res.b = NULL;
    fc->res.n = 0;
    if (!fc->o.no_rows && !(fc->res.b = cm_batch_new(os, rows)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    size_t cap = rows;
    if (cm_resize(&fc->pred, 0, cap, sizeof *fc->pred, err) ||
        cm_resize(&fc->actual, 0, cap, sizeof *fc->actual, err) ||
        cm_resize(&fc->ok, 0, cap, 1, err) || cm_resize(&fc->has_actual, 0, cap, 1, err) ||
        cm_resize(&fc->why, 0, cap, sizeof *fc->why, err) ||
        cm_resize(&fc->steps, 0, cap, sizeof *fc->steps, err) ||
        cm_resize(&fc->origins, 0, cap, sizeof *fc->origins, err))
        return CM_ERR_NOMEM;
    fc->res.n = cap;
    return CM_OK;
}

/* The rows of every window at its k-th step, derived from its look-back
 * (which they join), into rows of the model's schema. */
static cm_status make_rows(cm_forecaster *fc, int64_t k, uint8_t *bare, cm_error *err)
{
    size_t H = (size_t)fc->o.horizon;
    for (size_t i = 0; i < fc->nwin; i++) {
        fc_window *w = &fc->win[i];
        int64_t t = cm_step_add(fc->tz, w->origin, fc->step, k);
        if (make_input(fc, w, i, k, t, i * H + (size_t)(k - 1), &bare[i], err))
            return err->status;
        int complete;
        if (fc->feat && cm_lookback_derive(fc->feat, w->lb, fc->stepin, i, fc->stepout, i,
                                           &complete, err))
            return err->status;
    }
    cm_batch_set_nrows(fc->feat ? fc->stepout : fc->stepin, fc->nwin);
    return CM_OK;
}

/* Window i's forecast of its k-th step into the results (window i's step
 * k at i * H + k - 1), its row (time t) the model's row i of rows. */
static void record(cm_forecaster *fc, size_t i, int64_t k, int64_t t, double pred, uint8_t ok,
                   size_t why, int bare, const cm_batch *rows)
{
    size_t r = i * (size_t)fc->o.horizon + (size_t)(k - 1);
    if (ok && !isfinite(pred)) /* inputs far beyond training */
        ok = 0, why = SIZE_MAX;
    /* no row of covariates: that is the reason, not the input it lacks first */
    if (bare && !ok)
        why = SIZE_MAX, fc->st.no_future++;
    if (fc->res.b) {
        cm_batch_copy_row(out_schema(fc), fc->res.b, r, rows, i);
        ((int64_t *)cm_batch_values(fc->res.b, (size_t)fc->time_col))[r] = t;
    }
    fc->pred[r] = ok ? pred : 0;
    fc->ok[r] = ok;
    fc->why[r] = why;
    fc->steps[r] = k;
    fc->origins[r] = fc->win[i].origin;
    fc->st.slots++;
    if (ok)
        fc->st.predicted++;
    else if (why != SIZE_MAX && fc->st.missing)
        fc->st.missing[why]++;
}

/* Recursively: one step of every window, its forecasts joining the
 * look-backs for the lags of the steps after it. */
static cm_status step(cm_forecaster *fc, int64_t k, double *pred, uint8_t *ok, size_t *why,
                      uint8_t *bare, cm_error *err)
{
    cm_batch *rows = fc->feat ? fc->stepout : fc->stepin;
    if (make_rows(fc, k, bare, err) ||
        cm_model_predict(fc->m, out_schema(fc), rows, pred, ok, why, NULL, err))
        return err->status;
    for (size_t i = 0; i < fc->nwin; i++) {
        if (ok[i] && !isfinite(pred[i])) /* as record says: no value for the lags */
            ok[i] = 0, why[i] = SIZE_MAX;
        if (fc->feat && fc->target_col >= 0)
            cm_lookback_set(fc->feat, fc->win[i].lb, (size_t)fc->target_col, pred[i], ok[i]);
        record(fc, i, k, cm_step_add(fc->tz, fc->win[i].origin, fc->step, k), pred[i], ok[i],
               why[i], bare[i], rows);
    }
    return CM_OK;
}

/* A direct model: the rows of step 1 give every step at once (the later
 * steps' rows are step 1's, at their own times). */
static cm_status direct(cm_forecaster *fc, double *pred, uint8_t *ok, size_t *why,
                        uint8_t *bare, cm_error *err)
{
    cm_batch *rows = fc->feat ? fc->stepout : fc->stepin;
    size_t HM = cm_model_horizon(fc->m);
    if (make_rows(fc, 1, bare, err) ||
        cm_model_predict_ahead(fc->m, out_schema(fc), rows, pred, ok, why, NULL, err))
        return err->status;
    for (size_t i = 0; i < fc->nwin; i++)
        for (int64_t k = 1; k <= fc->o.horizon; k++) {
            const fc_window *w = &fc->win[i];
            int64_t t = cm_step_add(fc->tz, w->origin, fc->step, k);
            if (k > 1)
                set_actual(fc, i * (size_t)fc->o.horizon + (size_t)(k - 1),
                           history_at(fc, w, k, t));
            record(fc, i, k, t, pred[i * HM + (size_t)(k - 1)], ok[i], why[i], bare[i], rows);
        }
    return CM_OK;
}

cm_status fc_run_block(cm_forecaster *fc, cm_fc_fn fn, void *ctx, cm_error *err)
{
    size_t nw = fc->nwin, H = (size_t)fc->o.horizon, HM = cm_model_horizon(fc->m);
    if (!nw)
        return CM_OK;
    double *pred = malloc(nw * HM * sizeof *pred);
    uint8_t *ok = malloc(nw);
    size_t *why = malloc(nw * sizeof *why);
    uint8_t *bare = malloc(nw);
    cm_status st = pred && ok && why && bare ? block_room(fc, nw * H, err)
                                             : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st && HM > 1)
        st = direct(fc, pred, ok, why, bare, err);
    for (int64_t k = 1; !st && HM == 1 && k <= fc->o.horizon; k++)
        st = step(fc, k, pred, ok, why, bare, err);
    free(pred);
    free(ok);
    free(why);
    free(bare);
    fc->st.windows += nw;
    fc->nwin = 0;
    if (st)
        return st;
    if (fc->res.b)
        cm_batch_set_nrows(fc->res.b, nw * H);
    cm_fc_batch out = {nw * H, out_schema(fc), fc->res.b, fc->steps, fc->origins,
                       fc->pred, fc->actual, fc->ok, fc->has_actual, fc->why};
    return fn(ctx, &out, err);
}
