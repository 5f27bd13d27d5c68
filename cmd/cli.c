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

/* What the program asked to have freed at exit. */
static void (*exit_fn)(void *);
static cli_held *exit_held;

static void drop_pending(void);
static void on_signal(int sig);

void *cli_hold(size_t size, void (*release)(void *held))
{
    cli_held *h = calloc(1, size);
    if (!h)
        cli_die("out of memory");
    exit_fn = release;
    exit_held = h;
    return h;
}

static void release_held(void)
{
    cli_held *h = exit_held;
    exit_held = NULL; /* once, even if release exits itself */
    if (!h)
        return;
    if (exit_fn)
        exit_fn(h);
    if (h->in && h->in != stdin)
        fclose(h->in);
    cli_args_free(&h->a);
    free(h);
}

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

void cli_refused(const cm_error *err)
{
    if (err->status == CM_ERR_NOMEM)
        cli_die("%s", err->msg);
    cli_usage_error("%s", err->msg);
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
    cli_stdout_flush();
    exit(CLI_OK);
}

void cli_set(cm_kv *settings, const char *key, const char *value)
{
    cm_error err;
    if (cm_kv_set(settings, key, value, &err))
        cli_refused(&err);
}

/* ---- options from settings tables ------------------------------------------ */

enum { OPT_BASE = 1000, MAX_OPTIONS = 256 };

/* Each option's declaration, by its place in the getopt table. */
typedef struct optmap {
    const cli_table *t;
    const cm_setting *s;
} optmap;

/* A table's own default for s, or the declaration's. */
static const char *default_of(const cli_table *t, const cm_setting *s)
{
    size_t n = strlen(s->name);
    for (const char *const *d = t->defaults; d && *d; d++)
        if (!strncmp(*d, s->name, n) && (*d)[n] == '=')
            return *d + n + 1;
    return s->dflt;
}

static int is_option(const cli_table *t, const cm_setting *s)
{
    return !(s->flags & (CM_SET_HIDDEN | t->skip));
}

static const char *long_name(const cm_setting *s)
{
    return s->option ? s->option : s->name;
}

/* "  -d, --delimiter=C" as --help shows it. */
static int option_text(const cm_setting *s, char *buf, size_t n)
{
    const char *arg = s->type == CM_SET_FLAG ? NULL : s->arg ? s->arg : "X";
    char sh[8] = "    ";
    if (s->short_opt)
        snprintf(sh, sizeof sh, "-%c, ", s->short_opt);
    return snprintf(buf, n, "  %s--%s%s%s", sh, long_name(s), arg ? "=" : "",
                    arg ? arg : "");
}

static void help(FILE *out, const cli_spec *spec)
{
    /* The help column: past the longest option, within reason. */
    int width = 20;
    for (size_t k = 0; k < spec->ntables; k++)
        for (size_t i = 0; i < spec->tables[k].set->n; i++) {
            char buf[128];
            const cm_setting *s = &spec->tables[k].set->set[i];
            int w = option_text(s, buf, sizeof buf) + 2;
            if (is_option(&spec->tables[k], s) && w > width && w <= 27)
                width = w;
        }
    fputs(spec->usage, out);
    for (size_t k = 0; k < spec->ntables; k++)
        for (size_t i = 0; i < spec->tables[k].set->n; i++) {
            const cm_setting *s = &spec->tables[k].set->set[i];
            if (!is_option(&spec->tables[k], s))
                continue;
            if (s->section)
                fprintf(out, "%s:\n", s->section);
            char buf[128];
            int w = option_text(s, buf, sizeof buf), col = w + 2 > width ? w + 2 : width;
            fprintf(out, "%s%*s", buf, col - w, "");
            for (const char *p = s->help; *p;) {
                size_t len = strcspn(p, "\n");
                fwrite(p, 1, len, out);
                col += (int)len;
                p += len;
                if (*p) {
                    fprintf(out, "\n%*s", width, "");
                    col = width;
                    p++;
                }
            }
            /* the default on the line if it fits in 80 columns, else below */
            const char *dflt = default_of(&spec->tables[k], s);
            if (dflt && s->type != CM_SET_FLAG && col + 11 + (int)strlen(dflt) > 79)
                fprintf(out, "\n%*s(default %s)", width, "", dflt);
            else if (dflt && s->type != CM_SET_FLAG)
                fprintf(out, " (default %s)", dflt);
            fputc('\n', out);
        }
    fprintf(out, "  -h, --help%*sshow this help and exit\n", width - 12, "");
    fprintf(out, "  -V, --version%*sshow the version and exit\n", width - 15, "");
    fputs(spec->tail, out);
}

/* --complete, for scripts/completion/cm.bash: every option a line,
 * "--NAME<TAB>-S<TAB>KIND<TAB>VALUES" (KIND flag, file, choice or
 * value; VALUES a choice's, '|'-separated), from the declarations as
 * --help is, so completion cannot drift from the options. */
