/* schema.c - what a stream holds besides its rows: columns, their
 * dictionaries and metadata, stream metadata, and the recipe. */
#include <stdlib.h>
#include <string.h>

#include "stream/stream.h"

typedef struct column {
    char *name;
    cm_dtype type;
    cm_role role;
    cm_kv *meta;
    cm_dict *dict; /* CM_CAT only */
} column;

typedef struct step {
    char *op;
    cm_kv *params;
} step;

struct cm_schema {
    column *cols;
    size_t ncols, cap;
    cm_kv *meta;
    step *steps;
    size_t nsteps, steps_cap;
};

static const char *const dtype_names[] = {NULL, "f32", "f64", "i64", "time", "cat"};
static const char *const role_names[] = {"feature", "target", "time", "id", "weight"};

const char *cm_dtype_name(cm_dtype t)
{
    return t >= CM_F32 && t <= CM_CAT ? dtype_names[t] : NULL;
}

const char *cm_role_name(cm_role r)
{
    return (unsigned)r <= CM_ROLE_WEIGHT ? role_names[r] : NULL;
}

int cm_dtype_parse(const char *s, cm_dtype *t)
{
    for (int i = CM_F32; i <= CM_CAT; i++)
        if (strcmp(s, dtype_names[i]) == 0) {
            *t = (cm_dtype)i;
            return 0;
        }
    return -1;
}

int cm_role_parse(const char *s, cm_role *r)
{
    for (int i = 0; i <= CM_ROLE_WEIGHT; i++)
        if (strcmp(s, role_names[i]) == 0) {
            *r = (cm_role)i;
            return 0;
        }
    return -1;
}

void cm_schema_free(cm_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ncols; i++) {
        free(s->cols[i].name);
        cm_kv_free(s->cols[i].meta);
        cm_dict_free(s->cols[i].dict);
    }
    for (size_t i = 0; i < s->nsteps; i++) {
        free(s->steps[i].op);
        cm_kv_free(s->steps[i].params);
    }
    free(s->cols);
    free(s->steps);
    cm_kv_free(s->meta);
    free(s);
}

cm_schema *cm_schema_new(void)
{
    cm_schema *s = calloc(1, sizeof *s);
    if (s && !(s->meta = cm_kv_new())) {
        free(s);
        return NULL;
    }
    return s;
}

cm_status cm_schema_add(cm_schema *s, const char *name, cm_dtype type,
                        cm_role role, size_t *index, cm_error *err)
{
    size_t len = strlen(name);
    if (!cm_dtype_name(type) || !cm_role_name(role))
        return cm_fail(err, CM_ERR_ARG, "column '%.64s': invalid type or role",
                       name);
    if (len == 0 || len > CM_MAX_NAME || !cm_utf8_valid(name, len))
        return cm_fail(err, CM_ERR_DATA,
                       "column name '%.64s' is empty, too long or not UTF-8",
                       name);
    if (cm_schema_find(s, name) >= 0)
        return cm_fail(err, CM_ERR_DATA, "duplicate column name '%.64s'", name);
    if (s->ncols >= CM_MAX_COLUMNS)
        return cm_fail(err, CM_ERR_LIMIT, "more than %u columns",
                       (unsigned)CM_MAX_COLUMNS);
    if (s->ncols == s->cap) {
        size_t cap = cm_cap_for(s->cap, s->ncols, 8);
        if (cm_resize(&s->cols, s->ncols, cap, sizeof *s->cols, err))
            return CM_ERR_NOMEM;
        s->cap = cap;
    }
    column *c = &s->cols[s->ncols];
    memset(c, 0, sizeof *c);
    c->name = cm_strndup(name, len);
    c->meta = cm_kv_new();
    if (c->name && type == CM_CAT)
        c->dict = cm_dict_new();
    if (!c->name || !c->meta || (type == CM_CAT && !c->dict)) {
        free(c->name);
        cm_kv_free(c->meta);
        cm_dict_free(c->dict);
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    c->type = type;
    c->role = role;
    if (index)
        *index = s->ncols;
    s->ncols++;
    return CM_OK;
}

size_t cm_schema_ncols(const cm_schema *s) { return s->ncols; }
const char *cm_schema_name(const cm_schema *s, size_t col) { return s->cols[col].name; }
cm_dtype cm_schema_dtype(const cm_schema *s, size_t col) { return s->cols[col].type; }
cm_role cm_schema_role(const cm_schema *s, size_t col) { return s->cols[col].role; }
void cm_schema_set_role(cm_schema *s, size_t col, cm_role role) { s->cols[col].role = role; }
cm_kv *cm_schema_col_meta(cm_schema *s, size_t col) { return s->cols[col].meta; }
const cm_kv *cm_schema_col_meta_c(const cm_schema *s, size_t col) { return s->cols[col].meta; }
cm_dict *cm_schema_dict(cm_schema *s, size_t col) { return s->cols[col].dict; }
const cm_dict *cm_schema_dict_c(const cm_schema *s, size_t col) { return s->cols[col].dict; }
cm_kv *cm_schema_meta(cm_schema *s) { return s->meta; }
const cm_kv *cm_schema_meta_c(const cm_schema *s) { return s->meta; }

long cm_schema_find(const cm_schema *s, const char *name)
{
    for (size_t i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].name, name) == 0)
            return (long)i;
    return -1;
}

