/* forest.c - the gbdt kind: boosted regression trees, trained by XGBoost
 * (lib/train/traingbdt.c) but kept, checked and walked here, so that
 * predicting needs no XGBoost.  The walk and the sum are XGBoost's own
 * (x < threshold in float32, NaN the default way, leaves added in float32
 * in tree order from the base score), and so are its numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

/* A node as the walk reads it: a leaf reads input 0 and leads to itself,
 * so that every row of a block takes its tree's depth in steps, without
 * a branch; next[1] is the way for values below the threshold. */
struct cm_fnode {
    float thr;
    int32_t feature;
    int32_t next[2];
    int32_t dleft; /* the way of a missing value: 1 left, 0 right */
};

void cm_forest_free(cm_forest *f)
{
    if (!f)
        return;
    free(f->start), free(f->feature), free(f->left), free(f->right), free(f->dleft);
    free(f->thr), free(f->leaf), free(f->gain), free(f->hess), free(f->weight);
    free(f->xgb), free(f->walk), free(f->depth);
    free(f);
}

cm_status cm_forest_ready(cm_forest *f, cm_error *err)
{
    if (!f->ntrees || f->start[0] != 0 || (size_t)f->start[f->ntrees] != f->nnodes ||
        f->nnodes > INT32_MAX)
        return cm_fail(err, CM_ERR_CORRUPT, "corrupt model file: trees");
    free(f->walk), free(f->depth);
    f->walk = malloc((f->nnodes + 1) * sizeof *f->walk);
    f->depth = malloc(f->ntrees + 1);
    uint8_t *d = malloc(f->nnodes + 1);
    if (!f->walk || !f->depth || !d) {
        free(d);
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    int bad = 0;
    for (size_t t = 0; !bad && t < f->ntrees; t++) {
        int32_t a = f->start[t], z = f->start[t + 1];
        bad = z <= a;
        f->depth[t] = 0;
        if (!bad)
            d[a] = 0;
        for (int32_t i = a; !bad && i < z; i++) {
            int32_t ft = f->feature[i], l = f->left[i], r = f->right[i];
            int leaf = ft == -1 && l == -1 && r == -1;
            /* a depth of 64 would need more nodes than the cap allows */
            int split = ft >= 0 && (size_t)ft < f->width && l > i && r > i && l < z && r < z &&
                        d[i] < 64;
            bad = (!leaf && !split) || f->dleft[i] > 1;
            if (bad)
                break;
            if (leaf) {
                f->walk[i] = (struct cm_fnode){0, 0, {i, i}, 0};
                f->depth[t] = d[i] > f->depth[t] ? d[i] : f->depth[t];
            } else {
                f->walk[i] = (struct cm_fnode){f->thr[i], ft, {r, l}, f->dleft[i]};
                d[l] = d[r] = (uint8_t)(d[i] + 1);
            }
        }
    }
    free(d);
    return bad ? cm_fail(err, CM_ERR_CORRUPT, "corrupt model file: trees") : CM_OK;
}

/* Rows a block at a time, tree by tree: each row's walk is a fixed number
 * of steps without a branch, and the rows of a block walk side by side,
 * so the processor overlaps them; each row's sum still adds its leaves in
 * tree order, in float32.  A row or two (a request to cm-serve) walk
 * TREES trees side by side instead. */
#define BLOCK 64
#define TREES 8

static float one_row(const cm_forest *f, const float *x)
{
    const struct cm_fnode *w = f->walk;
    float sum = f->base;
    for (size_t t0 = 0; t0 < f->ntrees; t0 += TREES) {
        size_t nt = f->ntrees - t0 < TREES ? f->ntrees - t0 : TREES;
        int32_t at[TREES];
        int depth = 0;
        for (size_t j = 0; j < nt; j++) {
            at[j] = f->start[t0 + j];
            depth = f->depth[t0 + j] > depth ? f->depth[t0 + j] : depth;
        }
        /* a shallower tree's walk waits at its leaf, which leads to itself */
        for (int s = 0; s < depth; s++)
            for (size_t j = 0; j < nt; j++) {
                const struct cm_fnode *n = &w[at[j]];
                float v = x[n->feature];
                int left = isnan(v) ? n->dleft : v < n->thr;
                at[j] = n->next[left];
            }
        for (size_t j = 0; j < nt; j++)
            sum += f->leaf[at[j]];
    }
    return sum;
}

static void forest_forward(const void *net, size_t batch, const float *x, double *y,
                           float *scratch)
{
    (void)scratch;
    const cm_forest *f = net;
    const struct cm_fnode *w = f->walk;
    if (batch < 4) {
        for (size_t r = 0; r < batch; r++)
            y[r] = one_row(f, x + r * f->width);
        return;
    }
    for (size_t r0 = 0; r0 < batch; r0 += BLOCK) {
        size_t nb = batch - r0 < BLOCK ? batch - r0 : BLOCK;
        const float *xb = x + r0 * f->width;
        float sum[BLOCK];
        int32_t at[BLOCK];
        for (size_t r = 0; r < nb; r++)
            sum[r] = f->base;
        for (size_t t = 0; t < f->ntrees; t++) {
            for (size_t r = 0; r < nb; r++)
                at[r] = f->start[t];
            for (int s = 0; s < f->depth[t]; s++)
                for (size_t r = 0; r < nb; r++) {
                    const struct cm_fnode *n = &w[at[r]];
                    float v = xb[r * f->width + (size_t)n->feature];
                    int left = isnan(v) ? n->dleft : v < n->thr;
                    at[r] = n->next[left];
                }
            for (size_t r = 0; r < nb; r++)
                sum[r] += f->leaf[at[r]];
        }
        for (size_t r = 0; r < nb; r++)
            y[r0 + r] = sum[r];
    }
}

static size_t forest_scratch(const void *net, size_t batch)
{
    (void)net, (void)batch;
    return 0;
}

/* In the file, children are numbered within their tree (-1 at a leaf),
 * as XGBoost numbers them. */
static cm_status forest_save(const void *net, cm_tensor_out *o, cm_error *err)
{
    const cm_forest *f = net;
    size_t N = f->nnodes, T = f->ntrees;
    int32_t *count = malloc((T + 1) * sizeof *count), *l = malloc((N + 1) * sizeof *l),
            *r = malloc((N + 1) * sizeof *r);
    cm_status st = count && l && r ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t t = 0; !st && t < T; t++) {
        count[t] = f->start[t + 1] - f->start[t];
        for (int32_t i = f->start[t]; i < f->start[t + 1]; i++) {
            l[i] = f->left[i] < 0 ? -1 : f->left[i] - f->start[t];
            r[i] = f->right[i] < 0 ? -1 : f->right[i] - f->start[t];
        }
    }
    if (!st) st = cm_tensor_write(o, "base", CM_TENSOR_F32, 1, 0, &f->base, err);
    if (!st) st = cm_tensor_write(o, "tree_nodes", CM_TENSOR_I32, T, 0, count, err);
    if (!st) st = cm_tensor_write(o, "feature", CM_TENSOR_I32, N, 0, f->feature, err);
    if (!st) st = cm_tensor_write(o, "threshold", CM_TENSOR_F32, N, 0, f->thr, err);
    if (!st) st = cm_tensor_write(o, "default_left", CM_TENSOR_U8, N, 0, f->dleft, err);
    if (!st) st = cm_tensor_write(o, "left", CM_TENSOR_I32, N, 0, l, err);
    if (!st) st = cm_tensor_write(o, "right", CM_TENSOR_I32, N, 0, r, err);
    if (!st) st = cm_tensor_write(o, "leaf", CM_TENSOR_F32, N, 0, f->leaf, err);
    if (!st) st = cm_tensor_write(o, "gain", CM_TENSOR_F32, N, 0, f->gain, err);
    if (!st) st = cm_tensor_write(o, "hessian", CM_TENSOR_F32, N, 0, f->hess, err);
    if (!st) st = cm_tensor_write(o, "weight", CM_TENSOR_F32, N, 0, f->weight, err);
    if (!st) st = cm_tensor_write(o, "xgboost", CM_TENSOR_U8, f->xgb_len, 0, f->xgb, err);
    free(count), free(l), free(r);
    return st;
}

