/* cm-predict - forecasts from a model file: for every row of a raw CSV or
 * a cm stream, for one row given as NAME=VALUE arguments, or their error
 * against the actual values (--eval).  The replay is lib/predict.c. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: cm-predict -m MODEL.cmm [OPTION]... [FILE]\n"
    "  or:  cm-predict -m MODEL.cmm NAME=VALUE...\n"
    "Forecast with MODEL for every row of FILE (raw CSV, or a cm stream from\n"
    "cm-clean or cm-features; standard input by default), or for the one row\n"
    "whose raw fields the NAME=VALUE arguments give, printing only the number.\n"
    "\n";
static const char tail[] =
    "\n"
    "Exit status: 0 success, 1 bad data or model, 2 usage error.\n"
    "See cm-predict(1).\n";

typedef struct opts {
    const char *model, *input, *ids, *from;
    char **fields;
    int nfields, eval, info, format, strict;
    /* forecasts of several steps */
    const char *horizon, *step, *origin, *future, *every, *forecasts;
    int future_fill, fill_history, backtest;
    int64_t windows, threads;
    cli_common co;
} opts;

/* A step, 1h (a number of steps, or a span of them, 24h, 2d, 5y, is
 * cm_step_count_bad, and counted once the step is known). */
static int step_bad(const char *v)
{
    cm_step s;
    return cm_step_parse(v, &s);
}

#define AT(f, U) CM_SET_AT(opts, f, U)
static const cm_setting own[] = {
    {.name = "model", .short_opt = 'm', .type = CM_SET_TEXT, .arg = "FILE",
     .help = "the model file (required)", .offset = AT(model, const char *)},
    {.name = "format", .short_opt = 'f', .type = CM_SET_CHOICE, .arg = "FMT",
     .choices = "csv|tsv|json", .dflt = "csv", .help = "csv, tsv or json (one object a line)",
     .offset = AT(format, int)},
    {.name = "id", .type = CM_SET_TEXT, .arg = "COL,...",
     .help = "columns to copy to each output row", .offset = AT(ids, const char *)},
    {.name = "eval", .type = CM_SET_FLAG,
     .help = "print MAE, RMSE, MAPE, R2 and the row count of\nthe forecasts against the "
     "input's target", .offset = AT(eval, int)},
    {.name = "from", .type = CM_SET_TEXT, .arg = "TIME",
     .help = "with --eval: score only the rows at or after TIME\n(ISO 8601; naive in the "
     "zone of the training data);\nthe rows before it are history for the lags",
     .check = cm_time_instant_bad, .want = "an ISO 8601 time or date such as 2011-12-01",
     .offset = AT(from, const char *)},
    {.name = "info", .type = CM_SET_FLAG, .help = "print what the model needs and what it knows",
     .offset = AT(info, int)},
    {.name = "horizon", .short_opt = 'H', .type = CM_SET_TEXT, .arg = "N|SPAN",
     .help = "forecast the next N steps (or 24h, 2d, 5y) of\neach series from its history",
     .section = "Forecasts", .check = cm_step_count_bad, .want = "a number of steps or a span such as 24h",
     .offset = AT(horizon, const char *)},
    {.name = "step", .type = CM_SET_TEXT, .arg = "STEP",
     .help = "the interval of a step (15m 1h 1d 1w 1mo 1y);\nthe model's by default",
     .check = step_bad, .want = "a step such as 1h, 1d or 1mo", .offset = AT(step, const char *)},
    {.name = "origin", .type = CM_SET_TEXT, .arg = "TIME",
     .help = "forecast from TIME, not each series' last time",
     .check = cm_time_instant_bad, .want = "an ISO 8601 time or date such as 2011-12-01",
     .offset = AT(origin, const char *)},
    {.name = "future", .type = CM_SET_TEXT, .arg = "FILE",
     .help = "rows of the future times: their covariates", .offset = AT(future, const char *)},
    {.name = "future-fill", .type = CM_SET_CHOICE, .arg = "last", .choices = "no|last",
     .dflt = "no", .help = "without future rows, carry the last covariates", 
     .offset = AT(future_fill, int)},
    {.name = "fill-history", .type = CM_SET_CHOICE, .arg = "HOW", .choices = "no|linear|last",
     .dflt = "no", .help = "fill the gaps of the history first: linear, last",
     .offset = AT(fill_history, int)},
    {.name = "backtest", .type = CM_SET_FLAG,
     .help = "forecast from many origins of the input and score\neach step against its "
             "actual values", .offset = AT(backtest, int)},
    {.name = "windows", .type = CM_SET_COUNT, .arg = "N", .lo = 0, .dflt = "30",
     .help = "with --backtest: the last N origins that fit\n(default 30; 0: all)",
     .offset = AT(windows, int64_t)},
    {.name = "every", .type = CM_SET_TEXT, .arg = "N|SPAN",
     .help = "with --backtest: steps between origins (default:\nthe horizon)", .check = cm_step_count_bad,
     .want = "a number of steps or a span such as 24h", .offset = AT(every, const char *)},
    {.name = "forecasts", .type = CM_SET_TEXT, .arg = "FILE",
     .help = "with --backtest: every forecast into FILE", .offset = AT(forecasts, const char *)},
    {.name = "strict", .type = CM_SET_FLAG,
     .help = "exit 1 on a doubtful forecast: a category the\nmodel never saw, an input far "
             "outside training",
     .offset = AT(strict, int)},
    {.name = "threads", .short_opt = 'j', .type = CM_SET_COUNT, .arg = "N", .lo = 1,
     .hi = 256, .help = "threads for batches of thousands of rows (default:\nthe number of "
     "CPUs); the forecasts are the same\nfor any N", .offset = AT(threads, int64_t)},
    CLI_OPT_OUTPUT(opts, "write to FILE, replaced only when complete"),
    CLI_OPT_FORCE(opts, "accepted for symmetry; output is text"),
    CLI_OPT_VERBOSE(opts, "print the counts of the run on standard error"),
    CLI_OPT_QUIET(opts, "no counts of rows without a forecast"),
};
#undef AT
static const cm_settings own_settings = CLI_TABLE(own);

