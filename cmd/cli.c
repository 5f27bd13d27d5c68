/* cli.c - the one place for command-line plumbing; every cm binary links it
 * so messages, exit codes and stdio handling are the same everywhere. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* Set once at start-up, read-only after: the program name. */
static char prog[64] = "cm";

/* Output files not yet committed: whatever exit ends the program removes
 * their temporary files, so an error never leaves a half-written one. */
#define MAX_PENDING 8
static struct cli_output *pending[MAX_PENDING];

static void drop_pending(void);
static void on_signal(int sig);

void cli_init(char **argv, const char *name)
{
    snprintf(prog, sizeof prog, "%s", name);
    argv[0] = prog;
    atexit(drop_pending);
    /* Killed (cron's timeout, ^C), a run must not leave a temporary file
     * either; a signal the caller ignores (nohup) stays ignored. */
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction old, sa = {0};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
    }
    /* A closed pipe must show up as EPIPE on write, handled as a quiet
     * exit, not as a signal that kills us halfway through a message. */
    signal(SIGPIPE, SIG_IGN);
}

const char *cli_name(void)
{
    return prog;
}

static void vwarn(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
}

void cli_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
    exit(CLI_FAIL);
}

void cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s --help' for more information.\n", prog);
    exit(CLI_USAGE);
}

void cli_die_error(const char *file, const cm_error *err)
{
    fprintf(stderr, "%s: ", prog);
    if (file)
        fprintf(stderr, "%s:", file);
    if (err->line)
        fprintf(stderr, "%llu:", (unsigned long long)err->line);
    if (file || err->line)
        fputc(' ', stderr);
    if (err->column[0])
        fprintf(stderr, "column '%s': ", err->column);
    fprintf(stderr, "%s\n", err->msg[0] ? err->msg : cm_strerror(err->status));
    exit(err->status == CM_ERR_ARG ? CLI_USAGE : CLI_FAIL);
}

void cli_version(void)
{
    printf("%s (cm) %s\n", prog, cm_version_string());
    exit(fflush(stdout) == 0 && !ferror(stdout) ? CLI_OK : CLI_FAIL);
}

unsigned long long cli_parse_count(const char *opt, const char *arg)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (arg[0] < '0' || arg[0] > '9' || *end || errno)
        cli_usage_error("%s: '%s' is not a whole number", opt, arg);
    return v;
}

void cli_set(cm_kv *settings, const char *key, const char *value)
{
    cm_error err;
    if (cm_kv_set(settings, key, value, &err))
        cli_usage_error("%s", err.msg);
}

int cli_parse_level(const char *arg)
{
    unsigned long long l = cli_parse_count("--level", arg);
    if (l > 9)
        cli_usage_error("--level: %llu is not between 0 and 9", l);
    return (int)l;
}

/* cm-train's options, as settings of the same names; getopt_long hands
 * back CLI_TRAIN + their index. */
enum { CLI_TRAIN = 1000 };
static const struct option train_opts[] = {
    {"features", required_argument, NULL, 0}, {"l2", required_argument, NULL, 0},
    {"layers", required_argument, NULL, 0}, {"activation", required_argument, NULL, 0},
    {"dropout", required_argument, NULL, 0}, {"loss", required_argument, NULL, 0},
    {"huber-delta", required_argument, NULL, 0}, {"optimizer", required_argument, NULL, 0},
    {"lr", required_argument, NULL, 0}, {"momentum", required_argument, NULL, 0},
    {"beta1", required_argument, NULL, 0}, {"beta2", required_argument, NULL, 0},
    {"eps", required_argument, NULL, 0}, {"weight-decay", required_argument, NULL, 0},
    {"schedule", required_argument, NULL, 0}, {"step-size", required_argument, NULL, 0},
    {"gamma", required_argument, NULL, 0}, {"batch", required_argument, NULL, 0},
    {"epochs", required_argument, NULL, 0}, {"seed", required_argument, NULL, 0},
    {"valid", required_argument, NULL, 0}, {"patience", required_argument, NULL, 0},
    {"skip-missing", no_argument, NULL, 0}, {"model", required_argument, NULL, 'm'},
    {"target", required_argument, NULL, 'y'}};
