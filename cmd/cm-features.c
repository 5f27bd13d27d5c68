/* cm-features - calendar parts, lags, rolling windows and differences
 * for forecasting, derived from a cm stream in one streaming pass.  The
 * options become the settings of lib/features.c (and the recipe). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: cm-features [OPTION]... [FILE]\n"
    "Read the cm stream FILE (or standard input), derive forecasting features\n"
    "and write the stream with them to standard output.\n"
    "\n"
    "  -y, --target=COL         the column to forecast (put last, role target)\n"
    "      --time-features=LIST hour,minute,dow,dom,month,doy,week,year,weekend\n"
    "                           or none (default hour,dow,month,doy,weekend)\n"
    "      --cyclic             add sin/cos pairs of the periodic parts\n"
    "      --holidays=FILE      dates (YYYY-MM-DD, one a line, # comments) that\n"
    "                           are holidays: adds is_holiday\n"
    "      --holiday-col=COL    a category naming holidays (spread to the day)\n"
    "      --holiday-none=VAL   its value on ordinary days (default None)\n"
    "  -L, --lag=COL:SPAN,...   value at exactly SPAN earlier (1h, 7d), or SPAN\n"
    "                           rows earlier for a plain number (repeatable)\n"
    "  -R, --rolling=COL:STAT,...:SPAN  mean, std, min, max, sum, count over\n"
    "                           the SPAN before each row, the row itself left out\n"
    "      --diff=COL:SPAN,...  value minus the value SPAN earlier\n"
    "  -b, --by=COL             series (sensor, station): look back within each\n"
    "      --min-count=N        fewest values a window needs (default 1)\n"
    "      --keep-incomplete    keep rows whose derived values are missing\n"
    "      --drop=LIST          leave out these input columns\n"
    "      --keep=LIST          keep only these input columns (and the time)\n"
    "      --max-history=N      rows of one series a look-back may hold\n"
    "                           (default 1048576)\n"
    "  -o, --output=FILE        write to FILE, replaced only when complete\n"
    "  -l, --level=N            deflate level 0-9 (default: CM_ZLEVEL or 1)\n"
    "  -F, --force              write the stream even to a terminal\n"
    "  -v, --verbose            print what was done on standard error\n"
    "  -q, --quiet              no progress messages\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n"
    "\n"
    "Exit status: 0 success, 1 bad input data, 2 usage error.\n"
    "See cm-features(1).\n";

enum {
    OPT_TIME_FEATURES = 256, OPT_CYCLIC, OPT_HOLIDAYS, OPT_HOLIDAY_COL,
    OPT_HOLIDAY_NONE, OPT_DIFF, OPT_MIN_COUNT, OPT_KEEP_INCOMPLETE, OPT_DROP,
    OPT_KEEP, OPT_MAX_HISTORY
};

typedef struct opts {
    cm_kv *settings;
    const char *input;
    int level;
    cli_common co;
    int nlag, nroll, ndiff;
} opts;

static void set(opts *o, const char *key, const char *value)
{
    cli_set(o->settings, key, value);
}

/* Repeatable options become numbered settings: lag.1, lag.2, ... */
static void set_nth(opts *o, const char *key, int *n, const char *value)
{
    char k[32];
    snprintf(k, sizeof k, "%s.%d", key, ++*n);
    set(o, k, value);
}

/* The dates of a holiday file, one a line, '#' starting a comment. */
static void read_holidays(opts *o, const char *path)
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
    set(o, "holidays", dates ? dates : "");
    free(dates);
}