static void parse(int argc, char **argv, opts *o, cli_args *a)
{
    cli_args_parse(a, argc, argv, usage, tail, NULL, 0, NULL, &own_settings, o);
    int first = a->first;
    if (!o->model)
        cli_usage_error("no model: give one with -m MODEL.cmm");
    /* NAME=VALUE arguments make one row; anything else is the input. */
    o->fields = argv + first;
    for (int i = first; i < argc; i++)
        if (strchr(argv[i], '=') && argv[i][0] != '=')
            o->nfields++;
    if (o->nfields && o->nfields != argc - first)
        cli_usage_error("give either an input file or NAME=VALUE fields, not both");
    if (!o->nfields)
        o->input = cli_one_input(argc, argv, first);
    if (o->nfields && (o->eval || o->ids))
        cli_usage_error("--eval and --id read a file, not NAME=VALUE fields");
    if (o->from && !o->eval && !o->backtest)
        cli_usage_error("--from chooses the rows --eval scores or the first origin of "
                        "--backtest: give one of them too");
    if (o->nfields && o->info)
        cli_usage_error("--info takes no input: only -m MODEL.cmm");
    /* what belongs to forecasts of several steps, and only there */
    const char *needs_h = o->step ? "--step" : o->origin ? "--origin" : o->future ? "--future"
                        : o->future_fill ? "--future-fill" : o->fill_history ? "--fill-history"
                        : o->backtest ? "--backtest" : NULL;
    const char *needs_bt = o->every ? "--every" : o->forecasts ? "--forecasts"
                         : o->windows != 30 ? "--windows" : NULL;
    if (!o->horizon && needs_h)
        cli_usage_error("%s goes with --horizon", needs_h);
    if (!o->backtest && needs_bt)
        cli_usage_error("%s goes with --backtest", needs_bt);
    if (o->horizon && (o->eval || o->nfields))
        cli_usage_error("--horizon forecasts from a history file, not %s",
                        o->eval ? "with --eval (--backtest scores forecasts)" : "NAME=VALUE fields");
    if (o->backtest && (o->origin || o->future))
        cli_usage_error("--backtest takes its origins and future rows from its input, not %s",
                        o->origin ? "--origin" : "--future");
    if (o->future && o->future_fill)
        cli_usage_error("--future gives the future rows; --future-fill last carries the last "
                        "ones instead: give one");
}

