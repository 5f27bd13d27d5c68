/* forestxgb.c - a gbdt model's trees as XGBoost's own JSON model (1.7),
 * for cm-cat --export xgboost: XGBoost's JSON of the training with its
 * trees left out, and the trees written back from cm's arrays with every
 * field XGBoost's loader reads.  Only the export needs this; the model
 * file holds no second copy of the trees. */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

/* A float as XGBoost reads one: always with a point or an exponent, so
 * that its reader does not take it for an integer. */
static void put_float(FILE *out, float v)
{
    char b[32];
    cm_fmt_f32(b, sizeof b, v);
    fputs(b, out);
    if (!strpbrk(b, ".en"))
        fputs(".0", out);
}

typedef enum { F_FLOAT, F_INT } ftype;

/* "key":[v0,v1,...] over the nodes [a, z) of one tree; val gives each. */
static void put_array(FILE *out, const char *key, const cm_forest *f, int32_t a, int32_t z,
                      ftype type, double (*val)(const cm_forest *, int32_t, int32_t))
{
    fprintf(out, "\"%s\":[", key);
    for (int32_t i = a; i < z; i++) {
        if (i > a)
            fputc(',', out);
        double v = val(f, a, i);
        if (type == F_FLOAT)
            put_float(out, (float)v);
        else
            fprintf(out, "%lld", (long long)v);
    }
    fputs("],", out);
}

static double weight(const cm_forest *f, int32_t a, int32_t i) { (void)a; return f->weight[i]; }
static double hess(const cm_forest *f, int32_t a, int32_t i) { (void)a; return f->hess[i]; }
static double gain(const cm_forest *f, int32_t a, int32_t i) { (void)a; return f->gain[i]; }
static double dleft(const cm_forest *f, int32_t a, int32_t i) { (void)a; return f->dleft[i]; }
static double zero(const cm_forest *f, int32_t a, int32_t i) { (void)f, (void)a, (void)i; return 0; }
static double left(const cm_forest *f, int32_t a, int32_t i)
{
    return f->left[i] < 0 ? -1 : f->left[i] - a;
}
static double right(const cm_forest *f, int32_t a, int32_t i)
{
    return f->right[i] < 0 ? -1 : f->right[i] - a;
}
static double cond(const cm_forest *f, int32_t a, int32_t i)
{
    (void)a;
    return f->feature[i] < 0 ? f->leaf[i] : f->thr[i];
}
static double split_index(const cm_forest *f, int32_t a, int32_t i)
{
    (void)a;
    return f->feature[i] < 0 ? 0 : f->feature[i];
}
/* The parent of each node, XGBoost's 2147483647 for the root. */
static double parent(const cm_forest *f, int32_t a, int32_t i)
{
    for (int32_t p = a; p < i; p++)
        if (f->left[p] == i || f->right[p] == i)
            return p - a;
    return 2147483647;
}

static void put_tree(FILE *out, const cm_forest *f, size_t t)
{
    int32_t a = f->start[t], z = f->start[t + 1];
    fputc('{', out);
    put_array(out, "base_weights", f, a, z, F_FLOAT, weight);
    fputs("\"categories\":[],\"categories_nodes\":[],\"categories_segments\":[],"
          "\"categories_sizes\":[],", out);
    put_array(out, "default_left", f, a, z, F_INT, dleft);
    fprintf(out, "\"id\":%zu,", t);
    put_array(out, "left_children", f, a, z, F_INT, left);
    put_array(out, "loss_changes", f, a, z, F_FLOAT, gain);
    put_array(out, "parents", f, a, z, F_INT, parent);
    put_array(out, "right_children", f, a, z, F_INT, right);
    put_array(out, "split_conditions", f, a, z, F_FLOAT, cond);
    put_array(out, "split_indices", f, a, z, F_INT, split_index);
    put_array(out, "split_type", f, a, z, F_INT, zero);
    put_array(out, "sum_hessian", f, a, z, F_FLOAT, hess);
    fprintf(out, "\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"%zu\","
            "\"num_nodes\":\"%d\",\"size_leaf_vector\":\"0\"}}", f->width, (int)(z - a));
}

cm_status cm_model_export_xgboost(const cm_model *m, FILE *out, cm_error *err)
{
    if (cm_model_kind(m) != &cm_kind_gbdt)
        return cm_fail(err, CM_ERR_DATA, "a %s model has no trees to export (only gbdt "
                       "models do)", cm_model_kind(m)->name);
    const cm_forest *f = cm_model_net(m);
    size_t k = strlen(CM_XGB_TREES);
    const char *at = f->xgb;
    while (memcmp(at, CM_XGB_TREES, k)) /* there, once: checked when read */
        at++;
    size_t head = (size_t)(at - f->xgb) + k - 1; /* up to the '[' */
    fwrite(f->xgb, 1, head, out);
    for (size_t t = 0; t < f->ntrees; t++) {
        if (t)
            fputc(',', out);
        put_tree(out, f, t);
    }
    fwrite(f->xgb + head, 1, f->xgb_len - head, out);
    return CM_OK;
}