static void parse(int argc, char **argv, opts *o)
{
    static const struct option longopts[] = {
        {"target", required_argument, NULL, 'y'},
        {"time-features", required_argument, NULL, OPT_TIME_FEATURES},
        {"cyclic", no_argument, NULL, OPT_CYCLIC},
        {"holidays", required_argument, NULL, OPT_HOLIDAYS},
        {"holiday-col", required_argument, NULL, OPT_HOLIDAY_COL},
        {"holiday-none", required_argument, NULL, OPT_HOLIDAY_NONE},
        {"lag", required_argument, NULL, 'L'},
        {"rolling", required_argument, NULL, 'R'},
        {"diff", required_argument, NULL, OPT_DIFF},
        {"by", required_argument, NULL, 'b'},
        {"min-count", required_argument, NULL, OPT_MIN_COUNT},
        {"keep-incomplete", no_argument, NULL, OPT_KEEP_INCOMPLETE},
        {"drop", required_argument, NULL, OPT_DROP},
        {"keep", required_argument, NULL, OPT_KEEP},
        {"max-history", required_argument, NULL, OPT_MAX_HISTORY},
        {"level", required_argument, NULL, 'l'},
        CLI_COMMON_OPTIONS};
    int c;
    o->level = -1;
    while ((c = getopt_long(argc, argv, "y:L:R:b:o:l:FvqhV", longopts, NULL)) != -1) {
        if (cli_common_option(c, optarg, &o->co))
            continue;
        switch (c) {
        case 'y': set(o, "target", optarg); break;
        case OPT_TIME_FEATURES: set(o, "time-features", optarg); break;
        case OPT_CYCLIC: set(o, "cyclic", "yes"); break;
        case OPT_HOLIDAYS: read_holidays(o, optarg); break;
        case OPT_HOLIDAY_COL: set(o, "holiday-col", optarg); break;
        case OPT_HOLIDAY_NONE: set(o, "holiday-none", optarg); break;
        case 'L': set_nth(o, "lag", &o->nlag, optarg); break;
        case 'R': set_nth(o, "rolling", &o->nroll, optarg); break;
        case OPT_DIFF: set_nth(o, "diff", &o->ndiff, optarg); break;
        case 'b': set(o, "by", optarg); break;
        case OPT_MIN_COUNT: set(o, "min-count", optarg); break;
        case OPT_KEEP_INCOMPLETE: set(o, "keep-incomplete", "yes"); break;
        case OPT_DROP: set(o, "drop", optarg); break;
        case OPT_KEEP: set(o, "keep", optarg); break;
        case OPT_MAX_HISTORY: set(o, "max-history", optarg); break;
        case 'l': o->level = cli_parse_level(optarg); break;
        default: cli_other_option(c, usage);
        }
    }
    o->input = cli_one_input(argc, argv);
}

static cm_status write_batch(void *ctx, cm_batch *b, cm_error *err)
{
    return cm_writer_write(ctx, b, err);
}

int main(int argc, char **argv)
{
    opts o = {0};
    cli_init(argv, "cm-features");
    if (!(o.settings = cm_kv_new()))
        cli_die("out of memory");
    parse(argc, argv, &o);

    const char *name = cli_in_name(o.input);
    FILE *in;
    cm_reader *r = cli_open_stream(o.input, &in);
    cm_error err;
    cm_error_clear(&err);
    cm_features *f = cm_features_new(cm_reader_schema(r), o.settings, &err);
    if (!f)
        cli_die_error(name, &err);
    cli_output *out = cli_output_open(o.co.output, 1, o.co.force);
    cm_writer_opts wo = {o.level, CM_LAYOUT_AUTO, 1};
    cm_writer *w = cm_writer_new(cli_output_file(out), cm_features_schema(f), &wo, &err);
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
    if (!st && cm_writer_finish(w, &err))
        st = err.status;
    if (st) {
        cm_writer_free(w); /* its thread is done with the file */
        if (st == CM_ERR_IO && err.sys == EPIPE)
            cli_output_fail(out, &err);
        cli_output_abort(out);
        cli_die_error(name, &err);
    }
    cli_output_close(out);
    if (o.co.verbose)
        cm_features_report(f, stderr);
    cm_writer_free(w);
    cm_features_free(f);
    cm_reader_free(r);
    if (in != stdin)
        fclose(in);
    cm_kv_free(o.settings);
    return CLI_OK;
}