/* The file's counts of nodes into each tree's start, and its children,
 * numbered within their tree, into indices of the arrays (what is out of
 * range stays so, for cm_forest_ready to refuse). */
static int absolute(cm_forest *f, const int32_t *count)
{
    size_t at = 0;
    for (size_t t = 0; t < f->ntrees; t++) {
        if (count[t] < 1 || (size_t)count[t] > f->nnodes - at)
            return -1;
        f->start[t] = (int32_t)at;
        for (size_t i = at; i < at + (size_t)count[t]; i++) {
            if (f->left[i] >= 0 && f->left[i] < count[t])
                f->left[i] += (int32_t)at;
            else if (f->left[i] != -1)
                f->left[i] = -2;
            if (f->right[i] >= 0 && f->right[i] < count[t])
                f->right[i] += (int32_t)at;
            else if (f->right[i] != -1)
                f->right[i] = -2;
        }
        at += (size_t)count[t];
    }
    f->start[f->ntrees] = (int32_t)at;
    return at == f->nnodes ? 0 : -1;
}

/* The JSON of the export must be XGBoost's with the trees left out. */
static int xgb_bad(const cm_forest *f)
{
    size_t k = strlen(CM_XGB_TREES), hits = 0;
    for (size_t i = 0; i + k <= f->xgb_len; i++)
        hits += !memcmp(f->xgb + i, CM_XGB_TREES, k);
    return hits != 1 || memchr(f->xgb, 0, f->xgb_len) != NULL;
}

