/*
 * cli.h - command-line plumbing shared by every cm binary: program name,
 * messages and exit codes, standard input and output, atomic output files.
 * Exit codes: 0 success, 1 data or runtime error, 2 usage error.
 */
#ifndef CM_CLI_H
#define CM_CLI_H

#include <stdio.h>

#include "cm.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

#if defined(__GNUC__)
#define CLI_NORETURN __attribute__((noreturn))
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_NORETURN
#define CLI_PRINTF(f, a)
#endif

/* Records the program name for messages (getopt's own included, which
 * use argv[0]); call first in main. */
void cli_init(char **argv, const char *name);
const char *cli_name(void);

/* What every program holds: its command line and its input.  A
 * program's own `held` struct begins with one. */
typedef struct cli_args {
    cm_kv *stage, *own;
    int first;
} cli_args;
typedef struct cli_held {
    cli_args a;
    FILE *in; /* closed unless stdin */
} cli_held;
/* Allocates a program's held struct of size bytes (zeroed, starting with
 * a cli_held) and frees it at exit, whatever the way out (cli_die and its
 * kin included), before anything else cli does then: release (may be
 * NULL) frees the program's own part, then cli the common part.  So what
 * a program holds is freed on every path, and the leak checker sees no
 * leak on an error path either.  Once per run. */
void *cli_hold(size_t size, void (*release)(void *held));

