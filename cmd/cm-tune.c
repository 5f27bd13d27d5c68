/* cm-tune - search cm-train's settings by cross-validation: a grid or
 * random draws, trials x folds on worker processes, a results file that
 * grows a line per trial (resumable, shardable, mergeable), the best
 * settings printed and, with -o, a model retrained with them. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "Usage: cm-tune [OPTION]... --grid SPEC [FILE]\n"
    "  or:  cm-tune --merge [OPTION]... RESULTS.tsv...\n"
    "Search cm-train's settings by cross-validation on the cm stream FILE\n"
    "(or standard input) and print the best, one NAME=VALUE a line.\n"
    "\n"
    "Search:\n"
    "      --grid=SPEC        every combination: 'lr=0.001,0.01 layers=32|64,64'\n"
    "                         (--space is the same option)\n"
    "      --random=N         N draws instead, from SPEC's ranges LOW:HIGH,\n"
    "                         LOW:HIGH:log and choices (with --seed)\n"
    "  -k, --folds=N          folds (default 5)\n"
    "      --cv=KIND          time (forward chaining; the default with a time\n"
    "                         column) or kfold (shuffled with --seed)\n"
    "      --gap=DURATION     with time folds: leave this much time between\n"
    "                         the training rows and the block they forecast\n"
    "      --metric=M         rmse (default), mae, mape or r2\n"
    "  -j, --jobs=N           worker processes (default: the number of CPUs)\n"
    "      --results=FILE     append one line per finished trial (TSV)\n"
    "      --resume           skip the trials FILE has already\n"
    "      --shard=I/N        run only the I-th of N slices of the trials\n"
    "      --merge            read RESULTS files (shards) instead of searching\n"
    "      --data=FILE        with --merge -o: the stream to retrain on\n"
    "Every cm-train option below is a fixed setting of every trial; --valid\n"
    "defaults to 0 here (the folds validate).\n"
    CLI_TRAIN_HELP
    "Output:\n"
    "  -o, --output=FILE      retrain on every row with the best settings and\n"
    "                         write that model, replaced only when complete\n"
    "  -F, --force            write the model even to a terminal\n"
    "  -v, --verbose          print the best trial's scores on standard error\n"
    "  -q, --quiet            no progress\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show the version and exit\n"
    "\n"
    "Exit status: 0 success, 1 bad data or results, 2 usage error.\n"
    "See cm-tune(1).\n";

enum { OPT_GRID = 256, OPT_RANDOM, OPT_CV, OPT_GAP, OPT_METRIC, OPT_RESULTS, OPT_RESUME,
       OPT_SHARD, OPT_MERGE, OPT_DATA };

static const char *const metrics[] = {"mae", "rmse", "mape", "r2"};

typedef struct opts {
    cm_kv *fixed;
    const char *grid, *results, *data;
    char **inputs;
    int ninputs;
    size_t ndraws, folds, shard, nshards;
    int cv; /* -1 by the data, 0 kfold, 1 time */
    int64_t gap;
    int metric, jobs, resume, merge;
    cli_common co;
} opts;

