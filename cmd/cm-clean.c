/* cm-clean - a raw city CSV in, a typed and cleaned cm stream out.  The
 * options become the settings of the library's cleaner (and so the recipe
 * of the stream); all the work is in lib/clean.c. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: cm-clean [OPTION]... [FILE]\n"
    "Read the CSV FILE (or standard input), type and clean it, and write a cm\n"
    "stream to standard output.\n"
    "\n";
static const char tail[] =
    "\n"
    "Exit status: 0 success, 1 bad input data, 2 usage error.\n"
    "See cm-clean(1).\n";

typedef struct opts {
    const char *report;
    int64_t level;
    cli_common co;
} opts;

static const cm_setting own[] = {
    {.name = "report", .type = CM_SET_TEXT, .arg = "FILE", .help = "what was done, as JSON",
     .section = "Output", .offset = CM_SET_AT(opts, report, const char *)},
    CLI_OPT_OUTPUT(opts, "write to FILE, replaced only when complete"),
    CLI_OPT_LEVEL(opts),
    CLI_OPT_FORCE(opts, "write the stream even to a terminal"),
    CLI_OPT_VERBOSE(opts, "print what was done on standard error"),
    CLI_OPT_QUIET(opts, "no progress messages"),
};
static const cm_settings own_settings = CLI_TABLE(own);

static void progress(void *ctx, uint64_t rows)
{
    (void)ctx;
    cli_progress("%llu rows", (unsigned long long)rows);
}

/* What a run holds, freed at exit on every path (cli_hold). */
typedef struct held {
    cli_held cli; /* first: see cli_hold */
    cm_clean *c;
} held;

static void release(void *ctx)
{
    held *h = ctx;
    cm_clean_free(h->c);
}

int main(int argc, char **argv)
{
    opts o = {.level = -1};
    cli_init(argv, "cm-clean");
    held *h = cli_hold(sizeof *h, release);
    cli_args_parse(&h->cli.a, argc, argv, usage, tail, &cm_clean_settings, 0, NULL, &own_settings,
                   &o);
    const char *input = cli_one_input(argc, argv, h->cli.a.first);

    cm_error err;
    cm_error_clear(&err);
    /* Settings are checked before the input is opened. */
    cm_clean *c = h->c = cm_clean_new(h->cli.a.stage, &err);
    if (!c)
        cli_die_error(NULL, &err);
    int level = (int)o.level;
    if (level < 0 && cm_level_from_env(&level, &err))
        cli_die_error(NULL, &err);
    if (cli_progress_wanted(o.co.quiet))
        cm_clean_on_progress(c, progress, NULL);
    const char *name = cli_in_name(input);
    FILE *in = h->cli.in = cli_open_in(input);
    cli_output *out = cli_output_open(o.co.output, 1, o.co.force);
    cm_writer_opts wo = {level, CM_LAYOUT_AUTO, 1};
    cm_status st = cm_clean_run(c, in, input ? input : "-", cli_output_file(out), &wo, &err);
    cli_progress_done();
    if (st)
        cli_run_fail(out, name, &err);
    /* The report first: a failure there must not follow a new stream. */
    if (o.report) {
        cli_output *r = cli_output_open(o.report, 0, 0);
        cm_clean_report(c, cli_output_file(r), 1);
        cli_output_close(r);
    }
    cli_output_close(out);
    char why[400];
    for (size_t i = 0; !o.co.quiet && cm_clean_warning(c, i, why, sizeof why); i++)
        cli_warn("%s: %s", name, why);
    if (o.co.verbose)
        cm_clean_report(c, stderr, 0);
    return CLI_OK; /* release frees the rest */
}
