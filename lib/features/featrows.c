/* featrows.c - cm-features' rows: each row's calendar parts, and its lags,
 * windows and differences looked up in the recent history of its series,
 * which holds no more than the longest look-back needs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/featcore.h"

#define TWO_PI 6.283185307179586

/* ---- series ------------------------------------------------------------- */

size_t cm_features_series(const cm_features *f, const cm_batch *b, size_t i)
{
    if (f->by_col < 0 || !cm_batch_valid_c(b, (size_t)f->by_col)[i])
        return 0;
    return (size_t)((const uint32_t *)cm_batch_values_c(b, (size_t)f->by_col))[i] + 1;
}

static cm_status series_of(cm_features *f, const cm_ccols *b, size_t i,
                           series **out, cm_error *err)
{
    size_t k = 0;
    if (f->by_col >= 0 && b->valid[f->by_col][i])
        k = (size_t)((const uint32_t *)b->values[f->by_col])[i] + 1;
    if (k >= f->nser) {
        size_t n = f->nser ? f->nser * 2 : 8;
        while (n <= k)
            n *= 2;
        series *s = realloc(f->ser, n * sizeof *s);
        if (!s)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        memset(s + f->nser, 0, (n - f->nser) * sizeof *s);
        for (size_t j = f->nser; j < n; j++)
            s[j].h.ncols = f->nhist;
        f->ser = s;
        f->nser = n;
    }
    *out = &f->ser[k];
    return CM_OK;
}

static const char *series_name(const cm_features *f, const series *s)
{
    size_t k = (size_t)(s - f->ser);
    if (f->by_col < 0)
        return NULL;
    if (k == 0)
        return "(missing)";
    return cm_dict_string(cm_schema_dict_c(f->in, (size_t)f->by_col),
                          (uint32_t)(k - 1), NULL);
}

/* ---- one derived value ----------------------------------------------------- */

static int part_value(int part, const cm_timeparts *p, double *v)
{
    switch (part) {
    case P_HOUR: *v = p->hour; break;
    case P_MINUTE: *v = p->minute; break;
    case P_DOW: *v = p->dow; break;
    case P_DOM: *v = p->dom; break;
    case P_MONTH: *v = p->month; break;
    case P_DOY: *v = p->doy; break;
    case P_WEEK: *v = p->week; break;
    case P_YEAR: *v = (double)p->year; break;
    case P_WEEKEND: *v = p->dow >= 5; break;
    }
    return 1;
}

/* Position in the cycle, 0 to 1, of a periodic part. */
static double phase(int part, const cm_timeparts *p)
{
    switch (part) {
    case P_HOUR: return p->hour / 24.0;
    case P_MINUTE: return p->minute / 60.0;
    case P_DOW: return p->dow / 7.0;
    case P_DOM: return (p->dom - 1) / (double)p->month_days;
    case P_MONTH: return (p->month - 1) / 12.0;
    case P_DOY: return (p->doy - 1) / (double)p->year_days;
    case P_WEEK: return (p->week - 1) / (double)p->year_weeks;
    }
    return 0;
}

/* The value of history slot `slot`, column src, if present. */
static int hist_value(const cm_history *h, long slot, size_t src, double *v)
{
    if (slot < 0 || !h->ok[(size_t)slot * h->ncols + src])
        return 0;
    *v = h->v[(size_t)slot * h->ncols + src];
    return 1;
}

int64_t cm_features_back_time(const cm_features *f, const derived *d, int64_t t)
{
    return d->months ? cm_step_add(f->tz, t, (cm_step){CM_STEP_MONTH, d->span}, -1)
                     : t - d->span;
}

/* The row `span` back: exactly that much earlier, or that many rows. */
static long back(const cm_features *f, const cm_history *h, const derived *d, int64_t t)
{
    return d->by_rows ? cm_history_back(h, (uint64_t)d->span)
                      : cm_history_at(h, cm_features_back_time(f, d, t));
}