static void parse(int argc, char **argv, opts *o)
{
    static const struct option own[] = {
        {"grid", required_argument, NULL, OPT_GRID},
        {"space", required_argument, NULL, OPT_GRID},
        {"random", required_argument, NULL, OPT_RANDOM},
        {"folds", required_argument, NULL, 'k'},
        {"cv", required_argument, NULL, OPT_CV},
        {"gap", required_argument, NULL, OPT_GAP},
        {"metric", required_argument, NULL, OPT_METRIC},
        {"jobs", required_argument, NULL, 'j'},
        {"results", required_argument, NULL, OPT_RESULTS},
        {"resume", no_argument, NULL, OPT_RESUME},
        {"shard", required_argument, NULL, OPT_SHARD},
        {"merge", no_argument, NULL, OPT_MERGE},
        {"data", required_argument, NULL, OPT_DATA}};
    struct option *longopts = cli_longopts(own, sizeof own / sizeof *own);
    o->folds = 5;
    o->cv = -1;
    o->metric = 1;
    o->jobs = (int)cli_cpus();
    int c;
    while ((c = getopt_long(argc, argv, "m:y:k:j:o:FvqhV", longopts, NULL)) != -1) {
        if (cli_train_option(c, optarg, o->fixed))
            continue;
        if (cli_common_option(c, optarg, &o->co))
            continue;
        switch (c) {
        case OPT_GRID: o->grid = optarg; break;
        case OPT_RANDOM:
            o->ndraws = (size_t)cli_parse_count("--random", optarg);
            if (o->ndraws < 1 || o->ndraws > 1000000)
                cli_usage_error("--random: from 1 to 1000000 trials");
            break;
        case 'k': o->folds = (size_t)cli_parse_count("--folds", optarg); break;
        case OPT_CV:
            if (strcmp(optarg, "time") && strcmp(optarg, "kfold"))
                cli_usage_error("--cv: '%s' is not time or kfold", optarg);
            o->cv = optarg[0] == 't';
            break;
        case OPT_GAP:
            if (cm_parse_duration(optarg, &o->gap) || o->gap < 0)
                cli_usage_error("--gap: '%s' is not a duration like 1h or 7d", optarg);
            break;
        case OPT_METRIC:
            o->metric = -1;
            for (int i = 0; i < 4; i++)
                if (!strcmp(optarg, metrics[i]))
                    o->metric = i;
            if (o->metric < 0)
                cli_usage_error("--metric: '%s' is not rmse, mae, mape or r2", optarg);
            break;
        case 'j': {
            unsigned long long j = cli_parse_count("--jobs", optarg);
            if (j < 1 || j > 256)
                cli_usage_error("--jobs: from 1 to 256");
            o->jobs = (int)j;
            break;
        }
        case OPT_RESULTS: o->results = optarg; break;
        case OPT_RESUME: o->resume = 1; break;
        case OPT_SHARD: {
            char *end;
            unsigned long i = strtoul(optarg, &end, 10), n = 0;
            if (*end == '/')
                n = strtoul(end + 1, &end, 10);
            if (*end || i < 1 || n < 1 || i > n || !strchr(optarg, '/'))
                cli_usage_error("--shard: '%s' is not I/N with 1 <= I <= N", optarg);
            o->shard = i - 1;
            o->nshards = n;
            break;
        }
        case OPT_MERGE: o->merge = 1; break;
        case OPT_DATA: o->data = optarg; break;
        default: cli_other_option(c, usage);
        }
    }
    free(longopts);
    o->inputs = argv + optind;
    o->ninputs = argc - optind;
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
    if (o->folds < 2 || o->folds > 100)
        cli_usage_error("--folds: from 2 to 100");
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
    snprintf(buf, sizeof buf, "%zu %d %lld %s", o->folds, time, (long long)o->gap,
             metrics[o->metric]);
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
    return metric == 3 ? a > b : a < b;
}