static cm_model *load_model(const char *path)
{
    FILE *f = fopen(path, "rb");
    cm_error err;
    cm_error_clear(&err);
    if (!f)
        cli_die("%s: %s", path, strerror(errno));
    cm_model *m = cm_model_load(f, &err);
    fclose(f);
    if (!m)
        cli_die_error(path, &err);
    return m;
}

/* ---- one row from the command line --------------------------------------- */

/* One row from NAME=VALUE arguments. */
static void adhoc(const opts *o, cm_predictor *p)
{
    const char **names = calloc((size_t)o->nfields, sizeof *names);
    const char **values = calloc((size_t)o->nfields, sizeof *values);
    if (!names || !values)
        cli_die("out of memory");
    for (int i = 0; i < o->nfields; i++) {
        char *eq = strchr(o->fields[i], '=');
        *eq = '\0';
        names[i] = o->fields[i];
        values[i] = eq + 1;
    }
    cm_error err;
    cm_error_clear(&err);
    cm_pred_one r;
    cm_status st = cm_predict_row(p, names, values, (size_t)o->nfields, &r, &err);
    free(names);
    free(values);
    if (st) {
        if (err.status == CM_ERR_ARG && err.column[0])
            cli_usage_error("%s: %s (see --info)", err.column, err.msg);
        if (err.status == CM_ERR_ARG)
            cli_usage_error("%s (see --info)", err.msg);
        /* a bad value: name the field, not a line of a CSV never seen */
        if (err.column[0])
            cli_die("%s: %s", err.column, err.msg);
        cli_die_error(NULL, &err);
    }
    if (r.why == CM_PRED_NOT_FINITE)
        cli_die("the forecast is not a finite number: inputs far beyond the training data?");
    if (r.why == CM_PRED_NO_TIME)
        cli_die("missing inputs: the time (give them as NAME=VALUE)");
    if (r.why == CM_PRED_MISSING)
        cli_die("missing inputs: %s (give them as NAME=VALUE)", r.missing);
    for (size_t i = 0; i < r.ndoubt && i < CM_PRED_DOUBTS; i++)
        cli_warn("%s", r.doubt[i]);
    if (r.ndoubt > CM_PRED_DOUBTS)
        cli_warn("and %zu more doubts", r.ndoubt - CM_PRED_DOUBTS);
    if (r.ndoubt && o->strict)
        cli_die("no forecast under --strict");
    char buf[40];
    cm_fmt_f64(buf, sizeof buf, r.pred);
    printf("%s\n", buf);
    cli_stdout_flush();
}

/* ---- files ------------------------------------------------------------------ */

/* ", N what" for a count that is not zero. */
static void count(const char **comma, uint64_t n, const char *what, const char *col)
{
    if (!n)
        return;
    fprintf(stderr, "%s %llu %s", *comma, (unsigned long long)n, what);
    if (col)
        fprintf(stderr, " %s", col);
    *comma = ",";
}

/* The counts of each missing input (missing[i] for input i), a sequence
 * model's window told as one. */
static void count_missing(const char **comma, const cm_model *m, const uint64_t *missing)
{
    size_t C, W = cm_model_window(m, &C);
    uint64_t no_window = 0;
    for (size_t i = 0; i < W * C; i++)
        no_window += missing[i];
    if (no_window)
        fprintf(stderr, "%s %llu without a whole window (the %zu steps before)", *comma,
                (unsigned long long)no_window, W), *comma = ",";
    for (size_t i = W * C; i < cm_model_ninputs(m); i++)
        count(comma, missing[i], "missing", cm_model_input(m, i));
}