size_t cm_recipe_nsteps(const cm_schema *s) { return s->nsteps; }
const char *cm_recipe_op(const cm_schema *s, size_t i) { return s->steps[i].op; }
cm_kv *cm_recipe_params(cm_schema *s, size_t i) { return s->steps[i].params; }
const cm_kv *cm_recipe_params_c(const cm_schema *s, size_t i) { return s->steps[i].params; }

cm_status cm_recipe_add(cm_schema *s, const char *op, size_t *index,
                        cm_error *err)
{
    size_t len = strlen(op);
    if (len == 0 || len > CM_MAX_NAME || !cm_utf8_valid(op, len))
        return cm_fail(err, CM_ERR_ARG, "recipe step name is empty or invalid");
    if (s->nsteps == s->steps_cap) {
        size_t cap = cm_cap_for(s->steps_cap, s->nsteps, 8);
        if (cm_resize(&s->steps, s->nsteps, cap, sizeof *s->steps, err))
            return CM_ERR_NOMEM;
        s->steps_cap = cap;
    }
    step *st = &s->steps[s->nsteps];
    st->op = cm_strndup(op, len);
    st->params = cm_kv_new();
    if (!st->op || !st->params) {
        free(st->op);
        cm_kv_free(st->params);
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    if (index)
        *index = s->nsteps;
    s->nsteps++;
    return CM_OK;
}

cm_schema *cm_schema_clone(const cm_schema *src)
{
    cm_schema *s = cm_schema_new();
    if (!s)
        return NULL;
    if (cm_kv_copy(s->meta, src->meta, NULL))
        goto fail;
    for (size_t i = 0; i < src->ncols; i++) {
        const column *c = &src->cols[i];
        if (cm_schema_add(s, c->name, c->type, c->role, NULL, NULL) ||
            cm_kv_copy(s->cols[i].meta, c->meta, NULL))
            goto fail;
        if (c->dict) {
            cm_dict_free(s->cols[i].dict);
            s->cols[i].dict = cm_dict_clone(c->dict);
            if (!s->cols[i].dict)
                goto fail;
        }
    }
    for (size_t i = 0; i < src->nsteps; i++)
        if (cm_recipe_add(s, src->steps[i].op, NULL, NULL) ||
            cm_kv_copy(s->steps[i].params, src->steps[i].params, NULL))
            goto fail;
    return s;
fail:
    cm_schema_free(s);
    return NULL;
}

void cm_recipe_drop_last(cm_schema *s)
{
    if (!s->nsteps)
        return;
    s->nsteps--;
    free(s->steps[s->nsteps].op);
    cm_kv_free(s->steps[s->nsteps].params);
}

static const char *schema_name(const void *ctx, size_t i)
{
    return cm_schema_name(ctx, i);
}

cm_status cm_schema_no_column(const cm_schema *s, const char *what, const char *name,
                              cm_error *err)
{
    return cm_fail_no_column(err, what, name, schema_name, s, cm_schema_ncols(s));
}
