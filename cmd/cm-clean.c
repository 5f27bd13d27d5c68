/* cm-clean - a raw city CSV in, a typed and cleaned cm stream out.  The
 * options become the settings of the library's cleaner (and so the recipe
 * of the stream); all the work is in lib/clean.c. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: cm-clean [OPTION]... [FILE]\n"
    "Read the CSV FILE (or standard input), type and clean it, and write a cm\n"
    "stream to standard output.\n"
    "\n"
    "Reading:\n"
    "  -d, --delimiter=C      , ; tab | or auto (default: guessed)\n"
    "      --decimal=C        decimal mark, . (default) or ,\n"
    "      --no-header        the first line is data; columns are col1, col2...\n"
    "      --sample=N         rows read to infer column types (default 1000)\n"
    "  -t, --type=COL=TYPE    num, cat, time or skip (repeatable)\n"
    "Time:\n"
    "  -T, --time=COL[,COL]   the time column, or the columns that make it up\n"
    "      --time-format=FMT  strptime-like, e.g. '%d/%m/%Y %H.%M.%S'\n"
    "      --tz=ZONE          zone of times without an offset (default UTC)\n"
    "Values:\n"
    "      --na=LIST          more missing-value markers, e.g. -200,-999\n"
    "  -m, --missing=POLICY   drop (default), keep, ffill or interpolate;\n"
    "                         COL=POLICY for one column (repeatable)\n"
    "      --max-gap=DUR      longest gap a fill may bridge: 90s 15m 2h 1d 1w\n"
    "      --range=COL=MIN:MAX  readings outside become missing (repeatable)\n"
    "      --lower=COL,...|all  lower-case and trim categories\n"
    "Rows:\n"
    "  -c, --columns=LIST     keep only these columns\n"
    "      --drop=LIST        leave out these columns\n"
    "  -s, --sort             sort rows by time (stable)\n"
    "  -S, --buffer-size=SIZE memory for sorting before spilling to disk\n"
    "                         (default 256M)\n"
    "      --tmpdir=DIR       where sorting spills (default $TMPDIR or /tmp)\n"
    "      --dedupe=first|last  one row per time (and key)\n"
    "  -k, --key=COL          the series a row belongs to (sensor, station)\n"
    "      --bad-rows=fail|skip  stop at the first bad row (default) or skip\n"
    "Output:\n"
    "  -o, --output=FILE      write to FILE, replaced only when complete\n"
    "      --report=FILE      what was done, as JSON\n"
    "  -l, --level=N          deflate level 0-9 (default: CM_ZLEVEL or 1)\n"
    "  -F, --force            write the stream even to a terminal\n"
    "  -v, --verbose          print what was done on standard error\n"
    "  -q, --quiet            no progress messages\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show the version and exit\n"
    "\n"
    "Exit status: 0 success, 1 bad input data, 2 usage error.\n"
    "See cm-clean(1).\n";

enum {
    OPT_DECIMAL = 256, OPT_NO_HEADER, OPT_SAMPLE, OPT_TIME_FORMAT, OPT_TZ,
    OPT_NA, OPT_MAX_GAP, OPT_RANGE, OPT_LOWER, OPT_DROP, OPT_TMPDIR,
    OPT_DEDUPE, OPT_BAD_ROWS, OPT_REPORT
};

typedef struct opts {
    cm_kv *settings;
    const char *report, *input;
    int level;
    cli_common co;
} opts;

static void set(opts *o, const char *key, const char *value)
{
    cli_set(o->settings, key, value);
}

/* COL=VALUE options become "prefix.COL" settings. */
static void set_col(opts *o, const char *opt, const char *prefix, const char *arg)
{
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        cli_usage_error("%s: expected COL=VALUE, got '%s'", opt, arg);
    char key[4200];
    snprintf(key, sizeof key, "%s.%.*s", prefix, (int)(eq - arg), arg);
    set(o, key, eq + 1);
}

