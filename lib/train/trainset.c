/* trainset.c - cm-train's settings: every knob with its default, checked
 * before any row is read. */
#include <stdlib.h>
#include <string.h>

#include "train/trainer.h"

static const char *get(const cm_kv *s, const char *k, const char *d)
{
    const char *v = cm_kv_get(s, k);
    return v ? v : d;
}

static cm_status num(const cm_kv *s, const char *k, const char *d, double lo,
                     double hi, double *out, cm_error *err)
{
    const char *v = get(s, k, d);
    char *end;
    *out = strtod(v, &end);
    if (!*v || *end || !(*out >= lo && *out <= hi))
        return cm_fail(err, CM_ERR_ARG, "%s: '%.32s' is not a number from %g to %g",
                       k, v, lo, hi);
    return CM_OK;
}

/* A whole number: "1.9 epochs" would silently be one. */
static cm_status count(const cm_kv *s, const char *k, const char *d, double lo,
                       double hi, double *out, cm_error *err)
{
    const char *v = get(s, k, d);
    if (!*v || strspn(v, "0123456789") != strlen(v))
        return cm_fail(err, CM_ERR_ARG, "%s: '%.32s' is not a whole number", k, v);
    return num(s, k, d, lo, hi, out, err);
}

static int pick(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i]))
            return i;
    return -1;
}

static cm_status choice(const cm_kv *s, const char *k, const char *d,
                        const char *const *names, int n, int *out, cm_error *err)
{
    const char *v = get(s, k, d);
    if ((*out = pick(v, names, n)) < 0)
        return cm_fail(err, CM_ERR_ARG, "%s: '%.32s' is not one of the choices "
                       "(see --help)", k, v);
    return CM_OK;
}