static void complete(FILE *out, const cli_spec *spec)
{
    for (size_t k = 0; k < spec->ntables; k++)
        for (size_t i = 0; i < spec->tables[k].set->n; i++) {
            const cm_setting *s = &spec->tables[k].set->set[i];
            if (!is_option(&spec->tables[k], s))
                continue;
            const char *kind = s->type == CM_SET_FLAG     ? "flag"
                             : s->type == CM_SET_CHOICE   ? "choice"
                             : s->arg && strstr(s->arg, "FILE") ? "file"
                                                          : "value";
            char sh[4] = "-";
            if (s->short_opt)
                snprintf(sh, sizeof sh, "-%c", s->short_opt);
            fprintf(out, "--%s\t%s\t%s\t%s\n", long_name(s), sh, kind,
                    s->type == CM_SET_CHOICE ? s->choices : "-");
        }
    fputs("--help\t-h\tflag\t-\n--version\t-V\tflag\t-\n", out);
}

/* The key an option's value goes under: NAME, NAME.COL or NAME.N. */
static void option_key(const cm_setting *s, const char *arg, int *nth, char *key,
                       size_t n, const char **value)
{
    const char *eq = arg ? strrchr(arg, '=') : NULL;
    *value = arg;
    if ((s->flags & CM_SET_PER_COLUMN) || ((s->flags & CM_SET_OR_COLUMN) && eq)) {
        if (!eq || eq == arg || !eq[1])
            cli_usage_error("--%s: expected COL=VALUE, got '%s'", long_name(s), arg);
        snprintf(key, n, "%s.%.*s", s->name, (int)(eq - arg), arg);
        *value = eq + 1;
    } else if (s->flags & CM_SET_REPEAT) {
        snprintf(key, n, "%s.%d", s->name, ++*nth);
    } else {
        snprintf(key, n, "%s", s->name);
    }
}

int cli_parse(int argc, char **argv, const cli_spec *spec)
{
    struct option lo[MAX_OPTIONS + 4];
    optmap map[MAX_OPTIONS];
    int nth[MAX_OPTIONS] = {0};
    char shorts[3 * MAX_OPTIONS + 8];
    size_t n = 0, ns = 0;
    for (size_t k = 0; k < spec->ntables; k++)
        for (size_t i = 0; i < spec->tables[k].set->n; i++) {
            const cm_setting *s = &spec->tables[k].set->set[i];
            if (!is_option(&spec->tables[k], s))
                continue;
            int has = s->type == CM_SET_FLAG ? no_argument : required_argument;
            for (int alias = 0; alias < 2 && n < MAX_OPTIONS; alias++) {
                if (alias && !s->alias)
                    break;
                map[n] = (optmap){&spec->tables[k], s};
                lo[n] = (struct option){alias ? s->alias : long_name(s), has, NULL,
                                        OPT_BASE + (int)n};
                n++;
            }
            if (s->short_opt) {
                shorts[ns++] = s->short_opt;
                if (has == required_argument)
                    shorts[ns++] = ':';
            }
        }
    lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n++] = (struct option){"version", no_argument, NULL, 'V'};
    lo[n++] = (struct option){"complete", no_argument, NULL, 'C'};
    lo[n] = (struct option){NULL, 0, NULL, 0};
    memcpy(shorts + ns, "hV", 3);
    int c;
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        if (c == 'h') {
            help(stdout, spec);
            cli_stdout_flush();
            exit(CLI_OK);
        }
        if (c == 'V')
            cli_version();
        if (c == 'C') {
            complete(stdout, spec);
            cli_stdout_flush();
            exit(CLI_OK);
        }
        size_t i = 0;
        if (c >= OPT_BASE && c < OPT_BASE + (int)(n - 3)) {
            i = (size_t)(c - OPT_BASE);
        } else {
            while (i < n - 3 && !(map[i].s->short_opt == c && c))
                i++;
            if (i == n - 3) { /* getopt has said what it was */
                fprintf(stderr, "Try '%s --help' for more information.\n", prog);
                exit(CLI_USAGE);
            }
        }
        const cm_setting *s = map[i].s;
        size_t first = i;
        while (first > 0 && map[first - 1].s == s)
            first--; /* an alias counts its repeats with the option */
        char key[CM_MAX_NAME + 64], label[80], norm[CM_MAX_NAME + 1];
        const char *value;
        option_key(s, s->type == CM_SET_FLAG ? NULL : optarg, &nth[first], key, sizeof key,
                   &value);
        if (s->type == CM_SET_FLAG)
            value = s->flag ? s->flag : "yes";
        snprintf(label, sizeof label, "--%s", long_name(s));
        cm_error err;
        cm_error_clear(&err);
        if (cm_setting_check(s, label, value, norm, sizeof norm, &err))
            cli_refused(&err);
        cli_set(map[i].t->kv, key, norm);
    }
    for (size_t k = 0; k < spec->ntables; k++)
        for (const char *const *d = spec->tables[k].defaults; d && *d; d++) {
            char key[CM_MAX_NAME + 1];
            snprintf(key, sizeof key, "%.*s", (int)strcspn(*d, "="), *d);
            if (!cm_kv_get(spec->tables[k].kv, key))
                cli_set(spec->tables[k].kv, key, *d + strlen(key) + 1);
        }
    return optind;
}