static int window(const cm_features *f, const cm_history *h, const derived *d,
                  int64_t t, double *v)
{
    size_t first, end;
    if (d->by_rows) {
        end = h->n;
        first = h->n > (size_t)d->span ? h->n - (size_t)d->span : 0;
    } else {
        /* strictly before t: the row itself never sees its own value */
        cm_history_range(h, cm_features_back_time(f, d, t), t, &first, &end);
    }
    double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
    size_t n = 0;
    for (size_t i = first; i < end; i++) {
        double x;
        if (!hist_value(h, (long)cm_history_slot(h, i), d->src, &x))
            continue;
        n++;
        sum += x;
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    if (d->part == S_COUNT) {
        *v = (double)n;
        return 1;
    }
    if (n < f->min_count || n == 0)
        return 0;
    double mean = sum / (double)n;
    switch (d->part) {
    case S_MEAN: *v = mean; return 1;
    case S_SUM: *v = sum; return 1;
    case S_MIN: *v = lo; return 1;
    case S_MAX: *v = hi; return 1;
    case S_STD:
        if (n < 2)
            return 0; /* the sample deviation of one value is undefined */
        /* two passes: the one-pass formula cancels badly on large values */
        for (size_t i = first; i < end; i++) {
            double x;
            if (hist_value(h, (long)cm_history_slot(h, i), d->src, &x))
                sq += (x - mean) * (x - mean);
        }
        *v = sqrt(sq / (double)(n - 1));
        return 1;
    }
    return 0;
}

static int holiday_date(const cm_features *f, int64_t day)
{
    size_t lo = 0, hi = f->p->nholidays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->p->holidays[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < f->p->nholidays && f->p->holidays[lo] == day;
}

/* ---- output ---------------------------------------------------------------- */

/* Hands on rows [0, n) and keeps the rest at the front. */
static cm_status flush(cm_features *f, size_t n, cm_batch_fn emit, void *ctx,
                       cm_error *err)
{
    if (n == 0)
        return CM_OK;
    size_t keep = f->on - n;
    cm_batch *rest = NULL;
    if (keep) { /* held rows of the current day, moved aside */
        if (!(rest = cm_batch_new(f->out, keep)))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < keep; i++)
            cm_batch_copy_row(f->out, rest, i, f->ob, n + i);
    }
    cm_batch_set_nrows(f->ob, n);
    cm_status st = emit(ctx, f->ob, err);
    for (size_t i = 0; i < keep; i++)
        cm_batch_copy_row(f->out, f->ob, i, rest, i);
    cm_batch_free(rest);
    f->rows_out += n;
    f->on = keep;
    f->day_start = 0;
    return st;
}

/* Room for one more row: flushes what may go, or grows for a long day. */
static cm_status make_room(cm_features *f, cm_batch_fn emit, void *ctx,
                           cm_error *err)
{
    if (f->on < cm_batch_capacity(f->ob))
        return CM_OK;
    if (f->holiday_col < 0 || f->day_start > 0)
        return flush(f, f->holiday_col < 0 ? f->on : f->day_start, emit, ctx, err);
    cm_batch *nb = cm_batch_new(f->out, cm_batch_capacity(f->ob) * 2);
    if (!nb)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < f->on; i++)
        cm_batch_copy_row(f->out, nb, i, f->ob, i);
    cm_batch_free(f->ob);
    f->ob = nb;
    return CM_OK;
}

/* Category codes of the input mean the same strings in the output: new
 * entries are copied over before rows that may use them go out. */
cm_status cm_features_sync_dicts(cm_features *f, cm_error *err)
{
    for (size_t i = 0; i < f->npass; i++) {
        if (!f->pass[i].cat)
            continue;
        const cm_dict *src = cm_schema_dict_c(f->in, f->pass[i].in);
        cm_dict *dst = cm_schema_dict(f->out, f->pass[i].out);
        while (src && cm_dict_size(dst) < cm_dict_size(src)) {
            size_t len;
            const char *s = cm_dict_string(src, cm_dict_size(dst), &len);
            cm_status st = cm_dict_intern(dst, s, len, NULL, err);
            if (st)
                return st;
        }
    }
    return CM_OK;
}

