/* plotfc.c - forecasts in time: the next steps of each series drawn on
 * from its history (cm-predict --horizon), and a backtest's forecasts
 * fanning out from each origin over the actual values (--forecasts). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot/plot.h"

#define MAX_PANELS 12

/* The ids of row r (columns [from, to)) joined by '/'. */
static void row_id(const plot_table *t, size_t r, size_t from, size_t to, char *id, size_t n)
{
    size_t k = 0;
    id[0] = '\0';
    for (size_t c = from; c < to && k < n; c++)
        k += (size_t)snprintf(id + k, n - k, "%s%s", c > from ? "/" : "", plot_cell(t, r, c));
}

/* A wall-clock time as people write it: 2012-12-31 23:00. */
static void wall_text(char *buf, size_t n, int64_t wall)
{
    char b[40];
    cm_fmt_time(b, sizeof b, wall);
    b[10] = ' ';
    b[wall % 86400 ? 16 : 10] = '\0'; /* a date alone at midnight */
    snprintf(buf, n, "%s", b);
}

/* The series of the table, in the order they first appear; the one
 * asked for alone.  Returns how many (ids into id[], at most max). */
static cm_status series_of(const cm_plot *p, const plot_table *t, size_t from, size_t to,
                           char (*id)[256], size_t max, size_t *n, cm_error *err)
{
    *n = 0;
    int found = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        char cur[256];
        row_id(t, r, from, to, cur, sizeof cur);
        size_t k = 0;
        while (k < *n && strcmp(id[k], cur))
            k++;
        if (k < *n)
            continue;
        if (p->o.series && strcmp(p->o.series, cur))
            continue;
        found = 1;
        if (*n == max)
            return cm_fail(err, CM_ERR_ARG, "more than %zu series: choose one with --series ID",
                           max);
        snprintf(id[(*n)++], sizeof *id, "%s", cur);
    }
    if (p->o.series && !found)
        return cm_fail(err, CM_ERR_ARG, "series: no series '%s' in the input", p->o.series);
    return CM_OK;
}

/* The points of series id in the history (in time order) within [lo, hi]. */
static plot_point *history_points(cm_plot *p, const char *id, int64_t lo, int64_t hi, size_t *n)
{
    *n = 0;
    plot_series *s = NULL;
    for (size_t i = 0; i < p->nhist && !s; i++)
        if (!strcmp(p->hist[i].id, id))
            s = &p->hist[i];
    plot_point *pt = s ? malloc((s->n + 1) * sizeof *pt) : NULL;
    for (size_t i = 0; pt && i < s->n; i++)
        if (s->pt[i].t >= lo && s->pt[i].t <= hi)
            pt[(*n)++] = s->pt[i];
    return pt;
}

static void block(FILE *out, const char *name, size_t k, const plot_point *pt, size_t n)
{
    fprintf(out, "$%s%zu << EOD\n", name, k);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%lld ", (long long)pt[i].t);
        plot_value(out, pt[i].v);
        fputc('\n', out);
    }
    fputs("EOD\n", out);
}

cm_status plot_forecast(cm_plot *p, FILE *out, cm_error *err)
{
    const plot_table *t = p->in[0].t;
    size_t step = (size_t)plot_col(t, "step"), pred = (size_t)plot_pred_col(t), ns;
    char id[MAX_PANELS][256];
    cm_status st = series_of(p, t, 1, step, id, MAX_PANELS, &ns, err);
    if (st)
        return st;
    if (p->nhist && !p->hist[0].n)
        return cm_fail(err, CM_ERR_DATA, "history: no rows with a time and a value of '%s'",
                       p->target);
    plot_point *fc = malloc((t->nrows + 2) * sizeof *fc);
    if (!fc)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    char title[400] = "";
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    /* the data first, every panel's, then the pictures */
    for (size_t k = 0; !st && k < ns; k++) {
        size_t n = 0;
        for (size_t r = 0; r < t->nrows && !st; r++) {
            char cur[256];
            row_id(t, r, 1, step, cur, sizeof cur);
            if (strcmp(cur, id[k]))
                continue;
            int64_t w;
            double v;
            if (plot_time(t, r, 0, &w))
                st = cm_fail(err, CM_ERR_DATA, "row %zu: '%s' is not a time", r + 2,
                             plot_cell(t, r, 0));
            else
                fc[1 + n++] = (plot_point){w, plot_num(t, r, pred, &v) ? NAN : v};
        }
        if (st || !n)
            break;
        /* the history as far back as three horizons, and any actuals of
         * the forecast's own times */
        int64_t span = fc[n].t - fc[1].t + (n > 1 ? (fc[n].t - fc[1].t) / (int64_t)(n - 1) : 3600);
        size_t nh = 0;
        plot_point *h = p->nhist ? history_points(p, id[k], fc[1].t - 3 * span, fc[n].t, &nh) : NULL;
        if (p->nhist && !nh) {
            free(h);
            st = cm_fail(err, CM_ERR_DATA, "history: no rows of series '%s' before the "
                         "forecast", id[k]);
            break;
        }
        /* the forecast's line starts at the origin, the last time before it */
        size_t first = 1, o = 0;
        while (o < nh && h[o].t < fc[1].t)
            o++;
        if (o > 0) {
            fc[0] = h[o - 1];
            first = 0;
        }
        block(out, "h", k, h, nh);
        block(out, "f", k, fc + first, n + 1 - first);
        int64_t a = nh ? h[0].t : fc[first].t;
        lo = a < lo ? a : lo;
        hi = fc[n].t > hi ? fc[n].t : hi;
        if (k == 0) {
            char when[40];
            wall_text(when, sizeof when, first == 0 ? fc[0].t : fc[1].t);
            snprintf(title, sizeof title, "%.100s: %zu steps %s %s", p->target, n,
                     first == 0 ? "from" : "starting", when);
        }
        free(h);
    }
    free(fc);
    if (st)
        return st;
    plot_begin(p, out, ns > 1 ? NULL : title);
    plot_time_axis(p, out, lo, hi);
    fputs("set ylabel ", out);
    plot_quote(out, p->target);
    fputc('\n', out);
    if (ns > 1) {
        size_t cols = ns <= 3 ? ns : ns <= 8 ? 2 : 3, rows = (ns + cols - 1) / cols;
        fprintf(out, "set multiplot layout %zu,%zu title ", rows, cols);
        plot_quote(out, title);
        fputc('\n', out);
    }
    for (size_t k = 0; k < ns; k++) {
        if (ns > 1) {
            fputs("set title ", out);
            plot_quote(out, id[k]);
            fputc('\n', out);
        }
        fputs("plot ", out);
        if (p->nhist) {
            fprintf(out, "$h%zu using 1:2 with lines ls 1 title ", k);
            plot_quote(out, p->target);
            fputs(", ", out);
        }
        fprintf(out, "$f%zu using 1:2 with linespoints ls 2 pt 7 ps 0.5 title 'forecast'\n", k);
    }
    if (ns > 1)
        fputs("unset multiplot\n", out);
    return CM_OK;
}