static const struct option common_opts[] = {CLI_COMMON_OPTIONS};

struct option *cli_longopts(const struct option *own, size_t nown)
{
    size_t nt = sizeof train_opts / sizeof *train_opts;
    size_t nc = sizeof common_opts / sizeof *common_opts; /* with the end */
    struct option *all = malloc((nown + nt + nc) * sizeof *all);
    if (!all)
        cli_die("out of memory");
    memcpy(all, own, nown * sizeof *all);
    for (size_t i = 0; i < nt; i++) {
        all[nown + i] = train_opts[i];
        if (!all[nown + i].val)
            all[nown + i].val = CLI_TRAIN + (int)i;
    }
    memcpy(all + nown + nt, common_opts, nc * sizeof *all);
    return all;
}

int cli_train_option(int c, const char *arg, cm_kv *settings)
{
    size_t nt = sizeof train_opts / sizeof *train_opts;
    if (c == 'm' || c == 'y') {
        cli_set(settings, c == 'm' ? "model" : "target", arg);
        return 1;
    }
    if (c < CLI_TRAIN || c >= CLI_TRAIN + (int)nt)
        return 0;
    const struct option *o = &train_opts[c - CLI_TRAIN];
    cli_set(settings, o->name, o->has_arg ? arg : "yes");
    return 1;
}

/* Provenance for the model: the command line and the time, which
 * SOURCE_DATE_EPOCH fixes for byte-identical rebuilds. */
void cli_provenance(cm_kv *settings, int argc, char **argv)
{
    char buf[4096];
    size_t n = 0;
    for (int i = 0; i < argc && n < sizeof buf - 1; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? " " : "", argv[i]);
    /* Cut short, a command line must still end on a whole character. */
    n = strlen(buf);
    while (n > 0 && ((unsigned char)buf[n - 1] & 0xC0) == 0x80)
        n--;
    if (n > 0 && (unsigned char)buf[n - 1] >= 0xC0)
        n--;
    if (strlen(buf) == sizeof buf - 1)
        buf[n] = '\0';
    cli_set(settings, "argv", buf);
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    char *end = NULL;
    long long t = sde && *sde ? strtoll(sde, &end, 10) : (long long)time(NULL);
    if (sde && *sde && *end)
        cli_usage_error("SOURCE_DATE_EPOCH='%s' is not a number of seconds", sde);
    snprintf(buf, sizeof buf, "%lld", t);
    cli_set(settings, "created", buf);
}

unsigned cli_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (unsigned)n;
}

int cli_common_option(int c, const char *arg, cli_common *co)
{
    switch (c) {
    case 'o': co->output = arg; return 1;
    case 'F': co->force = 1; return 1;
    case 'v': co->verbose = 1; return 1;
    case 'q': co->quiet = 1; return 1;
    default: return 0;
    }
}

void cli_other_option(int c, const char *usage)
{
    if (c == 'h') {
        fputs(usage, stdout);
        exit(fflush(stdout) || ferror(stdout) ? CLI_FAIL : CLI_OK);
    }
    if (c == 'V')
        cli_version();
    fprintf(stderr, "Try '%s --help' for more information.\n", prog);
    exit(CLI_USAGE);
}

const char *cli_one_input(int argc, char **argv)
{
    if (argc - optind > 1)
        cli_usage_error("one input at most (got %d)", argc - optind);
    return optind < argc ? argv[optind] : NULL;
}

static int is_std(const char *path)
{
    return !path || strcmp(path, "-") == 0;
}

const char *cli_in_name(const char *path)
{
    return is_std(path) ? "(stdin)" : path;
}

FILE *cli_open_in(const char *path)
{
    if (is_std(path))
        return stdin;
    FILE *f = fopen(path, "rb");
    if (!f)
        cli_die("%s: %s", path, strerror(errno));
    return f;
}

