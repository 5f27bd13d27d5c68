/* kinds.c - the kinds of network a model can be: what each computes, how
 * its tensors go to a model file and come back, how it describes itself.
 * A new kind is one more cm_kind here or in a file of its own (forest.c),
 * listed in kinds[], and its trainer in lib/train/. */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

/* ---- linear: ridge coefficients in standardized units ------------------------ */

static void linear_forward(const void *net, size_t batch, const float *x, double *y,
                           float *scratch)
{
    (void)scratch;
    cm_linear_forward(net, batch, x, y);
}

static size_t linear_scratch(const void *net, size_t batch)
{
    (void)net, (void)batch;
    return 0;
}

/* coef: a vector of width, or with several outputs nout rows of width */
static cm_status linear_save(const void *net, cm_tensor_out *o, cm_error *err)
{
    const cm_linear *l = net;
    size_t d0 = l->nout > 1 ? l->nout : l->width, d1 = l->nout > 1 ? l->width : 0;
    cm_status st = cm_tensor_write(o, "coef", CM_TENSOR_F64, d0, d1, l->coef, err);
    return st ? st : cm_tensor_write(o, "intercept", CM_TENSOR_F64, l->nout, 0, l->intercept, err);
}

static void *linear_load(cm_tensor_in *in, const cm_kv *meta, size_t width, size_t nout,
                         cm_error *err)
{
    (void)meta;
    cm_linear *l = cm_linear_new(width, nout);
    void *coef = NULL, *icpt = NULL;
    size_t d0 = nout > 1 ? nout : width, d1 = nout > 1 ? width : 0;
    cm_status st = l ? cm_tensor_read(in, "coef", CM_TENSOR_F64, d0, d1, &coef, err)
                     : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st)
        st = cm_tensor_read(in, "intercept", CM_TENSOR_F64, nout, 0, &icpt, err);
    if (!st) {
        free(l->coef);
        free(l->intercept);
        l->coef = coef;
        l->intercept = icpt;
        coef = icpt = NULL;
    }
    free(coef);
    free(icpt);
    if (st) {
        cm_linear_free(l);
        return NULL;
    }
    return l;
}

static void linear_describe(const void *net, const cm_model *m, FILE *out)
{
    (void)net, (void)m, (void)out;
}

static void linear_free(void *net)
{
    cm_linear_free(net);
}

static size_t linear_cost(const void *net)
{
    const cm_linear *l = net;
    return l->width * l->nout;
}

const cm_kind cm_kind_linear = {"linear", linear_forward, linear_scratch, linear_save,
                                linear_load, linear_describe, linear_free, 0, linear_cost, 0};

/* ---- mlp: dense layers ---------------------------------------------------------- */

static const char *const act_names[] = {"none", "relu", "tanh", "sigmoid", "gelu"};

static void mlp_forward(const void *net, size_t batch, const float *x, double *y,
                        float *scratch)
{
    const cm_mlp *n = net;
    const float *out = cm_mlp_forward(n, batch, x, scratch);
    for (size_t i = 0; i < batch * n->size[n->nlayers]; i++)
        y[i] = (double)out[i];
}

static size_t mlp_scratch(const void *net, size_t batch)
{
    return cm_mlp_scratch(net, batch);
}

static cm_status mlp_save(const void *net, cm_tensor_out *o, cm_error *err)
{
    const cm_mlp *n = net;
    cm_status st = CM_OK;
    for (size_t l = 0; !st && l < n->nlayers; l++) {
        char name[32];
        snprintf(name, sizeof name, "W%zu", l);
        st = cm_tensor_write(o, name, CM_TENSOR_F32, n->size[l + 1], n->size[l], n->W[l], err);
        snprintf(name, sizeof name, "b%zu", l);
        if (!st)
            st = cm_tensor_write(o, name, CM_TENSOR_F32, n->size[l + 1], 0, n->b[l], err);
    }
    return st;
}

/* The widths from the "layers" metadata: input width, hidden..., nout. */
static void *mlp_load(cm_tensor_in *in, const cm_kv *meta, size_t width, size_t nout,
                      cm_error *err)
{
    const char *v = cm_kv_get(meta, "layers"), *act = cm_kv_get(meta, "activation");
    int a = 0;
    for (int i = 1; act && i < 5; i++)
        if (!strcmp(act, act_names[i]))
            a = i;
    size_t size[66], n = 0; /* n hidden layers */
    int bad = !v || !*v || !a;
    size[0] = width;
    for (const char *p = v; !bad && *p;) {
        char *end;
        unsigned long w = strtoul(p, &end, 10);
        bad = end == p || *p < '0' || *p > '9' || w == 0 || w > 65536 || n >= 64 ||
              (*end && (*end != ',' || !end[1]));
        size[++n] = w;
        p = *end ? end + 1 : end;
    }
    if (bad) {
        cm_fail(err, CM_ERR_CORRUPT, "corrupt model file: layers or activation");
        return NULL;
    }
    size[++n] = nout;
    cm_mlp *net = cm_mlp_new(size, n, (cm_act)a);
    if (!net) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    cm_status st = CM_OK;
    for (size_t l = 0; !st && l < net->nlayers; l++) {
        char name[32];
        void *w = NULL, *b = NULL;
        snprintf(name, sizeof name, "W%zu", l);
        st = cm_tensor_read(in, name, CM_TENSOR_F32, size[l + 1], size[l], &w, err);
        snprintf(name, sizeof name, "b%zu", l);
        if (!st)
            st = cm_tensor_read(in, name, CM_TENSOR_F32, size[l + 1], 0, &b, err);
        if (!st) {
            free(net->W[l]);
            free(net->b[l]);
            net->W[l] = w;
            net->b[l] = b;
        } else {
            free(w);
            free(b);
        }
    }
    if (st) {
        cm_mlp_free(net);
        return NULL;
    }
    return net;
}

static void mlp_describe(const void *net, const cm_model *m, FILE *out)
{
    (void)m;
    const cm_mlp *n = net;
    fputs("layers:", out);
    for (size_t l = 0; l <= n->nlayers; l++)
        fprintf(out, " %zu", n->size[l]);
    fputc('\n', out);
}

static void mlp_free(void *net)
{
    cm_mlp_free(net);
}

static size_t mlp_cost(const void *net)
{
    const cm_mlp *n = net;
    size_t c = 0;
    for (size_t l = 0; l < n->nlayers; l++)
        c += n->size[l] * n->size[l + 1];
    return c;
}

const cm_kind cm_kind_mlp = {"mlp", mlp_forward, mlp_scratch, mlp_save, mlp_load,
                             mlp_describe, mlp_free, 0, mlp_cost, 0};

static const cm_kind *const kinds[] = {&cm_kind_linear, &cm_kind_mlp, &cm_kind_gbdt,
                                       &cm_kind_gru, &cm_kind_lstm, &cm_kind_cnn};

const cm_kind *cm_kind_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(kinds[i]->name, name))
            return kinds[i];
    return NULL;
}
