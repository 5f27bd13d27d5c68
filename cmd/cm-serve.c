/* cm-serve - models as an HTTP prediction service (lib/serve.c), reloaded
 * on SIGHUP or when their files change, drained on SIGTERM. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "serve/cm_serve.h"

static const char usage[] =
    "Usage: cm-serve -m [NAME=]MODEL.cmm [-m ...] [OPTION]...\n"
    "Serve forecasts of the models over HTTP: POST /v1/models/NAME/predict with a\n"
    "JSON object of raw fields (or an array of them), .../forecast with a history;\n"
    "POST .../observations to keep a live history, GET .../forecast?horizon=H from\n"
    "it, GET or DELETE .../series; GET /v1/models, /v1/models/NAME, /healthz,\n"
    "/metrics.  SIGHUP reloads every model.\n"
    "\n";
static const char tail[] =
    "\n"
    "Exit status: 0 stopped by SIGTERM or SIGINT, 1 a model or the port failed,\n"
    "2 usage error.  See cm-serve(1).\n";

typedef struct opts {
    const char *bind, *token_file, *ingest_token_file, *state, *keep;
    int sync;
    int64_t max_series;
    int64_t port, threads, watch, max_batch, max_horizon, max_connections, timeout;
    uint64_t max_body, max_header;
    int verbose, quiet;
} opts;

/* A size of at most 4 GiB. */
static int size_bad(const char *v)
{
    uint64_t b;
    return cm_parse_size(v, &b) || b > (1ull << 32);
}

#define AT(f, U) CM_SET_AT(opts, f, U)
static const cm_setting own[] = {
    {.name = "model", .short_opt = 'm', .type = CM_SET_TEXT, .flags = CM_SET_REPEAT,
     .arg = "[NAME=]FILE", .help = "a model, by NAME (default: FILE's name less .cmm)",
     .offset = CM_SET_NOWHERE},
    {.name = "port", .short_opt = 'p', .type = CM_SET_COUNT, .arg = "N", .lo = 0, .hi = 65535,
     .dflt = "8080", .help = "TCP port (0 for any free one)", .offset = AT(port, int64_t)},
    {.name = "bind", .short_opt = 'b', .type = CM_SET_TEXT, .arg = "ADDR", .dflt = "127.0.0.1",
     .help = "IPv4 address to listen on", .offset = AT(bind, const char *)},
    {.name = "threads", .short_opt = 't', .type = CM_SET_COUNT, .arg = "N", .lo = 1, .hi = 1024,
     .help = "worker threads (default: the number of CPUs)", .offset = AT(threads, int64_t)},
    {.name = "token-file", .type = CM_SET_TEXT, .arg = "FILE",
     .help = "require 'Authorization: Bearer TOKEN', TOKEN the\nfile's first line",
     .offset = AT(token_file, const char *)},
    {.name = "ingest-token-file", .type = CM_SET_TEXT, .arg = "FILE",
     .help = "a second token, its file's first line, that may\npost observations and nothing "
             "else",
     .offset = AT(ingest_token_file, const char *)},
    {.name = "state", .type = CM_SET_TEXT, .arg = "DIR",
     .help = "keep each model's live history in DIR/NAME.journal,\nacross restarts",
     .offset = AT(state, const char *)},
    {.name = "sync", .type = CM_SET_CHOICE, .arg = "every|interval", .choices = "every|interval",
     .dflt = "every", .help = "fsync the journal before each answer, or once a\nsecond",
     .offset = AT(sync, int)},
    {.name = "keep", .type = CM_SET_TEXT, .arg = "STEPS", .check = cm_step_count_bad,
     .want = "a number of steps or a span like 7d",
     .help = "history kept behind a series' last row (default:\nwhat its forecasts look back "
             "on)",
     .offset = AT(keep, const char *)},
    {.name = "max-series", .type = CM_SET_COUNT, .arg = "N", .lo = 1, .hi = 100000000,
     .dflt = "10000", .help = "series held per model (a new one past it: 429)",
     .offset = AT(max_series, int64_t)},
    {.name = "watch", .type = CM_SET_COUNT, .arg = "SECONDS", .lo = 1, .hi = 86400,
     .help = "reload a model when its file changes, checked\nthis often",
     .offset = AT(watch, int64_t)},
    {.name = "max-body", .type = CM_SET_SIZE, .arg = "SIZE", .dflt = "1M", .check = size_bad,
     .want = "a size like 1M, at most 4G", .help = "largest request body (larger: 413)",
     .offset = AT(max_body, uint64_t)},
    {.name = "max-batch", .type = CM_SET_COUNT, .arg = "N", .lo = 1, .hi = 1000000,
     .dflt = "1000", .help = "most rows in one request", .offset = AT(max_batch, int64_t)},
    {.name = "max-horizon", .type = CM_SET_COUNT, .arg = "N", .lo = 1, .hi = 100000,
     .dflt = "1000", .help = "most steps of one forecast (more: 413)",
     .offset = AT(max_horizon, int64_t)},
    {.name = "max-header", .type = CM_SET_SIZE, .arg = "SIZE", .dflt = "32K", .check = size_bad,
     .want = "a size like 32K, at most 4G", .help = "memory for a request's headers",
     .offset = AT(max_header, uint64_t)},
    {.name = "max-connections", .type = CM_SET_COUNT, .arg = "N", .lo = 1, .hi = 65536,
     .dflt = "256", .help = "connections at once", .offset = AT(max_connections, int64_t)},
    {.name = "timeout", .type = CM_SET_COUNT, .arg = "SECONDS", .lo = 1, .hi = 3600,
     .dflt = "10", .help = "an idle or slow connection is closed",
     .offset = AT(timeout, int64_t)},
    {.name = "verbose", .short_opt = 'v', .type = CM_SET_FLAG,
     .help = "one access log line per request on standard error", .offset = AT(verbose, int)},
    {.name = "quiet", .short_opt = 'q', .type = CM_SET_FLAG,
     .help = "no line saying where it listens", .offset = AT(quiet, int)},
};
#undef AT
static const cm_settings own_settings = CLI_TABLE(own);

