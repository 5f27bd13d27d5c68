/* cm-train - fit a forecasting model to a cm stream and write the model
 * file: the options become the trainer's settings (lib/train.c). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "Usage: cm-train [OPTION]... [FILE] -o MODEL.cmm\n"
    "Train a model on the cm stream FILE (or standard input) and write it.\n"
    "\n";
static const char tail[] =
    "\n"
    "Exit status: 0 success, 1 bad data or training failed, 2 usage error.\n"
    "See cm-train(1) and cm-model(5).\n";

typedef struct opts {
    const char *history;
    cli_common co;
} opts;

static const cm_setting own[] = {
    {.name = "history", .type = CM_SET_TEXT, .arg = "FILE", .help = "one CSV row per epoch",
     .section = "Output", .offset = CM_SET_AT(opts, history, const char *)},
    CLI_OPT_OUTPUT(opts, "the model file (required), replaced only when complete"),
    CLI_OPT_FORCE(opts, "write the model even to a terminal"),
    CLI_OPT_VERBOSE(opts, "print the validation summary on standard error"),
    CLI_OPT_QUIET(opts, "no progress or summary"),
};
static const cm_settings own_settings = CLI_TABLE(own);

typedef struct run {
    int progress;
    cm_epoch *hist;
    size_t nhist;
} run;

static void on_epoch(void *ctx, const cm_epoch *e)
{
    run *r = ctx;
    cm_epoch *h = realloc(r->hist, (r->nhist + 1) * sizeof *h);
    if (h) {
        r->hist = h;
        r->hist[r->nhist++] = *e;
    }
    if (!r->progress)
        return;
    char valid[48] = "";
    if (!isnan(e->valid_loss))
        snprintf(valid, sizeof valid, "  valid %.6g%s", e->valid_loss, e->best ? " *" : "");
    fprintf(stderr, "%s: epoch %d/%d  train %.6g%s  %.0f samples/s  ETA %.0fs\n",
            cli_name(), e->epoch, e->epochs, e->train_loss, valid, e->samples_per_s,
            e->eta_s);
}

static void write_history(cli_output *o, const run *r)
{
    FILE *f = cli_output_file(o);
    fputs("epoch,train_loss,valid_loss,samples_per_s\n", f);
    for (size_t i = 0; i < r->nhist; i++) {
        char a[40], b[40] = "", c[40];
        cm_fmt_f64(a, sizeof a, r->hist[i].train_loss);
        if (!isnan(r->hist[i].valid_loss))
            cm_fmt_f64(b, sizeof b, r->hist[i].valid_loss);
        cm_fmt_f64(c, sizeof c, r->hist[i].samples_per_s);
        fprintf(f, "%d,%s,%s,%s\n", r->hist[i].epoch, a, b, c);
    }
    cli_output_close(o);
}

static void summary(const cm_model *m)
{
    const cm_kv *k = cm_model_meta(m);
    const char *vr = cm_kv_get(k, "valid_rows");
    const char *p = vr && strcmp(vr, "0") ? "valid" : "train";
    char key[32];
#define META(name) (snprintf(key, sizeof key, "%s_%s", p, name), cm_kv_get(k, key))
    /* Four digits for people; the model keeps every digit. */
    double v[4];
    const char *names[4] = {"mae", "rmse", "mape", "r2"};
    for (int i = 0; i < 4; i++)
        v[i] = META(names[i]) ? strtod(META(names[i]), NULL) : NAN;
    fprintf(stderr, "%s: %s on %s rows: MAE %.4g  RMSE %.4g  MAPE %.4g%%  R2 %.4g\n",
            cli_name(), p[0] == 'v' ? "validation" : "training", META("rows"),
            v[0], v[1], v[2], v[3]);
#undef META
}

/* What a run holds, freed at exit on every path (cli_hold). */
typedef struct held {
    cli_held cli; /* first: see cli_hold */
    cm_reader *r;
    cm_model *m;
    run rs;
} held;

static void release(void *ctx)
{
    held *h = ctx;
    free(h->rs.hist);
    cm_model_free(h->m);
    cm_reader_free(h->r);
}

int main(int argc, char **argv)
{
    opts o = {0};
    cli_init(argv, "cm-train");
    held *h = cli_hold(sizeof *h, release);
    cli_args_parse(&h->cli.a, argc, argv, usage, tail, &cm_train_settings, 0, NULL, &own_settings,
                   &o);
    cm_kv *settings = h->cli.a.stage;
    const char *input = cli_one_input(argc, argv, h->cli.a.first);
    if (!o.co.output)
        cli_usage_error("no model file: give one with -o MODEL.cmm");
    if (!cm_kv_get(settings, "threads")) {
        char n[24];
        snprintf(n, sizeof n, "%u", cli_cpus());
        cli_set(settings, "threads", n);
    }
    cli_provenance(settings, argc, argv);

    const char *name = cli_in_name(input);
    cm_reader *r = h->r = cli_open_stream(input, &h->cli.in);
    cm_error err;
    cm_error_clear(&err);
    /* Opened first, so a bad path fails before the training, not after. */
    cli_output *out = cli_output_open(o.co.output, 1, o.co.force);
    cli_output *hist = o.history ? cli_output_open(o.history, 0, 0) : NULL;
    run *rs = &h->rs;
    rs->progress = cli_progress_wanted(o.co.quiet);
    /* Epochs are heard only when someone listens: gbdt then skips the
     * losses of each round */
    int listen = hist || rs->progress || (o.co.verbose && !o.co.quiet);
    cm_model *m = h->m = cm_train(r, settings, listen ? on_epoch : NULL, rs, &err);
    if (!m) {
        cli_output_abort(hist);
        cli_output_abort(out);
        cli_die_error(err.status == CM_ERR_ARG ? NULL : name, &err);
    }
    if (cm_model_save(m, cli_output_file(out), &err))
        cli_output_fail(out, &err);
    /* The history first: a failure there must not follow a new model. */
    if (hist)
        write_history(hist, rs);
    cli_output_close(out);
    /* a model of a minority of the rows is a doubtful one */
    const char *kept = cm_kv_get(cm_model_meta(m), "rows"),
               *skipped = cm_kv_get(cm_model_meta(m), "skipped_rows");
    double nk = kept ? strtod(kept, NULL) : 0, ns = skipped ? strtod(skipped, NULL) : 0;
    if (!o.co.quiet && ns > nk)
        cli_warn("%s: %.0f of %.0f rows skipped for a missing value (--skip-missing): the "
                 "model learned from %.0f", name, ns, ns + nk, nk);
    if (!o.co.quiet && (o.co.verbose || rs->progress)) {
        if (rs->nhist) {
            const cm_epoch *e = &rs->hist[rs->nhist - 1];
            double rows = e->samples_per_s > 0 ? e->samples_per_s : 1;
            const char *tr = cm_kv_get(cm_model_meta(m), "train_rows");
            double secs = tr ? strtod(tr, NULL) * e->epoch / rows : 0;
            fprintf(stderr, "%s: trained in %.2f s (%.0f samples/s)\n", cli_name(), secs,
                    e->samples_per_s);
        }
        summary(m);
    }
    return CLI_OK; /* release frees the rest */
}