static void print_counts(const cm_model *m, const cm_predictor *p, const char *name,
                         int verbose)
{
    const cm_pred_stats *s = cm_predictor_stats(p);
    uint64_t none = s->rows - s->predicted;
    if (!s->rows) /* an empty answer says so */
        cli_warn("%s: no rows to forecast", name);
    if (verbose)
        fprintf(stderr, "%s: %llu rows, %llu forecast\n", cli_name(),
                (unsigned long long)s->rows, (unsigned long long)s->predicted);
    if (none) {
        fprintf(stderr, "%s: %llu of %llu rows without a forecast:", cli_name(),
                (unsigned long long)none, (unsigned long long)s->rows);
        const char *comma = "";
        count_missing(&comma, m, s->missing);
        count(&comma, s->left[CM_CLEAN_NO_TIME], "without a time", NULL);
        count(&comma, s->left[CM_CLEAN_DUPLICATE], "repeating a time the recipe's dedupe "
              "keeps once", NULL);
        count(&comma, s->left[CM_CLEAN_MISSING], "left out by cleaning for a missing",
              s->left_col[CM_CLEAN_MISSING]);
        count(&comma, s->left[CM_CLEAN_BAD], "unreadable (bad-rows skip)", NULL);
        count(&comma, s->not_finite, "not finite", NULL);
        fputc('\n', stderr);
    }
    if (s->unseen)
        fprintf(stderr, "%s: %llu %s the model never saw (its unseen slot)\n",
                cli_name(), (unsigned long long)s->unseen,
                s->unseen == 1 ? "category" : "categories");
    double lo, hi;
    if (s->far && cm_model_seen(m, s->far_input - 1, &lo, &hi)) {
        char a[32], z[32];
        cm_fmt_f64(a, sizeof a, lo);
        cm_fmt_f64(z, sizeof z, hi);
        fprintf(stderr, "%s: %llu %s an input far outside what training saw (the first: "
                "%s, seen %s to %s)\n", cli_name(), (unsigned long long)s->far,
                s->far == 1 ? "row has" : "rows have", cm_model_input(m, s->far_input - 1),
                a, z);
    }
}

/* ---- several steps ahead ------------------------------------------------------ */

/* A backtest's results go to the scores and, with --forecasts, a file. */
typedef struct fanout {
    cm_fc_score *score;
    cm_fc_writer *w;
} fanout;

static cm_status to_both(void *ctx, const cm_fc_batch *b, cm_error *err)
{
    fanout *f = ctx;
    cm_status st = cm_fc_score_add(f->score, b, err);
    return !st && f->w ? cm_fc_write(f->w, b, err) : st;
}

/* The options of a forecast, read against the model's step. */
static cm_forecast_opts forecast_opts(const opts *o, const cm_predictor *p)
{
    cm_forecast_opts fo = {.future = o->future_fill ? CM_FUTURE_LAST : CM_FUTURE_ROWS,
                           .gaps = (cm_gapfill)o->fill_history, .backtest = o->backtest,
                           .windows = o->windows, .no_rows = o->backtest && !o->forecasts};
    if (o->step)
        cm_step_parse(o->step, &fo.step);
    if (o->origin && !cm_time_instant(o->origin, cm_predictor_tz(p), &fo.origin))
        fo.has_origin = 1;
    if (o->from && o->backtest && !cm_time_instant(o->from, cm_predictor_tz(p), &fo.from))
        fo.has_from = 1;
    fo.horizon = 1; /* counted below, once the step is known */
    return fo;
}

/* A number of steps, or a span that is a whole number of them. */
static int64_t steps_of(const char *option, const char *text, cm_step step)
{
    int64_t n;
    char what[32];
    cm_error err;
    cm_error_clear(&err);
    snprintf(what, sizeof what, "--%s", option);
    if (cm_steps_of(what, text, step, CM_STEPS_MAX, &n, &err))
        cli_refused(&err);
    return n;
}