static void *forest_load(cm_tensor_in *in, const cm_kv *meta, size_t width, size_t nout,
                         cm_error *err)
{
    (void)meta;
    cm_forest *f = calloc(1, sizeof *f);
    void *base = NULL, *count = NULL;
    size_t n[9] = {0}, nt = 0;
    cm_status st = f ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st && nout != 1)
        st = cm_fail(err, CM_ERR_CORRUPT, "corrupt model file: trees of %zu outputs", nout);
    if (!st) st = cm_tensor_read(in, "base", CM_TENSOR_F32, 1, 0, &base, err);
    if (!st) st = cm_tensor_read_vec(in, "tree_nodes", CM_TENSOR_I32, &nt, &count, err);
    if (!st) st = cm_tensor_read_vec(in, "feature", CM_TENSOR_I32, &n[0], (void **)&f->feature, err);
    if (!st) st = cm_tensor_read_vec(in, "threshold", CM_TENSOR_F32, &n[1], (void **)&f->thr, err);
    if (!st) st = cm_tensor_read_vec(in, "default_left", CM_TENSOR_U8, &n[2], (void **)&f->dleft, err);
    if (!st) st = cm_tensor_read_vec(in, "left", CM_TENSOR_I32, &n[3], (void **)&f->left, err);
    if (!st) st = cm_tensor_read_vec(in, "right", CM_TENSOR_I32, &n[4], (void **)&f->right, err);
    if (!st) st = cm_tensor_read_vec(in, "leaf", CM_TENSOR_F32, &n[5], (void **)&f->leaf, err);
    if (!st) st = cm_tensor_read_vec(in, "gain", CM_TENSOR_F32, &n[6], (void **)&f->gain, err);
    if (!st) st = cm_tensor_read_vec(in, "hessian", CM_TENSOR_F32, &n[7], (void **)&f->hess, err);
    if (!st) st = cm_tensor_read_vec(in, "weight", CM_TENSOR_F32, &n[8], (void **)&f->weight, err);
    if (!st) st = cm_tensor_read_vec(in, "xgboost", CM_TENSOR_U8, &f->xgb_len, (void **)&f->xgb, err);
    if (!st) {
        f->ntrees = nt;
        f->nnodes = n[0];
        f->width = width;
        f->base = *(float *)base;
        if (!(f->start = malloc((nt + 1) * sizeof *f->start)))
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    if (!st && (nt == 0 || n[1] != n[0] || n[2] != n[0] || n[3] != n[0] || n[4] != n[0] ||
                n[5] != n[0] || n[6] != n[0] || n[7] != n[0] || n[8] != n[0] ||
                n[0] > INT32_MAX || absolute(f, count) || xgb_bad(f)))
        st = cm_fail(err, CM_ERR_CORRUPT, "corrupt model file: trees");
    if (!st)
        st = cm_forest_ready(f, err);
    free(base);
    free(count);
    if (st) {
        cm_forest_free(f);
        return NULL;
    }
    return f;
}

/* The trees, their depth, and the ten inputs of most gain in all. */
static void forest_describe(const void *net, const cm_model *m, FILE *out)
{
    const cm_forest *f = net;
    size_t depth = 0, leaves = 0;
    double *gain = calloc(f->width + 1, sizeof *gain);
    for (size_t t = 0; t < f->ntrees; t++)
        depth = f->depth[t] > depth ? f->depth[t] : depth;
    for (size_t i = 0; i < f->nnodes; i++) {
        leaves += f->feature[i] < 0;
        if (gain && f->feature[i] >= 0)
            gain[f->feature[i]] += f->gain[i];
    }
    char a[32];
    cm_fmt_f64(a, sizeof a, f->base);
    fprintf(out, "trees: %zu, %zu leaves, deepest %zu, base score %s\n", f->ntrees, leaves,
            depth, a);
    double total = 0;
    for (size_t j = 0; gain && j < f->width; j++)
        total += gain[j];
    fputs("gain: the inputs that split most (total gain, share)\n", out);
    for (int k = 0; gain && k < 10; k++) {
        size_t best = f->width;
        for (size_t j = 0; j < f->width; j++)
            if (gain[j] > 0 && (best == f->width || gain[j] > gain[best]))
                best = j;
        if (best == f->width)
            break;
        char name[CM_MAX_NAME * 2 + 16];
        cm_encoder_slot_name(cm_model_encoder(m), cm_model_schema(m), best, name, sizeof name);
        fprintf(out, "  %s: %.6g, %.1f%%\n", name, gain[best], 100 * gain[best] / total);
        gain[best] = 0;
    }
    free(gain);
}

static void forest_free(void *net)
{
    cm_forest_free(net);
}

/* A step down a tree costs about as much as a few multiply-adds. */
static size_t forest_cost(const void *net)
{
    const cm_forest *f = net;
    size_t steps = 0;
    for (size_t t = 0; t < f->ntrees; t++)
        steps += f->depth[t];
    return 4 * steps;
}

const cm_kind cm_kind_gbdt = {"gbdt", forest_forward, forest_scratch, forest_save,
                              forest_load, forest_describe, forest_free, 1, forest_cost, 0};