static cm_status on_trial(void *ctx, const cm_trial_result *r, cm_error *err)
{
    run *s = ctx;
    (void)err;
    if (s->out) {
        cm_results_line(s->out, s->space, r, s->data, s->setup, s->fixed);
        /* a line at a time: tail -f follows, a crash loses only what runs */
        if (fflush(s->out) || ferror(s->out))
            cli_die("%s: write error: %s", s->o->results, strerror(errno));
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
    if (cm_model_save(m, cli_output_file(out), &err))
        cli_output_fail(out, &err);
    cli_output_close(out);
    cm_model_free(m);
}

static void print_best(const opts *o, const char *const *keys, const char *const *values,
                       size_t n, const char *metric, double mean, double std, size_t trial)
{
    for (size_t j = 0; j < n; j++)
        printf("%s=%s\n", keys[j], values[j]);
    if (fflush(stdout) || ferror(stdout))
        cli_die("write error");
    if (o->co.verbose && !isnan(std))
        fprintf(stderr, "%s: best trial %zu: %s %.6g (sd %.3g over folds)\n", cli_name(),
                trial, metric, mean, std);
    else if (o->co.verbose)
        fprintf(stderr, "%s: best trial %zu: %s %.6g\n", cli_name(), trial, metric, mean);
}

/* --merge: shard files into one ranking. */
static int merge(const opts *o, int argc, char **argv)
{
    FILE **f = calloc((size_t)o->ninputs, sizeof *f);
    if (!f)
        cli_die("out of memory");
    for (int i = 0; i < o->ninputs; i++)
        if (!(f[i] = fopen(o->inputs[i], "r")))
            cli_die("%s: %s", o->inputs[i], strerror(errno));
    cm_error err;
    cm_error_clear(&err);
    cm_results *r = cm_results_read(f, (const char *const *)o->inputs, (size_t)o->ninputs, &err);
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
    const char **keys = calloc(np + 1, sizeof *keys), **vals = calloc(np + 1, sizeof *vals);
    if (!keys || !vals)
        cli_die("out of memory");
    for (size_t j = 0; j < np; j++) {
        keys[j] = cm_results_key(r, j);
        vals[j] = cm_results_value(r, (size_t)best, j);
    }
    if (o->co.output) {
        cli_output *out = open_model(o);
        cm_kv *set = cm_kv_new();
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
        FILE *in;
        cm_reader *rd = cli_open_stream(o->data, &in);
        cm_dataset *ds = cm_dataset_load(rd, set, &err);
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
        cm_dataset_free(ds);
        cm_reader_free(rd);
        if (in != stdin)
            fclose(in);
        cm_kv_free(set);
    } else {
        print_best(o, keys, vals, np, cm_results_metric(r), cm_results_mean(r, (size_t)best),
                   cm_results_std(r, (size_t)best), cm_results_trial(r, (size_t)best));
    }
    free(keys);
    free(vals);
    cm_results_free(r);
    return CLI_OK;
}

/* With --resume, what FILE holds, checked against this search; the file
 * is then cut after its last whole line, to be appended to. */
static cm_results *resume(const opts *o, const cm_space *sp, const char *data,
                          const char *setup)
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
    cm_results_header(mem, sp, o->folds, metrics[o->metric]);
    fclose(mem);
    ssize_t got = getline(&have, &hn, f);
    if (got > 0 && strcmp(have, want))
        cli_die("%s: the results of another search (its header differs: other settings, "
                "folds or metric)", o->results);
    free(want);
    free(have);
    rewind(f);
    cm_error err;
    cm_error_clear(&err);
    const char *name = o->results;
    cm_results *r = cm_results_read(&f, &name, 1, &err);
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
    if (!(o.fixed = cm_kv_new()))
        cli_die("out of memory");
    parse(argc, argv, &o);
    if (o.merge) {
        int rc = merge(&o, argc, argv);
        cm_kv_free(o.fixed);
        return rc;
    }
    if (!cm_kv_get(o.fixed, "valid"))
        cli_set(o.fixed, "valid", "0");
    const char *seedtxt = cm_kv_get(o.fixed, "seed");
    uint64_t seed = seedtxt ? strtoull(seedtxt, NULL, 10) : 1;

    /* The search is checked before a row is read. */
    cm_error err;
    cm_error_clear(&err);
    cm_space *sp = cm_space_new(o.ndraws ? NULL : o.grid, o.ndraws ? o.grid : NULL,
                                o.ndraws, seed, &err);
    if (!sp || cm_space_check(sp, o.fixed, &err))
        cli_die_error(NULL, &err);

    cli_output *out = open_model(&o);
    const char *name = cli_in_name(o.ninputs ? o.inputs[0] : NULL);
    FILE *in;
    cm_reader *r = cli_open_stream(o.ninputs ? o.inputs[0] : NULL, &in);
    cm_dataset *ds = cm_dataset_load(r, o.fixed, &err);
    if (!ds)
        cli_die_error(err.status == CM_ERR_ARG ? NULL : name, &err);
    const int64_t *times = cm_dataset_times(ds);
    int time = o.cv < 0 ? times != NULL : o.cv;
    cm_folds *folds = cm_folds_new(cm_dataset_rows(ds), o.folds, time, times, o.gap, seed,
                                   &err);
    if (!folds)
        cli_die_error(err.status == CM_ERR_ARG ? NULL : name, &err);

    char data[24], setup[24];
    snprintf(data, sizeof data, "%016llx", (unsigned long long)cm_dataset_fingerprint(ds));
    char *fixed = fixed_text(o.fixed);
    setup_id(&o, sp, fixed, time, setup, sizeof setup);
    cm_results *old = o.resume ? resume(&o, sp, data, setup) : NULL;

    /* This shard's trials, less those done. */
    size_t n = cm_space_trials(sp), *todo = calloc(n + 1, sizeof *todo), ntodo = 0;
    if (!todo)
        cli_die("out of memory");
    for (size_t i = 0; i < n; i++)
        if ((!o.nshards || i % o.nshards == o.shard) && !cm_results_has(old, sp, i))
            todo[ntodo++] = i;

    run s = {&o, sp, NULL, data, setup, fixed, 0, ntodo, -1, 0, 0,
             cli_progress_wanted(o.co.quiet)};
    if (o.results) {
        if (!o.resume && access(o.results, F_OK) == 0)
            cli_die("%s exists: --resume to go on with it, or give another file", o.results);
        int fresh = !old;
        if (!(s.out = fopen(o.results, "a")))
            cli_die("%s: %s", o.results, strerror(errno));
        if (fresh)
            cm_results_header(s.out, sp, o.folds, metrics[o.metric]);
        fflush(s.out);
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
    cm_tune_job job = {ds, sp, o.fixed, folds, o.metric, todo, ntodo, o.jobs};
    if (cm_tune_run(&job, on_trial, &s, &err)) {
        cli_progress_done();
        cli_die_error(NULL, &err);
    }
    cli_progress_done();
    if (s.out && fclose(s.out))
        cli_die("%s: write error: %s", o.results, strerror(errno));
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
    const char **keys = calloc(np + 1, sizeof *keys), **vals = calloc(np + 1, sizeof *vals);
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
        cm_kv *settings = cm_kv_new();
        if (!settings || cm_space_settings(sp, (size_t)s.best, o.fixed, settings, &err))
            cli_die("out of memory");
        retrain(out, ds, settings, argc, argv);
        cm_kv_free(settings);
    }
    free(keys);
    free(vals);
    free(todo);
    free(fixed);
    cm_results_free(old);
    cm_folds_free(folds);
    cm_dataset_free(ds);
    cm_space_free(sp);
    cm_reader_free(r);
    if (in != stdin)
        fclose(in);
    cm_kv_free(o.fixed);
    return CLI_OK;
}
