/* plot.c - a picture's inputs: the tables cm printed, told apart by their
 * columns, the history of a forecast read from a stream or a CSV, and the
 * writer of the kind asked for. */
#include <stdlib.h>
#include <string.h>

#include "clean/cm_clean.h"
#include "plot/plot.h"

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n > k && !strcmp(s + n - k, tail);
}

long plot_pred_col(const plot_table *t)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (ends_with(t->name[i], "_pred"))
            return (long)i;
    return -1;
}

plot_shape plot_shape_of(const plot_table *t)
{
    long pred = plot_pred_col(t);
    if (plot_col(t, "step") == 0 && plot_col(t, "rmse") >= 0 && plot_col(t, "mae") >= 0)
        return SHAPE_SCORES;
    if (plot_col(t, "epoch") == 0 && plot_col(t, "train_loss") >= 0)
        return SHAPE_HISTORY;
    if (plot_col(t, "trial") == 0 && t->sep == '\t')
        for (size_t i = 1; i + 1 < t->ncols; i++) /* the mean, then its sd */
            if (ends_with(t->name[i], "_mean"))
                return SHAPE_TUNE;
    /* the actual value follows the forecast */
    if (pred >= 0 && (size_t)pred + 1 < t->ncols && plot_col(t, "origin") == 0 &&
        plot_col(t, "step") > 0)
        return SHAPE_FAN;
    if (pred > 0 && plot_col(t, "step") > 0)
        return SHAPE_FORECAST;
    if (pred >= 0 && (size_t)pred + 1 < t->ncols)
        return SHAPE_PREDICT;
    return SHAPE_NONE;
}

const char *plot_shape_name(plot_shape s)
{
    static const char *const names[] = {
        "not an output of cm", "a forecast (cm-predict --horizon)",
        "backtest scores (cm-predict --backtest)", "backtest forecasts (cm-predict --forecasts)",
        "a training history (cm-train --history)", "search results (cm-tune --results)",
        "forecasts with their actual values (cm-predict)"};
    return names[s];
}

/* The shapes each kind draws, and the kind that draws a shape. */
static int draws(cm_plot_kind k, plot_shape s)
{
    switch (k) {
    case CM_PLOT_FORECAST: return s == SHAPE_FORECAST;
    case CM_PLOT_BACKTEST: return s == SHAPE_SCORES || s == SHAPE_FAN;
    case CM_PLOT_HISTORY: return s == SHAPE_HISTORY;
    case CM_PLOT_TUNE: return s == SHAPE_TUNE;
    case CM_PLOT_PREDICT: return s == SHAPE_PREDICT;
    }
    return 0;
}

static const char *kind_for(plot_shape s)
{
    static const char *const k[] = {NULL, "forecast", "backtest", "backtest", "history", "tune",
                                    "predict"};
    return k[s];
}

cm_plot *cm_plot_new(const cm_plot_opts *o, cm_error *err)
{
    cm_plot *p = calloc(1, sizeof *p);
    if (!p)
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
    else
        p->o = *o;
    return p;
}

void cm_plot_free(cm_plot *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nin; i++) {
        plot_table_free(p->in[i].t);
        free(p->in[i].label);
    }
    for (size_t i = 0; i < p->nhist; i++) {
        free(p->hist[i].id);
        free(p->hist[i].pt);
    }
    free(p->in);
    free(p->hist);
    free(p);
}

/* The file's name less its directory and extension. */
static char *label_of(const char *name)
{
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    const char *dot = strrchr(base, '.');
    return cm_strndup(base, dot && dot > base ? (size_t)(dot - base) : strlen(base));
}