/* "prog: msg" on stderr; returns nothing. */
void cli_warn(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "prog: msg", exit 1. */
CLI_NORETURN void cli_die(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "prog: msg" and a pointer to --help, exit 2. */
CLI_NORETURN void cli_usage_error(const char *fmt, ...) CLI_PRINTF(1, 2);
/* A setting the library refused, as cli_usage_error; but exit 1 when
 * it failed for want of memory, which no other command line mends. */
CLI_NORETURN void cli_refused(const cm_error *err);
/* "prog: FILE:LINE: column 'C': msg" from a library error, exit 1. */
CLI_NORETURN void cli_die_error(const char *file, const cm_error *err);
/* "prog (cm) VERSION" on stdout, exit 0. */
CLI_NORETURN void cli_version(void);

/* ---- options, from the settings tables ------------------------------------- */

/* One table of a program's settings, a stage's or the program's own:
 * its options land in kv, as settings in their normal form. */
typedef struct cli_table {
    const cm_settings *set;
    cm_kv *kv;
    unsigned skip; /* declarations with any of these flags are not options here */
    /* the program's own defaults for some, "NAME=VALUE", NULL-terminated:
     * --help shows them, and cli_parse sets them when not given */
    const char *const *defaults;
} cli_table;

typedef struct cli_spec {
    const char *usage; /* "Usage: ..." lines and what the program does */
    const char *tail;  /* after the options: exit status, where to read more */
    const cli_table *tables;
    size_t ntables;
} cli_spec;

/* Reads the options of argv into the tables, every value checked against
 * its declaration (a bad one, or an unknown option, is a usage error);
 * --help prints the help made from the tables, --version the version.
 * Returns the index of the first operand. */
int cli_parse(int argc, char **argv, const cli_spec *spec);
/* What a program's command line gave (cli_args): the options of its
 * stage as the stage's settings, and its own (read into its struct too);
 * the operands from argv[first] on.
 * cli_parse over the stage's table (NULL for none; skip as in
 * cli_table) and the program's own, whose settings go into out. */
void cli_args_parse(cli_args *a, int argc, char **argv, const char *usage,
                    const char *tail, const cm_settings *stage, unsigned skip,
                    const char *const *defaults, const cm_settings *own, void *out);
void cli_args_free(cli_args *a);

/* Sets a setting, or exits with a usage error. */
void cli_set(cm_kv *settings, const char *key, const char *value);
/* The settings of a program's own table into its struct (see
 * cm_settings_read), or a usage error. */
void cli_read(const cm_settings *t, const cm_kv *kv, void *out);

/* What -o, -F, -v and -q set, the same in every binary; declared in a
 * program's own table with these, help text its own. */
typedef struct cli_common {
    const char *output;
    int force, verbose, quiet;
} cli_common;
#define CLI_OPT_OUTPUT(T, text)                                                \
    {.name = "output", .short_opt = 'o', .type = CM_SET_TEXT, .arg = "FILE",  \
     .help = text, .offset = CM_SET_AT(T, co.output, const char *)}
#define CLI_OPT_FORCE(T, text)                                                 \
    {.name = "force", .short_opt = 'F', .type = CM_SET_FLAG, .help = text,    \
     .offset = CM_SET_AT(T, co.force, int)}
#define CLI_OPT_VERBOSE(T, text)                                               \
    {.name = "verbose", .short_opt = 'v', .type = CM_SET_FLAG, .help = text,  \
     .offset = CM_SET_AT(T, co.verbose, int)}
#define CLI_OPT_QUIET(T, text)                                                 \
    {.name = "quiet", .short_opt = 'q', .type = CM_SET_FLAG, .help = text,    \
     .offset = CM_SET_AT(T, co.quiet, int)}
/* -l, --level: the deflate level of a stream written */
#define CLI_OPT_LEVEL(T)                                                       \
    {.name = "level", .short_opt = 'l', .type = CM_SET_COUNT, .arg = "N",     \
     .lo = 0, .hi = 9, .help = "deflate level 0-9 (default: CM_ZLEVEL or 1)",  \
     .offset = CM_SET_AT(T, level, int64_t)}
#define CLI_TABLE(a) {(a), sizeof(a) / sizeof *(a)}

/* The settings argv (the command line) and created (now, or the
 * SOURCE_DATE_EPOCH of reproducible builds) for a model's metadata. */
void cli_provenance(cm_kv *settings, int argc, char **argv);
/* Processors online, from 1 to 256: the default of -j and -t. */
unsigned cli_cpus(void);
/* The single operand from first on (NULL: standard input); more is a
 * usage error. */
const char *cli_one_input(int argc, char **argv, int first);

/* Opens FILE for reading, "-" or NULL meaning stdin; exits 1 on failure. */
FILE *cli_open_in(const char *path);
/* Opens FILE (or stdin) and reads the header of the cm stream in it, or
 * exits 1 naming the file; *in gets the FILE to close at the end. */
cm_reader *cli_open_stream(const char *path, FILE **in);
/* Display name of an input path ("-" and NULL are "(stdin)"). */
const char *cli_in_name(const char *path);
/* Display name of an output path ("-" and NULL are "(stdout)"). */
const char *cli_out_name(const char *path);

/*
 * Output: "-" or NULL is stdout, anything else an atomic file that appears
 * only when cli_output_close succeeds.  binary output is refused on a
 * terminal unless force is set.  A write error exits 1 naming the output,
 * "prog: OUTPUT: write failed: REASON" (OUTPUT as cli_out_name gives it);
 * a closed pipe on stdout exits 0 quietly.
 */
typedef struct cli_output cli_output;
cli_output *cli_output_open(const char *path, int binary, int force);
FILE *cli_output_file(cli_output *o);
/* Checks for write errors (EPIPE exits 0 quietly) without closing. */
void cli_output_check(cli_output *o);
/* Flushes, commits and frees; exits 1 on any write error. */
void cli_output_close(cli_output *o);
/* Drops an unfinished atomic file; a no-op for stdout. */
void cli_output_abort(cli_output *o);
/* A library error while writing o: drops the file and exits 1, or exits 0
 * quietly when the error is a closed pipe on stdout. */
CLI_NORETURN void cli_output_fail(cli_output *o, const cm_error *err);
/* A library error in a run that reads the input name (cli_in_name) and
 * writes o: when writing o failed (an I/O error, and o's stream in error)
 * as cli_output_fail, naming o; any other names the input.  Drops the
 * file; exits. */
CLI_NORETURN void cli_run_fail(cli_output *o, const char *name, const cm_error *err);
/* Flushes what printf and the like wrote on stdout, outside a cli_output
 * (help, the version, a line of results): a write error exits 1 naming
 * (stdout), a closed pipe exits 0 quietly. */
void cli_stdout_flush(void);

/* Progress on stderr is for people: only when it is a terminal. */
int cli_progress_wanted(int quiet);
/* One progress line, rewritten in place at most twice a second. */
void cli_progress(const char *fmt, ...) CLI_PRINTF(1, 2);
/* Clears the progress line, if one was shown. */
void cli_progress_done(void);

#endif
