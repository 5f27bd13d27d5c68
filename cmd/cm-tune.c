/* cm-tune - search cm-train's settings by cross-validation: a grid or
 * random draws, trials x folds on worker processes, a results file that
 * grows a line per trial (resumable, shardable, mergeable), the best
 * settings printed and, with -o, a model retrained with them. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "Usage: cm-tune [OPTION]... --grid SPEC [FILE]\n"
    "  or:  cm-tune --merge [OPTION]... RESULTS.tsv...\n"
    "Search cm-train's settings by cross-validation on the cm stream FILE\n"
    "(or standard input) and print the best, one NAME=VALUE a line.  The\n"
    "cm-train options under Model, Training and Data are fixed settings of\n"
    "every trial, those not searched.\n"
    "\n";
static const char tail[] =
    "\n"
    "Exit status: 0 success, 1 bad data or results, 2 usage error.\n"
    "See cm-tune(1).\n";

static const char *const metrics[] = {"mae", "rmse", "mape", "r2"};

typedef struct opts {
    const char *grid, *results, *data, *shard_text, *horizon;
    char **inputs;
    int ninputs;
    int64_t ndraws, folds, gap, jobs;
    size_t shard, nshards;
    int cv; /* -1 by the data, 0 kfold, 1 time */
    int metric, resume, merge, direct;
    cli_common co;
} opts;

/* I/N, 1 <= I <= N */
static int shard_parse(const char *v, size_t *i, size_t *n)
{
    char *end;
    unsigned long a = strtoul(v, &end, 10), b = 0;
    if (*end == '/' && end[1] >= '0' && end[1] <= '9')
        b = strtoul(end + 1, &end, 10);
    if (*end || v[0] < '0' || v[0] > '9' || a < 1 || b < 1 || a > b)
        return -1;
    *i = a - 1;
    *n = b;
    return 0;
}

static int shard_bad(const char *v)
{
    size_t i, n;
    return shard_parse(v, &i, &n);
}

#define AT(f, U) CM_SET_AT(opts, f, U)
static const cm_setting own[] = {
    {.name = "grid", .type = CM_SET_TEXT, .arg = "SPEC", .alias = "space",
     .help = "every combination: 'lr=0.001,0.01 layers=32|64,64'\n(--space is the same "
     "option)", .section = "Search", .offset = AT(grid, const char *)},
    {.name = "random", .type = CM_SET_COUNT, .arg = "N", .lo = 1, .hi = 1000000,
     .help = "N draws instead, from SPEC's ranges LOW:HIGH,\nLOW:HIGH:log and choices "
     "(with --seed)", .offset = AT(ndraws, int64_t)},
    {.name = "folds", .short_opt = 'k', .type = CM_SET_COUNT, .arg = "N", .lo = 2, .hi = 100,
     .dflt = "5", .help = "folds", .offset = AT(folds, int64_t)},
    {.name = "cv", .type = CM_SET_CHOICE, .arg = "KIND", .choices = "kfold|time",
     .help = "time (forward chaining; the default with a time\ncolumn) or kfold "
     "(shuffled with --seed)", .offset = AT(cv, int)},
    {.name = "gap", .type = CM_SET_DURATION, .arg = "DURATION",
     .help = "with time folds: leave this much time between\nthe training rows and the "
     "block they forecast", .offset = AT(gap, int64_t)},
    {.name = "metric", .type = CM_SET_CHOICE, .arg = "M", .choices = "mae|rmse|mape|r2",
     .dflt = "rmse", .help = "rmse, mae, mape or r2", .offset = AT(metric, int)},
    {.name = "horizon", .short_opt = 'H', .type = CM_SET_TEXT, .arg = "N",
     .check = cm_step_count_bad, .want = "a number of steps or a span such as 24h",
     .help = "score each fold by forecasts of N steps (or a span,\n24h): a backtest from "
     "every origin of its block", .offset = AT(horizon, const char *)},
    {.name = "direct", .type = CM_SET_FLAG,
     .help = "with --horizon: the trials train direct models of\nthat horizon (cm-train "
     "--horizon)", .offset = AT(direct, int)},
    {.name = "jobs", .short_opt = 'j', .type = CM_SET_COUNT, .arg = "N", .lo = 1, .hi = 256,
     .help = "worker processes (default: the number of CPUs)", .offset = AT(jobs, int64_t)},
    {.name = "results", .type = CM_SET_TEXT, .arg = "FILE",
     .help = "append one line per finished trial (TSV)", .offset = AT(results, const char *)},
    {.name = "resume", .type = CM_SET_FLAG, .help = "skip the trials FILE has already",
     .offset = AT(resume, int)},
    {.name = "shard", .type = CM_SET_TEXT, .arg = "I/N", .check = shard_bad,
     .want = "I/N with 1 <= I <= N", .help = "run only the I-th of N slices of the trials",
     .offset = AT(shard_text, const char *)},
    {.name = "merge", .type = CM_SET_FLAG,
     .help = "read RESULTS files (shards) instead of searching", .offset = AT(merge, int)},
    {.name = "data", .type = CM_SET_TEXT, .arg = "FILE",
     .help = "with --merge -o: the stream to retrain on", .offset = AT(data, const char *)},
    {.name = "output", .short_opt = 'o', .type = CM_SET_TEXT, .arg = "FILE",
     .help = "retrain on every row with the best settings and\nwrite that model, replaced "
     "only when complete", .section = "Output", .offset = AT(co.output, const char *)},
    CLI_OPT_FORCE(opts, "write the model even to a terminal"),
    CLI_OPT_VERBOSE(opts, "print the best trial's scores on standard error"),
    CLI_OPT_QUIET(opts, "no progress"),
};
#undef AT
static const cm_settings own_settings = CLI_TABLE(own);

