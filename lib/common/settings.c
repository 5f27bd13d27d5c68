/* settings.c - settings declared once per stage: a value checked against
 * its declaration, put in its normal form, and read into a typed struct.
 * The programs build their command lines from the same tables. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

const cm_setting *cm_settings_find(const cm_settings *t, const char *key,
                                   const char **part)
{
    *part = NULL;
    for (size_t i = 0; i < t->n; i++) {
        const cm_setting *s = &t->set[i];
        size_t n = strlen(s->name);
        if (strncmp(key, s->name, n))
            continue;
        if (!key[n] && !(s->flags & (CM_SET_PER_COLUMN | CM_SET_REPEAT)))
            return s;
        /* NAME.COL for a column's own value, NAME.N for a repeat */
        if (key[n] == '.' && key[n + 1] &&
            (s->flags & (CM_SET_PER_COLUMN | CM_SET_OR_COLUMN | CM_SET_REPEAT))) {
            *part = key + n + 1;
            return s;
        }
    }
    return NULL;
}

/* "a, b or c" from "a|b|c". */
static void choices_text(const char *choices, char *buf, size_t n)
{
    size_t len = 0, k = 0, count = 1;
    for (const char *p = choices; *p; p++)
        count += *p == '|';
    buf[0] = '\0';
    for (const char *p = choices; len < n; k++) {
        size_t w = strcspn(p, "|");
        const char *sep = k == 0 ? "" : k + 1 == count ? " or " : ", ";
        int m = snprintf(buf + len, n - len, "%s%.*s", sep, (int)w, p);
        len += m > 0 ? (size_t)m : 0;
        if (!p[w])
            break;
        p += w + 1;
    }
}

void cm_setting_want(const cm_setting *s, char *buf, size_t n)
{
    if (s->want) {
        snprintf(buf, n, "%s", s->want);
        return;
    }
    switch (s->type) {
    case CM_SET_FLAG: snprintf(buf, n, "yes or no"); break;
    case CM_SET_TEXT: snprintf(buf, n, "text"); break;
    case CM_SET_COUNT:
        if (s->hi > 0)
            snprintf(buf, n, "a whole number from %.15g to %.15g", s->lo, s->hi);
        else if (s->lo == 1)
            snprintf(buf, n, "a positive whole number");
        else
            snprintf(buf, n, "a whole number");
        break;
    case CM_SET_NUM: snprintf(buf, n, "a number from %g to %g", s->lo, s->hi); break;
    case CM_SET_CHOICE: choices_text(s->choices, buf, n); break;
    case CM_SET_DURATION: snprintf(buf, n, "a duration like 2h"); break;
    case CM_SET_SIZE: snprintf(buf, n, "a size like 256M"); break;
    }
}

static int is_choice(const char *choices, const char *v, int *index)
{
    size_t len = strlen(v);
    int k = 0;
    for (const char *p = choices;; k++) {
        size_t w = strcspn(p, "|");
        if (w == len && !strncmp(p, v, w)) {
            *index = k;
            return 1;
        }
        if (!p[w])
            return 0;
        p += w + 1;
    }
}

/* The value as the type reads it: 0 and its normal form, or -1. */
static int normal(const cm_setting *s, const char *v, char *norm, size_t n)
{
    int k;
    char *end;
    switch (s->type) {
    case CM_SET_FLAG:
        if (strcmp(v, "yes") && strcmp(v, "no"))
            return -1;
        break;
    case CM_SET_TEXT:
        break;
    case CM_SET_COUNT: {
        /* digits only: "1.9 epochs" must not silently be one */
        if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 18)
            return -1;
        double x = strtod(v, NULL);
        if (x < s->lo || (s->hi > 0 && x > s->hi))
            return -1;
        break;
    }
    case CM_SET_NUM: {
        double x = strtod(v, &end);
        if (!*v || *end || !(x >= s->lo && x <= s->hi))
            return -1;
        break;
    }
    case CM_SET_CHOICE:
        if (!is_choice(s->choices, v, &k))
            return -1;
        break;
    case CM_SET_DURATION: {
        int64_t secs;
        if (cm_parse_duration(v, &secs) || secs < (int64_t)s->lo)
            return -1;
        snprintf(norm, n, "%lld", (long long)secs);
        return 0;
    }
    case CM_SET_SIZE: {
        uint64_t bytes;
        if (cm_parse_size(v, &bytes) || bytes == 0)
            return -1;
        snprintf(norm, n, "%llu", (unsigned long long)bytes);
        return 0;
    }
    }
    if (s->check && s->check(v))
        return -1;
    if (strlen(v) >= n)
        return -1;
    memcpy(norm, v, strlen(v) + 1);
    return 0;
}

cm_status cm_setting_check(const cm_setting *s, const char *label, const char *value,
                           char *norm, size_t n, cm_error *err)
{
    if (normal(s, value, norm, n) == 0)
        return CM_OK;
    char want[256];
    cm_setting_want(s, want, sizeof want);
    return cm_fail(err, CM_ERR_ARG, "%s: '%.64s' is not %s", label, value, want);
}

/* One value, checked, into its field. */
static cm_status store(const cm_setting *s, const char *label, const char *v, void *out,
                       cm_error *err)
{
    char norm[CM_MAX_NAME + 1];
    cm_status st = cm_setting_check(s, label, v, norm, sizeof norm, err);
    if (st || s->offset == CM_SET_NOWHERE)
        return st;
    void *at = (char *)out + s->offset;
    int k = 0;
    switch (s->type) {
    case CM_SET_FLAG: *(int *)at = !strcmp(norm, "yes"); break;
    case CM_SET_TEXT: *(const char **)at = v; break;
    case CM_SET_COUNT:
    case CM_SET_DURATION: *(int64_t *)at = strtoll(norm, NULL, 10); break;
    case CM_SET_NUM: *(double *)at = strtod(norm, NULL); break;
    case CM_SET_CHOICE: is_choice(s->choices, norm, &k), *(int *)at = k; break;
    case CM_SET_SIZE: *(uint64_t *)at = strtoull(norm, NULL, 10); break;
    }
    return CM_OK;
}

cm_status cm_settings_read(const cm_settings *t, const cm_kv *kv, void *out,
                           cm_error *err)
{
    /* Every key first: a misspelt one must not leave its default working. */
    for (size_t i = 0; i < cm_kv_count(kv); i++) {
        const char *key = cm_kv_key(kv, i), *part;
        const cm_setting *s = cm_settings_find(t, key, &part);
        if (!s)
            return cm_fail(err, CM_ERR_ARG, "unknown setting '%.64s'", key);
        /* a column's or a repeat's own value is the stage's to keep */
        if (part) {
            char norm[CM_MAX_NAME + 1];
            cm_status st = cm_setting_check(s, key, cm_kv_value(kv, i), norm, sizeof norm,
                                            err);
            if (st)
                return st;
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        const cm_setting *s = &t->set[i];
        const char *v = cm_kv_get(kv, s->name);
        if (s->flags & (CM_SET_PER_COLUMN | CM_SET_REPEAT))
            continue;
        if (!v)
            v = s->dflt;
        if (v) {
            cm_status st = store(s, s->name, v, out, err);
            if (st)
                return st;
        }
    }
    return CM_OK;
}