/* ---- a row ----------------------------------------------------------------- */

static cm_status order_error(const cm_features *f, const series *s, int64_t t,
                             cm_error *err)
{
    char a[40], b[40];
    cm_fmt_time(a, sizeof a, t);
    cm_fmt_time(b, sizeof b, s->last_t);
    const char *name = series_name(f, s);
    return cm_fail(err, CM_ERR_DATA, "row %llu: time %s comes after %s%s%s%s: the "
                   "rows are not in time order (sort them with cm-clean --sort)",
                   (unsigned long long)f->rows_in, a, b, name ? " in series '" : "",
                   name ? name : "", name ? "'" : "");
}

/* The holiday of a local day, from a name seen on any of its rows. */
static void holiday_day(cm_features *f, const cm_ccols *b, size_t i, const cm_timeparts *tp,
                        size_t o)
{
    if (!f->have_day || tp->day != f->cur_day) {
        f->cur_day = tp->day;
        f->day_holiday = 0;
        f->day_start = o;
        f->have_day = 1;
    }
    if (b->valid[f->holiday_col][i]) {
        const char *name = cm_dict_string(cm_schema_dict_c(f->in, (size_t)f->holiday_col),
                                          ((const uint32_t *)b->values[f->holiday_col])[i],
                                          NULL);
        f->day_holiday |= name && strcmp(name, f->p->r.holiday_none) != 0;
    }
}

/* The values the row adds to its series' history (into f->vals, oks). */
void cm_features_history_values(cm_features *f, const cm_ccols *b, size_t i)
{
    for (size_t k = 0; k < f->nhist; k++) {
        size_t c = f->hist_col[k];
        f->oks[k] = c != ABSENT && b->valid[c][i];
        f->vals[k] = 0;
        if (f->oks[k]) {
            switch (cm_schema_dtype(f->in, c)) {
            case CM_F32: f->vals[k] = ((const float *)b->values[c])[i]; break;
            case CM_F64: f->vals[k] = ((const double *)b->values[c])[i]; break;
            default: f->vals[k] = (double)((const int64_t *)b->values[c])[i]; break;
            }
        }
    }
}

/* Every derived value of the row at time t into row o of ob, from the
 * series' past h and the row's own values; 1 when none is missing. */
static int derive(cm_features *f, const cm_history *h, int64_t t, const cm_timeparts *tp,
                  const cm_cols *ob, size_t o)
{
    int complete = 1;
    for (size_t k = 0; k < f->nd; k++) {
        const derived *d = &f->d[k];
        double v = 0;
        int ok = 1;
        switch (d->kind) {
        case D_PART: ok = part_value(d->part, tp, &v); break;
        case D_SIN: v = sin(TWO_PI * phase(d->part, tp)); break;
        case D_COS: v = cos(TWO_PI * phase(d->part, tp)); break;
        case D_HOLIDAY:
            v = (f->p->nholidays && holiday_date(f, tp->day)) || f->day_holiday;
            if (f->day_holiday) /* the whole day, rows before this one too */
                for (size_t r = f->day_start; r < o; r++)
                    ((double *)ob->values[d->out])[r] = 1;
            break;
        case D_LAG: ok = hist_value(h, back(f, h, d, t), d->src, &v); break;
        case D_DIFF: {
            double then = 0; /* unread when the lag is missing */
            ok = f->oks[d->src] && hist_value(h, back(f, h, d, t), d->src, &then);
            v = f->vals[d->src] - then;
            break;
        }
        case D_ROLL: ok = window(f, h, d, t, &v); break;
        }
        ((double *)ob->values[d->out])[o] = ok ? v : 0;
        ob->valid[d->out][o] = (uint8_t)ok;
        if (!ok) {
            complete = 0;
            if (!f->keep_incomplete)
                f->dropped_by[d->out]++;
        }
    }
    return complete;
}