cm_status cm_train_cfg_read(const cm_kv *s, cm_train_cfg *c, cm_error *err)
{
    static const char *const kinds[] = {"linear", "mlp"};
    static const char *const acts[] = {"relu", "tanh", "sigmoid", "gelu"};
    static const char *const losses[] = {"mse", "mae", "huber"};
    static const char *const opts[] = {"sgd", "momentum", "adam"};
    static const char *const scheds[] = {"constant", "step", "cosine"};
    static const char *const known[] = {
        "model", "target", "features", "l2", "layers", "activation", "dropout",
        "loss", "huber-delta", "optimizer", "lr", "momentum", "beta1", "beta2",
        "eps", "weight-decay", "schedule", "step-size", "gamma", "batch",
        "epochs", "seed", "valid", "patience", "skip-missing", "stream", "buffer-size", "threads",
        "created", "argv"};
    for (size_t i = 0; i < cm_kv_count(s); i++)
        if (pick(cm_kv_key(s, i), known, (int)(sizeof known / sizeof *known)) < 0)
            return cm_fail(err, CM_ERR_ARG, "unknown setting '%.64s'", cm_kv_key(s, i));
    int k, a, l, o, sc;
    double v[16];
    cm_status st = choice(s, "model", "mlp", kinds, 2, &k, err);
    if (!st) st = choice(s, "activation", "relu", acts, 4, &a, err);
    if (!st) st = choice(s, "loss", "mse", losses, 3, &l, err);
    if (!st) st = choice(s, "optimizer", "adam", opts, 3, &o, err);
    if (!st) st = choice(s, "schedule", "constant", scheds, 3, &sc, err);
    if (!st) st = num(s, "lr", "0.001", 1e-12, 1e3, &v[0], err);
    if (!st) st = num(s, "momentum", "0.9", 0, 1, &v[1], err);
    if (!st) st = num(s, "beta1", "0.9", 0, 0.999999, &v[2], err);
    if (!st) st = num(s, "beta2", "0.999", 0, 0.9999999, &v[3], err);
    if (!st) st = num(s, "eps", "1e-8", 1e-30, 1, &v[4], err);
    if (!st) st = num(s, "weight-decay", "0", 0, 1e3, &v[5], err);
    if (!st) st = count(s, "batch", "32", 1, 1 << 20, &v[6], err);
    if (!st) st = count(s, "epochs", "10", 1, 1e6, &v[7], err);
    if (!st) st = num(s, "seed", "1", 0, 1.8e19, &v[8], err);
    if (!st) st = num(s, "valid", "0.2", 0, 0.9, &v[9], err);
    if (!st) st = count(s, "patience", "0", 0, 1e6, &v[10], err);
    if (!st) st = num(s, "dropout", "0", 0, 0.95, &v[11], err);
    if (!st) st = num(s, "huber-delta", "1", 1e-9, 1e9, &v[12], err);
    if (!st) st = num(s, "l2", "1", 0, 1e12, &v[13], err);
    if (!st) st = count(s, "step-size", "10", 1, 1e6, &v[14], err);
    if (!st) st = num(s, "gamma", "0.1", 0, 1, &v[15], err);
    if (st)
        return st;
    c->kind = k == 0 ? CM_MODEL_LINEAR : CM_MODEL_MLP;
    c->act = (cm_act[]){CM_ACT_RELU, CM_ACT_TANH, CM_ACT_SIGMOID, CM_ACT_GELU}[a];
    c->loss = (cm_loss_kind)l;
    c->opt = (cm_optim){(cm_opt_kind)o, (float)v[1], (float)v[2], (float)v[3],
                        (float)v[4], (float)v[5]};
    c->sched = (cm_sched_kind)sc;
    c->lr = (float)v[0];
    c->batch = (int)v[6];
    c->epochs = (int)v[7];
    const char *seed = get(s, "seed", "1");
    char *rest;
    c->seed = strtoull(seed, &rest, 10);
    if (*rest || seed[0] < '0' || seed[0] > '9')
        return cm_fail(err, CM_ERR_ARG, "seed: '%.32s' is not a whole number", seed);
    c->valid = v[9];
    c->patience = (int)v[10];
    c->dropout = (float)v[11];
    c->huber = (float)v[12];
    c->l2 = v[13];
    c->step_size = (int)v[14];
    c->gamma = (float)v[15];
    c->target = cm_kv_get(s, "target");
    c->features = cm_kv_get(s, "features");
    const char *sm = get(s, "skip-missing", "no");
    c->skip_missing = !strcmp(sm, "yes");
    if (strcmp(sm, "yes") && strcmp(sm, "no"))
        return cm_fail(err, CM_ERR_ARG, "skip-missing: '%s' is not yes or no", sm);
    double th;
    st = count(s, "threads", "1", 1, 256, &th, err);
    if (st)
        return st;
    c->threads = (int)th;
    const char *sr = get(s, "stream", "no");
    c->stream = !strcmp(sr, "yes");
    if (strcmp(sr, "yes") && strcmp(sr, "no"))
        return cm_fail(err, CM_ERR_ARG, "stream: '%s' is not yes or no", sr);
    const char *bs = get(s, "buffer-size", "268435456");
    c->buffer = strtoull(bs, &rest, 10);
    if (*rest || bs[0] < '0' || bs[0] > '9' || c->buffer == 0)
        return cm_fail(err, CM_ERR_ARG, "buffer-size: '%.32s' is not a number of bytes", bs);
    const char *ls = get(s, "layers", "64,64");
    if (!*ls || strspn(ls, "0123456789,") != strlen(ls) || ls[0] == ',' ||
        ls[strlen(ls) - 1] == ',' || strstr(ls, ",,"))
        return cm_fail(err, CM_ERR_ARG, "layers: '%s' is not a list of widths "
                       "such as 64,64", ls);
    c->nlayers = 1;
    for (const char *p = ls; *p; p++)
        c->nlayers += *p == ',';
    if (c->nlayers > 64)
        return cm_fail(err, CM_ERR_ARG, "layers: at most 64 hidden layers");
    if (!(c->layers = calloc(c->nlayers, sizeof *c->layers)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    const char *p = ls;
    double params = 0, prev = 256; /* a generous guess at the input width */
    for (size_t i = 0; i < c->nlayers; i++) {
        char *end;
        unsigned long w = strtoul(p, &end, 10);
        if (end == p || w == 0 || w > 65536 || (*end && *end != ','))
            return cm_fail(err, CM_ERR_ARG, "layers: '%s' is not a list of widths "
                           "such as 64,64", ls);
        c->layers[i] = w;
        params += prev * (double)w;
        prev = (double)w;
        p = *end ? end + 1 : end;
    }
    if (params > (double)(1u << 26))
        return cm_fail(err, CM_ERR_ARG, "layers: '%s' has too many weights (at "
                       "most 67 million)", ls);
    return CM_OK;
}
