/* trainset.c - cm-train's settings, declared once: every knob with its
 * default, range and help, checked before any row is read.  The order of
 * the recorded ones is the order of the model's metadata. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "train/trainer.h"

/* The settings as declared (cm_settings_read fills these). */
typedef struct train_raw {
    int model, activation, loss, optimizer, schedule, skip_missing, stream;
    const char *target, *features, *layers, *seed, *valid_from, *horizon;
    const char *window, *sequence, *dilations;
    int64_t hidden, rnn_layers, filters, kernel;
    double l2, dropout, huber, lr, momentum, beta1, beta2, eps, decay, gamma, valid;
    double eta, subsample, colsample, min_child_weight;
    int64_t step_size, batch, epochs, patience, threads, trees, depth, max_bin;
    uint64_t buffer;
} train_raw;

/* "64,64": widths of 1 to 65536, at most 64 of them. */
static int layers_bad(const char *v)
{
    size_t n = 0;
    for (const char *p = v;; n++) {
        char *end;
        unsigned long w = strtoul(p, &end, 10);
        if (*p < '0' || *p > '9' || w == 0 || w > 65536 || (*end && *end != ',') || n >= 64)
            return -1;
        if (!*end)
            return 0;
        p = end + 1;
    }
}

/* "1,2,4,8": dilations of 1 to 65536, at most CM_SEQ_MAX_LAYERS (16, as
 * --dilations' .want says) of them. */
static int dilations_bad(const char *v)
{
    size_t n = 0;
    for (const char *p = v;; n++) {
        char *end;
        unsigned long d = strtoul(p, &end, 10);
        if (*p < '0' || *p > '9' || d == 0 || d > 65536 || (*end && *end != ',') ||
            n >= CM_SEQ_MAX_LAYERS)
            return -1;
        if (!*end)
            return 0;
        p = end + 1;
    }
}

/* A whole number that fits in 64 bits. */
static int seed_bad(const char *v)
{
    char *end;
    errno = 0;
    strtoull(v, &end, 10);
    return !*v || *end || v[0] < '0' || v[0] > '9' || errno == ERANGE;
}

