/* model.c - a trained model at work: turning rows into input vectors the
 * way training did, the forward pass, and describing itself. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

/* ---- the encoder ------------------------------------------------------- */

void cm_encoder_release(cm_encoder *e)
{
    for (size_t i = 0; i < e->nf; i++)
        free(e->f[i].name);
    free(e->f);
    free(e->target);
    memset(e, 0, sizeof *e);
}

cm_status cm_encoder_bind(const cm_encoder *e, const cm_schema *s, long *cols,
                          cm_error *err)
{
    for (size_t i = 0; i < e->nf; i++) {
        const cm_feature *f = &e->f[i];
        cols[i] = cm_schema_find(s, f->name);
        if (cols[i] < 0)
            return cm_fail(err, CM_ERR_DATA, "the input has no column '%s', "
                           "which the model needs", f->name);
        cm_dtype t = cm_schema_dtype(s, (size_t)cols[i]);
        if (f->cat != (t == CM_CAT) || t == CM_TIME)
            return cm_fail(err, CM_ERR_DATA, "column '%s' is %s in the input but "
                           "%s in the model", f->name, cm_dtype_name(t),
                           f->cat ? "a category" : "a number");
    }
    return CM_OK;
}

static double number(const cm_batch *b, cm_dtype t, size_t c, size_t i)
{
    switch (t) {
    case CM_F32: return ((const float *)b->values[c])[i];
    case CM_F64: return ((const double *)b->values[c])[i];
    default: return (double)((const int64_t *)b->values[c])[i];
    }
}

int cm_encoder_row(const cm_encoder *e, const cm_schema *model_schema,
                   const cm_schema *s, const long *cols, const cm_batch *b,
                   size_t i, float *x, size_t *which, uint64_t *unseen)
{
    for (size_t k = 0; k < e->nf; k++) {
        const cm_feature *f = &e->f[k];
        size_t c = (size_t)cols[k];
        if (!b->valid[c][i] ) {
            *which = k;
            return -1;
        }
        if (!f->cat) {
            double v = number(b, cm_schema_dtype(s, c), c, i);
            if (!isfinite(v)) {
                *which = k;
                return -1;
            }
            x[f->offset] = (float)((v - f->mean) / f->sd);
            continue;
        }
        /* Categories are matched by their strings, so codes of another
         * stream mean nothing here; unknown ones get the unseen slot. */
        memset(x + f->offset, 0, (f->ncats + 1) * sizeof *x);
        size_t len;
        const char *str = cm_dict_string(cm_schema_dict_c(s, c),
                                         ((const uint32_t *)b->values[c])[i], &len);
        uint32_t slot;
        if (!str || !cm_dict_find(cm_schema_dict_c(model_schema, f->col), str, len, &slot) ||
            slot >= f->ncats) {
            slot = f->ncats;
            if (unseen)
                (*unseen)++;
        }
        x[f->offset + slot] = 1;
    }
    return 0;
}

/* ---- the forward pass --------------------------------------------------------- */

size_t cm_model_scratch(const cm_model *m, size_t batch)
{
    size_t widest = 1;
    for (size_t l = 0; m->kind == CM_MODEL_MLP && l <= m->nlayers; l++)
        widest = m->size[l] > widest ? m->size[l] : widest;
    return 2 * widest * batch;
}

void cm_model_forward(const cm_model *m, size_t batch, const float *x,
                      double *y, float *scratch)
{
    const cm_encoder *e = &m->enc;
    if (m->kind == CM_MODEL_LINEAR) {
        for (size_t r = 0; r < batch; r++) {
            double s = m->intercept;
            for (size_t j = 0; j < e->width; j++)
                s += m->coef[j] * x[r * e->width + j];
            y[r] = s * e->tsd + e->tmean;
        }
        return;
    }
    size_t widest = cm_model_scratch(m, 1) / 2;
    float *a = scratch, *z = scratch + widest * batch;
    const float *in = x;
    for (size_t l = 0; l < m->nlayers; l++) {
        cm_dense_forward(batch, m->size[l], m->size[l + 1], in, m->W[l], m->b[l], z, 1);
        if (l + 1 < m->nlayers)
            cm_act_forward(m->act, batch * m->size[l + 1], z, z);
        float *t = a; /* the output becomes the next input */
        a = z;
        z = t;
        in = a;
    }
    for (size_t r = 0; r < batch; r++)
        y[r] = (double)in[r] * e->tsd + e->tmean;
}

