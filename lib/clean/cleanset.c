/* cleanset.c - the cleaner's settings: read once from key/value pairs,
 * checked, and kept for the recipe. */
#include <stdlib.h>
#include <string.h>

#include "clean/clean.h"

const char *const cm_clean_kinds[] = {"auto", "num", "cat", "time", "skip"};

/* ---- settings -------------------------------------------------------------- */

void cm_clean_list_free(list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->item[i]);
    free(l->item);
    memset(l, 0, sizeof *l);
}

/* Splits a comma-separated value; empty items are kept ("" is a marker). */
cm_status cm_clean_split(const char *v, list *l, cm_error *err)
{
    cm_clean_list_free(l);
    for (const char *p = v;;) {
        const char *q = strchr(p, ',');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        char **it = realloc(l->item, (l->n + 1) * sizeof *it);
        char *s = malloc(n + 1);
        if (it)
            l->item = it;
        if (!it || !s) {
            free(s);
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        }
        memcpy(s, p, n);
        s[n] = '\0';
        l->item[l->n++] = s;
        if (!q)
            return CM_OK;
        p = q + 1;
    }
}

int cm_clean_in_list(const list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->item[i], s) == 0)
            return 1;
    return 0;
}

int cm_clean_policy(const char *v)
{
    static const char *const names[] = {"drop", "keep", "ffill", "interpolate"};
    for (int i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

static int yes_no(const char *v)
{
    return strcmp(v, "yes") == 0 ? 1 : strcmp(v, "no") == 0 ? 0 : -1;
}

cm_status cm_clean_bad_setting(cm_error *err, const char *k, const char *v,
                             const char *want)
{
    return cm_fail(err, CM_ERR_ARG, "%s: '%.64s' is not %s", k, v, want);
}

/* One setting that does not name a column; per-column ones wait for the
 * header. */
static cm_status apply(cm_clean *c, const char *k, const char *v, cm_error *err)
{
    char *end;
    if (!strcmp(k, "delimiter")) {
        if (!strcmp(v, "auto"))
            c->delim = 0;
        else if (!strcmp(v, "tab") || !strcmp(v, "\t"))
            c->delim = '\t';
        else if (strlen(v) == 1 && strchr(",;|", v[0]))
            c->delim = v[0];
        else
            return cm_clean_bad_setting(err, k, v, "one of , ; tab | auto");
    } else if (!strcmp(k, "decimal")) {
        if (strcmp(v, ".") && strcmp(v, ","))
            return cm_clean_bad_setting(err, k, v, "'.' or ','");
        c->decimal = v[0];
    } else if (!strcmp(k, "header") || !strcmp(k, "sort")) {
        int b = yes_no(v);
        if (b < 0)
            return cm_clean_bad_setting(err, k, v, "yes or no");
        *(k[0] == 'h' ? &c->header : &c->sort) = b;
    } else if (!strcmp(k, "sample") || !strcmp(k, "sort-memory") ||
               !strcmp(k, "max-gap") || !strcmp(k, "batch-rows")) {
        unsigned long long n = strtoull(v, &end, 10);
        if (!*v || *end || v[0] < '0' || v[0] > '9' || n == 0 || n > INT64_MAX)
            return cm_clean_bad_setting(err, k, v, "a positive whole number");
        if (!strcmp(k, "sample"))
            c->sample = (size_t)n;
        else if (!strcmp(k, "batch-rows"))
            c->batch_rows = n > 65536 ? 65536 : (size_t)n;
        else if (!strcmp(k, "sort-memory"))
            /* Below a megabyte each run would be a handful of rows, and
             * every run an open file until the merge. */
            c->sort_memory = n < (1u << 20) ? (1u << 20) : (size_t)n;
        else
            c->max_gap = (int64_t)n;
    } else if (!strcmp(k, "time")) {
        return cm_clean_split(v, &c->time, err);
    } else if (!strcmp(k, "time-format")) {
        cm_timefmt_free(c->tfmt);
        return (c->tfmt = cm_timefmt_new(v, err)) ? CM_OK : err->status;
    } else if (!strcmp(k, "tz")) {
        if (c->tz && !c->tz_owned && !strcmp(cm_tz_name(c->tz), v))
            return CM_OK; /* the caller's copy of this zone */
        cm_tz_free(c->tz_owned);
        return (c->tz = c->tz_owned = cm_tz_load(v, err)) ? CM_OK : err->status;
    } else if (!strcmp(k, "na")) {
        return cm_clean_split(v, &c->na, err);
    } else if (!strcmp(k, "missing")) {
        if ((c->policy = cm_clean_policy(v)) < 0)
            return cm_clean_bad_setting(err, k, v, "drop, keep, ffill or interpolate");
    } else if (!strcmp(k, "lower")) {
        return cm_clean_split(v, &c->lower, err);
    } else if (!strcmp(k, "columns")) {
        return cm_clean_split(v, &c->keep, err);
    } else if (!strcmp(k, "drop")) {
        return cm_clean_split(v, &c->drop, err);
    } else if (!strcmp(k, "dedupe")) {
        if (!strcmp(v, "first")) c->dedupe = DEDUPE_FIRST;
        else if (!strcmp(v, "last")) c->dedupe = DEDUPE_LAST;
        else if (!strcmp(v, "no")) c->dedupe = DEDUPE_NONE;
        else return cm_clean_bad_setting(err, k, v, "first, last or no");
    } else if (!strcmp(k, "key") || !strcmp(k, "tmpdir")) {
        char **dst = k[0] == 'k' ? &c->key : &c->tmpdir;
        free(*dst);
        if (!(*dst = malloc(strlen(v) + 1)))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        strcpy(*dst, v);
    } else if (!strcmp(k, "replay")) {
        if ((c->replay = yes_no(v)) < 0)
            return cm_clean_bad_setting(err, k, v, "yes or no");
    } else if (!strcmp(k, "absent-ok")) {
        return cm_clean_split(v, &c->absent_ok, err);
    } else if (!strcmp(k, "bad-rows")) {
        if (strcmp(v, "fail") && strcmp(v, "skip"))
            return cm_clean_bad_setting(err, k, v, "fail or skip");
        c->bad_skip = v[0] == 's';
    } else if (strncmp(k, "type.", 5) && strncmp(k, "missing.", 8) &&
               strncmp(k, "range.", 6)) {
        return cm_fail(err, CM_ERR_ARG, "unknown setting '%.64s'", k);
    }
    return CM_OK;
}

cm_clean *cm_clean_new(const cm_kv *settings, cm_error *err)
{
    return cm_clean_new_tz(settings, NULL, err);
}

cm_clean *cm_clean_new_tz(const cm_kv *settings, const cm_tz *tz, cm_error *err)
{
    cm_clean *c = calloc(1, sizeof *c);
    if (!c) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    /* A zone already read, lent for as long as c lives: a replay per
     * request would otherwise read the zone file each time. */
    c->tz = tz;
    c->decimal = '.';
    c->header = 1;
    c->sample = 1000;
    c->sort_memory = 256u << 20;
    c->policy = POLICY_DROP;
    c->time_out = c->key_out = -1;
    cm_status st = cm_kv_copy(&c->settings, settings, err);
    for (size_t i = 0; !st && i < cm_kv_count(settings); i++)
        st = apply(c, cm_kv_key(settings, i), cm_kv_value(settings, i), err);
    if (!st && !c->tz)
        c->tz = c->tz_owned = cm_tz_load("UTC", err);
    if (!st && !c->tz)
        st = err->status;
    /* A model's replay keeps every row, in input order, and fails on a
     * bad one rather than lose it. */
    if (!st && c->replay)
        c->sort = 0, c->dedupe = DEDUPE_NONE, c->bad_skip = 0;
    if (!st && c->decimal == c->delim)
        st = cm_fail(err, CM_ERR_ARG, "the decimal mark cannot be the delimiter");
    if (!st && !(c->na_len = calloc(c->na.n + 1, sizeof *c->na_len)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < c->na.n; i++)
        c->na_len[i] = strlen(c->na.item[i]);
    /* Missing markers that are numbers match numeric fields by value:
     * -200 catches -200.0 and, with a decimal comma, -200,0 too. */
    for (size_t i = 0; !st && i < c->na.n; i++) {
        double v;
        const char *m = c->na.item[i];
        if (cm_parse_num(m, strlen(m), '.', &v) &&
            cm_parse_num(m, strlen(m), c->decimal, &v))
            continue;
        double *p = realloc(c->na_num, (c->nna_num + 1) * sizeof *p);
        if (!p)
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
        else
            (c->na_num = p)[c->nna_num++] = v;
    }
    if (st) {
        cm_clean_free(c);
        return NULL;
    }
    return c;
}

void cm_clean_free(cm_clean *c)
{
    if (!c)
        return;
    cm_kv_release(&c->settings);
    cm_clean_list_free(&c->na);
    cm_clean_list_free(&c->time);
    cm_clean_list_free(&c->lower);
    cm_clean_list_free(&c->keep);
    cm_clean_list_free(&c->drop);
    cm_clean_list_free(&c->absent_ok);
    free(c->pad_f);
    free(c->pad_len);
    free(c->time_idx);
    free(c->na_len);
    free(c->na_num);
    free(c->key);
    free(c->tmpdir);
    cm_timefmt_free(c->tfmt);
    cm_tz_free(c->tz_owned);
    for (size_t i = 0; i < c->ncols; i++)
        free(c->cols[i].name);
    free(c->cols);
    cm_schema_free(c->schema);
    free(c->out_policy);
    free(c->st.dropped_missing);
    free(c->st.out_of_range);
    free(c->st.filled);
    free(c);
}