cm_status cm_plot_add(cm_plot *p, FILE *in, const char *name, const char *label,
                      cm_error *err)
{
    plot_table *t = plot_table_read(in, name, err);
    if (!t)
        return err->status;
    plot_shape s = plot_shape_of(t);
    cm_status st = CM_OK;
    if (!draws(p->o.kind, s))
        st = s == SHAPE_NONE
               ? cm_fail(err, CM_ERR_DATA, "not an output of cm that this kind draws: its "
                         "columns are %s%s", t->name[0], t->ncols > 1 ? ", ..." : "")
               : cm_fail(err, CM_ERR_DATA, "%s, which 'cm-plot %s' draws", plot_shape_name(s),
                         kind_for(s));
    else if (!t->nrows)
        st = cm_fail(err, CM_ERR_DATA, "%s with no rows: nothing to draw", plot_shape_name(s));
    else if (p->nin && (p->o.kind != CM_PLOT_BACKTEST || s != SHAPE_SCORES ||
                        p->in[0].shape != SHAPE_SCORES))
        st = cm_fail(err, CM_ERR_ARG, "one input only, but for several backtest scores");
    char *l = NULL;
    if (!st && (!(l = label ? cm_strdup(label) : label_of(name)) ||
                cm_resize(&p->in, p->nin, p->nin + 1, sizeof *p->in, err)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (st) {
        free(l);
        plot_table_free(t);
        return st;
    }
    p->in[p->nin++] = (plot_input){t, l, s};
    long pred = plot_pred_col(t);
    if (pred >= 0)
        snprintf(p->target, sizeof p->target, "%.*s", (int)(strlen(t->name[pred]) - 5),
                 t->name[pred]);
    return CM_OK;
}

/* ---- the history of a forecast -------------------------------------------------- */

typedef struct hist_ctx {
    cm_plot *p;
    const cm_clean *clean; /* a CSV's: its schema known at the first batch */
    const cm_schema *s;
    long time, target, ids[8];
    size_t nids;
    cm_tz *tz;
    int bound;
} hist_ctx;

/* The columns of the history: its time, the forecast's target and ids. */
static cm_status bind(hist_ctx *h, const cm_schema *s, cm_error *err)
{
    const plot_table *t = h->p->in[0].t;
    h->s = s;
    h->time = -1;
    for (size_t c = 0; c < cm_schema_ncols(s) && h->time < 0; c++)
        if (cm_schema_dtype(s, c) == CM_TIME)
            h->time = (long)c;
    if (h->time < 0)
        return cm_fail(err, CM_ERR_DATA, "no time column (clean the history with cm-clean "
                       "--time COL first)");
    if ((h->target = cm_schema_find(s, h->p->target)) < 0)
        return cm_fail(err, CM_ERR_DATA, "no column '%s', the forecast's target",
                       h->p->target);
    h->nids = 0;
    for (size_t c = 1; c < (size_t)plot_col(t, "step") && h->nids < 8; c++)
        if ((h->ids[h->nids++] = cm_schema_find(s, t->name[c])) < 0)
            return cm_fail(err, CM_ERR_DATA, "no column '%s', the forecast's series",
                           t->name[c]);
    const char *zone = cm_kv_get(cm_schema_col_meta_c(s, (size_t)h->time), "tz");
    if (zone && strcmp(zone, "UTC") && !(h->tz = cm_tz_load(zone, err)))
        return err->status;
    h->bound = 1;
    return CM_OK;
}

static cm_status take(void *ctx, cm_batch *b, cm_error *err)
{
    hist_ctx *h = ctx;
    if (!h->bound && bind(h, cm_clean_out_schema(h->clean), err))
        return err->status;
    cm_ccols c = cm_batch_ccols(b);
    cm_dtype dt = cm_schema_dtype(h->s, (size_t)h->target);
    for (size_t i = 0; i < c.nrows; i++) {
        if (!c.valid[h->time][i] || !c.valid[h->target][i])
            continue;
        char id[256] = "";
        size_t k = 0;
        for (size_t j = 0; j < h->nids; j++) {
            size_t col = (size_t)h->ids[j], len = 0;
            const char *v = "";
            char num[40];
            if (!c.valid[col][i]) {
                v = "";
            } else if (cm_schema_dtype(h->s, col) == CM_CAT) {
                v = cm_dict_string(cm_schema_dict_c(h->s, col),
                                   ((const uint32_t *)c.values[col])[i], &len);
            } else {
                cm_fmt_f64(num, sizeof num, cm_cell_f64(c.values[col], cm_schema_dtype(h->s, col), i));
                v = num;
            }
            k += (size_t)snprintf(id + k, k < sizeof id ? sizeof id - k : 0, "%s%.*s",
                                  j ? "/" : "", (int)(len ? len : strlen(v)), v);
            if (k >= sizeof id)
                k = sizeof id - 1;
        }
        plot_series *s = plot_series_get(h->p, id, err);
        if (!s)
            return err->status;
        if (s->n == s->cap) {
            size_t cap = cm_cap_for(s->cap, s->n, 256);
            if (cm_resize(&s->pt, s->cap, cap, sizeof *s->pt, err))
                return CM_ERR_NOMEM;
            s->cap = cap;
        }
        int64_t t = ((const int64_t *)c.values[h->time])[i];
        s->pt[s->n++] = (plot_point){t + (h->tz ? cm_tz_offset(h->tz, t) : 0),
                                     cm_cell_f64(c.values[h->target], dt, i)};
    }
    return CM_OK;
}

int plot_by_time(const void *a, const void *b)
{
    const plot_point *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* A series' points sorted by time; a time twice is a history read wrong
 * (a date without its hour): no picture rather than a false one. */
static cm_status in_time_order(plot_series *s, cm_error *err)
{
    const plot_point *a = s->pt;
    if (s->n)
        qsort(s->pt, s->n, sizeof *s->pt, plot_by_time);
    cm_status st = CM_OK;
    for (size_t i = 1; i < s->n && !st; i++) {
        if (a[i].t == a[i - 1].t) {
            char when[40];
            cm_fmt_time(when, sizeof when, a[i].t);
            when[10] = ' ', when[16] = '\0';
            st = cm_fail(err, CM_ERR_DATA, "the time %s repeats%s%s: clean the history as the "
                         "model's data were (cm-clean --time ...) and give that stream", when,
                         *s->id ? " in series " : "", s->id);
        }
    }
    return st;
}

cm_status cm_plot_history(cm_plot *p, FILE *in, const char *name, cm_error *err)
{
    (void)name;
    if (p->o.kind != CM_PLOT_FORECAST || !p->nin)
        return cm_fail(err, CM_ERR_ARG, "history: only for a forecast, after it");
    hist_ctx h = {p, NULL, NULL, -1, -1, {0}, 0, NULL, 0};
    cm_status st;
    if (cm_input_peek(in) == CM_INPUT_CM) {
        cm_reader *r = cm_reader_new(in, err);
        st = r ? bind(&h, cm_reader_schema(r), err) : err->status;
        cm_batch *b;
        int got = 0;
        while (!st && (got = cm_reader_next(r, &b, err)) == 1)
            st = take(&h, b, err);
        if (!st && got < 0)
            st = err->status;
        cm_reader_free(r);
    } else {
        cm_kv *kv = cm_kv_new();
        cm_clean *c = kv ? cm_clean_new(kv, err) : NULL;
        h.clean = c;
        st = c ? cm_clean_each(c, in, name, take, &h, err) : err->status;
        cm_clean_free(c);
        cm_kv_free(kv);
    }
    cm_tz_free(h.tz);
    /* a time twice is a history read wrong (a date without its hour): no
     * picture rather than a false one */
    for (size_t k = 0; !st && k < p->nhist; k++)
        st = in_time_order(&p->hist[k], err);
    return st;
}

plot_series *plot_series_get(cm_plot *p, const char *id, cm_error *err)
{
    for (size_t i = 0; i < p->nhist; i++)
        if (!strcmp(p->hist[i].id, id))
            return &p->hist[i];
    char *copy = cm_strdup(id);
    if (!copy || cm_resize(&p->hist, p->nhist, p->nhist + 1, sizeof *p->hist, err)) {
        free(copy);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    p->hist[p->nhist] = (plot_series){copy, NULL, 0, 0};
    return &p->hist[p->nhist++];
}

cm_status cm_plot_script(cm_plot *p, FILE *out, cm_error *err)
{
    if (!p->nin)
        return cm_fail(err, CM_ERR_ARG, "nothing to draw");
    fputs("# cm-plot: a gnuplot script, its data inline; gnuplot FILE draws it\n", out);
    switch (p->o.kind) {
    case CM_PLOT_FORECAST: return plot_forecast(p, out, err);
    case CM_PLOT_BACKTEST:
        return p->in[0].shape == SHAPE_FAN ? plot_fan(p, out, err) : plot_scores(p, out, err);
    case CM_PLOT_HISTORY: return plot_history_of_training(p, out, err);
    case CM_PLOT_TUNE: return plot_tune(p, out, err);
    case CM_PLOT_PREDICT: return plot_predict(p, out, err);
    }
    return cm_fail(err, CM_ERR_ARG, "no such kind of plot");
}