static void parse(int argc, char **argv, opts *o, cli_args *a)
{
    o->cv = -1;
    o->jobs = (int64_t)cli_cpus();
    /* Not an option here (CM_TRAIN_SET_WHOLE), but a reason is better
     * than getopt's "unrecognized option". */
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strncmp(argv[i], "--valid-from", 12) && (!argv[i][12] || argv[i][12] == '='))
            cli_usage_error("--valid-from: cm-tune's folds choose the rows each trial is "
                            "scored on; --valid FRAC holds out the last of each fold's "
                            "training rows instead");
    /* the folds validate: no rows held out of a fold's fit */
    static const char *const defaults[] = {"valid=0", NULL};
    cli_args_parse(a, argc, argv, usage, tail, &cm_train_settings,
                   CM_SET_MACHINE | CM_TRAIN_SET_WHOLE | CM_TRAIN_SET_TUNE_OWN, defaults,
                   &own_settings, o);
    int first = a->first;
    if (o->shard_text)
        shard_parse(o->shard_text, &o->shard, &o->nshards);
    o->inputs = argv + first;
    o->ninputs = argc - first;
    if (o->merge) {
        if (!o->ninputs)
            cli_usage_error("--merge: give the results files to merge");
        if (o->co.output && !o->data)
            cli_usage_error("--merge -o: give the data to retrain on with --data FILE");
        return;
    }
    if (!o->grid)
        cli_usage_error("nothing to search: give --grid 'NAME=VALUE,... ...'");
    if (o->ninputs > 1)
        cli_usage_error("one input at most (got %d)", o->ninputs);
    if (o->resume && !o->results)
        cli_usage_error("--resume needs --results FILE");
    if (o->data)
        cli_usage_error("--data is for --merge -o; give the stream as FILE");
    if (o->direct && !o->horizon)
        cli_usage_error("--direct trains models of the --horizon: give it");
    if (o->horizon && o->cv == 0)
        cli_usage_error("--horizon forecasts from each fold's past: not with --cv kfold");
    if (o->horizon && o->metric == CM_METRIC_R2)
        cli_usage_error("--horizon scores by mae, rmse or mape: r2 is not one of a backtest");
}

