/* cm-serve - models as an HTTP prediction service (lib/serve.c), reloaded
 * on SIGHUP or when their files change, drained on SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "serve/cm_serve.h"

static const char usage[] =
    "Usage: cm-serve -m [NAME=]MODEL.cmm [-m ...] [OPTION]...\n"
    "Serve forecasts of the models over HTTP: POST /v1/models/NAME/predict with a\n"
    "JSON object of raw fields (or an array of them); GET /v1/models,\n"
    "/v1/models/NAME, /healthz, /metrics.  SIGHUP reloads every model.\n"
    "\n"
    "  -m, --model=[NAME=]FILE  a model, by NAME (default: FILE's name less .cmm)\n"
    "  -p, --port=N             TCP port (default 8080; 0 for any free one)\n"
    "  -b, --bind=ADDR          IPv4 address to listen on (default 127.0.0.1)\n"
    "  -t, --threads=N          worker threads (default: the number of CPUs)\n"
    "      --token-file=FILE    require 'Authorization: Bearer TOKEN', TOKEN the\n"
    "                           file's first line\n"
    "      --watch=SECONDS      reload a model when its file changes, checked\n"
    "                           this often\n"
    "      --max-body=SIZE      largest request body (default 1M; larger: 413)\n"
    "      --max-batch=N        most rows in one request (default 1000)\n"
    "      --max-header=SIZE    memory for a request's headers (default 32K)\n"
    "      --max-connections=N  connections at once (default 256)\n"
    "      --timeout=SECONDS    an idle or slow connection is closed (default 10)\n"
    "  -v, --verbose            one access log line per request on standard error\n"
    "  -q, --quiet              no line saying where it listens\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n"
    "\n"
    "Exit status: 0 stopped by SIGTERM or SIGINT, 1 a model or the port failed,\n"
    "2 usage error.  See cm-serve(1).\n";

enum { OPT_TOKEN = 256, OPT_WATCH, OPT_BODY, OPT_BATCH, OPT_HEADER, OPT_CONNS,
       OPT_TIMEOUT };

static size_t size_arg(const char *opt, const char *arg)
{
    uint64_t b;
    if (cm_parse_size(arg, &b) || b == 0 || b > (1ull << 32))
        cli_usage_error("%s: '%s' is not a size like 1M", opt, arg);
    return (size_t)b;
}

static unsigned count_arg(const char *opt, const char *arg, unsigned lo, unsigned hi)
{
    unsigned long long n = cli_parse_count(opt, arg);
    if (n < lo || n > hi)
        cli_usage_error("%s: from %u to %u", opt, lo, hi);
    return (unsigned)n;
}

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
    if (n <= 0)
        cli_die("%s: no token on its first line", path);
    return line;
}

static void access_log(void *ctx, const char *endpoint, int code, double secs)
{
    (void)ctx;
    fprintf(stderr, "%s: %s %d %.3f ms\n", cli_name(), endpoint, code, secs * 1e3);
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

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},
        {"threads", required_argument, NULL, 't'},
        {"token-file", required_argument, NULL, OPT_TOKEN},
        {"watch", required_argument, NULL, OPT_WATCH},
        {"max-body", required_argument, NULL, OPT_BODY},
        {"max-batch", required_argument, NULL, OPT_BATCH},
        {"max-header", required_argument, NULL, OPT_HEADER},
        {"max-connections", required_argument, NULL, OPT_CONNS},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        CLI_COMMON_OPTIONS};
    cli_init(argv, "cm-serve");
    cm_serve_opts o = {"127.0.0.1", cli_cpus(), 1u << 20, 1000, 32u << 10,
                       256, 10, NULL, NULL, NULL};
    unsigned port = 8080, watch = 0;
    int quiet = 0, nmodels = 0;
    const char *token_file = NULL;
    cm_registry *reg = cm_registry_new();
    if (!reg)
        cli_die("out of memory");
    char **model_args = calloc((size_t)argc + 1, sizeof *model_args);
    if (!model_args)
        cli_die("out of memory");
    int c;
    while ((c = getopt_long(argc, argv, "m:p:b:t:o:FvqhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': model_args[nmodels++] = optarg; break;
        case 'p': port = count_arg("--port", optarg, 0, 65535); break;
        case 'b': o.bind = optarg; break;
        case 't': o.threads = count_arg("--threads", optarg, 1, 1024); break;
        case OPT_TOKEN: token_file = optarg; break;
        case OPT_WATCH: watch = count_arg("--watch", optarg, 1, 86400); break;
        case OPT_BODY: o.max_body = size_arg("--max-body", optarg); break;
        case OPT_BATCH: o.max_batch = count_arg("--max-batch", optarg, 1, 1000000); break;
        case OPT_HEADER: o.max_header = size_arg("--max-header", optarg); break;
        case OPT_CONNS: o.max_connections = count_arg("--max-connections", optarg, 1, 65536); break;
        case OPT_TIMEOUT: o.timeout = count_arg("--timeout", optarg, 1, 3600); break;
        case 'v': o.log = access_log; break;
        case 'q': quiet = 1; break;
        case 'o': case 'F': cli_usage_error("cm-serve writes no files");
        default: cli_other_option(c, usage);
        }
    }
    if (optind < argc)
        cli_usage_error("unexpected argument '%s' (models go with -m)", argv[optind]);
    if (!nmodels)
        cli_usage_error("no model: give one with -m [NAME=]MODEL.cmm");
    for (int i = 0; i < nmodels; i++)
        add_model(reg, model_args[i]);
    free(model_args);
    char *token = token_file ? read_token(token_file) : NULL;
    o.token = token;

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
    for (;;) {
        struct timespec wait = {watch ? watch : 3600, 0};
        int sig = sigtimedwait(&sigs, NULL, &wait);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        if (sig == SIGHUP)
            cm_registry_reload(reg, 0, on_reload, reg);
        else if (sig < 0 && errno == EAGAIN && watch)
            cm_registry_reload(reg, 1, on_reload, reg);
    }
    cm_server_stop(sv);
    cm_registry_free(reg);
    free(token);
    return CLI_OK;
}