static void print_fc_counts(const cm_model *m, const cm_forecaster *fc, int verbose)
{
    const cm_fc_stats *s = cm_forecast_stats(fc);
    uint64_t none = s->slots - s->predicted;
    if (verbose)
        fprintf(stderr, "%s: %llu series, %llu windows, %llu forecasts%s\n", cli_name(),
                (unsigned long long)s->series, (unsigned long long)s->windows,
                (unsigned long long)s->predicted, "");
    if (verbose && s->filled)
        fprintf(stderr, "%s: %llu values of the history filled (--fill-history)\n", cli_name(),
                (unsigned long long)s->filled);
    if (!none)
        return;
    fprintf(stderr, "%s: %llu of %llu forecasts empty:", cli_name(), (unsigned long long)none,
            (unsigned long long)s->slots);
    const char *comma = "";
    count_missing(&comma, m, s->missing);
    count(&comma, s->no_future, "steps without a row of covariates", NULL);
    fputc('\n', stderr);
}

/* What a run holds, freed at exit on every path (cli_hold). */
typedef struct held {
    cli_held cli; /* first: see cli_hold */
    cm_model *m;
    cm_predictor *p;
    cm_pred_writer *w;
    cm_reader *r;
    cm_forecaster *fc;
    cm_fc_writer *fw;
    cm_fc_score *score;
} held;

static int forecast_mode(const opts *o, held *h, const cm_model *m, cm_predictor *p);

static void release(void *ctx)
{
    held *h = ctx;
    cm_fc_writer_free(h->fw);
    cm_fc_score_free(h->score);
    cm_forecaster_free(h->fc);
    cm_pred_writer_free(h->w);
    cm_reader_free(h->r);
    cm_predictor_free(h->p);
    cm_model_free(h->m);
}

int main(int argc, char **argv)
{
    opts o = {0};
    cli_init(argv, "cm-predict");
    held *h = cli_hold(sizeof *h, release);
    parse(argc, argv, &o, &h->cli.a);
    cm_model *m = h->m = load_model(o.model);
    cm_model_set_threads(m, o.threads ? (int)o.threads : (int)cli_cpus());
    cm_error err;
    cm_error_clear(&err);
    cm_predictor *p = h->p = cm_predictor_new(m, &err);
    if (!p)
        cli_die_error(o.model, &err);
    if (o.info) {
        cli_output *out = cli_output_open(o.co.output ? o.co.output : "-", 0, 1);
        cm_predictor_describe(p, cli_output_file(out));
        cli_output_close(out);
        return CLI_OK;
    }
    if (o.nfields) {
        adhoc(&o, p);
        return CLI_OK;
    }
    if (o.horizon)
        return forecast_mode(&o, h, m, p);
    const char *name = cli_in_name(o.input);
    FILE *in = h->cli.in = cli_open_in(o.input);
    cli_output *out = cli_output_open(o.co.output ? o.co.output : "-", 0, 1);
    cm_eval ev = {.target = cm_model_target(m)};
    if (o.from) {
        const cm_schema *ms = cm_model_schema(m);
        int timed = 0;
        for (size_t c = 0; c < cm_schema_ncols(ms); c++)
            timed |= cm_schema_role(ms, c) == CM_ROLE_TIME && cm_schema_dtype(ms, c) == CM_TIME;
        if (!timed)
            cli_usage_error("--from: %s was trained on rows without a time column", o.model);
        if (cm_eval_from(&ev, o.from, cm_predictor_tz(p), &err))
            cli_usage_error("--%s", err.msg);
    }
    if (!o.eval && !(h->w = cm_pred_writer_new(cli_output_file(out), m, cm_predictor_tz(p),
                                               (cm_text_format)o.format, o.ids, &err)))
        cli_die_error(NULL, &err);
    cm_pred_fn fn = o.eval ? cm_eval_add : cm_pred_write;
    void *ctx = o.eval ? (void *)&ev : (void *)h->w;
    cm_status st;
    if (cm_input_peek(in) == CM_INPUT_CM)
        st = (h->r = cm_reader_new(in, &err)) ? cm_predict_stream(p, h->r, fn, ctx, &err)
                                              : err.status;
    else
        st = cm_predict_csv(p, in, name, 0, fn, ctx, &err);
    if (st) {
        cli_output_abort(out);
        cli_die_error(err.status == CM_ERR_ARG ? NULL : name, &err);
    }
    const cm_pred_stats *s = cm_predictor_stats(p);
    if (o.strict && (s->far || s->unseen)) {
        cli_output_abort(out);
        print_counts(m, p, name, 0);
        cli_die("%s: doubtful forecasts under --strict: nothing written", name);
    }
    if (o.eval)
        cm_eval_write(cli_output_file(out), &ev, (cm_text_format)o.format);
    else
        cm_pred_writer_finish(h->w);
    cli_output_close(out);
    if (!o.co.quiet)
        print_counts(m, p, name, o.co.verbose);
    if (!o.co.quiet && o.eval && !ev.rows && cm_predictor_stats(p)->rows && o.from)
        cli_warn("%s: no row to score: none at or after %s has both a forecast and an "
                 "actual value", name, o.from);
    else if (!o.co.quiet && o.eval && !ev.rows && cm_predictor_stats(p)->rows)
        cli_warn("%s: no row to score: none has both a forecast and an actual value", name);
    return CLI_OK; /* release frees the rest */
}