/* ---- the search's identity ------------------------------------------------- */

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (h ^ 0xff) * 1099511628211ULL;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The fixed settings as "NAME=VALUE ..." in the order of their names, so
 * that the order of the options does not matter; the command line and
 * the time are left out. */
static char *fixed_text(const cm_kv *fixed)
{
    size_t n = 1, m = cm_kv_count(fixed), k = 0;
    const char **keys = calloc(m + 1, sizeof *keys);
    for (size_t i = 0; keys && i < m; i++) {
        const char *key = cm_kv_key(fixed, i);
        n += strlen(key) + 3 * strlen(cm_kv_value(fixed, i)) + 2;
        if (strcmp(key, "argv") && strcmp(key, "created"))
            keys[k++] = key;
    }
    char *t = calloc(n, 1);
    if (!t || !keys)
        cli_die("out of memory");
    qsort(keys, k, sizeof *keys, by_key);
    /* spaces separate the settings, so a value's own are %20 (and % is %25) */
    char *p = t;
    for (size_t i = 0; i < k; i++) {
        p += sprintf(p, "%s%s=", i ? " " : "", keys[i]);
        for (const char *v = cm_kv_get(fixed, keys[i]); *v; v++)
            p += *v == ' ' ? sprintf(p, "%%20") : *v == '%' ? sprintf(p, "%%25")
                                                          : sprintf(p, "%c", *v);
    }
    free(keys);
    return t;
}

/* Everything that decides the scores but the data: the trials themselves
 * (not how the search was spelled), the folds, the metric and the fixed
 * settings.  Runs and shards must agree on it to be compared. */
static void setup_id(const opts *o, const cm_space *sp, const char *fixed, int time,
                     char *out, size_t n)
{
    char buf[128];
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < cm_space_trials(sp); i++)
        for (size_t j = 0; j < cm_space_params(sp); j++) {
            h = fnv(h, cm_space_key(sp, j));
            h = fnv(h, cm_space_value(sp, i, j));
        }
    snprintf(buf, sizeof buf, "%zu %d %lld %s", (size_t)o->folds, time, (long long)o->gap,
             metrics[o->metric]);
    if (o->horizon) /* scored by backtests of so many steps */
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " horizon %.32s", o->horizon);
    h = fnv(fnv(h, buf), fixed);
    snprintf(out, n, "%016llx", (unsigned long long)h);
}

/* ---- the run ------------------------------------------------------------------ */

typedef struct run {
    const opts *o;
    const cm_space *space;
    FILE *out;
    const char *data, *setup, *fixed;
    size_t done, total;
    long best;          /* trial, or -1 */
    double best_mean, best_std;
    int progress;
} run;

static int better(int metric, double a, double b)
{
    return metric == CM_METRIC_R2 ? a > b : a < b;
}

/* What is in the results file reaches it now: tail -f follows, and a
 * crash loses only the trials that run. */
static void results_flush(FILE *f, const char *name)
{
    errno = 0;
    if (fflush(f) || ferror(f))
        cli_die("%s: write failed: %s", name, strerror(errno ? errno : EIO));
}

static cm_status on_trial(void *ctx, const cm_trial_result *r, cm_error *err)
{
    run *s = ctx;
    (void)err;
    if (s->out) {
        cm_results_line(s->out, s->space, r, s->data, s->setup, s->fixed);
        results_flush(s->out, s->o->results);
    }
    if (r->error)
        cli_warn("trial %zu: %s", r->trial + 1, r->error);
    s->done++;
    if (!isnan(r->mean) && (s->best < 0 || better(s->o->metric, r->mean, s->best_mean) ||
                            (r->mean == s->best_mean && (long)r->trial < s->best))) {
        s->best = (long)r->trial;
        s->best_mean = r->mean;
        s->best_std = r->std;
    }
    if (s->progress)
        cli_progress("%zu/%zu trials, best %s %.6g", s->done, s->total,
                     metrics[s->o->metric], s->best >= 0 ? s->best_mean : NAN);
    return CM_OK;
}

