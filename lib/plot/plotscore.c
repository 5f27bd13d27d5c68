/* plotscore.c - pictures of numbers against steps, epochs and settings:
 * backtest scores by step (one line a model), a training history with its
 * best epoch, a search's score against each setting it tried, and
 * forecasts against their actual values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot/plot.h"

/* A column that must be there (the shapes promise most). */
static long need(const plot_table *t, const char *name)
{
    long c = plot_col(t, name);
    return c < 0 ? 0 : c;
}

cm_status plot_scores(cm_plot *p, FILE *out, cm_error *err)
{
    (void)err;
    for (size_t k = 0; k < p->nin; k++) {
        const plot_table *t = p->in[k].t;
        size_t step = 0, rmse = (size_t)need(t, "rmse"), mae = (size_t)need(t, "mae");
        fprintf(out, "$s%zu << EOD\n", k);
        for (size_t r = 0; r < t->nrows; r++) {
            double s, a, b;
            if (plot_num(t, r, step, &s)) /* the "all" line */
                continue;
            plot_value(out, s);
            fputc(' ', out);
            plot_value(out, plot_num(t, r, rmse, &a) ? NAN : a);
            fputc(' ', out);
            plot_value(out, plot_num(t, r, mae, &b) ? NAN : b);
            fputc('\n', out);
        }
        fputs("EOD\n", out);
    }
    plot_begin(p, out, NULL);
    fputs("set xlabel 'step ahead'\nset multiplot layout 1,2 title ", out);
    plot_quote(out, p->o.title ? p->o.title : "backtest: the error by step ahead");
    fputs("\nunset title\n", out);
    static const char *const what[] = {"RMSE", "MAE"};
    for (int m = 0; m < 2; m++) {
        fprintf(out, "set ylabel '%s'\nplot ", what[m]);
        for (size_t k = 0; k < p->nin; k++) {
            fprintf(out, "%s$s%zu using 1:%d with linespoints ls %zu pt 7 ps 0.6 title ",
                    k ? ", " : "", k, m + 2, k % 4 + 1);
            plot_quote(out, p->in[k].label);
        }
        fputc('\n', out);
    }
    fputs("unset multiplot\n", out);
    return CM_OK;
}

cm_status plot_history_of_training(cm_plot *p, FILE *out, cm_error *err)
{
    const plot_table *t = p->in[0].t;
    size_t tr = (size_t)need(t, "train_loss");
    long va = plot_col(t, "valid_loss");
    double best = INFINITY, lo = INFINITY, hi = 0;
    size_t best_epoch = 0, valid = 0;
    fputs("$h0 << EOD\n", out);
    for (size_t r = 0; r < t->nrows; r++) {
        double e, a, b = NAN;
        if (plot_num(t, r, 0, &e) || plot_num(t, r, tr, &a))
            return cm_fail(err, CM_ERR_DATA, "row %zu: no epoch or training loss", r + 2);
        if (va >= 0 && !plot_num(t, r, (size_t)va, &b))
            valid++;
        double score = va >= 0 && isfinite(b) ? b : a;
        if (score < best) /* an epoch no size_t holds is none */
            best = score, best_epoch = e >= 0 && e < 1e15 ? (size_t)e : 0;
        lo = fmin(lo, fmin(a, isfinite(b) ? b : a));
        hi = fmax(hi, fmax(a, isfinite(b) ? b : a));
        fprintf(out, "%.0f ", e);
        plot_value(out, a);
        fputc(' ', out);
        plot_value(out, b);
        fputc('\n', out);
    }
    fputs("EOD\n", out);
    char title[160];
    snprintf(title, sizeof title, "training: the loss by epoch, the best epoch %zu", best_epoch);
    plot_begin(p, out, title);
    fputs("set xlabel 'epoch'\nset ylabel 'loss'\n", out);
    if (lo > 0 && hi / lo > 100) /* a loss that falls by orders of magnitude */
        fputs("set logscale y\n", out);
    fputs("plot $h0 using 1:2 with linespoints ls 1 pt 7 ps 0.5 title 'training'", out);
    if (valid)
        fputs(", $h0 using 1:3 with linespoints ls 2 pt 7 ps 0.5 title 'validation'", out);
    fprintf(out, ", '+' using (%zu):(", best_epoch);
    plot_value(out, best);
    fputs(") every ::0::0 with points ls 4 pt 6 ps 2 title 'best'\n", out);
    return CM_OK;
}

