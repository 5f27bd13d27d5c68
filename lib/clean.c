/* clean.c - cm-clean's engine, first half: settings, the header, type
 * inference over a leading sample, and turning each CSV record into a
 * typed row.  The rows then go through the stages of cleanrows.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clean.h"
#include "csvin.h"

enum { K_AUTO, K_NUM, K_CAT, K_TIME, K_SKIP };
static const char *const kind_names[] = {"auto", "num", "cat", "time", "skip"};

#define MAX_NOTES 5 /* skipped bad rows quoted in the report */

typedef struct incol {
    char *name;
    int kind;
    int explicit_kind;
    int time_part; /* position in the time setting, or -1 */
    long out;      /* output column, or -1 */
    int lower;
    int has_range;
    double lo, hi;
} incol;

typedef struct list {
    char **item;
    size_t n;
} list;

struct cm_clean {
    cm_kv settings;
    char delim, decimal;
    int header, sort, dedupe, bad_skip, policy;
    size_t sample, sort_memory;
    int64_t max_gap;
    list na, time, lower, keep, drop;
    size_t *time_idx; /* input column of each time part */
    size_t *na_len;   /* lengths of the extra markers */
    double *na_num;
    size_t nna_num;
    char *key, *tmpdir;
    cm_timefmt *tfmt;
    cm_tz *tz;
    incol *cols;
    size_t ncols;
    cm_schema *schema;
    int *out_policy;
    long time_out, key_out;
    cm_clean_stats st;
    char notes[MAX_NOTES][200];
    size_t nnotes;
    char delim_used;
    void (*progress)(void *, uint64_t);
    void *progress_ctx;
};

static const char *const default_na[] = {"", "NA", "N/A", "NaN", "nan",
                                         "null", "NULL", "-"};

/* ---- settings -------------------------------------------------------------- */

static void list_free(list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->item[i]);
    free(l->item);
    memset(l, 0, sizeof *l);
}

/* Splits a comma-separated value; empty items are kept ("" is a marker). */
static cm_status split_list(const char *v, list *l, cm_error *err)
{
    list_free(l);
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

static int in_list(const list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->item[i], s) == 0)
            return 1;
    return 0;
}

static int parse_policy(const char *v)
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

static cm_status bad_setting(cm_error *err, const char *k, const char *v,
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
            return bad_setting(err, k, v, "one of , ; tab | auto");
    } else if (!strcmp(k, "decimal")) {
        if (strcmp(v, ".") && strcmp(v, ","))
            return bad_setting(err, k, v, "'.' or ','");
        c->decimal = v[0];
    } else if (!strcmp(k, "header") || !strcmp(k, "sort")) {
        int b = yes_no(v);
        if (b < 0)
            return bad_setting(err, k, v, "yes or no");
        *(k[0] == 'h' ? &c->header : &c->sort) = b;
    } else if (!strcmp(k, "sample") || !strcmp(k, "sort-memory") ||
               !strcmp(k, "max-gap")) {
        unsigned long long n = strtoull(v, &end, 10);
        if (!*v || *end || v[0] < '0' || v[0] > '9' || n == 0 || n > INT64_MAX)
            return bad_setting(err, k, v, "a positive whole number");
        if (!strcmp(k, "sample"))
            c->sample = (size_t)n;
        else if (!strcmp(k, "sort-memory"))
            c->sort_memory = (size_t)n;
        else
            c->max_gap = (int64_t)n;
    } else if (!strcmp(k, "time")) {
        return split_list(v, &c->time, err);
    } else if (!strcmp(k, "time-format")) {
        cm_timefmt_free(c->tfmt);
        return (c->tfmt = cm_timefmt_new(v, err)) ? CM_OK : err->status;
    } else if (!strcmp(k, "tz")) {
        cm_tz_free(c->tz);
        return (c->tz = cm_tz_load(v, err)) ? CM_OK : err->status;
    } else if (!strcmp(k, "na")) {
        return split_list(v, &c->na, err);
    } else if (!strcmp(k, "missing")) {
        if ((c->policy = parse_policy(v)) < 0)
            return bad_setting(err, k, v, "drop, keep, ffill or interpolate");
    } else if (!strcmp(k, "lower")) {
        return split_list(v, &c->lower, err);
    } else if (!strcmp(k, "columns")) {
        return split_list(v, &c->keep, err);
    } else if (!strcmp(k, "drop")) {
        return split_list(v, &c->drop, err);
    } else if (!strcmp(k, "dedupe")) {
        if (!strcmp(v, "first")) c->dedupe = DEDUPE_FIRST;
        else if (!strcmp(v, "last")) c->dedupe = DEDUPE_LAST;
        else if (!strcmp(v, "no")) c->dedupe = DEDUPE_NONE;
        else return bad_setting(err, k, v, "first, last or no");
    } else if (!strcmp(k, "key") || !strcmp(k, "tmpdir")) {
        char **dst = k[0] == 'k' ? &c->key : &c->tmpdir;
        free(*dst);
        if (!(*dst = malloc(strlen(v) + 1)))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        strcpy(*dst, v);
    } else if (!strcmp(k, "bad-rows")) {
        if (strcmp(v, "fail") && strcmp(v, "skip"))
            return bad_setting(err, k, v, "fail or skip");
        c->bad_skip = v[0] == 's';
    } else if (strncmp(k, "type.", 5) && strncmp(k, "missing.", 8) &&
               strncmp(k, "range.", 6)) {
        return cm_fail(err, CM_ERR_ARG, "unknown setting '%.64s'", k);
    }
    return CM_OK;
}