#define AT(f, U) CM_SET_AT(train_raw, f, U)
#define REC CM_SET_RECORD
#define FIX CM_SET_FIXED
static const cm_setting decls[] = {
    {.name = "model", .short_opt = 'm', .type = CM_SET_CHOICE, .arg = "KIND",
     .choices = "linear|mlp|gbdt|gru|lstm|cnn", .dflt = "mlp",
     .help = "mlp, linear (ridge, solved exactly), gbdt\n(boosted trees, grown by XGBoost), or a "
             "sequence\nmodel over a window of the past: gru, lstm or\ncnn (causal dilated "
             "convolutions)",
     .section = "Model",
     .offset = AT(model, int)},
    {.name = "target", .short_opt = 'y', .type = CM_SET_TEXT, .flags = FIX, .arg = "COL",
     .help = "the column to forecast (default: the stream's target)",
     .offset = AT(target, const char *)},
    {.name = "l2", .type = CM_SET_NUM, .flags = REC, .arg = "X", .lo = 0, .hi = 1e12,
     .dflt = "1", .help = "ridge penalty for linear; for gbdt, on leaf\nweights (XGBoost's lambda)",
     .offset = AT(l2, double)},
    {.name = "layers", .type = CM_SET_TEXT, .arg = "LIST", .dflt = "64,64",
     .help = "hidden widths (a sequence model's head: one, 64\nunless given)",
     .check = layers_bad,
     .want = "a list of widths such as 64,64", .offset = AT(layers, const char *)},
    {.name = "activation", .type = CM_SET_CHOICE, .flags = REC, .arg = "F",
     .choices = "relu|tanh|sigmoid|gelu", .dflt = "relu", .help = "relu, tanh, sigmoid or gelu",
     .offset = AT(activation, int)},
    {.name = "dropout", .type = CM_SET_NUM, .flags = REC, .arg = "P", .lo = 0, .hi = 0.95,
     .dflt = "0", .help = "drop hidden outputs with probability P",
     .offset = AT(dropout, double)},
    {.name = "trees", .type = CM_SET_COUNT, .flags = REC, .arg = "N", .lo = 1, .hi = 100000,
     .dflt = "100", .help = "gbdt: boosting rounds, a tree each",
     .offset = AT(trees, int64_t)},
    {.name = "depth", .type = CM_SET_COUNT, .flags = REC, .arg = "D", .lo = 1, .hi = 20,
     .dflt = "6", .help = "gbdt: the deepest a tree grows", .offset = AT(depth, int64_t)},
    {.name = "eta", .type = CM_SET_NUM, .flags = REC, .arg = "X", .lo = 1e-6, .hi = 1,
     .dflt = "0.3", .help = "gbdt: learning rate, each tree's shrinkage",
     .offset = AT(eta, double)},
    {.name = "subsample", .type = CM_SET_NUM, .flags = REC, .arg = "P", .lo = 1e-6, .hi = 1,
     .dflt = "1", .help = "gbdt: the share of rows each tree sees (seeded)",
     .offset = AT(subsample, double)},
    {.name = "colsample", .type = CM_SET_NUM, .flags = REC, .arg = "P", .lo = 1e-6, .hi = 1,
     .dflt = "1", .help = "gbdt: the share of inputs each tree may split on",
     .offset = AT(colsample, double)},
    {.name = "min-child-weight", .type = CM_SET_NUM, .flags = REC, .arg = "X", .lo = 0,
     .hi = 1e12, .dflt = "1", .help = "gbdt: the least hessian (rows, for mse) in a leaf",
     .offset = AT(min_child_weight, double)},
    {.name = "max-bin", .type = CM_SET_COUNT, .flags = REC, .arg = "N", .lo = 2, .hi = 65536,
     .dflt = "256", .help = "gbdt: bins per input for the split search",
     .offset = AT(max_bin, int64_t)},
    {.name = "window", .type = CM_SET_TEXT, .flags = FIX, .arg = "W", .dflt = "24",
     .help = "gru, lstm, cnn: the W steps before each row (or a\nspan, 24h) that the network "
             "reads", .check = cm_step_count_bad,
     .want = "a number of steps or a span such as 24h", .offset = AT(window, const char *)},
    {.name = "sequence", .type = CM_SET_TEXT, .flags = FIX, .arg = "LIST",
     .help = "the columns of each step (default: the target and\nthe numeric inputs that "
             "cm-features did not\nderive, flags of two values left out)",
     .offset = AT(sequence, const char *)},
    {.name = "hidden", .type = CM_SET_COUNT, .arg = "N", .lo = 1, .hi = 4096, .dflt = "64",
     .help = "gru, lstm: hidden units", .offset = AT(hidden, int64_t)},
    {.name = "rnn-layers", .type = CM_SET_COUNT, .arg = "N", .lo = 1, .hi = CM_SEQ_MAX_LAYERS,
     .dflt = "1", .help = "gru, lstm: stacked layers", .offset = AT(rnn_layers, int64_t)},
    {.name = "filters", .type = CM_SET_COUNT, .arg = "N", .lo = 1, .hi = 4096, .dflt = "32",
     .help = "cnn: channels of each convolution", .offset = AT(filters, int64_t)},
    {.name = "kernel", .type = CM_SET_COUNT, .arg = "K", .lo = 1, .hi = 64, .dflt = "3",
     .help = "cnn: steps each convolution spans", .offset = AT(kernel, int64_t)},
    {.name = "dilations", .type = CM_SET_TEXT, .arg = "LIST", .dflt = "1,2,4,8",
     .help = "cnn: a convolution per entry, its dilation", .check = dilations_bad,
     .want = "1 to 16 whole numbers from 1 to 65536, such as 1,2,4,8",
     .offset = AT(dilations, const char *)},
    {.name = "loss", .type = CM_SET_CHOICE, .flags = REC, .arg = "L",
     .choices = "mse|mae|huber", .dflt = "mse", .help = "mse, mae or huber",
     .section = "Training", .offset = AT(loss, int)},
    {.name = "huber-delta", .type = CM_SET_NUM, .flags = REC, .arg = "X", .lo = 1e-9, .hi = 1e9,
     .dflt = "1", .help = "where huber turns from quadratic to linear",
     .offset = AT(huber, double)},
    {.name = "optimizer", .type = CM_SET_CHOICE, .flags = REC, .arg = "O",
     .choices = "sgd|momentum|adam", .dflt = "adam", .help = "adam, momentum or sgd",
     .offset = AT(optimizer, int)},
    {.name = "lr", .type = CM_SET_NUM, .flags = REC, .arg = "X", .lo = 1e-12, .hi = 1e3,
     .dflt = "0.001", .help = "learning rate", .offset = AT(lr, double)},
    {.name = "momentum", .type = CM_SET_NUM, .flags = REC, .arg = "X", .lo = 0, .hi = 1,
     .dflt = "0.9", .help = "momentum of the momentum optimizer",
     .offset = AT(momentum, double)},
    {.name = "beta1", .type = CM_SET_NUM, .flags = REC, .arg = "X", .lo = 0, .hi = 0.999999,
     .dflt = "0.9", .help = "Adam's first moment decay", .offset = AT(beta1, double)},
    {.name = "beta2", .type = CM_SET_NUM, .flags = REC, .arg = "X", .lo = 0, .hi = 0.9999999,
     .dflt = "0.999", .help = "Adam's second moment decay", .offset = AT(beta2, double)},
    {.name = "eps", .type = CM_SET_NUM, .flags = REC, .arg = "X", .lo = 1e-30, .hi = 1,
     .dflt = "1e-8", .help = "Adam's epsilon", .offset = AT(eps, double)},
    {.name = "weight-decay", .type = CM_SET_NUM, .flags = REC, .arg = "X", .lo = 0, .hi = 1e3,
     .dflt = "0", .help = "L2 penalty added to the gradients", .offset = AT(decay, double)},
    {.name = "schedule", .type = CM_SET_CHOICE, .flags = REC, .arg = "S",
     .choices = "constant|step|cosine", .dflt = "constant",
     .help = "learning rate over the epochs: constant, step or cosine",
     .offset = AT(schedule, int)},
    {.name = "step-size", .type = CM_SET_COUNT, .flags = REC, .arg = "N", .lo = 1, .hi = 1e6,
     .dflt = "10", .help = "epochs between steps of the step schedule",
     .offset = AT(step_size, int64_t)},
    {.name = "gamma", .type = CM_SET_NUM, .flags = REC, .arg = "X", .lo = 0, .hi = 1,
     .dflt = "0.1", .help = "the step schedule's factor", .offset = AT(gamma, double)},
    {.name = "batch", .type = CM_SET_COUNT, .flags = REC, .arg = "N", .lo = 1, .hi = 1 << 20,
     .dflt = "32", .help = "rows per step", .offset = AT(batch, int64_t)},
    {.name = "epochs", .type = CM_SET_COUNT, .flags = REC, .arg = "N", .lo = 1, .hi = 1e6,
     .dflt = "10", .help = "passes over the data", .offset = AT(epochs, int64_t)},
    {.name = "seed", .type = CM_SET_TEXT, .flags = REC, .arg = "N", .dflt = "1",
     .help = "random seed: same seed, same model", .check = seed_bad,
     .want = "a whole number below 2^64", .offset = AT(seed, const char *)},
    {.name = "valid", .type = CM_SET_NUM, .flags = REC, .arg = "FRAC", .lo = 0, .hi = 0.9,
     .dflt = "0.2", .help = "hold out the last FRAC of the rows, in time\norder (0 for none)",
     .offset = AT(valid, double)},
    {.name = "valid-from", .type = CM_SET_TEXT, .flags = REC | FIX | CM_TRAIN_SET_WHOLE,
     .arg = "TIME", .help = "hold out the rows at or after TIME instead (ISO\n8601; "
     "naive in the zone of the time column)", .check = cm_time_instant_bad,
     .want = "an ISO 8601 time or date such as 2011-12-01",
     .offset = AT(valid_from, const char *)},
    {.name = "patience", .type = CM_SET_COUNT, .flags = REC, .arg = "N", .lo = 0, .hi = 1e6,
     .dflt = "0", .help = "stop after N epochs without a better validation\nloss, keeping "
     "the best epoch's weights", .offset = AT(patience, int64_t)},
    {.name = "horizon", .short_opt = 'H', .type = CM_SET_TEXT,
     .flags = FIX | CM_TRAIN_SET_TUNE_OWN, .arg = "N",
     .help = "a direct model: one that forecasts the next N steps\n(or a span, 24h) at once, "
     "from the features at\nthe first", .check = cm_step_count_bad,
     .want = "a number of steps or a span such as 24h", .offset = AT(horizon, const char *)},
    {.name = "features", .type = CM_SET_TEXT, .flags = REC | FIX, .arg = "LIST",
     .help = "the input columns (default: every feature column)", .section = "Data",
     .offset = AT(features, const char *)},
    {.name = "skip-missing", .type = CM_SET_FLAG, .flags = REC | FIX,
     .help = "leave out rows with missing values (default: error);\ngbdt takes missing inputs as missing, and needs\nit only for a missing target",
     .offset = AT(skip_missing, int)},
    {.name = "stream", .type = CM_SET_FLAG, .flags = REC | FIX | CM_SET_MACHINE,
     .help = "read FILE again for every pass instead of holding\nits rows in memory "
     "(FILE must be a file, not a pipe)", .offset = AT(stream, int)},
    {.name = "buffer-size", .short_opt = 'S', .type = CM_SET_SIZE,
     .flags = REC | FIX | CM_SET_MACHINE, .arg = "SIZE", .dflt = "256M",
     .help = "memory for rows with --stream", .offset = AT(buffer, uint64_t)},
    {.name = "threads", .short_opt = 'j', .type = CM_SET_COUNT, .flags = FIX | CM_SET_MACHINE,
     .arg = "N", .lo = 1, .hi = 256,
     .help = "threads for large matrix products (default: the number\nof CPUs); the model "
     "is the same for any N", .offset = AT(threads, int64_t)},
    {.name = "argv", .type = CM_SET_TEXT, .flags = REC | FIX | CM_SET_HIDDEN,
     .help = "the command line, for the metadata", .offset = CM_SET_NOWHERE},
    {.name = "created", .type = CM_SET_TEXT, .flags = FIX | CM_SET_HIDDEN,
     .help = "when, as seconds since 1970, for the metadata", .offset = CM_SET_NOWHERE},
};
#undef AT
#undef REC
#undef FIX

