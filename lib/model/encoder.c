/* encoder.c - rows into the input vectors of a model: standardized
 * numbers and one-hot categories with an unseen slot.  Training rows and
 * rows to forecast go through the same cm_encoder_encode, so a model can
 * never see its inputs made two ways. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

void cm_encoder_encode(const cm_encoder *e, const double *num, const uint32_t *cat,
                       float *x)
{
    size_t jn = 0, jc = 0;
    for (size_t k = 0; k < e->nf; k++) {
        const cm_feature *f = &e->f[k];
        if (f->cat) {
            uint32_t code = cat[jc++];
            if (code == CM_CODE_MISSING) { /* raw only: the trees' default way */
                for (size_t j = 0; j <= f->ncats; j++)
                    x[f->offset + j] = NAN;
                continue;
            }
            memset(x + f->offset, 0, (f->ncats + 1) * sizeof *x);
            x[f->offset + (code < f->ncats ? code : f->ncats)] = 1;
        } else {
            x[f->offset] = (float)((num[jn++] - f->mean) / f->sd);
        }
    }
}

int cm_encoder_slot_name(const cm_encoder *e, const cm_schema *s, size_t j, char *buf,
                         size_t n)
{
    for (size_t k = 0; k < e->nf; k++) {
        const cm_feature *f = &e->f[k];
        if (j < f->offset || j > f->offset + (f->cat ? f->ncats : 0))
            continue;
        if (!f->cat)
            return snprintf(buf, n, "%s", f->name);
        if (j == f->offset + f->ncats)
            return snprintf(buf, n, "%s=(unseen)", f->name);
        size_t len = 0;
        const char *v = cm_dict_string(cm_schema_dict_c(s, f->col), (uint32_t)(j - f->offset),
                                       &len);
        return snprintf(buf, n, "%s=%.*s", f->name, (int)(v ? len : 0), v ? v : "");
    }
    return snprintf(buf, n, "?");
}

void cm_encoder_release(cm_encoder *e)
{
    for (size_t i = 0; i < e->nf; i++)
        free(e->f[i].name);
    free(e->f);
    free(e->target);
    memset(e, 0, sizeof *e);
}

cm_status cm_encoder_copy(cm_encoder *to, const cm_encoder *from, cm_error *err)
{
    *to = *from;
    to->f = calloc(from->nf + 1, sizeof *to->f);
    to->nf = 0;
    to->target = cm_strndup(from->target, strlen(from->target));
    if (!to->f || !to->target)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < from->nf; k++, to->nf++) {
        to->f[k] = from->f[k];
        if (!(to->f[k].name = cm_strndup(from->f[k].name, strlen(from->f[k].name))))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    return CM_OK;
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

cm_status cm_enc_bind_init(cm_enc_bind *bd, const cm_encoder *e, const cm_schema *s,
                           size_t rows, cm_error *err)
{
    size_t n = e->nf + 1;
    *bd = (cm_enc_bind){calloc(n, sizeof *bd->cols), calloc(n, sizeof *bd->dt),
                        calloc(n, sizeof *bd->map), calloc(n, sizeof *bd->nmap)};
    if (!bd->cols || !bd->dt || !bd->map || !bd->nmap)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    cm_status st = cm_encoder_bind(e, s, bd->cols, err);
    for (size_t k = 0; !st && k < e->nf; k++) {
        size_t c = (size_t)bd->cols[k];
        bd->dt[k] = cm_schema_dtype(s, c);
        size_t size = e->f[k].cat ? cm_dict_size(cm_schema_dict_c(s, c)) : 0;
        if (size && size <= 4 * rows + 64) { /* else the map costs more than it saves */
            if (!(bd->map[k] = calloc(size, sizeof *bd->map[k])))
                return cm_fail(err, CM_ERR_NOMEM, "out of memory");
            bd->nmap[k] = size;
        }
    }
    return st;
}

void cm_enc_bind_release(cm_enc_bind *bd, const cm_encoder *e)
{
    for (size_t k = 0; bd->map && k < e->nf; k++)
        free(bd->map[k]);
    free(bd->cols), free(bd->dt), free(bd->map), free(bd->nmap);
    memset(bd, 0, sizeof *bd);
}

int cm_encoder_row(const cm_encoder *e, const cm_schema *model_schema, const cm_schema *s,
                   const cm_enc_bind *bd, const cm_ccols *b, size_t i, double *num,
                   uint32_t *cat, float *x, size_t *which, uint64_t *unseen)
{
    size_t jn = 0, jc = 0;
    for (size_t k = 0; k < e->nf; k++) {
        const cm_feature *f = &e->f[k];
        size_t c = (size_t)bd->cols[k];
        if (!b->valid[c][i] && e->raw) { /* missing, and taken as such */
            if (f->cat)
                cat[jc++] = CM_CODE_MISSING;
            else
                num[jn++] = NAN;
            continue;
        }
        if (!b->valid[c][i]) {
            *which = k;
            return -1;
        }
        if (!f->cat) {
            double v = cm_cell_f64(b->values[c], bd->dt[k], i);
            if (!isfinite(v)) {
                *which = k;
                return -1;
            }
            num[jn++] = v;
            continue;
        }
        /* Categories are matched by their strings, so codes of another
         * stream mean nothing here; unknown ones get the unseen slot. */
        uint32_t from = ((const uint32_t *)b->values[c])[i], code;
        if (from < bd->nmap[k] && bd->map[k][from]) {
            code = bd->map[k][from] - 1;
        } else {
            size_t len;
            const char *str = cm_dict_string(cm_schema_dict_c(s, c), from, &len);
            if (!str || !cm_dict_find(cm_schema_dict_c(model_schema, f->col), str, len, &code) ||
                code >= f->ncats)
                code = f->ncats;
            if (from < bd->nmap[k])
                bd->map[k][from] = code + 1;
        }
        if (code == f->ncats && unseen)
            (*unseen)++;
        cat[jc++] = code;
    }
    cm_encoder_encode(e, num, cat, x);
    return 0;
}