/* Settings whose values grow by a factor (0.001, 0.01, 0.1): a log axis. */
static int geometric(const double *v, size_t n)
{
    if (n < 3 || v[0] <= 0)
        return 0;
    double r = v[1] / v[0];
    for (size_t i = 2; i < n; i++)
        if (fabs(v[i] / v[i - 1] / r - 1) > 0.1)
            return 0;
    return r > 1.5 || r < 0.67;
}

static int ascending(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

cm_status plot_tune(cm_plot *p, FILE *out, cm_error *err)
{
    const plot_table *t = p->in[0].t;
    size_t mean = 0, first_fold = 0;
    for (size_t c = 1; c < t->ncols && !mean; c++) {
        size_t len = strlen(t->name[c]);
        if (!first_fold && len > 6 && strstr(t->name[c], "_fold"))
            first_fold = c;
        if (len > 5 && !strcmp(t->name[c] + len - 5, "_mean"))
            mean = c;
    }
    size_t nparams = (first_fold ? first_fold : mean) - 1, sd = mean + 1;
    long errc = plot_col(t, "error");
    if (!nparams)
        return cm_fail(err, CM_ERR_DATA, "no searched settings before the scores");
    char metric[64];
    snprintf(metric, sizeof metric, "%.*s", (int)(strlen(t->name[mean]) - 5), t->name[mean]);
    double *v = malloc((t->nrows + 1) * sizeof *v);
    if (!v)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    int *logx = calloc(nparams + 1, sizeof *logx), *numeric = calloc(nparams + 1, sizeof *numeric);
    for (size_t k = 0; logx && numeric && k < nparams; k++) {
        size_t n = 0, bad = 0;
        for (size_t r = 0; r < t->nrows; r++)
            bad += plot_num(t, r, 1 + k, &v[n]) ? 1 : (n++, 0);
        numeric[k] = !bad;
        qsort(v, n, sizeof *v, ascending);
        size_t u = 0;
        for (size_t i = 0; i < n; i++)
            if (!u || v[i] != v[u - 1])
                v[u++] = v[i];
        logx[k] = numeric[k] && geometric(v, u);
        /* a panel's points: the setting (or the row's order among the
         * values it took), the mean, the spread over the folds */
        fprintf(out, "$t%zu << EOD\n", k);
        for (size_t r = 0; r < t->nrows; r++) {
            double x, m, s;
            if ((errc >= 0 && *plot_cell(t, r, (size_t)errc)) || plot_num(t, r, mean, &m))
                continue;
            if (numeric[k])
                plot_num(t, r, 1 + k, &x);
            else
                x = (double)r;
            plot_value(out, x);
            fputc(' ', out);
            plot_value(out, m);
            fputc(' ', out);
            plot_value(out, plot_num(t, r, sd, &s) ? 0 : s);
            fputs(" ", out);
            plot_quote(out, plot_cell(t, r, 1 + k));
            fputc('\n', out);
        }
        fputs("EOD\n", out);
    }
    free(v);
    if (!logx || !numeric) {
        free(logx), free(numeric);
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    plot_begin(p, out, NULL);
    size_t cols = nparams < 3 ? nparams : 3, rows = (nparams + cols - 1) / cols;
    char title[160];
    snprintf(title, sizeof title, "search: %s against each setting (mean over the folds, "
             "and their spread)", metric);
    fprintf(out, "set multiplot layout %zu,%zu title ", rows, cols);
    plot_quote(out, p->o.title ? p->o.title : title);
    fputs("\nunset title\nset key off\nset offsets graph 0.08, graph 0.08, 0, 0\nset ylabel ", out);
    plot_quote(out, metric);
    fputc('\n', out);
    for (size_t k = 0; k < nparams; k++) {
        fputs("set xlabel ", out);
        plot_quote(out, t->name[1 + k]);
        fprintf(out, "\n%s\n", logx[k] ? "set logscale x" : "unset logscale x");
        if (numeric[k])
            fprintf(out, "plot $t%zu using 1:2:3 with yerrorbars ls 1 pt 7\n", k);
        else
            fprintf(out, "plot $t%zu using 1:2:3:xtic(4) with yerrorbars ls 1 pt 7\n", k);
    }
    fputs("unset multiplot\n", out);
    free(logx), free(numeric);
    return CM_OK;
}

cm_status plot_predict(cm_plot *p, FILE *out, cm_error *err)
{
    (void)err;
    const plot_table *t = p->in[0].t;
    size_t pred = (size_t)plot_pred_col(t), actual = pred + 1;
    int64_t w, lo = INT64_MAX, hi = INT64_MIN;
    int timed = pred > 0 && !plot_time(t, 0, 0, &w);
    double amin = INFINITY, amax = -INFINITY;
    size_t n = 0;
    fputs("$p0 << EOD\n", out);
    for (size_t r = 0; r < t->nrows; r++) {
        double f, a;
        if (plot_num(t, r, pred, &f) || plot_num(t, r, actual, &a))
            continue;
        if (timed && !plot_time(t, r, 0, &w)) {
            lo = w < lo ? w : lo;
            hi = w > hi ? w : hi;
        } else {
            w = (int64_t)r;
        }
        amin = fmin(amin, fmin(a, f));
        amax = fmax(amax, fmax(a, f));
        fprintf(out, "%lld ", (long long)w);
        plot_value(out, a);
        fputc(' ', out);
        plot_value(out, f);
        fputc('\n', out);
        n++;
    }
    fputs("EOD\n", out);
    if (!n)
        return cm_fail(err, CM_ERR_DATA, "no row with both a forecast and an actual value");
    char title[200];
    snprintf(title, sizeof title, "%.100s: %zu forecasts against the actual values", p->target, n);
    plot_begin(p, out, NULL);
    fputs("set multiplot layout 1,2 title ", out);
    plot_quote(out, p->o.title ? p->o.title : title);
    fputs("\nunset title\nset key top left\nset size ratio -1\nset xlabel ", out);
    char lab[CM_MAX_NAME + 32];
    snprintf(lab, sizeof lab, "%.100s, actual", p->target);
    plot_quote(out, lab);
    fputs("\nset ylabel ", out);
    snprintf(lab, sizeof lab, "%.100s, forecast", p->target);
    plot_quote(out, lab);
    fputs("\nset xrange [", out);
    plot_value(out, amin);
    fputc(':', out);
    plot_value(out, amax);
    fputs("]\nset yrange [", out);
    plot_value(out, amin);
    fputc(':', out);
    plot_value(out, amax);
    fputs("]\nplot $p0 using 2:3 with points ls 1 pt 7 ps 0.3 title 'forecasts', x with lines "
          "ls 3 title 'forecast = actual'\n", out);
    fputs("set size noratio\nset autoscale\nset ylabel 'forecast - actual'\n", out);
    if (timed)
        plot_time_axis(p, out, lo, hi);
    else
        fputs("set xlabel 'row'\n", out);
    fputs("plot $p0 using 1:($3 - $2) with points ls 2 pt 7 ps 0.3 title 'residual', 0 with "
          "lines ls 3 notitle\n", out);
    fputs("unset multiplot\n", out);
    return CM_OK;
}