const cm_settings cm_train_settings = {decls, sizeof decls / sizeof *decls};

void cm_train_cfg_free(cm_train_cfg *c)
{
    free(c->layers);
    c->layers = NULL;
}

cm_status cm_train_cfg_read(const cm_kv *s, cm_train_cfg *c, cm_error *err)
{
    train_raw r = {.threads = 1}; /* a program says how many it has */
    cm_status st = cm_settings_read(&cm_train_settings, s, &r, err);
    if (st)
        return st;
    static const cm_kind *const kinds[] = {&cm_kind_linear, &cm_kind_mlp, &cm_kind_gbdt,
                                           &cm_kind_gru, &cm_kind_lstm, &cm_kind_cnn};
    static const cm_act acts[] = {CM_ACT_RELU, CM_ACT_TANH, CM_ACT_SIGMOID, CM_ACT_GELU};
    *c = (cm_train_cfg){0};
    c->kind = kinds[r.model];
    c->act = acts[r.activation];
    c->loss = (cm_loss_kind)r.loss;
    c->opt = (cm_optim){(cm_opt_kind)r.optimizer, (float)r.momentum, (float)r.beta1,
                        (float)r.beta2, (float)r.eps, (float)r.decay};
    c->sched = (cm_sched_kind)r.schedule;
    c->lr = (float)r.lr;
    c->batch = (int)r.batch;
    c->epochs = (int)r.epochs;
    c->seed = strtoull(r.seed, NULL, 10);
    c->valid = r.valid;
    c->valid_from = r.valid_from;
    c->horizon = r.horizon;
    if (c->kind->raw && c->horizon)
        return cm_fail(err, CM_ERR_ARG, "horizon: a direct model is linear, mlp or a "
                       "sequence model; gbdt forecasts several steps recursively "
                       "(cm-predict --horizon)");
    if (c->kind->raw && r.stream)
        return cm_fail(err, CM_ERR_ARG, "stream: gbdt trains on rows held in memory");
    c->trees = (int)r.trees;
    c->depth = (int)r.depth;
    c->max_bin = (int)r.max_bin;
    c->eta = r.eta;
    c->subsample = r.subsample;
    c->colsample = r.colsample;
    c->min_child_weight = r.min_child_weight;
    c->window = r.window;
    c->sequence = r.sequence;
    c->seq.kind = c->kind == &cm_kind_gru ? CM_SEQ_GRU : c->kind == &cm_kind_lstm ? CM_SEQ_LSTM
                                                                                : CM_SEQ_CNN;
    c->seq.width = (size_t)(c->kind == &cm_kind_cnn ? r.filters : r.hidden);
    c->seq.layers = (size_t)r.rnn_layers;
    c->seq.kernel = (size_t)r.kernel;
    if (c->kind == &cm_kind_cnn) {
        c->seq.layers = 0;
        for (const char *p = r.dilations; *p;) {
            char *end;
            c->seq.dilation[c->seq.layers++] = strtoul(p, &end, 10);
            p = *end ? end + 1 : end;
        }
    }
    if (c->kind->seq && r.stream)
        return cm_fail(err, CM_ERR_ARG, "stream: a sequence model trains on rows held in "
                       "memory, whose windows it builds");
    if (c->kind->seq && cm_kv_get(s, "layers") && strchr(r.layers, ','))
        return cm_fail(err, CM_ERR_ARG, "layers: a sequence model's head has one hidden "
                       "layer ('%s' is several)", r.layers);
    c->seq.head = c->kind->seq && !cm_kv_get(s, "layers") ? 64 : strtoul(r.layers, NULL, 10);
    /* peer-seq.py's head, which the network has no other way to be */
    if (c->kind->seq && c->act != CM_ACT_RELU)
        return cm_fail(err, CM_ERR_ARG, "activation: a sequence model's head is relu ('%s' "
                       "is not)", cm_kv_get(s, "activation"));
    if (c->horizon && r.stream)
        return cm_fail(err, CM_ERR_ARG, "horizon: a direct model's rows need the targets "
                       "ahead of them, which --stream does not hold");
    /* valid's default is no choice of the caller's: only one given conflicts */
    if (c->valid_from && cm_kv_get(s, "valid"))
        return cm_fail(err, CM_ERR_ARG, "valid and valid-from both choose the rows "
                       "held out: give one of them");
    c->patience = (int)r.patience;
    c->dropout = (float)r.dropout;
    c->huber = (float)r.huber;
    c->l2 = r.l2;
    c->step_size = (int)r.step_size;
    c->gamma = (float)r.gamma;
    c->target = r.target;
    c->features = r.features;
    c->skip_missing = r.skip_missing;
    c->threads = (int)r.threads;
    c->stream = r.stream;
    c->buffer = r.buffer;
    c->nlayers = 1;
    for (const char *p = r.layers; *p; p++)
        c->nlayers += *p == ',';
    if (!(c->layers = calloc(c->nlayers, sizeof *c->layers)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    const char *p = r.layers;
    double params = 0, prev = 256; /* a generous guess at the input width */
    for (size_t i = 0; i < c->nlayers; i++) {
        char *end;
        c->layers[i] = strtoul(p, &end, 10);
        params += prev * (double)c->layers[i];
        prev = (double)c->layers[i];
        p = *end ? end + 1 : end;
    }
    if (params > (double)(1u << 26)) {
        cm_train_cfg_free(c);
        return cm_fail(err, CM_ERR_ARG, "layers: '%s' has too many weights (at "
                       "most 67 million)", r.layers);
    }
    return CM_OK;
}

cm_status cm_train_check(const cm_kv *settings, cm_error *err)
{
    cm_train_cfg c;
    cm_status st = cm_train_cfg_read(settings, &c, err);
    if (!st)
        cm_train_cfg_free(&c);
    return st;
}