/* Opened before the search, so that a bad path fails at once. */
static cli_output *open_model(const opts *o)
{
    if (!o->co.output)
        return NULL;
    if (!strcmp(o->co.output, "-"))
        cli_usage_error("-o -: the best settings go to standard output; give a file");
    return cli_output_open(o->co.output, 1, o->co.force);
}

/* Retrains on every row with settings and writes the model to out. */
static void retrain(cli_output *out, const cm_dataset *ds, cm_kv *settings, int argc,
                    char **argv)
{
    cm_error err;
    cm_error_clear(&err);
    cli_provenance(settings, argc, argv);
    cli_set(settings, "threads", "1");
    cm_model *m = cm_dataset_fit(ds, settings, NULL, 0, NULL, NULL, &err);
    if (!m) {
        cli_output_abort(out);
        cli_die_error(NULL, &err);
    }
    cm_status st = cm_model_save(m, cli_output_file(out), &err);
    cm_model_free(m);
    if (st)
        cli_output_fail(out, &err);
    cli_output_close(out);
}

static void print_best(const opts *o, const char *const *keys, const char *const *values,
                       size_t n, const char *metric, double mean, double std, size_t trial)
{
    for (size_t j = 0; j < n; j++)
        printf("%s=%s\n", keys[j], values[j]);
    cli_stdout_flush();
    if (o->co.verbose && !isnan(std))
        fprintf(stderr, "%s: best trial %zu: %s %.6g (sd %.3g over folds)\n", cli_name(),
                trial, metric, mean, std);
    else if (o->co.verbose)
        fprintf(stderr, "%s: best trial %zu: %s %.6g\n", cli_name(), trial, metric, mean);
}

/* What a run holds, freed at exit on every path (cli_hold). */
typedef struct held {
    cli_held cli; /* first: see cli_hold */
    cm_space *sp;
    cm_reader *r;
    char *bytes;        /* with --horizon: the stream, for the backtests */
    FILE *mem;
    cm_dataset *ds;
    cm_folds *folds;
    cm_results *results, *old;
    char *fixtext;
    size_t *todo;
    const char **keys, **vals;
    cm_kv *set;
} held;

static void release(void *ctx)
{
    held *h = ctx;
    free(h->keys);
    free(h->vals);
    free(h->todo);
    free(h->fixtext);
    cm_kv_free(h->set);
    cm_results_free(h->results);
    cm_results_free(h->old);
    cm_folds_free(h->folds);
    cm_dataset_free(h->ds);
    cm_space_free(h->sp);
    cm_reader_free(h->r);
    if (h->mem)
        fclose(h->mem);
    free(h->bytes);
}

/* The whole stream in memory, for backtests to read again and again
 * (standard input too); a reader of it into h->r. */
static size_t hold_stream(held *h, const char *path, const char *name)
{
    FILE *in = h->cli.in = cli_open_in(path);
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            char *b = realloc(h->bytes, cap = cap ? 2 * cap : 1 << 20);
            if (!b)
                cli_die("%s: out of memory", name);
            h->bytes = b;
        }
        size_t got = fread(h->bytes + n, 1, cap - n, in);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(in))
        cli_die("%s: %s", name, strerror(errno));
    /* fmemopen refuses a size of 0: an empty input reads as one */
    if (!(h->mem = n ? fmemopen(h->bytes, n, "r") : fopen("/dev/null", "r")))
        cli_die("%s: %s", name, strerror(errno));
    cm_error err;
    cm_error_clear(&err);
    if (!(h->r = cm_reader_new(h->mem, &err)))
        cli_die_error(name, &err);
    return n;
}