cm_status cm_model_predict(const cm_model *m, const cm_schema *s,
                           const cm_batch *b, double *pred, uint8_t *ok,
                           size_t *why, uint64_t *unseen, cm_error *err)
{
    size_t n = cm_batch_nrows(b), w = m->enc.width ? m->enc.width : 1;
    long *cols = malloc((m->enc.nf + 1) * sizeof *cols);
    float *x = malloc(w * sizeof *x);
    float *scratch = malloc(cm_model_scratch(m, 1) * sizeof *scratch);
    cm_status st = cols && x && scratch ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st)
        st = cm_encoder_bind(&m->enc, s, cols, err);
    for (size_t i = 0; !st && i < n; i++) {
        size_t which;
        ok[i] = cm_encoder_row(&m->enc, m->schema, s, cols, b, i, x, &which, unseen) == 0;
        pred[i] = 0;
        if (why)
            why[i] = ok[i] ? SIZE_MAX : which;
        if (ok[i])
            cm_model_forward(m, 1, x, &pred[i], scratch);
    }
    free(cols);
    free(x);
    free(scratch);
    return st;
}

/* ---- the rest --------------------------------------------------------------- */

void cm_model_free(cm_model *m)
{
    if (!m)
        return;
    cm_encoder_release(&m->enc);
    cm_schema_free(m->schema);
    cm_kv_release(&m->meta);
    for (size_t l = 0; l < m->nlayers; l++) {
        free(m->W ? m->W[l] : NULL);
        free(m->b ? m->b[l] : NULL);
    }
    free(m->W);
    free(m->b);
    free(m->size);
    free(m->coef);
    free(m);
}

const cm_kv *cm_model_meta(const cm_model *m) { return &m->meta; }
const cm_schema *cm_model_schema(const cm_model *m) { return m->schema; }
const char *cm_model_target(const cm_model *m) { return m->enc.target; }
size_t cm_model_ninputs(const cm_model *m) { return m->enc.nf; }
const char *cm_model_input(const cm_model *m, size_t i) { return m->enc.f[i].name; }

int cm_model_needs(const cm_model *m, const char *name)
{
    for (size_t i = 0; i < m->enc.nf; i++)
        if (!strcmp(m->enc.f[i].name, name))
            return 1;
    return 0;
}

void cm_model_describe(const cm_model *m, FILE *out)
{
    fprintf(out, "format: cmm 1.0\nkind: %s\n",
            m->kind == CM_MODEL_LINEAR ? "linear" : "mlp");
    if (m->kind == CM_MODEL_MLP) {
        fputs("layers:", out);
        for (size_t l = 0; l <= m->nlayers; l++)
            fprintf(out, " %zu", m->size[l]);
        fputc('\n', out);
    }
    char a[32], b[32];
    cm_fmt_f64(a, sizeof a, m->enc.tmean);
    cm_fmt_f64(b, sizeof b, m->enc.tsd);
    fprintf(out, "target: %s (mean %s, sd %s)\n", m->enc.target, a, b);
    fprintf(out, "inputs: %zu columns, %zu values\n", m->enc.nf, m->enc.width);
    for (size_t i = 0; i < m->enc.nf; i++) {
        const cm_feature *f = &m->enc.f[i];
        if (f->cat) {
            fprintf(out, "  %s: category, %u known + unseen\n", f->name, f->ncats);
        } else {
            cm_fmt_f64(a, sizeof a, f->mean);
            cm_fmt_f64(b, sizeof b, f->sd);
            fprintf(out, "  %s: number, mean %s, sd %s\n", f->name, a, b);
        }
    }
    fputs("metadata:\n", out);
    for (size_t i = 0; i < cm_kv_count(&m->meta); i++)
        fprintf(out, "  %s=%s\n", cm_kv_key(&m->meta, i), cm_kv_value(&m->meta, i));
    const cm_schema *s = m->schema;
    fprintf(out, "recipe: %zu steps\n", cm_recipe_nsteps(s));
    for (size_t i = 0; i < cm_recipe_nsteps(s); i++) {
        const cm_kv *p = cm_recipe_params_c(s, i);
        fprintf(out, "  %zu %s\n", i + 1, cm_recipe_op(s, i));
        for (size_t k = 0; k < cm_kv_count(p); k++)
            fprintf(out, "    %s=%s\n", cm_kv_key(p, k), cm_kv_value(p, k));
    }
}
