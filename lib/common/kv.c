/* kv.c - small ordered key/value lists for metadata and recipe parameters.
 * They hold a handful of entries, so a linear search is the right tool. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

struct cm_kv {
    char **keys, **values;
    size_t n, cap;
};

cm_kv *cm_kv_new(void)
{
    return calloc(1, sizeof(cm_kv));
}

void cm_kv_free(cm_kv *kv)
{
    if (kv) {
        cm_kv_clear(kv);
        free(kv);
    }
}

size_t cm_kv_count(const cm_kv *kv)
{
    return kv->n;
}

const char *cm_kv_key(const cm_kv *kv, size_t i)
{
    return i < kv->n ? kv->keys[i] : NULL;
}

const char *cm_kv_value(const cm_kv *kv, size_t i)
{
    return i < kv->n ? kv->values[i] : NULL;
}

const char *cm_kv_get(const cm_kv *kv, const char *key)
{
    for (size_t i = 0; i < kv->n; i++)
        if (strcmp(kv->keys[i], key) == 0)
            return kv->values[i];
    return NULL;
}


cm_status cm_kv_set(cm_kv *kv, const char *key, const char *value, cm_error *err)
{
    size_t klen = strlen(key), vlen = strlen(value);
    if (klen == 0 || klen > CM_MAX_NAME || vlen > CM_MAX_NAME)
        return cm_fail(err, CM_ERR_LIMIT,
                       "metadata key '%.64s' is empty or too long", key);
    if (!cm_utf8_valid(key, klen) || !cm_utf8_valid(value, vlen))
        return cm_fail(err, CM_ERR_ARG, "metadata '%.64s' is not valid UTF-8",
                       key);
    char *v = cm_strdup(value);
    if (!v)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < kv->n; i++) {
        if (strcmp(kv->keys[i], key) == 0) {
            free(kv->values[i]);
            kv->values[i] = v;
            return CM_OK;
        }
    }
    if (kv->n == kv->cap) {
        size_t cap = kv->cap ? kv->cap * 2 : 4;
        char **k = realloc(kv->keys, cap * sizeof *k);
        if (k)
            kv->keys = k;
        char **vv = k ? realloc(kv->values, cap * sizeof *vv) : NULL;
        if (!vv) {
            free(v);
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        }
        kv->values = vv;
        kv->cap = cap;
    }
    char *k = cm_strdup(key);
    if (!k) {
        free(v);
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    kv->keys[kv->n] = k;
    kv->values[kv->n] = v;
    kv->n++;
    return CM_OK;
}

void cm_kv_clear(cm_kv *kv)
{
    for (size_t i = 0; i < kv->n; i++) {
        free(kv->keys[i]);
        free(kv->values[i]);
    }
    free(kv->keys);
    free(kv->values);
    memset(kv, 0, sizeof *kv);
}

cm_status cm_kv_copy(cm_kv *dst, const cm_kv *src, cm_error *err)
{
    /* Into an empty list the entries go as they are: src's keys are
     * distinct and checked already (a replay copies recipes per request). */
    if (dst->n == 0 && src->n) {
        dst->keys = calloc(src->n, sizeof *dst->keys);
        dst->values = calloc(src->n, sizeof *dst->values);
        if (!dst->keys || !dst->values) {
            cm_kv_clear(dst);
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        }
        dst->cap = src->n;
        for (size_t i = 0; i < src->n; i++, dst->n++)
            if (!(dst->keys[i] = cm_strdup(src->keys[i])) || !(dst->values[i] = cm_strdup(src->values[i]))) {
                free(dst->keys[i]);
                return cm_fail(err, CM_ERR_NOMEM, "out of memory");
            }
        return CM_OK;
    }
    for (size_t i = 0; i < src->n; i++) {
        cm_status st = cm_kv_set(dst, src->keys[i], src->values[i], err);
        if (st)
            return st;
    }
    return CM_OK;
}

cm_status cm_kv_set_num(cm_kv *kv, const char *key, double v, cm_error *err)
{
    char buf[40];
    cm_fmt_f64(buf, sizeof buf, v);
    return cm_kv_set(kv, key, buf, err);
}
