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

/* "prog: msg" on stderr; returns nothing. */
void cli_warn(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "prog: msg", exit 1. */
CLI_NORETURN void cli_die(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "prog: msg" and a pointer to --help, exit 2. */
CLI_NORETURN void cli_usage_error(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "prog: FILE:LINE: column 'C': msg" from a library error, exit 1. */
CLI_NORETURN void cli_die_error(const char *file, const cm_error *err);
/* "prog (cm) VERSION" on stdout, exit 0. */
CLI_NORETURN void cli_version(void);

/* Parses a whole non-negative decimal number or exits with a usage error
 * naming the option. */
unsigned long long cli_parse_count(const char *opt, const char *arg);
/* Sets a setting the library will read, or exits with a usage error. */
void cli_set(cm_kv *settings, const char *key, const char *value);
/* The long options every binary has, for the end of its option table. */
#define CLI_COMMON_OPTIONS                                                    \
    {"output", required_argument, NULL, 'o'},                                 \
    {"force", no_argument, NULL, 'F'},                                        \
    {"verbose", no_argument, NULL, 'v'},                                      \
    {"quiet", no_argument, NULL, 'q'},                                        \
    {"help", no_argument, NULL, 'h'},                                         \
    {"version", no_argument, NULL, 'V'},                                      \
    {NULL, 0, NULL, 0}
/* A deflate level 0-9 for --level, or a usage error. */
/* What -o, -F, -v and -q set, the same in every binary. */
typedef struct cli_common {
    const char *output;
    int force, verbose, quiet;
} cli_common;
/* 1 when c is one of them, now set in co. */
int cli_common_option(int c, const char *arg, cli_common *co);

/* cm-train's model and training options, which cm-tune passes on to
 * every trial: their help, and their parsing into settings. */
#define CLI_TRAIN_HELP                                                         \
    "Model:\n"                                                                 \
    "  -m, --model=KIND       mlp (default) or linear (ridge, solved exactly)\n" \
    "  -y, --target=COL       the column to forecast (default: the stream's target)\n" \
    "      --features=LIST    the input columns (default: every feature column)\n" \
    "      --l2=X             ridge penalty for linear (default 1)\n"           \
    "      --layers=LIST      hidden widths (default 64,64)\n"                 \
    "      --activation=F     relu (default), tanh, sigmoid or gelu\n"         \
    "      --dropout=P        drop hidden outputs with probability P (default 0)\n" \
    "Training:\n"                                                              \
    "      --loss=L           mse (default), mae or huber; --huber-delta=X (1)\n" \
    "      --optimizer=O      adam (default), momentum or sgd\n"               \
    "      --lr=X             learning rate (default 0.001)\n"                 \
    "      --momentum=X --beta1=X --beta2=X --eps=X --weight-decay=X\n"       \
    "      --schedule=S       constant (default), step or cosine;\n"          \
    "                         --step-size=N (10) and --gamma=X (0.1) for step\n" \
    "      --batch=N          rows per step (default 32)\n"                    \
    "      --epochs=N         passes over the data (default 10)\n"             \
    "      --seed=N           random seed (default 1): same seed, same model\n" \
    "      --valid=FRAC       hold out the last FRAC of the rows, in time\n"   \
    "                         order (default 0.2; 0 for none)\n"              \
    "      --patience=N       stop after N epochs without a better validation\n" \
    "                         loss, keeping the best epoch's weights\n"       \
    "      --skip-missing     leave out rows with missing values (default: error)\n"

/* own options, then cm-train's, then CLI_COMMON_OPTIONS (with its end):
 * one table for getopt_long, allocated. */
struct option;
struct option *cli_longopts(const struct option *own, size_t nown);
/* 1 when c (from getopt_long over cli_longopts) is one of cm-train's
 * options, -m and -y included, now set in settings. */
int cli_train_option(int c, const char *arg, cm_kv *settings);

/* The settings argv (the command line) and created (now, or the
 * SOURCE_DATE_EPOCH of reproducible builds) for a model's metadata. */
void cli_provenance(cm_kv *settings, int argc, char **argv);
/* Processors online, from 1 to 256: the default of -j and -t. */
unsigned cli_cpus(void);
int cli_parse_level(const char *arg);
/* The options every binary shares, for the end of its getopt switch:
 * 'h' prints usage and exits 0, 'V' the version; anything else getopt
 * complained about exits 2. */
CLI_NORETURN void cli_other_option(int c, const char *usage);
/* The single input operand (NULL: standard input); more is a usage error. */
const char *cli_one_input(int argc, char **argv);

/* Opens FILE for reading, "-" or NULL meaning stdin; exits 1 on failure. */
FILE *cli_open_in(const char *path);
/* Opens FILE (or stdin) and reads the header of the cm stream in it, or
 * exits 1 naming the file; *in gets the FILE to close at the end. */
cm_reader *cli_open_stream(const char *path, FILE **in);
/* Display name of an input path ("-" and NULL are "(stdin)"). */
const char *cli_in_name(const char *path);

/*
 * Output: "-" or NULL is stdout, anything else an atomic file that appears
 * only when cli_output_close succeeds.  binary output is refused on a
 * terminal unless force is set.
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

/* Progress on stderr is for people: only when it is a terminal. */
int cli_progress_wanted(int quiet);
/* One progress line, rewritten in place at most twice a second. */
void cli_progress(const char *fmt, ...) CLI_PRINTF(1, 2);
/* Clears the progress line, if one was shown. */
void cli_progress_done(void);

#endif