/* "NAME=FILE", or FILE named by its base name less .cmm. */
static void add_model(cm_registry *reg, const char *arg)
{
    char name[CM_MAX_NAME + 1];
    const char *eq = strchr(arg, '='), *path = eq ? eq + 1 : arg;
    if (eq) {
        snprintf(name, sizeof name, "%.*s", (int)(eq - arg), arg);
    } else {
        const char *base = strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;
        size_t n = strlen(base);
        if (n > 4 && !strcmp(base + n - 4, ".cmm"))
            n -= 4;
        snprintf(name, sizeof name, "%.*s", (int)n, base);
    }
    if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789_-.") != strlen(name))
        cli_usage_error("--model: '%s' is not a name of letters, digits, '_', '-', '.'",
                        name);
    cm_error err;
    cm_error_clear(&err);
    if (cm_registry_add(reg, name, path, &err))
        cli_die_error(NULL, &err);
}

static char *read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        cli_die("%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (n <= 0) {
        free(line);
        cli_die("%s: no token on its first line", path);
    }
    return line;
}

static void access_log(void *ctx, const char *endpoint, int code, double secs)
{
    (void)ctx;
    fprintf(stderr, "%s: %s %d %.3f ms\n", cli_name(), endpoint, code, secs * 1e3);
}

static void on_note(void *ctx, const char *model, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "%s: %s: %s\n", cli_name(), model, msg);
}

static void on_reload(void *ctx, const char *name, const cm_error *err)
{
    cm_registry *reg = ctx;
    if (err) {
        fprintf(stderr, "%s: %s: reload refused, the loaded version keeps serving: %s\n",
                cli_name(), name, err->msg);
        return;
    }
    cm_served *s = cm_registry_get(reg, name);
    fprintf(stderr, "%s: %s: reloaded (version %llu)\n", cli_name(), name,
            s ? (unsigned long long)cm_served_version(s) : 0ULL);
    cm_served_release(s);
}

/* What the server holds, freed at exit on every path (cli_hold). */
typedef struct held {
    cli_held cli; /* first: see cli_hold */
    cm_registry *reg;
    char *token, *ingest_token;
} held;