static int forecast_mode(const opts *o, held *h, const cm_model *m, cm_predictor *p)
{
    cm_error err;
    cm_error_clear(&err);
    cm_forecast_opts fo = forecast_opts(o, p);
    cm_forecaster *fc = h->fc = cm_forecaster_new(p, &fo, &err);
    if (!fc)
        cli_refused(&err);
    cm_step step;
    cm_forecast_step(fc, &step, &err);
    fo.horizon = steps_of("horizon", o->horizon, step);
    fo.every = o->every ? steps_of("every", o->every, step) : 0;
    cm_forecaster_free(fc);
    if (!(fc = h->fc = cm_forecaster_new(p, &fo, &err)))
        cli_refused(&err);
    if (o->future) {
        FILE *f = cli_open_in(o->future);
        cm_status st = cm_forecast_future(fc, f, cli_in_name(o->future), &err);
        if (f != stdin)
            fclose(f);
        if (st)
            cli_die_error(cli_in_name(o->future), &err);
    }
    const char *name = cli_in_name(o->input);
    FILE *in = h->cli.in = cli_open_in(o->input);
    cli_output *out = cli_output_open(o->co.output ? o->co.output : "-", 0, 1);
    cli_output *fout = o->forecasts ? cli_output_open(o->forecasts, 0, 0) : NULL;
    fanout fan = {0};
    cm_fc_fn fn = cm_fc_write;
    void *ctx;
    cm_text_format f = (cm_text_format)o->format;
    if (o->backtest) {
        if (!(fan.score = h->score = cm_fc_score_new(fo.horizon)) ||
            (fout && !(fan.w = h->fw = cm_fc_writer_new(cli_output_file(fout), m,
                                                         cm_predictor_tz(p), f, o->ids, 1,
                                                         &err))))
            cli_die("out of memory");
        fn = to_both;
        ctx = &fan;
    } else if (!(ctx = h->fw = cm_fc_writer_new(cli_output_file(out), m, cm_predictor_tz(p), f,
                                                o->ids, 0, &err))) {
        cli_die_error(NULL, &err);
    }
    if (cm_forecast_run(fc, in, name, fn, ctx, &err)) {
        cli_output_abort(fout);
        cli_output_abort(out);
        cli_die_error(err.status == CM_ERR_ARG ? NULL
                      : err.detail == CM_DETAIL_FUTURE ? cli_in_name(o->future) : name, &err);
    }
    if (o->backtest) {
        cm_fc_score_write(fan.score, cli_output_file(out), f,
                          fo.future == CM_FUTURE_LAST ? "last (carried from each origin)"
                                                      : "actual (the input's own rows)");
        if (fan.w)
            cm_fc_writer_finish(fan.w);
    } else {
        cm_fc_writer_finish(h->fw);
    }
    if (fout)
        cli_output_close(fout);
    cli_output_close(out);
    if (!o->co.quiet)
        print_fc_counts(m, fc, o->co.verbose);
    if (!o->co.quiet && o->co.verbose && fo.future == CM_FUTURE_LAST)
        fprintf(stderr, "%s: covariates at future times: the last row's, carried\n", cli_name());
    return CLI_OK;
}