/* The holiday of a row alone, by its own name: a row of a forecast has
 * no day of rows around it. */
static void holiday_own(cm_features *f, const cm_ccols *b, size_t i, size_t o)
{
    f->day_holiday = 0;
    f->day_start = o;
    if (b->valid[f->holiday_col][i]) {
        const char *name = cm_dict_string(cm_schema_dict_c(f->in, (size_t)f->holiday_col),
                                          ((const uint32_t *)b->values[f->holiday_col])[i],
                                          NULL);
        f->day_holiday = name && strcmp(name, f->p->r.holiday_none) != 0;
    }
}

cm_status cm_features_make_row(cm_features *f, cm_history *h, const cm_ccols *b, size_t i,
                               int64_t t, const cm_cols *ob, size_t o, int spread,
                               int *complete, cm_error *err)
{
    for (size_t k = 0; k < f->npass; k++) {
        const feat_pass *ps = &f->pass[k];
        cm_cell_copy(ob->values[ps->out], o, b->values[ps->in], i, ps->width);
        ob->valid[ps->out][o] = b->valid[ps->in][i];
    }
    cm_timeparts tp = {0};
    if (f->time_col >= 0)
        cm_time_parts_cached(f->tz, t, &f->days, &tp);
    if (f->holiday_col >= 0 && spread)
        holiday_day(f, b, i, &tp, o);
    else if (f->holiday_col >= 0)
        holiday_own(f, b, i, o);
    cm_features_history_values(f, b, i);
    *complete = derive(f, h, t, &tp, ob, o);
    /* The row joins its series' past whether or not it is written. */
    return cm_features_remember(f, h, t, err);
}

cm_status cm_features_remember(cm_features *f, cm_history *h, int64_t t, cm_error *err)
{
    if (!f->nhist)
        return CM_OK;
    cm_history_trim(h, t, f->max_span, f->max_rows);
    return cm_history_add(h, t, f->vals, f->oks, f->max_history, err);
}

static cm_status row(cm_features *f, const cm_ccols *b, size_t i, cm_batch_fn emit,
                     void *ctx, cm_error *err)
{
    series *s = NULL;
    cm_status st = series_of(f, b, i, &s, err);
    if (st)
        return st;
    f->rows_in++;
    int64_t t = 0;
    if (f->time_col >= 0) {
        if (!b->valid[f->time_col][i]) {
            f->no_time++; /* no calendar and no lag: nothing to say */
            return CM_OK;
        }
        t = ((const int64_t *)b->values[f->time_col])[i];
        if (s->seen && t < s->last_t)
            return order_error(f, s, t, err);
    }
    s->last_t = t;
    s->seen = 1;
    if ((st = make_room(f, emit, ctx, err)))
        return st;
    const cm_cols ob = cm_batch_cols(f->ob); /* after make_room: it may be new */
    int complete;
    if ((st = cm_features_make_row(f, &s->h, b, i, t, &ob, f->on, 1, &complete, err)))
        return st;
    if (complete || f->keep_incomplete)
        f->on++;
    else
        f->dropped++;
    return CM_OK;
}

cm_status cm_features_push(cm_features *f, const cm_batch *b, cm_batch_fn emit,
                           void *ctx, cm_error *err)
{
    cm_status st = cm_features_sync_dicts(f, err);
    const cm_ccols in = cm_batch_ccols(b);
    for (size_t i = 0; !st && i < in.nrows; i++)
        st = row(f, &in, i, emit, ctx, err);
    return st;
}

cm_status cm_features_finish(cm_features *f, cm_batch_fn emit, void *ctx,
                             cm_error *err)
{
    cm_status st = cm_features_sync_dicts(f, err);
    if (!st)
        st = flush(f, f->on, emit, ctx, err);
    return st;
}