/* --merge: shard files into one ranking. */
static int merge(const opts *o, held *h, int argc, char **argv)
{
    FILE **f = calloc((size_t)o->ninputs, sizeof *f);
    if (!f)
        cli_die("out of memory");
    for (int i = 0; i < o->ninputs; i++)
        if (!(f[i] = fopen(o->inputs[i], "r")))
            cli_die("%s: %s", o->inputs[i], strerror(errno));
    cm_error err;
    cm_error_clear(&err);
    cm_results *r = h->results =
        cm_results_read(f, (const char *const *)o->inputs, (size_t)o->ninputs, &err);
    for (int i = 0; i < o->ninputs; i++)
        fclose(f[i]);
    free(f);
    if (!r)
        cli_die_error(NULL, &err);
    /* the metric is the one the search ranked by, in the column names */
    long best = cm_results_best(r, !strcmp(cm_results_metric(r), "r2"));
    if (best < 0)
        cli_die("no trial with a score in the results");
    size_t np = cm_results_params(r);
    const char **keys = h->keys = calloc(np + 1, sizeof *keys);
    const char **vals = h->vals = calloc(np + 1, sizeof *vals);
    if (!keys || !vals)
        cli_die("out of memory");
    for (size_t j = 0; j < np; j++) {
        keys[j] = cm_results_key(r, j);
        vals[j] = cm_results_value(r, (size_t)best, j);
    }
    if (o->co.output) {
        cli_output *out = open_model(o);
        cm_kv *set = h->set = cm_kv_new();
        if (!set)
            cli_die("out of memory");
        /* the fixed settings as the search recorded them */
        char *fx = strdup(cm_results_fixed(r, (size_t)best));
        if (!fx)
            cli_die("out of memory");
        for (char *tok = strtok(fx, " "); tok; tok = strtok(NULL, " ")) {
            char *eq = strchr(tok, '='), *w = eq ? eq + 1 : NULL;
            if (!eq)
                continue;
            *eq = '\0';
            for (const char *v = eq + 1; *v; v++) /* %20 and %25 back */
                if (v[0] == '%' && (!strncmp(v, "%20", 3) || !strncmp(v, "%25", 3))) {
                    *w++ = v[1] == '2' && v[2] == '0' ? ' ' : '%';
                    v += 2;
                } else {
                    *w++ = *v;
                }
            *w = '\0';
            cli_set(set, tok, eq + 1);
        }
        free(fx);
        for (size_t j = 0; j < np; j++)
            cli_set(set, keys[j], vals[j]);
        h->r = cli_open_stream(o->data, &h->cli.in);
        cm_dataset *ds = h->ds = cm_dataset_load(h->r, set, &err);
        if (!ds)
            cli_die_error(cli_in_name(o->data), &err);
        char data[24];
        snprintf(data, sizeof data, "%016llx", (unsigned long long)cm_dataset_fingerprint(ds));
        if (strcmp(data, cm_results_data(r)))
            cli_die("%s: not the data of the search (data %s, the results say %s)",
                    o->data, data, cm_results_data(r));
        print_best(o, keys, vals, np, cm_results_metric(r), cm_results_mean(r, (size_t)best),
                   cm_results_std(r, (size_t)best), cm_results_trial(r, (size_t)best));
        retrain(out, ds, set, argc, argv);
    } else {
        print_best(o, keys, vals, np, cm_results_metric(r), cm_results_mean(r, (size_t)best),
                   cm_results_std(r, (size_t)best), cm_results_trial(r, (size_t)best));
    }
    return CLI_OK;
}

/* With --resume, what FILE holds, checked against this search; the file
 * is then cut after its last whole line, to be appended to. */