void cli_args_parse(cli_args *a, int argc, char **argv, const char *usage,
                    const char *tail, const cm_settings *stage, unsigned skip,
                    const char *const *defaults, const cm_settings *own, void *out)
{
    if (!(a->stage = cm_kv_new()) || !(a->own = cm_kv_new()))
        cli_die("out of memory");
    const cli_table tables[] = {{stage, a->stage, skip, defaults}, {own, a->own, 0, NULL}};
    const cli_spec spec = {usage, tail, stage ? tables : tables + 1, stage ? 2 : 1};
    a->first = cli_parse(argc, argv, &spec);
    cli_read(own, a->own, out);
}

void cli_args_free(cli_args *a)
{
    cm_kv_free(a->stage);
    cm_kv_free(a->own);
}

void cli_read(const cm_settings *t, const cm_kv *kv, void *out)
{
    cm_error err;
    cm_error_clear(&err);
    if (cm_settings_read(t, kv, out, &err))
        cli_refused(&err);
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

const char *cli_one_input(int argc, char **argv, int first)
{
    if (argc - first > 1)
        cli_usage_error("one input at most (got %d)", argc - first);
    return first < argc ? argv[first] : NULL;
}

static int is_std(const char *path)
{
    return !path || strcmp(path, "-") == 0;
}

const char *cli_in_name(const char *path)
{
    return is_std(path) ? "(stdin)" : path;
}

const char *cli_out_name(const char *path)
{
    return is_std(path) ? "(stdout)" : path;
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
    int std;           /* stdout, where a closed pipe is no error */
    cm_atomic *atomic; /* NULL for stdout, and once committed */
    char *tmp;         /* its temporary file, for a signal to remove */
    char *name;        /* for messages: the path, or "(stdout)" */
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
    release_held();
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
    if (!o || !(o->name = strdup(cli_out_name(path)))) {
        free(o);
        cli_die("out of memory");
    }
    if (is_std(path)) {
        if (binary && !force && isatty(STDOUT_FILENO)) {
            free(o->name);
            free(o);
            cli_usage_error("refusing to write binary data to a terminal "
                            "(redirect it, use -o FILE, or force with -F)");
        }
        o->f = stdout;
        o->std = 1;
        return o;
    }
    cm_error err;
    cm_error_clear(&err);
    if (!(o->atomic = cm_atomic_open(path, &err))) {
        free(o->name);
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

/* Writing o failed with errno e: "prog: OUTPUT: write failed: REASON". */
CLI_NORETURN static void write_failed(cli_output *o, int e)
{
    if (o->std && e == EPIPE)
        exit(CLI_OK); /* the reader has all it wanted: not an error */
    char *name = o->name;
    o->name = NULL;
    cli_output_abort(o);
    cli_warn("%s: write failed: %s", name, strerror(e ? e : EIO));
    free(name);
    exit(CLI_FAIL);
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
        /* flushing, syncing, closing or renaming: the writing failed */
        if (st == CM_ERR_IO)
            write_failed(o, err.sys);
        free(o->tmp);
        free(o->name);
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
    free(o->name);
    free(o);
}

void cli_output_abort(cli_output *o)
{
    if (!o)
        return;
    track(o, 0);
    cm_atomic_abort(o->atomic);
    free(o->tmp);
    free(o->name);
    free(o);
}

void cli_output_fail(cli_output *o, const cm_error *err)
{
    if (err->status == CM_ERR_IO)
        write_failed(o, err->sys);
    cli_output_abort(o);
    cli_die_error(NULL, err);
}

void cli_run_fail(cli_output *o, const char *name, const cm_error *err)
{
    /* the stream's error flag, not the message, says it was the writing */
    if (err->status == CM_ERR_IO && ferror(o->f))
        write_failed(o, err->sys);
    cli_output_abort(o);
    cli_die_error(name, err);
}

void cli_stdout_flush(void)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return;
    int e = errno; /* of the write that failed, as for cli_output_check */
    if (e == EPIPE)
        exit(CLI_OK);
    cli_die("%s: write failed: %s", cli_out_name(NULL), strerror(e ? e : EIO));
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
