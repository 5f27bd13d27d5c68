/* predinputs.c - what a model asks of a row, from its recipe's compiled
 * clean step: the raw fields with their types and the categories the
 * model learned, the inputs it derives from them, and what a result
 * lacked. */
#include <math.h>
#include <string.h>

#include "predict/predictor.h"

size_t cm_pred_missing(const cm_model *m, const cm_pred_batch *p, size_t i, char *buf,
                       size_t n)
{
    size_t len = 0, r = p->at[i], more = 0;
    if (n)
        buf[0] = '\0';
    if (r == SIZE_MAX) /* cleaning left the row out */
        return (size_t)snprintf(buf, n, "%s", p->left[i] == CM_CLEAN_NO_TIME ? "the time"
                                              : "the row, which cleaning left out");
    for (size_t k = 0; k < cm_model_ninputs(m); k++) {
        const char *name = cm_model_input(m, k);
        long c = cm_schema_find(p->schema, name);
        int gone = c < 0 || !cm_batch_valid_c(p->b, (size_t)c)[r];
        if (!gone && cm_schema_dtype(p->schema, (size_t)c) == CM_F64)
            gone = !isfinite(((const double *)cm_batch_values_c(p->b, (size_t)c))[r]);
        /* whole names only, room left to count those that do not fit (a
         * sequence model's window is a hundred inputs) */
        if (gone && !more && len + 2 + strlen(name) + 24 < n)
            len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", name);
        else if (gone)
            more++;
    }
    if (more && len + 24 < n)
        len += (size_t)snprintf(buf + len, n - len, len ? ", and %zu more" : "%zu inputs", more);
    return len;
}

/* What a raw field of the input is for: any stage of the pipe accepts
 * rows without the fields the model can do without. */
static const char *purpose(const cm_predictor *p, const cm_model_field *f)
{
    int target = !strcmp(f->name, cm_model_target(p->m));
    int looked_back = p->feat && cm_features_plan_reads(p->feat, f->name);
    if (!strcmp(f->type, "time"))
        return "needed: the time";
    if (cm_model_needs(p->m, f->name))
        return "needed: an input";
    if (cm_clean_plan_feeds(p->clean, f->name))
        return "for a column of --derive";
    if (target)
        return looked_back ? "the target: for its lags and windows, and --eval"
                           : "the target: for --eval only";
    return looked_back ? "for the lags and windows of it" : "not needed";
}

/* The fields of the training input, their types and categories and
 * what they are for, then the inputs the recipe derives, then the
 * model's metadata. */
void cm_predictor_describe(const cm_predictor *p, FILE *out)
{
    const cm_model *m = p->m;
    fprintf(out, "target: %s\n", cm_model_target(m));
    if (p->clean) {
        cm_model_field f;
        fputs("fields:\n", out);
        for (size_t i = 0; cm_predictor_field(p, i, &f); i++) {
            fprintf(out, "  %s: %s", f.name, f.type);
            for (size_t j = 0; j < f.ncats; j++) {
                size_t len;
                const char *str = cm_model_field_category(&f, j, &len);
                fprintf(out, "%s%.*s", j ? ", " : " (", (int)len, str);
            }
            fprintf(out, "%s; %s\n", f.ncats ? ")" : "", purpose(p, &f));
        }
        fprintf(out, "time zone: %s\n", cm_tz_name(cm_clean_plan_tz(p->clean)));
    }
    fputs("derived inputs:", out);
    for (size_t i = 0, n = 0; i < cm_model_ninputs(m); i++) {
        const char *name = cm_model_input(m, i);
        if (cm_predictor_derives(p, name))
            fprintf(out, "%s%s", n++ ? ", " : " ", name);
    }
    fputc('\n', out);
    cm_model_describe_meta(m, out);
}

int cm_predictor_field(const cm_predictor *p, size_t i, cm_model_field *out)
{
    const char *name, *kind;
    if (!p->clean || !cm_clean_plan_field(p->clean, i, &name, &kind))
        return 0;
    const cm_schema *s = cm_model_schema(p->m);
    long c = cm_schema_find(s, name);
    /* only the categories the model learned; the others take its unseen slot */
    *out = (cm_model_field){name, kind, cm_model_categories(p->m, name),
                            c >= 0 ? cm_schema_dict_c(s, (size_t)c) : NULL};
    return 1;
}

const char *cm_model_field_category(const cm_model_field *f, size_t k, size_t *len)
{
    return cm_dict_string(f->dict, (uint32_t)k, len);
}

int cm_predictor_derives(const cm_predictor *p, const char *name)
{
    cm_model_field f;
    if (!cm_model_needs(p->m, name))
        return 0;
    /* a raw part of the time (an "hour" column) is not the input "hour" */
    for (size_t i = 0; cm_predictor_field(p, i, &f); i++)
        if (!strcmp(f.name, name) && strcmp(f.type, "time"))
            return 0;
    return 1;
}

int cm_predictor_is_field(const cm_predictor *p, const char *name)
{
    cm_model_field f;
    for (size_t i = 0; cm_predictor_field(p, i, &f); i++)
        if (!strcmp(f.name, name))
            return 1;
    return 0;
}

char cm_predictor_decimal(const cm_predictor *p)
{
    return p->clean ? cm_clean_plan_decimal(p->clean) : '.';
}
