/* cm-features - calendar parts, lags, rolling windows and differences
 * for forecasting, derived from a cm stream in one streaming pass.  The
 * options become the settings of lib/features.c (and the recipe). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: cm-features [OPTION]... [FILE]\n"
    "Read the cm stream FILE (or standard input), derive forecasting features\n"
    "and write the stream with them to standard output.\n"
    "\n";
static const char tail[] =
    "\n"
    "Exit status: 0 success, 1 bad input data, 2 usage error.\n"
    "See cm-features(1).\n";

typedef struct opts {
    int64_t level;
    cli_common co;
} opts;

static const cm_setting own[] = {
    CLI_OPT_OUTPUT(opts, "write to FILE, replaced only when complete"),
    CLI_OPT_LEVEL(opts),
    CLI_OPT_FORCE(opts, "write the stream even to a terminal"),
    CLI_OPT_VERBOSE(opts, "print what was done on standard error"),
    CLI_OPT_QUIET(opts, "no progress messages"),
};
static const cm_settings own_settings = CLI_TABLE(own);

/* The dates of a holiday file, one a line, '#' starting a comment, as
 * the setting (in its place among the others, as the recipe keeps it). */
static void read_holidays(cm_kv *settings, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        cli_die("%s: %s", path, strerror(errno));
    char line[256], *dates = NULL;
    size_t len = 0;
    unsigned long lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "#\r\n")] = '\0';
        char *p = line + strspn(line, " \t"), *e = p + strlen(p);
        while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        if (!*p)
            continue;
        if (strchr(p, ','))
            cli_usage_error("%s:%lu: '%s' is not a date", path, lineno, p);
        char *d = realloc(dates, len + strlen(p) + 2);
        if (!d)
            cli_die("out of memory");
        dates = d;
        len += (size_t)sprintf(dates + len, "%s%s", len ? "," : "", p);
    }
    if (ferror(f))
        cli_die("%s: %s", path, strerror(errno));
    fclose(f);
    cli_set(settings, "holidays", dates ? dates : "");
    free(dates);
}

static cm_status write_batch(void *ctx, cm_batch *b, cm_error *err)
{
    return cm_writer_write(ctx, b, err);
}

/* What a run holds, freed at exit on every path (cli_hold). */
typedef struct held {
    cli_held cli; /* first: see cli_hold */
    cm_features_plan *plan;
    cm_features *f;
    cm_reader *r;
    cm_writer *w;
} held;

static void release(void *ctx)
{
    held *h = ctx;
    cm_writer_free(h->w);
    cm_features_free(h->f);
    cm_features_plan_free(h->plan);
    cm_reader_free(h->r);
}

int main(int argc, char **argv)
{
    opts o = {.level = -1};
    cli_init(argv, "cm-features");
    held *h = cli_hold(sizeof *h, release);
    cli_args_parse(&h->cli.a, argc, argv, usage, tail, &cm_features_settings, 0, NULL,
                   &own_settings, &o);
    const char *input = cli_one_input(argc, argv, h->cli.a.first);
    const char *holidays = cm_kv_get(h->cli.a.stage, "holidays");
    if (holidays) {
        char *path = strdup(holidays); /* setting it frees the old value */
        if (!path)
            cli_die("out of memory");
        read_holidays(h->cli.a.stage, path);
        free(path);
    }

    cm_error err;
    cm_error_clear(&err);
    /* Settings are checked before the input is opened. */
    cm_features_plan *plan = h->plan = cm_features_plan_new(h->cli.a.stage, &err);
    if (!plan)
        cli_die_error(NULL, &err);
    const char *name = cli_in_name(input);
    cm_reader *r = h->r = cli_open_stream(input, &h->cli.in);
    cm_features *f = h->f = cm_features_start(cm_reader_schema(r), plan, NULL, &err);
    if (!f)
        cli_die_error(name, &err);
    cli_output *out = cli_output_open(o.co.output, 1, o.co.force);
    cm_writer_opts wo = {(int)o.level, CM_LAYOUT_AUTO, 1};
    cm_writer *w = h->w = cm_writer_new(cli_output_file(out), cm_features_schema(f), &wo, &err);
    if (!w)
        cli_output_fail(out, &err);
    int progress = cli_progress_wanted(o.co.quiet), got;
    unsigned long long rows = 0;
    cm_batch *b;
    while ((got = cm_reader_next(r, &b, &err)) == 1) {
        if (cm_features_push(f, b, write_batch, w, &err))
            break;
        rows += cm_batch_nrows(b);
        if (progress)
            cli_progress("%llu rows", rows);
    }
    cli_progress_done();
    cm_status st = got < 0 ? err.status : err.status ? err.status : CM_OK;
    if (!st && cm_features_finish(f, write_batch, w, &err))
        st = err.status;
    /* nothing out is no answer: no stream, not even an empty one */
    char why[400];
    int verdict = st ? 0 : cm_features_verdict(f, why, sizeof why);
    if (!st && (verdict < 0 || !rows)) {
        cm_writer_free(w);
        h->w = NULL;
        cli_output_abort(out);
        cli_die("%s: %s", name, verdict < 0 ? why : "no rows in the input");
    }
    if (!st && cm_writer_finish(w, &err))
        st = err.status;
    if (st) {
        cm_writer_free(w); /* its thread is done with the file */
        h->w = NULL;
        cli_run_fail(out, name, &err);
    }
    cli_output_close(out);
    if (verdict > 0 && !o.co.quiet)
        cli_warn("%s: %s", name, why);
    if (o.co.verbose)
        cm_features_report(f, stderr);
    return CLI_OK; /* release frees the rest */
}