static void parse(int argc, char **argv, opts *o)
{
    static const struct option longopts[] = {
        {"delimiter", required_argument, NULL, 'd'},
        {"decimal", required_argument, NULL, OPT_DECIMAL},
        {"no-header", no_argument, NULL, OPT_NO_HEADER},
        {"sample", required_argument, NULL, OPT_SAMPLE},
        {"type", required_argument, NULL, 't'},
        {"time", required_argument, NULL, 'T'},
        {"time-format", required_argument, NULL, OPT_TIME_FORMAT},
        {"tz", required_argument, NULL, OPT_TZ},
        {"na", required_argument, NULL, OPT_NA},
        {"missing", required_argument, NULL, 'm'},
        {"max-gap", required_argument, NULL, OPT_MAX_GAP},
        {"range", required_argument, NULL, OPT_RANGE},
        {"lower", required_argument, NULL, OPT_LOWER},
        {"columns", required_argument, NULL, 'c'},
        {"drop", required_argument, NULL, OPT_DROP},
        {"sort", no_argument, NULL, 's'},
        {"buffer-size", required_argument, NULL, 'S'},
        {"tmpdir", required_argument, NULL, OPT_TMPDIR},
        {"dedupe", required_argument, NULL, OPT_DEDUPE},
        {"key", required_argument, NULL, 'k'},
        {"bad-rows", required_argument, NULL, OPT_BAD_ROWS},
        {"report", required_argument, NULL, OPT_REPORT},
        {"level", required_argument, NULL, 'l'},
        CLI_COMMON_OPTIONS};
    char num[32];
    int c;
    o->level = -1;
    while ((c = getopt_long(argc, argv, "d:t:T:m:c:sS:k:o:l:FvqhV", longopts,
                            NULL)) != -1) {
        if (cli_common_option(c, optarg, &o->co))
            continue;
        switch (c) {
        case 'd': set(o, "delimiter", optarg); break;
        case OPT_DECIMAL: set(o, "decimal", optarg); break;
        case OPT_NO_HEADER: set(o, "header", "no"); break;
        case OPT_SAMPLE: set(o, "sample", optarg); break;
        case 't': set_col(o, "--type", "type", optarg); break;
        case 'T': set(o, "time", optarg); break;
        case OPT_TIME_FORMAT: set(o, "time-format", optarg); break;
        case OPT_TZ: set(o, "tz", optarg); break;
        case OPT_NA: set(o, "na", optarg); break;
        case 'm':
            if (strchr(optarg, '='))
                set_col(o, "--missing", "missing", optarg);
            else
                set(o, "missing", optarg);
            break;
        case OPT_MAX_GAP: {
            int64_t s;
            if (cm_parse_duration(optarg, &s) || s == 0)
                cli_usage_error("--max-gap: '%s' is not a duration like 2h", optarg);
            snprintf(num, sizeof num, "%lld", (long long)s);
            set(o, "max-gap", num);
            break;
        }
        case OPT_RANGE: set_col(o, "--range", "range", optarg); break;
        case OPT_LOWER: set(o, "lower", optarg); break;
        case 'c': set(o, "columns", optarg); break;
        case OPT_DROP: set(o, "drop", optarg); break;
        case 's': set(o, "sort", "yes"); break;
        case 'S': {
            uint64_t b;
            if (cm_parse_size(optarg, &b) || b == 0)
                cli_usage_error("--buffer-size: '%s' is not a size like 256M", optarg);
            snprintf(num, sizeof num, "%llu", (unsigned long long)b);
            set(o, "sort-memory", num);
            break;
        }
        case OPT_TMPDIR: set(o, "tmpdir", optarg); break;
        case OPT_DEDUPE: set(o, "dedupe", optarg); break;
        case 'k': set(o, "key", optarg); break;
        case OPT_BAD_ROWS: set(o, "bad-rows", optarg); break;
        case OPT_REPORT: o->report = optarg; break;
        case 'l': o->level = cli_parse_level(optarg); break;
        default: cli_other_option(c, usage);
        }
    }
    o->input = cli_one_input(argc, argv);
}

static void progress(void *ctx, uint64_t rows)
{
    (void)ctx;
    cli_progress("%llu rows", (unsigned long long)rows);
}

int main(int argc, char **argv)
{
    opts o = {0};
    cli_init(argv, "cm-clean");
    if (!(o.settings = cm_kv_new()))
        cli_die("out of memory");
    parse(argc, argv, &o);

    cm_error err;
    cm_error_clear(&err);
    cm_clean *c = cm_clean_new(o.settings, &err);
    if (!c)
        cli_die_error(NULL, &err);
    int level = o.level;
    if (level < 0 && cm_level_from_env(&level, &err))
        cli_die_error(NULL, &err);
    if (cli_progress_wanted(o.co.quiet))
        cm_clean_on_progress(c, progress, NULL);
    const char *name = cli_in_name(o.input);
    FILE *in = cli_open_in(o.input);
    cli_output *out = cli_output_open(o.co.output, 1, o.co.force);
    cm_writer_opts wo = {level, CM_LAYOUT_AUTO, 1};
    cm_status st = cm_clean_run(c, in, o.input ? o.input : "-", cli_output_file(out),
                                &wo, &err);
    cli_progress_done();
    if (st) {
        if (err.status == CM_ERR_IO && err.sys == EPIPE)
            cli_output_fail(out, &err);
        cli_output_abort(out);
        cli_die_error(name, &err);
    }
    /* The report first: a failure there must not follow a new stream. */
    if (o.report) {
        cli_output *r = cli_output_open(o.report, 0, 0);
        cm_clean_report(c, cli_output_file(r), 1);
        cli_output_close(r);
    }
    cli_output_close(out);
    if (o.co.verbose)
        cm_clean_report(c, stderr, 0);
    if (in != stdin)
        fclose(in);
    cm_clean_free(c);
    cm_kv_free(o.settings);
    return CLI_OK;
}