cm_reader *cli_open_stream(const char *path, FILE **in)
{
    cm_error err;
    cm_error_clear(&err);
    *in = cli_open_in(path);
    cm_reader *r = cm_reader_new(*in, &err);
    if (!r)
        cli_die_error(cli_in_name(path), &err);
    return r;
}

struct cli_output {
    FILE *f;
    cm_atomic *atomic; /* NULL for stdout */
    char *tmp;         /* its temporary file, for a signal to remove */
};

static void track(cli_output *o, int on)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (on ? !pending[i] : pending[i] == o) {
            pending[i] = on ? o : NULL;
            return;
        }
}

static void drop_pending(void)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (pending[i]) {
            cm_atomic_abort(pending[i]->atomic);
            pending[i] = NULL;
        }
}

/* Only unlink(2) here, which is safe in a signal handler; then the signal
 * does what it would have done. */
static void on_signal(int sig)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (pending[i] && pending[i]->tmp)
            unlink(pending[i]->tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

cli_output *cli_output_open(const char *path, int binary, int force)
{
    cli_output *o = calloc(1, sizeof *o);
    if (!o)
        cli_die("out of memory");
    if (is_std(path)) {
        if (binary && !force && isatty(STDOUT_FILENO))
            cli_usage_error("refusing to write binary data to a terminal "
                            "(redirect it, use -o FILE, or force with -F)");
        o->f = stdout;
        return o;
    }
    cm_error err;
    cm_error_clear(&err);
    if (!(o->atomic = cm_atomic_open(path, &err))) {
        free(o);
        cli_die_error(NULL, &err);
    }
    o->f = cm_atomic_file(o->atomic);
    const char *tmp = cm_atomic_temp_path(o->atomic);
    if (tmp && !(o->tmp = strdup(tmp)))
        cli_die("out of memory");
    track(o, 1);
    return o;
}

FILE *cli_output_file(cli_output *o)
{
    return o->f;
}

CLI_NORETURN static void write_failed(cli_output *o, int e)
{
    if (!o->atomic && e == EPIPE)
        exit(CLI_OK); /* the reader has all it wanted: not an error */
    cli_output_abort(o);
    cli_die("write error: %s", strerror(e ? e : EIO));
}

void cli_output_check(cli_output *o)
{
    if (ferror(o->f))
        write_failed(o, errno);
}

void cli_output_close(cli_output *o)
{
    if (o->atomic) {
        if (ferror(o->f))
            write_failed(o, errno);
        cm_error err;
        cm_error_clear(&err);
        track(o, 0);
        cm_status st = cm_atomic_commit(o->atomic, &err);
        o->atomic = NULL;
        free(o->tmp);
        free(o);
        if (st)
            cli_die_error(NULL, &err);
        return;
    }
    if (fflush(o->f) != 0 || ferror(o->f))
        write_failed(o, errno);
    /* Closing stdout is where a full disk or an NFS error finally shows. */
    if (fclose(o->f) != 0)
        write_failed(o, errno);
    free(o);
}

void cli_output_abort(cli_output *o)
{
    if (!o)
        return;
    track(o, 0);
    cm_atomic_abort(o->atomic);
    free(o->tmp);
    free(o);
}

void cli_output_fail(cli_output *o, const cm_error *err)
{
    if (err->status == CM_ERR_IO)
        write_failed(o, err->sys);
    cli_output_abort(o);
    cli_die_error(NULL, err);
}

int cli_progress_wanted(int quiet)
{
    return !quiet && isatty(STDERR_FILENO);
}

/* When the last progress line went out, and whether one is showing. */
static struct timespec last_progress;
static int progress_shown;

void cli_progress(const char *fmt, ...)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = (double)(now.tv_sec - last_progress.tv_sec) +
                (double)(now.tv_nsec - last_progress.tv_nsec) * 1e-9;
    if (progress_shown && dt < 0.5)
        return;
    last_progress = now;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\r%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputs("\033[K", stderr);
    va_end(ap);
    progress_shown = 1;
}

void cli_progress_done(void)
{
    if (progress_shown)
        fputs("\r\033[K", stderr);
    progress_shown = 0;
}