cm_status plot_fan(cm_plot *p, FILE *out, cm_error *err)
{
    const plot_table *t = p->in[0].t;
    size_t step = (size_t)plot_col(t, "step"), pred = (size_t)plot_pred_col(t), ns;
    size_t actual = pred + 1, time = 1;
    char id[1][256];
    cm_status st = series_of(p, t, 2, step, id, 1, &ns, err);
    if (st)
        return st;
    plot_point *a = malloc((t->nrows + 1) * sizeof *a);
    if (!a)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    size_t na = 0;
    /* the actual values, once a time */
    for (size_t r = 0; r < t->nrows && !st; r++) {
        char cur[256];
        row_id(t, r, 2, step, cur, sizeof cur);
        int64_t w;
        double v;
        if (strcmp(cur, id[0]))
            continue;
        if (plot_time(t, r, time, &w))
            st = cm_fail(err, CM_ERR_DATA, "row %zu: '%s' is not a time", r + 2,
                         plot_cell(t, r, time));
        else if (!plot_num(t, r, actual, &v))
            a[na++] = (plot_point){w, v};
    }
    qsort(a, na, sizeof *a, plot_by_time);
    size_t u = 0;
    for (size_t i = 0; i < na; i++)
        if (!u || a[i].t != a[u - 1].t)
            a[u++] = a[i];
    na = u;
    if (!st) {
        block(out, "a", 0, a, na);
        /* each origin's forecasts, a line of their own (a blank line
         * between), from the actual value at the origin when known */
        fputs("$fan0 << EOD\n", out);
        const char *prev = NULL;
        size_t origins = 0;
        for (size_t r = 0; r < t->nrows; r++) {
            char cur[256];
            row_id(t, r, 2, step, cur, sizeof cur);
            int64_t w, o;
            double v;
            if (strcmp(cur, id[0]) || plot_time(t, r, time, &w) || plot_num(t, r, pred, &v))
                continue;
            if (!prev || strcmp(prev, plot_cell(t, r, 0))) {
                if (prev)
                    fputc('\n', out);
                prev = plot_cell(t, r, 0);
                origins++;
                if (!plot_time(t, r, 0, &o)) {
                    plot_point key = {o, 0};
                    plot_point *at = bsearch(&key, a, na, sizeof *a, plot_by_time);
                    if (at) {
                        fprintf(out, "%lld ", (long long)at->t);
                        plot_value(out, at->v);
                        fputc('\n', out);
                    }
                }
            }
            fprintf(out, "%lld ", (long long)w);
            plot_value(out, v);
            fputc('\n', out);
        }
        fputs("EOD\n", out);
        char title[300];
        snprintf(title, sizeof title, "%.100s: the forecasts from %zu origins over the actuals%s%.100s",
                 p->target, origins, *id[0] ? ", " : "", id[0]);
        plot_begin(p, out, title);
        plot_time_axis(p, out, na ? a[0].t : 0, na ? a[na - 1].t : 0);
        fputs("set ylabel ", out);
        plot_quote(out, p->target);
        fputs("\nplot $fan0 using 1:2 with lines ls 2 title 'forecasts', ", out);
        fputs("$a0 using 1:2 with lines ls 1 title ", out);
        plot_quote(out, p->target);
        fputc('\n', out);
    }
    free(a);
    return st;
}