static void release(void *ctx)
{
    held *h = ctx;
    cm_registry_free(h->reg);
    free(h->token);
    free(h->ingest_token);
}

/* Each connection is a descriptor: room for them all (and the models,
 * the listening socket, the epoll sets), as far as the hard limit goes;
 * a Debian login's soft limit of 1024 would refuse --max-connections
 * 1000. */
static void room_for(unsigned connections)
{
    struct rlimit r;
    rlim_t want = (rlim_t)connections + 64;
    if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur == RLIM_INFINITY || r.rlim_cur >= want)
        return;
    r.rlim_cur = r.rlim_max == RLIM_INFINITY || r.rlim_max >= want ? want : r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    if (r.rlim_cur < want)
        cli_warn("--max-connections %u: only %llu open files allowed (ulimit -Hn)", connections,
                 (unsigned long long)r.rlim_cur);
}

int main(int argc, char **argv)
{
    cli_init(argv, "cm-serve");
    opts a = {.threads = (int64_t)cli_cpus()};
    held *h = cli_hold(sizeof *h, release);
    cli_args_parse(&h->cli.a, argc, argv, usage, tail, NULL, 0, NULL, &own_settings, &a);
    const cm_kv *mine = h->cli.a.own;
    int first = h->cli.a.first;
    if (a.state) {
        struct stat st;
        if (stat(a.state, &st))
            cli_die("--state %s: %s", a.state, strerror(errno));
        if (!S_ISDIR(st.st_mode))
            cli_die("--state %s: not a directory", a.state);
    }
    cm_live_opts lo = {a.state, a.sync == 0, a.keep, (size_t)a.max_series, on_note, NULL};
    cm_registry *reg = h->reg = cm_registry_new(&lo);
    if (!reg)
        cli_die("out of memory");
    if (first < argc)
        cli_usage_error("unexpected argument '%s' (models go with -m)", argv[first]);
    for (size_t i = 0; i < cm_kv_count(mine); i++)
        if (!strncmp(cm_kv_key(mine, i), "model.", 6))
            add_model(reg, cm_kv_value(mine, i));
    if (!cm_registry_count(reg))
        cli_usage_error("no model: give one with -m [NAME=]MODEL.cmm");
    cm_serve_opts o = {a.bind, (unsigned)a.threads, (size_t)a.max_body, (size_t)a.max_batch,
                       (size_t)a.max_header, (size_t)a.max_horizon, (unsigned)a.max_connections,
                       (unsigned)a.timeout, NULL, NULL, a.verbose ? access_log : NULL, NULL};
    room_for(o.max_connections);
    unsigned port = (unsigned)a.port, watch = (unsigned)a.watch;
    int quiet = a.quiet;
    const char *token_file = a.token_file;
    o.token = h->token = token_file ? read_token(token_file) : NULL;
    o.ingest_token = h->ingest_token =
        a.ingest_token_file ? read_token(a.ingest_token_file) : NULL;

    /* The signals are taken by this thread alone, in the loop below: they
     * are blocked before the server's threads start, which inherit that. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    cm_error err;
    cm_error_clear(&err);
    cm_server *sv = cm_server_start(reg, &o, &port, &err);
    if (!sv)
        cli_die_error(NULL, &err);
    if (!quiet) {
        fprintf(stderr, "%s: listening on http://%s:%u (%zu model%s)\n", cli_name(), o.bind,
                port, cm_registry_count(reg), cm_registry_count(reg) == 1 ? "" : "s");
        fflush(stderr);
    }
    /* a tick a second: the journals' fsyncs (--sync interval) and
     * rewrites; every --watch seconds, a look at the model files */
    for (unsigned secs = 0;;) {
        struct timespec wait = {1, 0};
        int sig = sigtimedwait(&sigs, NULL, &wait);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        if (sig == SIGHUP)
            cm_registry_reload(reg, 0, on_reload, reg);
        if (sig >= 0 || errno != EAGAIN)
            continue;
        cm_registry_tick(reg);
        if (watch && ++secs % watch == 0)
            cm_registry_reload(reg, 1, on_reload, reg);
    }
    cm_server_stop(sv);
    return CLI_OK; /* release frees the rest */
}