static cm_results *resume(const opts *o, const cm_space *sp, const char *data,
                          const char *setup, cm_results **held_at)
{
    FILE *f = fopen(o->results, "r+");
    if (!f && errno == ENOENT)
        return NULL;
    if (!f)
        cli_die("%s: %s", o->results, strerror(errno));
    /* The header says which settings, folds and metric: it must be this
     * search's, even before any line follows it. */
    char *want = NULL, *have = NULL;
    size_t wn = 0, hn = 0;
    FILE *mem = open_memstream(&want, &wn);
    if (!mem)
        cli_die("out of memory");
    cm_results_header(mem, sp, (size_t)o->folds, metrics[o->metric]);
    fclose(mem);
    ssize_t got = getline(&have, &hn, f);
    /* Nothing, or a header cut short (its write failed, or the search was
     * killed in it): the search begins again in this file. */
    int cut = got <= 0 || (have[got - 1] != '\n' && strncmp(want, have, (size_t)got) == 0);
    int other = !cut && strcmp(have, want);
    free(want);
    free(have);
    if (other)
        cli_die("%s: the results of another search (its header differs: other settings, "
                "folds or metric)", o->results);
    if (cut) {
        if (ftruncate(fileno(f), 0))
            cli_die("%s: %s", o->results, strerror(errno));
        fclose(f);
        return NULL;
    }
    rewind(f);
    cm_error err;
    cm_error_clear(&err);
    const char *name = o->results;
    /* held at once: a refusal below exits, and the exit frees it */
    cm_results *r = *held_at = cm_results_read(&f, &name, 1, &err);
    if (!r)
        cli_die_error(NULL, &err);
    if (cm_results_params(r) != cm_space_params(sp))
        cli_die("%s: the results of another search (other settings searched)", name);
    for (size_t j = 0; j < cm_space_params(sp); j++)
        if (strcmp(cm_results_key(r, j), cm_space_key(sp, j)))
            cli_die("%s: the results of another search (it searched '%s')", name,
                    cm_results_key(r, j));
    if (cm_results_data(r) && strcmp(cm_results_data(r), data))
        cli_die("%s: results of other data (fingerprint %s, these data %s): give another "
                "--results file", name, cm_results_data(r), data);
    if (cm_results_data(r) && strcmp(cm_results_setup(r), setup))
        cli_die("%s: results of another search setup (folds, metric, fixed settings or "
                "the search itself changed): give another --results file", name);
    /* a line cut short by a crash is dropped before appending */
    if (fseeko(f, 0, SEEK_END) == 0) {
        off_t end = ftello(f), keep = end;
        while (keep > 0) {
            fseeko(f, keep - 1, SEEK_SET);
            if (getc(f) == '\n')
                break;
            keep--;
        }
        if (keep < end && ftruncate(fileno(f), keep))
            cli_die("%s: %s", name, strerror(errno));
    }
    fclose(f);
    return r;
}

