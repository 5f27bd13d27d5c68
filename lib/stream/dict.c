/* dict.c - append-only string dictionaries for categorical columns.
 * Strings live back to back in one arena; an open-addressing table of
 * codes finds them, so interning a repeated value costs one hash and one
 * memcmp and allocates nothing. */
#include <stdlib.h>
#include <string.h>

#include "stream/stream.h"

struct cm_dict {
    char *arena;          /* strings, each followed by a NUL */
    size_t arena_len, arena_cap;
    size_t *offset;       /* code -> start in arena; offset[n] = end */
    uint32_t n, cap;
    uint32_t *table;      /* code + 1, 0 = empty slot */
    size_t table_size;    /* a power of two, kept at most half full */
};

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

void cm_dict_free(cm_dict *d)
{
    if (!d)
        return;
    free(d->arena);
    free(d->offset);
    free(d->table);
    free(d);
}

cm_dict *cm_dict_new(void)
{
    cm_dict *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->offset = calloc(1, sizeof *d->offset);
    if (!d->offset) {
        free(d);
        return NULL;
    }
    return d;
}

uint32_t cm_dict_size(const cm_dict *d)
{
    return d->n;
}

const char *cm_dict_string(const cm_dict *d, uint32_t code, size_t *len)
{
    if (code >= d->n)
        return NULL;
    if (len)
        *len = d->offset[code + 1] - d->offset[code] - 1;
    return d->arena + d->offset[code];
}

static size_t slot_of(const cm_dict *d, const char *s, size_t len, int *found)
{
    size_t mask = d->table_size - 1;
    size_t i = (size_t)hash(s, len) & mask;
    for (;;) {
        uint32_t c = d->table[i];
        if (c == 0) {
            *found = 0;
            return i;
        }
        size_t clen = d->offset[c] - d->offset[c - 1] - 1;
        if (clen == len && memcmp(d->arena + d->offset[c - 1], s, len) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
}

int cm_dict_find(const cm_dict *d, const char *s, size_t len, uint32_t *code)
{
    int found;
    if (d->table_size == 0)
        return 0;
    size_t i = slot_of(d, s, len, &found);
    if (found && code)
        *code = d->table[i] - 1;
    return found;
}

static int rehash(cm_dict *d, size_t size)
{
    uint32_t *t = calloc(size, sizeof *t);
    if (!t)
        return -1;
    free(d->table);
    d->table = t;
    d->table_size = size;
    for (uint32_t c = 0; c < d->n; c++) {
        int found;
        size_t len = d->offset[c + 1] - d->offset[c] - 1;
        t[slot_of(d, d->arena + d->offset[c], len, &found)] = c + 1;
    }
    return 0;
}

cm_status cm_dict_intern(cm_dict *d, const char *s, size_t len, uint32_t *code,
                         cm_error *err)
{
    if (cm_dict_find(d, s, len, code))
        return CM_OK;
    if (d->n >= CM_MAX_DICT)
        return cm_fail_as(err, CM_ERR_LIMIT, CM_DETAIL_TOO_MANY, "more than %u categories",
                          (unsigned)CM_MAX_DICT);
    if (len > CM_MAX_NAME)
        return cm_fail_as(err, CM_ERR_LIMIT, CM_DETAIL_TOO_LONG,
                          "category of %zu bytes (at most %u)", len, (unsigned)CM_MAX_NAME);
    if (!cm_utf8_valid(s, len))
        return cm_fail_as(err, CM_ERR_DATA, CM_DETAIL_UTF8, "category is not valid UTF-8");
    if ((size_t)(d->n + 1) * 2 > d->table_size &&
        rehash(d, d->table_size ? d->table_size * 2 : 64))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (d->n + 1 >= d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 16;
        size_t *o = realloc(d->offset, ((size_t)cap + 1) * sizeof *o);
        if (!o)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        d->offset = o;
        d->cap = cap;
    }
    if (d->arena_len + len + 1 > d->arena_cap) {
        size_t cap = d->arena_cap ? d->arena_cap : 256;
        while (cap < d->arena_len + len + 1)
            cap *= 2;
        char *a = realloc(d->arena, cap);
        if (!a)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        d->arena = a;
        d->arena_cap = cap;
    }
    memcpy(d->arena + d->arena_len, s, len);
    d->arena[d->arena_len + len] = '\0';
    d->arena_len += len + 1;
    d->n++;
    d->offset[d->n] = d->arena_len;
    int found;
    d->table[slot_of(d, s, len, &found)] = d->n;
    if (code)
        *code = d->n - 1;
    return CM_OK;
}

cm_dict *cm_dict_clone(const cm_dict *src)
{
    cm_dict *d = cm_dict_new();
    for (uint32_t c = 0; d && c < src->n; c++) {
        size_t len;
        const char *s = cm_dict_string(src, c, &len);
        if (cm_dict_intern(d, s, len, NULL, NULL)) {
            cm_dict_free(d);
            return NULL;
        }
    }
    return d;
}