cm_clean *cm_clean_new(const cm_kv *settings, cm_error *err)
{
    cm_clean *c = calloc(1, sizeof *c);
    if (!c) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
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
        c->tz = cm_tz_load("UTC", err);
    if (!st && !c->tz)
        st = err->status;
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
    list_free(&c->na);
    list_free(&c->time);
    list_free(&c->lower);
    list_free(&c->keep);
    list_free(&c->drop);
    free(c->time_idx);
    free(c->na_len);
    free(c->na_num);
    free(c->key);
    free(c->tmpdir);
    cm_timefmt_free(c->tfmt);
    cm_tz_free(c->tz);
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

/* ---- the header ------------------------------------------------------------ */

static long find_col(const cm_clean *c, const char *name)
{
    for (size_t i = 0; i < c->ncols; i++)
        if (strcmp(c->cols[i].name, name) == 0)
            return (long)i;
    return -1;
}

static cm_status no_column(const cm_clean *c, const char *what, const char *name,
                           cm_error *err)
{
    char have[200] = "";
    size_t n = 0;
    for (size_t i = 0; i < c->ncols && n < sizeof have - 40; i++)
        n += (size_t)snprintf(have + n, sizeof have - n, "%s'%s'", i ? ", " : "",
                              c->cols[i].name);
    if (n >= sizeof have - 40)
        snprintf(have + n, sizeof have - n, ", ...");
    return cm_fail(err, CM_ERR_ARG, "%s: no column '%.64s' (the columns are %s)",
                   what, name, have);
}

static cm_status check_list(const cm_clean *c, const list *l, const char *what,
                            int all_ok, cm_error *err)
{
    for (size_t i = 0; i < l->n; i++)
        if (find_col(c, l->item[i]) < 0 && !(all_ok && !strcmp(l->item[i], "all")))
            return no_column(c, what, l->item[i], err);
    return CM_OK;
}

static cm_status read_header(cm_clean *c, size_t n, const char *const *f,
                             cm_error *err)
{
    if (!(c->cols = calloc(n, sizeof *c->cols)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char gen[32];
        c->ncols = i; /* find_col looks at the names read so far */
        const char *name = f[i];
        while (c->header && *name == ' ')
            name++;
        if (!c->header || !*name) {
            snprintf(gen, sizeof gen, "col%zu", i + 1);
            name = gen;
        }
        if (!cm_utf8_valid(name, strlen(name)))
            return err->line = 1, cm_fail(err, CM_ERR_DATA,
                                         "column %zu: the name is not valid UTF-8", i + 1);
        if (find_col(c, name) >= 0)
            return err->line = 1, cm_fail(err, CM_ERR_DATA,
                                         "duplicate column name '%.64s'", name);
        if (!(c->cols[i].name = malloc(strlen(name) + 1)))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        strcpy(c->cols[i].name, name);
        c->cols[i].time_part = -1;
        c->cols[i].out = -1;
    }
    c->ncols = n;
    /* Every column a setting names must exist. */
    cm_status st = check_list(c, &c->time, "time", 0, err);
    if (!st) st = check_list(c, &c->lower, "lower", 1, err);
    if (!st) st = check_list(c, &c->keep, "columns", 0, err);
    if (!st) st = check_list(c, &c->drop, "drop", 0, err);
    if (!st && c->key && find_col(c, c->key) < 0)
        st = no_column(c, "key", c->key, err);
    for (size_t i = 0; !st && i < cm_kv_count(&c->settings); i++) {
        const char *k = cm_kv_key(&c->settings, i), *v = cm_kv_value(&c->settings, i);
        const char *dot = strchr(k, '.');
        if (!dot || (strncmp(k, "type.", 5) && strncmp(k, "missing.", 8) &&
                     strncmp(k, "range.", 6)))
            continue;
        long col = find_col(c, dot + 1);
        if (col < 0) {
            char what[16];
            snprintf(what, sizeof what, "%.*s", (int)(dot - k), k);
            st = no_column(c, what, dot + 1, err);
        } else if (k[0] == 't') {
            int kind = -1;
            for (int j = K_NUM; j <= K_SKIP; j++)
                if (!strcmp(v, kind_names[j]))
                    kind = j;
            if (kind < 0)
                st = bad_setting(err, k, v, "num, cat, time or skip");
            c->cols[col].kind = kind;
            c->cols[col].explicit_kind = 1;
        } else if (k[0] == 'r') {
            char *end;
            double lo = strtod(v, &end), hi = 0;
            if (*end == ':')
                hi = strtod(end + 1, &end);
            if (*end || !strchr(v, ':') || !(lo <= hi))
                st = bad_setting(err, k, v, "MIN:MAX with MIN <= MAX");
            c->cols[col].has_range = 1;
            c->cols[col].lo = lo;
            c->cols[col].hi = hi;
        } else if (parse_policy(v) < 0) {
            st = bad_setting(err, k, v, "drop, keep, ffill or interpolate");
        }
    }
    for (size_t i = 0; i < c->time.n && !st; i++) {
        incol *t = &c->cols[find_col(c, c->time.item[i])];
        if (t->explicit_kind && t->kind != K_TIME && t->kind != K_NUM)
            st = cm_fail(err, CM_ERR_ARG, "column '%s' is both --time and %s",
                         t->name, kind_names[t->kind]);
        t->time_part = (int)i;
    }
    for (size_t i = 0; i < c->time.n && !st; i++)
        if (in_list(&c->drop, c->time.item[i]))
            st = cm_fail(err, CM_ERR_ARG, "column '%s' makes up the time (--time) "
                         "and cannot be dropped", c->time.item[i]);
    for (size_t i = 0; i < n; i++) {
        incol *col = &c->cols[i];
        col->lower = in_list(&c->lower, col->name) || in_list(&c->lower, "all");
        if ((c->keep.n && !in_list(&c->keep, col->name) && col->time_part < 0) ||
            in_list(&c->drop, col->name))
            col->kind = K_SKIP, col->explicit_kind = 1;
    }
    return st;
}

/* ---- types ----------------------------------------------------------------- */

static int is_na_text(const cm_clean *c, const char *s, size_t n)
{
    while (n && *s == ' ')
        s++, n--;
    while (n && s[n - 1] == ' ')
        n--;
    /* The default markers are at most four bytes: most values are longer. */
    if (n <= 4)
        for (size_t i = 0; i < sizeof default_na / sizeof *default_na; i++)
            if (strlen(default_na[i]) == n && !memcmp(default_na[i], s, n))
                return 1;
    for (size_t i = 0; i < c->na.n; i++)
        if (c->na_len[i] == n && !memcmp(c->na.item[i], s, n))
            return 1;
    return 0;
}

/* Sample values decide each column's type: numbers if every present value
 * is a plain number, times if every one is a time, categories otherwise. */
static void infer(cm_clean *c, char ***rows, const size_t *nf, size_t nrows)
{
    for (size_t j = 0; j < c->ncols; j++) {
        incol *col = &c->cols[j];
        if (col->explicit_kind)
            continue;
        if (c->key && !strcmp(col->name, c->key)) {
            col->kind = K_CAT; /* a key names a series, whatever it looks like */
            continue;
        }
        int num = 1, time = 1;
        for (size_t i = 0; i < nrows && (num || time); i++) {
            if (nf[i] != c->ncols)
                continue; /* a ragged row: reported when its turn comes */
            const char *v = rows[i][j];
            size_t n = strlen(v);
            cm_walltime w;
            if (is_na_text(c, v, n))
                continue;
            num &= cm_num_plain(v, n, c->decimal);
            cm_time_kind k = cm_parse_time(v, n, &w);
            time &= k == CM_TIME_ISO || k == CM_TIME_US;
        }
        /* An all-missing sample says nothing: numbers are the likelier. */
        col->kind = num ? K_NUM : time ? K_TIME : K_CAT;
        if (col->time_part >= 0 && col->kind == K_CAT)
            col->kind = K_TIME;
    }
}

static cm_status add_out(cm_clean *c, incol *col, const char *name,
                         cm_dtype t, cm_role r, cm_error *err)
{
    size_t idx;
    cm_status st = cm_schema_add(c->schema, name, t, r, &idx, err);
    if (st)
        return st;
    col->out = (long)idx;
    if (t == CM_TIME)
        st = cm_kv_set(cm_schema_col_meta(c->schema, idx), "tz", cm_tz_name(c->tz), err);
    return st;
}

static cm_status build_schema(cm_clean *c, const char *source, cm_error *err)
{
    if (!(c->schema = cm_schema_new()))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    cm_kv *m = cm_schema_meta(c->schema);
    cm_status st = cm_kv_set(m, "producer", "cm-clean " CM_VERSION_STRING, err);
    if (!st)
        st = cm_kv_set(m, "source", source, err);
    for (size_t i = 0; !st && i < c->ncols; i++) {
        incol *col = &c->cols[i];
        if (col->time_part > 0 || col->kind == K_SKIP)
            continue;
        if (col->time_part == 0) {
            const char *name = c->time.n == 1 ? col->name : "time";
            if (c->time.n > 1 && find_col(c, "time") >= 0 &&
                c->cols[find_col(c, "time")].time_part < 0)
                name = "timestamp";
            st = add_out(c, col, name, CM_TIME, CM_ROLE_TIME, err);
            c->time_out = col->out;
        } else if (col->kind == K_NUM) {
            st = add_out(c, col, col->name, CM_F64, CM_ROLE_FEATURE, err);
        } else if (col->kind == K_TIME) {
            st = add_out(c, col, col->name, CM_TIME, CM_ROLE_FEATURE, err);
        } else {
            int key = c->key && !strcmp(col->name, c->key);
            st = add_out(c, col, col->name, CM_CAT,
                         key ? CM_ROLE_ID : CM_ROLE_FEATURE, err);
            if (key)
                c->key_out = col->out;
        }
    }
    for (size_t i = 0; !st && i < c->ncols; i++)
        if (c->cols[i].has_range && (c->cols[i].kind != K_NUM || c->cols[i].time_part >= 0))
            st = cm_fail(err, CM_ERR_ARG, "range: column '%s' is not a number column",
                         c->cols[i].name);
    if (!st && c->key && c->key_out < 0)
        st = cm_fail(err, CM_ERR_ARG, "key: column '%s' is not written as a category "
                     "(dropped, or --type other than cat)", c->key);
    size_t nout = st ? 0 : cm_schema_ncols(c->schema);
    if (!st && !(c->out_policy = calloc(nout + 1, sizeof *c->out_policy)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st && (!(c->st.dropped_missing = calloc(nout + 1, sizeof(uint64_t))) ||
                !(c->st.out_of_range = calloc(nout + 1, sizeof(uint64_t))) ||
                !(c->st.filled = calloc(nout + 1, sizeof(uint64_t)))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < c->ncols; i++) {
        incol *col = &c->cols[i];
        if (col->out < 0)
            continue;
        char key[CM_MAX_NAME + 16];
        snprintf(key, sizeof key, "missing.%s", col->name);
        const char *v = cm_kv_get(&c->settings, key);
        int p = v ? parse_policy(v) : c->policy;
        if (p == POLICY_INTERP && col->kind != K_NUM) {
            if (v)
                return cm_fail(err, CM_ERR_ARG,
                               "column '%s': only numbers can be interpolated",
                               col->name);
            p = POLICY_FFILL; /* the global choice, where it can apply */
        }
        c->out_policy[col->out] = (int)col->out == c->time_out ? POLICY_DROP : p;
    }
    return st;
}

/* The recipe step: every setting, with the types as they were decided. */
static cm_status record_recipe(cm_clean *c, cm_error *err)
{
    size_t step;
    cm_status st = cm_recipe_add(c->schema, "clean", &step, err);
    cm_kv *p = st ? NULL : cm_recipe_params(c->schema, step);
    /* Where and how much memory to sort with does not change the data. */
    for (size_t i = 0; !st && i < cm_kv_count(&c->settings); i++) {
        const char *k = cm_kv_key(&c->settings, i);
        if (strcmp(k, "tmpdir") && strcmp(k, "sort-memory"))
            st = cm_kv_set(p, k, cm_kv_value(&c->settings, i), err);
    }
    char d[2] = {c->delim_used, 0};
    if (!st)
        st = cm_kv_set(p, "delimiter", d[0] == '\t' ? "tab" : d, err);
    if (!st)
        st = cm_kv_set(p, "tz", cm_tz_name(c->tz), err);
    char joined[CM_MAX_NAME];
    size_t jn = 0;
    for (size_t i = 0; i < c->time.n && jn < sizeof joined; i++)
        jn += (size_t)snprintf(joined + jn, sizeof joined - jn, "%s%s", i ? "," : "",
                               c->time.item[i]);
    if (!st && c->time.n)
        st = cm_kv_set(p, "time", joined, err);
    for (size_t i = 0; !st && i < c->ncols; i++) {
        char key[CM_MAX_NAME + 16];
        snprintf(key, sizeof key, "type.%s", c->cols[i].name);
        st = cm_kv_set(p, key, kind_names[c->cols[i].time_part >= 0 ? K_TIME
                                                                    : c->cols[i].kind], err);
    }
    return st;
}

/* ---- one record to one typed row ------------------------------------------- */

typedef struct rowctx {
    const char *const *f;
    const size_t *len;
    uint64_t line;
} rowctx;

static cm_status bad_value(cm_error *err, const incol *col, const char *v,
                           size_t n, const char *why)
{
    char q[200];
    cm_quote_text(q, sizeof q, v, n, 40);
    snprintf(err->column, sizeof err->column, "%s", col->name);
    return cm_fail(err, CM_ERR_DATA, "'%s' %s", q, why);
}

static void trim(const char **s, size_t *n)
{
    while (*n && **s == ' ')
        (*s)++, (*n)--;
    while (*n && (*s)[*n - 1] == ' ')
        (*n)--;
}

static cm_status put_num(cm_clean *c, const incol *col, cm_batch *b, size_t row,
                         const char *v, size_t n, cm_error *err)
{
    double x;
    uint8_t *ok = &b->valid[col->out][row];
    *ok = 0;
    if (cm_parse_num(v, n, c->decimal, &x)) {
        if (is_na_text(c, v, n))
            return CM_OK;
        return bad_value(err, col, v, n, "is not a number");
    }
    for (size_t i = 0; i < c->nna_num; i++)
        if (x == c->na_num[i])
            return CM_OK;
    if (isnan(x)) /* "nan" with the default markers never gets here */
        return CM_OK;
    if (col->has_range && !(x >= col->lo && x <= col->hi)) {
        c->st.out_of_range[col->out]++;
        return CM_OK;
    }
    ((double *)b->values[col->out])[row] = x;
    *ok = 1;
    return CM_OK;
}

static cm_status put_cat(cm_clean *c, const incol *col, cm_batch *b, size_t row,
                         const char *v, size_t n, cm_error *err)
{
    uint8_t *ok = &b->valid[col->out][row];
    *ok = 0;
    if (is_na_text(c, v, n))
        return CM_OK;
    char low[CM_MAX_NAME];
    if (col->lower) {
        trim(&v, &n);
        if (n > sizeof low)
            return bad_value(err, col, v, n, "is longer than 4096 bytes");
        for (size_t i = 0; i < n; i++)
            low[i] = v[i] >= 'A' && v[i] <= 'Z' ? (char)(v[i] + 32) : v[i];
        v = low;
    }
    cm_error e;
    if (cm_dict_intern(cm_schema_dict(c->schema, (size_t)col->out), v, n,
                       &((uint32_t *)b->values[col->out])[row], &e)) {
        if (e.status == CM_ERR_NOMEM)
            return cm_fail(err, e.status, "out of memory");
        return bad_value(err, col, v, n,
                         strstr(e.msg, "UTF-8") ? "is not valid UTF-8"
                         : strstr(e.msg, "bytes") ? "is longer than 4096 bytes"
                                                  : "is one category too many");
    }
    *ok = 1;
    return CM_OK;
}

/* Wall-clock time to the UTC instant, through the zone when naive. */
static int64_t to_utc(cm_clean *c, const cm_walltime *w)
{
    if (w->has_offset)
        return w->wall - w->offset;
    int64_t t;
    cm_tz_fold f = cm_tz_to_utc(c->tz, w->wall, &t);
    c->st.tz_ambiguous += f == CM_TZ_AMBIGUOUS;
    c->st.tz_gap += f == CM_TZ_GAP;
    return t;
}

static int parse_one_time(cm_clean *c, const char *v, size_t n, int any,
                          cm_walltime *w)
{
    if (c->tfmt)
        return cm_timefmt_parse(c->tfmt, v, n, w);
    cm_time_kind k = cm_parse_time(v, n, w);
    return k == CM_TIME_ISO || k == CM_TIME_US || (any && k != CM_TIME_NONE) ? 0 : -1;
}

/* The time of a row from its time columns: 0 ok, 1 missing, or an error. */
static cm_status row_time(cm_clean *c, const rowctx *r, int64_t *t, int *missing,
                          cm_error *err)
{
    size_t nt = c->time.n;
    const incol *first = &c->cols[c->time_idx[0]];
    *missing = 0;
    cm_walltime w;
    if (nt == 1) {
        size_t j = c->time_idx[0];
        if (is_na_text(c, r->f[j], r->len[j]))
            return *missing = 1, CM_OK;
        if (parse_one_time(c, r->f[j], r->len[j], 1, &w))
            return bad_value(err, first, r->f[j], r->len[j], "is not a time");
        *t = to_utc(c, &w);
        return CM_OK;
    }
    /* Several columns: numbers are year, month, day, hour, minute, second;
     * text is joined with spaces and read as one time. */
    char joined[512];
    size_t jn = 0;
    long part[6] = {0, 1, 1, 0, 0, 0};
    int numeric = !c->tfmt && nt <= 6;
    for (size_t i = 0; i < nt; i++) {
        size_t j = c->time_idx[i];
        const char *v = r->f[j];
        size_t n = r->len[j];
        double x;
        if (is_na_text(c, v, n))
            return *missing = 1, CM_OK;
        if (numeric && (cm_parse_num(v, n, '.', &x) || x != floor(x) ||
                        fabs(x) > 1e9))
            numeric = 0;
        else if (numeric)
            part[i] = (long)x;
        if (jn + n + 1 >= sizeof joined)
            return bad_value(err, &c->cols[j], v, n, "is too long for a time");
        if (i)
            joined[jn++] = ' ';
        memcpy(joined + jn, v, n);
        jn += n;
    }
    joined[jn] = '\0';
    if (numeric) {
        if (part[1] < 1 || part[1] > 12 || part[2] < 1 || part[2] > 31 ||
            part[3] < 0 || part[3] > 23 || part[4] < 0 || part[4] > 59 ||
            part[5] < 0 || part[5] > 59)
            return bad_value(err, first, joined, jn, "is not a valid date and time");
        int64_t days = cm_days_from_civil(part[0], (unsigned)part[1], (unsigned)part[2]);
        int64_t y;
        unsigned mo, d;
        cm_civil_from_days(days, &y, &mo, &d);
        if (d != (unsigned)part[2]) /* 31 February */
            return bad_value(err, first, joined, jn, "is not a valid date and time");
        w.wall = days * 86400 + part[3] * 3600 + part[4] * 60 + part[5];
        w.has_offset = 0;
    } else if (parse_one_time(c, joined, jn, 0, &w)) {
        return bad_value(err, first, joined, jn, "is not a time");
    }
    *t = to_utc(c, &w);
    return CM_OK;
}

/* Fills row `row` of b from a record; CM_OK, or CM_ERR_DATA for a bad row
 * (the row is then unusable), *drop set when its time is missing. */
static cm_status convert(cm_clean *c, const rowctx *r, size_t nf, cm_batch *b,
                         size_t row, int *drop, cm_error *err)
{
    *drop = 0;
    if (nf != c->ncols)
        return cm_fail(err, CM_ERR_DATA, "expected %zu fields, found %zu",
                       c->ncols, nf);
    for (size_t j = 0; j < c->ncols; j++) {
        const incol *col = &c->cols[j];
        const char *v = r->f[j];
        size_t n = r->len[j];
        cm_status st = CM_OK;
        if (col->out < 0 || col->time_part >= 0)
            continue;
        if (col->kind == K_NUM) {
            st = put_num(c, col, b, row, v, n, err);
        } else if (col->kind == K_CAT) {
            st = put_cat(c, col, b, row, v, n, err);
        } else { /* a time that is not the row's time */
            cm_walltime w;
            uint8_t *ok = &b->valid[col->out][row];
            *ok = !is_na_text(c, v, n);
            if (*ok && cm_parse_time(v, n, &w) == CM_TIME_NONE)
                st = bad_value(err, col, v, n, "is not a time");
            else if (*ok)
                ((int64_t *)cm_batch_values(b, (size_t)col->out))[row] = to_utc(c, &w);
        }
        if (st)
            return st;
    }
    if (c->time_out >= 0) {
        int64_t t = 0;
        int missing;
        cm_status st = row_time(c, r, &t, &missing, err);
        if (st)
            return st;
        b->valid[c->time_out][row] = (uint8_t)!missing;
        ((int64_t *)b->values[c->time_out])[row] = t;
        if (missing) {
            c->st.missing_time++;
            *drop = 1;
        }
    }
    return CM_OK;
}

/* ---- the run ------------------------------------------------------------------ */

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* A leading sample, copied out of the reader for two passes. */
typedef struct sample {
    char ***rows;
    size_t **lens;
    size_t *nf;
    uint64_t *line;
    size_t n;
} sample;

static void sample_free(sample *s)
{
    for (size_t i = 0; i < s->n; i++) {
        for (size_t j = 0; j < s->nf[i]; j++)
            free(s->rows[i][j]);
        free(s->rows[i]);
        free(s->lens[i]);
    }
    free(s->rows);
    free(s->lens);
    free(s->nf);
    free(s->line);
}

static cm_status sample_add(sample *s, size_t nf, const char *const *f,
                            const size_t *len, uint64_t line, cm_error *err)
{
    size_t i = s->n;
    char ***r = realloc(s->rows, (i + 1) * sizeof *r);
    if (r) s->rows = r;
    size_t **l = r ? realloc(s->lens, (i + 1) * sizeof *l) : NULL;
    if (l) s->lens = l;
    size_t *n = l ? realloc(s->nf, (i + 1) * sizeof *n) : NULL;
    if (n) s->nf = n;
    uint64_t *ln = n ? realloc(s->line, (i + 1) * sizeof *ln) : NULL;
    if (ln) s->line = ln;
    if (!ln || !(s->rows[i] = calloc(nf + 1, sizeof(char *))) ||
        !(s->lens[i] = calloc(nf + 1, sizeof(size_t))))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    s->nf[i] = nf;
    s->line[i] = line;
    s->n++;
    for (size_t j = 0; j < nf; j++) {
        if (!(s->rows[i][j] = dupn(f[j], len[j])))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        s->lens[i][j] = len[j];
    }
    return CM_OK;
}

/* A bad row: fatal, or counted and noted with --bad-rows skip. */
static cm_status bad_row(cm_clean *c, cm_error *err, uint64_t line)
{
    err->line = line;
    if (!c->bad_skip || err->status != CM_ERR_DATA)
        return err->status;
    c->st.bad_rows++;
    if (c->nnotes < MAX_NOTES) {
        if (err->column[0])
            snprintf(c->notes[c->nnotes++], sizeof c->notes[0],
                     "line %llu: column '%.40s': %.120s", (unsigned long long)line,
                     err->column, err->msg);
        else
            snprintf(c->notes[c->nnotes++], sizeof c->notes[0], "line %llu: %.150s",
                     (unsigned long long)line, err->msg);
    }
    cm_error_clear(err);
    return CM_OK;
}

/* Rows are typed a batch at a time and handed on together. */
typedef struct pending {
    cm_batch *b;
    uint64_t *line;
    size_t n, cap;
} pending;

static cm_status hand_on(cm_clean *c, cm_rows *rows, pending *p, cm_error *err)
{
    cm_batch_set_nrows(p->b, p->n);
    cm_status st = cm_rows_push_batch(rows, p->b, p->line, err);
    p->n = 0;
    (void)c;
    return st;
}

static cm_status one_row(cm_clean *c, cm_rows *rows, pending *p, size_t nf,
                         const char *const *f, const size_t *len, uint64_t line,
                         cm_error *err)
{
    rowctx r = {f, len, line};
    int drop;
    if (++c->st.rows_read % 65536 == 0 && c->progress)
        c->progress(c->progress_ctx, c->st.rows_read);
    cm_status st = convert(c, &r, nf, p->b, p->n, &drop, err);
    if (st)
        return bad_row(c, err, line);
    if (drop)
        return CM_OK;
    if (c->time_out >= 0) {
        int64_t t = ((const int64_t *)cm_batch_values(p->b, (size_t)c->time_out))[p->n];
        if (!c->st.have_time || t < c->st.tmin)
            c->st.tmin = t;
        if (!c->st.have_time || t > c->st.tmax)
            c->st.tmax = t;
        c->st.have_time = 1;
    }
    p->line[p->n++] = line;
    return p->n == p->cap ? hand_on(c, rows, p, err) : CM_OK;
}

cm_status cm_clean_run(cm_clean *c, FILE *in, const char *name, FILE *out,
                       const cm_writer_opts *wo, cm_error *err)
{
    cm_csv *csv = cm_csv_new(in, c->delim, c->decimal, err);
    if (!csv)
        return err->status;
    c->delim_used = cm_csv_delim(csv);
    sample s = {0};
    pending pd = {NULL, NULL, 0, 16384};
    cm_rows *rows = NULL;
    size_t nf;
    const char *const *f;
    const size_t *len;
    int got = cm_csv_next(csv, &nf, &f, &len, err);
    cm_status st = got < 0 ? err->status : CM_OK;
    if (got == 0)
        st = cm_fail(err, CM_ERR_DATA, "empty input: no header line");
    if (!st)
        st = read_header(c, nf, f, err);
    if (!st && !c->header)
        st = sample_add(&s, nf, f, len, cm_csv_line(csv), err);
    while (!st && s.n < c->sample && (got = cm_csv_next(csv, &nf, &f, &len, err)) == 1)
        st = sample_add(&s, nf, f, len, cm_csv_line(csv), err);
    if (!st && got < 0)
        st = err->status;
    if (!st) {
        infer(c, s.rows, s.nf, s.n);
        for (size_t i = 0; i < c->time.n; i++)
            c->cols[find_col(c, c->time.item[i])].kind = K_TIME;
        /* Without --time, the first column that reads as times is the time. */
        for (size_t j = 0; !c->time.n && j < c->ncols; j++)
            if (c->cols[j].kind == K_TIME)
                st = split_list(c->cols[j].name, &c->time, err),
                c->cols[j].time_part = 0;
        if (!st && (c->dedupe || c->sort) && !c->time.n)
            st = cm_fail(err, CM_ERR_ARG, "%s needs a time column (--time)",
                         c->sort ? "sort" : "dedupe");
        if (!st && !(c->time_idx = calloc(c->time.n + 1, sizeof *c->time_idx)))
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < c->time.n; i++)
            c->time_idx[i] = (size_t)find_col(c, c->time.item[i]);
    }
    if (!st)
        st = build_schema(c, name, err);
    if (!st)
        st = record_recipe(c, err);
    if (!st && cm_schema_ncols(c->schema) == 0)
        st = cm_fail(err, CM_ERR_ARG, "no columns left to write");
    if (!st && (!(pd.b = cm_batch_new(c->schema, pd.cap)) ||
                !(pd.line = malloc(pd.cap * sizeof *pd.line))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st) {
        cm_rows_cfg cfg = {c->schema, c->time_out, c->key_out, c->out_policy,
                           c->max_gap, c->sort, c->dedupe, c->sort_memory,
                           c->tmpdir, out, wo, &c->st};
        if (!(rows = cm_rows_new(&cfg, err)))
            st = err->status;
    }
    for (size_t i = 0; !st && i < s.n; i++)
        st = one_row(c, rows, &pd, s.nf[i], (const char *const *)s.rows[i], s.lens[i],
                     s.line[i], err);
    sample_free(&s);
    while (!st && (got = cm_csv_next(csv, &nf, &f, &len, err)) == 1)
        st = one_row(c, rows, &pd, nf, f, len, cm_csv_line(csv), err);
    if (!st && got < 0)
        st = err->status;
    if (!st && pd.n)
        st = hand_on(c, rows, &pd, err);
    if (!st)
        st = cm_rows_finish(rows, err);
    cm_rows_free(rows);
    cm_batch_free(pd.b);
    free(pd.line);
    cm_csv_free(csv);
    return st;
}

void cm_clean_on_progress(cm_clean *c, void (*fn)(void *ctx, uint64_t rows),
                          void *ctx)
{
    c->progress = fn;
    c->progress_ctx = ctx;
}

/* ---- the report ----------------------------------------------------------------- */

static void json_str(FILE *out, const char *s)
{
    size_t n = strlen(s);
    putc('"', out);
    for (size_t i = 0, k; i < n; i += k) {
        k = cm_utf8_char(s + i, n - i);
        if (k == 0) { /* not UTF-8: JSON text must be */
            fputs("\\ufffd", out);
            k = 1;
        } else if (s[i] == '"' || s[i] == '\\') {
            fprintf(out, "\\%c", s[i]);
        } else if ((unsigned char)s[i] < 0x20) {
            fprintf(out, "\\u%04x", s[i]);
        } else {
            fwrite(s + i, 1, k, out);
        }
    }
    putc('"', out);
}

void cm_clean_report(const cm_clean *c, FILE *out, int json)
{
    const cm_clean_stats *st = &c->st;
    char t0[40] = "", t1[40] = "";
    if (st->have_time) {
        cm_fmt_time(t0, sizeof t0, st->tmin);
        cm_fmt_time(t1, sizeof t1, st->tmax);
    }
    if (!json) {
        fprintf(out, "rows read: %llu\nrows written: %llu\n",
                (unsigned long long)st->rows_read, (unsigned long long)st->rows_written);
        fprintf(out, "rows dropped: %llu bad, %llu missing time, %llu duplicate, "
                "%llu missing values\n", (unsigned long long)st->bad_rows,
                (unsigned long long)st->missing_time, (unsigned long long)st->duplicates,
                (unsigned long long)st->rows_dropped_missing);
        for (size_t i = 0; i < c->nnotes; i++)
            fprintf(out, "  bad row: %s\n", c->notes[i]);
        if (st->have_time)
            fprintf(out, "time range: %s to %s\n", t0, t1);
        if (st->tz_ambiguous || st->tz_gap)
            fprintf(out, "local times: %llu ambiguous (earlier taken), %llu in a "
                    "gap (moved forward)\n", (unsigned long long)st->tz_ambiguous,
                    (unsigned long long)st->tz_gap);
        if (st->sort_runs)
            fprintf(out, "sort: %llu runs spilled to disk\n",
                    (unsigned long long)st->sort_runs);
        fputs("columns:\n", out);
        for (size_t i = 0; i < c->ncols; i++) {
            const incol *col = &c->cols[i];
            fprintf(out, "  %s: %s", col->name,
                    kind_names[col->time_part >= 0 ? K_TIME : col->kind]);
            if (col->out >= 0) {
                size_t o = (size_t)col->out;
                if (st->dropped_missing[o])
                    fprintf(out, ", missing in %llu dropped rows",
                            (unsigned long long)st->dropped_missing[o]);
                if (st->out_of_range[o])
                    fprintf(out, ", %llu out of range", (unsigned long long)st->out_of_range[o]);
                if (st->filled[o])
                    fprintf(out, ", %llu filled", (unsigned long long)st->filled[o]);
                if (cm_schema_dtype(c->schema, o) == CM_CAT)
                    fprintf(out, ", %u categories",
                            cm_dict_size(cm_schema_dict_c(c->schema, o)));
            }
            fputc('\n', out);
        }
        return;
    }
    fprintf(out, "{\"rows_read\":%llu,\"rows_written\":%llu,\"bad_rows\":%llu,"
            "\"missing_time\":%llu,\"duplicates\":%llu,\"dropped_missing\":%llu,",
            (unsigned long long)st->rows_read, (unsigned long long)st->rows_written,
            (unsigned long long)st->bad_rows, (unsigned long long)st->missing_time,
            (unsigned long long)st->duplicates,
            (unsigned long long)st->rows_dropped_missing);
    fputs("\"bad_row_notes\":[", out);
    for (size_t i = 0; i < c->nnotes; i++) {
        if (i)
            putc(',', out);
        json_str(out, c->notes[i]);
    }
    fputs("],\"time_min\":", out);
    if (st->have_time) {
        json_str(out, t0);
        fputs(",\"time_max\":", out);
        json_str(out, t1);
    } else {
        fputs("null,\"time_max\":null", out);
    }
    fprintf(out, ",\"tz\":");
    json_str(out, c->tz ? cm_tz_name(c->tz) : "UTC");
    fprintf(out, ",\"tz_ambiguous\":%llu,\"tz_gap\":%llu,\"columns\":[",
            (unsigned long long)st->tz_ambiguous, (unsigned long long)st->tz_gap);
    for (size_t i = 0; i < c->ncols; i++) {
        const incol *col = &c->cols[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", out);
        json_str(out, col->name);
        fprintf(out, ",\"type\":\"%s\"", kind_names[col->time_part >= 0 ? K_TIME : col->kind]);
        if (col->out >= 0) {
            size_t o = (size_t)col->out;
            fprintf(out, ",\"dropped_missing\":%llu,\"out_of_range\":%llu,\"filled\":%llu",
                    (unsigned long long)st->dropped_missing[o],
                    (unsigned long long)st->out_of_range[o],
                    (unsigned long long)st->filled[o]);
            if (cm_schema_dtype(c->schema, o) == CM_CAT)
                fprintf(out, ",\"categories\":%u",
                        cm_dict_size(cm_schema_dict_c(c->schema, o)));
        }
        putc('}', out);
    }
    fputs("]}\n", out);
}