int main(int argc, char **argv)
{
    opts o = {0};
    cli_init(argv, "cm-tune");
    held *h = cli_hold(sizeof *h, release);
    parse(argc, argv, &o, &h->cli.a);
    cm_kv *fixed = h->cli.a.stage;
    if (o.merge)
        return merge(&o, h, argc, argv);
    const char *seedtxt = cm_kv_get(fixed, "seed");
    uint64_t seed = seedtxt ? strtoull(seedtxt, NULL, 10) : 1;

    /* The search is checked before a row is read. */
    cm_error err;
    cm_error_clear(&err);
    cm_space *sp = h->sp = cm_space_new(o.ndraws ? NULL : o.grid, o.ndraws ? o.grid : NULL,
                                        (size_t)o.ndraws, seed, &err);
    if (!sp || cm_space_check(sp, fixed, &err))
        cli_die_error(NULL, &err);

    cli_output *out = open_model(&o);
    const char *name = cli_in_name(o.ninputs ? o.inputs[0] : NULL);
    size_t nbytes = 0;
    if (o.horizon)
        nbytes = hold_stream(h, o.ninputs ? o.inputs[0] : NULL, name);
    else
        h->r = cli_open_stream(o.ninputs ? o.inputs[0] : NULL, &h->cli.in);
    if (o.direct) /* every fit, and the model of -o, is a direct one */
        cli_set(fixed, "horizon", o.horizon);
    cm_dataset *ds = h->ds = cm_dataset_load(h->r, fixed, &err);
    if (!ds)
        cli_die_error(err.status == CM_ERR_ARG ? NULL : name, &err);
    const int64_t *times = cm_dataset_times(ds);
    int time = o.cv < 0 ? times != NULL : o.cv;
    cm_folds *folds = h->folds = cm_folds_new(cm_dataset_rows(ds), (size_t)o.folds, time, times, o.gap, seed,
                                   &err);
    if (!folds)
        cli_die_error(err.status == CM_ERR_ARG ? NULL : name, &err);

    char data[24], setup[24];
    snprintf(data, sizeof data, "%016llx", (unsigned long long)cm_dataset_fingerprint(ds));
    char *fixtext = h->fixtext = fixed_text(fixed);
    setup_id(&o, sp, fixtext, time, setup, sizeof setup);
    cm_results *old = o.resume ? resume(&o, sp, data, setup, &h->old) : NULL;

    /* This shard's trials, less those done. */
    size_t n = cm_space_trials(sp), *todo = h->todo = calloc(n + 1, sizeof *todo), ntodo = 0;
    if (!todo)
        cli_die("out of memory");
    for (size_t i = 0; i < n; i++)
        if ((!o.nshards || i % o.nshards == o.shard) && !cm_results_has(old, sp, i))
            todo[ntodo++] = i;

    run s = {&o, sp, NULL, data, setup, fixtext, 0, ntodo, -1, 0, 0,
             cli_progress_wanted(o.co.quiet)};
    if (o.results) {
        if (!o.resume && access(o.results, F_OK) == 0)
            cli_die("%s exists: --resume to go on with it, or give another file", o.results);
        int fresh = !old;
        if (!(s.out = fopen(o.results, "a")))
            cli_die("%s: %s", o.results, strerror(errno));
        if (fresh)
            cm_results_header(s.out, sp, (size_t)o.folds, metrics[o.metric]);
        results_flush(s.out, o.results);
    }
    /* Earlier lines count towards the best. */
    for (size_t l = 0; old && l < cm_results_count(old); l++) {
        double m = cm_results_mean(old, l);
        size_t t = cm_results_trial(old, l) - 1;
        if (!isnan(m) && (s.best < 0 || better(o.metric, m, s.best_mean) ||
                          (m == s.best_mean && (long)t < s.best))) {
            s.best = (long)t;
            s.best_mean = m;
            s.best_std = cm_results_std(old, l);
        }
    }
    cm_tune_job job = {ds, sp, fixed, folds, (cm_metric)o.metric, todo, ntodo, (int)o.jobs,
                       o.horizon, h->bytes, nbytes, name};
    if (cm_tune_run(&job, on_trial, &s, &err)) {
        cli_progress_done();
        cli_die_error(NULL, &err);
    }
    cli_progress_done();
    if (s.out) {
        results_flush(s.out, o.results);
        if (fclose(s.out))
            cli_die("%s: write failed: %s", o.results, strerror(errno));
    }
    /* a shard may have nothing (more shards than trials), or only failed
     * trials: its file is still good for --merge */
    int quiet_shard = s.best < 0 && o.nshards && !o.co.output;
    if (quiet_shard)
        cli_warn("no trial of shard %zu/%zu gave a score", o.shard + 1, o.nshards);
    if (s.best < 0 && !quiet_shard) {
        cli_output_abort(out);
        cli_die("no trial gave a score");
    }

    size_t np = cm_space_params(sp);
    const char **keys = h->keys = calloc(np + 1, sizeof *keys);
    const char **vals = h->vals = calloc(np + 1, sizeof *vals);
    if (!keys || !vals)
        cli_die("out of memory");
    for (size_t j = 0; j < np && !quiet_shard; j++) {
        keys[j] = cm_space_key(sp, j);
        vals[j] = cm_space_value(sp, (size_t)s.best, j);
    }
    if (!quiet_shard)
        print_best(&o, keys, vals, np, metrics[o.metric], s.best_mean, s.best_std,
                   (size_t)s.best + 1);
    if (o.co.output) {
        cm_kv *settings = h->set = cm_kv_new();
        if (!settings || cm_space_settings(sp, (size_t)s.best, fixed, settings, &err))
            cli_die("out of memory");
        retrain(out, ds, settings, argc, argv);
    }
    return CLI_OK; /* release frees the rest */
}
