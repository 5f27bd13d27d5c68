/* cleanhead.c - the header, the column types inferred from a leading
 * sample, the output schema and the recipe step that records it all. */
#include <stdlib.h>
#include <string.h>

#include "clean/clean.h"
#include "clean/expr.h"

static const char *const default_na[] = {"", "NA", "N/A", "NaN", "nan",
                                         "null", "NULL", "-"};

/* ---- the header ------------------------------------------------------------ */

long cm_clean_find(const cm_clean *c, const char *name)
{
    for (size_t i = 0; i < c->ncols; i++)
        if (strcmp(c->cols[i].name, name) == 0)
            return (long)i;
    return -1;
}

static const char *col_name(const void *ctx, size_t i)
{
    return ((const cm_clean *)ctx)->cols[i].name;
}

static cm_status no_column(const cm_clean *c, const char *what, const char *name,
                           cm_error *err)
{
    return cm_fail_no_column(err, what, name, col_name, c, c->ncols);
}

/* The derive that makes column name, or -1. */
static long derive_of(const cm_clean_plan *p, const char *name)
{
    for (size_t i = 0; i < p->nderives; i++)
        if (!strcmp(p->derives[i].name, name))
            return (long)i;
    return -1;
}

static cm_status check_list(const cm_clean *c, const cm_list *l, const char *what,
                            int all_ok, cm_error *err)
{
    for (size_t i = 0; i < l->n; i++)
        if (cm_clean_find(c, l->item[i]) < 0 && !(all_ok && !strcmp(l->item[i], "all")))
            return no_column(c, what, l->item[i], err);
    return CM_OK;
}

/* Replaying, the columns the recipe types but the input lacks join it as
 * empty ones: those skipped or that the model can do without (a target
 * to forecast, say), while the lack of any other is an error naming it. */
static cm_status add_absent(cm_clean *c, cm_error *err)
{
    for (size_t i = 0; i < c->p->ntypes; i++) {
        const colset *t = &c->p->types[i];
        if (cm_clean_find(c, t->col) >= 0)
            continue;
        if (t->v != K_SKIP && !(c->o.may_lack && c->o.may_lack(c->o.ctx, t->col, t->v == K_TIME)))
            return err->line = 1, cm_fail(err, CM_ERR_DATA, "no column '%.64s', "
                                         "which the model needs", t->col);
        incol *cols = realloc(c->cols, (c->ncols + 1) * sizeof *cols);
        if (!cols)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        c->cols = cols;
        char *copy = cm_strndup(t->col, strlen(t->col));
        if (!copy)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        c->cols[c->ncols++] = (incol){.name = copy, .absent = 1, .time_part = -1, .out = -1};
    }
    if (!(c->pad_f = calloc(c->ncols + 1, sizeof *c->pad_f)) ||
        !(c->pad_len = calloc(c->ncols + 1, sizeof *c->pad_len)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t j = c->nread; j < c->ncols; j++)
        c->pad_f[j] = "";
    return CM_OK;
}

int cm_clean_lacks(const cm_clean *c, const char *column)
{
    long i = cm_clean_find(c, column);
    return i >= 0 && c->cols[i].absent;
}

cm_status cm_clean_header(cm_clean *c, size_t n, const char *const *f,
                             cm_error *err)
{
    if (!(c->cols = calloc(n, sizeof *c->cols)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char gen[32];
        c->ncols = i; /* find_col looks at the names read so far */
        const char *name = f[i];
        while (c->p->r.header && *name == ' ')
            name++;
        int unnamed = c->p->r.header && !*name;
        if (!c->p->r.header || !*name) {
            snprintf(gen, sizeof gen, "col%zu", i + 1);
            name = gen;
        }
        if (!cm_utf8_valid(name, strlen(name)))
            return err->line = 1, cm_fail(err, CM_ERR_DATA,
                                         "column %zu: the name is not valid UTF-8", i + 1);
        if (cm_clean_find(c, name) >= 0)
            return err->line = 1, cm_fail(err, CM_ERR_DATA,
                                         "duplicate column name '%.64s'", name);
        if (!(c->cols[i].name = cm_strdup(name)))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        c->cols[i].time_part = -1;
        c->cols[i].out = -1;
        c->cols[i].unnamed = unnamed;
    }
    c->ncols = c->nread = n;
    const cm_clean_plan *p = c->p;
    cm_status st = c->o.replay ? add_absent(c, err) : CM_OK;
    /* Every column a setting names must exist. */
    if (!st) st = check_list(c, &c->time, "time", 0, err);
    if (!st) st = check_list(c, &p->lower, "lower", 1, err);
    if (!st) st = check_list(c, &p->keep, "columns", 0, err);
    if (!st) st = check_list(c, &p->drop, "drop", 0, err);
    if (!st && p->r.key && cm_clean_find(c, p->r.key) < 0)
        st = no_column(c, "key", p->r.key, err);
    for (size_t i = 0; !st && i < p->ntypes; i++) {
        long col = cm_clean_find(c, p->types[i].col);
        if (col < 0) {
            st = no_column(c, "type", p->types[i].col, err);
        } else {
            c->cols[col].kind = p->types[i].v;
            c->cols[col].explicit_kind = 1;
        }
    }
    for (size_t i = 0; !st && i < p->nranges; i++) {
        long col = cm_clean_find(c, p->ranges[i].col);
        if (col < 0) {
            st = no_column(c, "range", p->ranges[i].col, err);
        } else {
            c->cols[col].has_range = 1;
            c->cols[col].lo = p->ranges[i].lo;
            c->cols[col].hi = p->ranges[i].hi;
        }
    }
    for (size_t i = 0; !st && i < p->npolicies; i++)
        if (cm_clean_find(c, p->policies[i].col) < 0 && derive_of(p, p->policies[i].col) < 0)
            st = no_column(c, "missing", p->policies[i].col, err);
    for (size_t i = 0; i < c->time.n && !st; i++) {
        incol *t = &c->cols[cm_clean_find(c, c->time.item[i])];
        if (t->explicit_kind && t->kind != K_TIME && t->kind != K_NUM)
            st = cm_fail(err, CM_ERR_ARG, "column '%s' is both --time and %s",
                         t->name, cm_clean_kinds[t->kind]);
        t->time_part = (int)i;
    }
    for (size_t i = 0; i < c->time.n && !st; i++)
        if (cm_list_find(&p->drop, c->time.item[i]) >= 0)
            st = cm_fail(err, CM_ERR_ARG, "column '%s' makes up the time (--time) "
                         "and cannot be dropped", c->time.item[i]);
    for (size_t i = 0; i < c->ncols; i++) {
        incol *col = &c->cols[i];
        col->lower = cm_list_find(&p->lower, col->name) >= 0 || cm_list_find(&p->lower, "all") >= 0;
        if ((p->keep.n && cm_list_find(&p->keep, col->name) < 0 && col->time_part < 0) ||
            cm_list_find(&p->drop, col->name) >= 0)
            col->kind = K_SKIP, col->explicit_kind = 1;
    }
    return st;
}

/* ---- types ----------------------------------------------------------------- */

int cm_clean_is_na(const cm_clean *c, const char *s, size_t n)
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
    for (size_t i = 0; i < c->p->na.n; i++)
        if (c->p->na_len[i] == n && !memcmp(c->p->na.item[i], s, n))
            return 1;
    return 0;
}

/* Sample values decide each column's type: numbers if every present value
 * is a plain number, times if every one is a time, categories otherwise. */
void cm_clean_infer(cm_clean *c, char ***rows, const size_t *nf, size_t nrows)
{
    for (size_t j = 0; j < c->ncols; j++) {
        incol *col = &c->cols[j];
        if (col->explicit_kind)
            continue;
        if (c->p->r.key && !strcmp(col->name, c->p->r.key)) {
            col->kind = K_CAT; /* a key names a series, whatever it looks like */
            continue;
        }
        int num = 1, time = 1, any = 0;
        for (size_t i = 0; i < nrows && (num || time || !any); i++) {
            if (nf[i] != c->nread)
                continue; /* a ragged row: reported when its turn comes */
            const char *v = rows[i][j];
            size_t n = strlen(v);
            cm_walltime w;
            if (cm_clean_is_na(c, v, n))
                continue;
            any = 1;
            num &= cm_num_plain(v, n, c->p->decimal);
            cm_time_kind k = cm_parse_time(v, n, &w);
            time &= k == CM_TIME_ISO || k == CM_TIME_US;
        }
        /* An all-missing sample says nothing: numbers are the likelier.
         * Without a name either, it is what a trailing separator leaves,
         * and it would only drop every row. */
        col->kind = num ? K_NUM : time ? K_TIME : K_CAT;
        if (col->unnamed && !any && nrows && col->time_part < 0)
            col->kind = K_SKIP;
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
        st = cm_kv_set(cm_schema_col_meta(c->schema, idx), "tz", cm_tz_name(c->p->tz), err);
    return st;
}

/* The constant of a zero or value:X policy for col, into out_const; a
 * global choice that cannot apply to the column drops its rows instead,
 * its own is an error. */
static cm_status constant(cm_clean *c, const char *name, int kind, long out, int policy,
                          const char *x, int own, int *p, cm_error *err)
{
    uint8_t *to = c->out_const[out];
    double v = 0;
    char why[160] = "";
    if (kind == K_NUM) {
        if (policy == POLICY_VALUE && cm_parse_num(x, strlen(x), '.', &v) &&
            cm_parse_num(x, strlen(x), c->p->decimal, &v))
            snprintf(why, sizeof why, "'%.64s' is not a number", x);
        memcpy(to, &v, sizeof v);
    } else if (kind == K_CAT && policy == POLICY_VALUE) {
        uint32_t code;
        cm_status st = cm_dict_intern(cm_schema_dict(c->schema, (size_t)out), x,
                                      strlen(x), &code, err);
        if (st)
            return st;
        memcpy(to, &code, sizeof code);
    } else {
        snprintf(why, sizeof why, "%s", kind == K_CAT
                                            ? "a category: fill it with value:X, not zero"
                                            : "a time: no constant fills it");
    }
    if (*why && own)
        return cm_fail(err, CM_ERR_ARG, "missing: column '%s': %s", name, why);
    *p = *why ? POLICY_DROP : policy;
    return CM_OK;
}

/* The columns of --derive, after the input's: each a number column, its
 * variables numbers before it (inputs, or earlier derives), or input
 * columns left out (--drop), read as numbers for it alone: a derive may
 * replace its parts.  derive_var holds an output column, or -1 - the
 * input column. */
static cm_status add_derived(cm_clean *c, cm_error *err)
{
    const cm_clean_plan *p = c->p;
    size_t nvars = 0, maxv = 0;
    for (size_t i = 0; i < p->nderives; i++) {
        size_t n = cm_expr_nvars(p->derives[i].e);
        nvars += n;
        maxv = n > maxv ? n : maxv;
    }
    if (!(c->derive_out = calloc(p->nderives + 1, sizeof *c->derive_out)) ||
        !(c->derive_var = calloc(nvars + 1, sizeof *c->derive_var)) ||
        !(c->dvals = calloc(maxv + 1, sizeof *c->dvals)) || !(c->dok = calloc(maxv + 1, 1)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    cm_status st = CM_OK;
    for (size_t i = 0, v = 0; !st && i < p->nderives; i++) {
        const derivespec *d = &p->derives[i];
        char what[CM_MAX_NAME + 16];
        snprintf(what, sizeof what, "derive '%s'", d->name);
        for (size_t k = 0; !st && k < cm_expr_nvars(d->e); k++, v++) {
            const char *name = cm_expr_var(d->e, k);
            long col = cm_schema_find(c->schema, name), in = cm_clean_find(c, name);
            if (col < 0 && in >= 0 && c->cols[in].kind == K_SKIP && c->cols[in].time_part < 0)
                col = -1 - in;
            else if (col < 0)
                st = cm_schema_no_column(c->schema, what, name, err);
            else if (cm_schema_dtype(c->schema, (size_t)col) != CM_F64)
                st = cm_fail(err, CM_ERR_ARG, "%s: column '%s' is not a number", what, name);
            c->derive_var[v] = col;
        }
        size_t out;
        if (!st && cm_schema_find(c->schema, d->name) >= 0)
            st = cm_fail(err, CM_ERR_ARG, "%s: the column exists already", what);
        if (!st && !(st = cm_schema_add(c->schema, d->name, CM_F64, CM_ROLE_FEATURE, &out, err)))
            c->derive_out[i] = (long)out;
    }
    return st;
}

/* A derived column's policy: its own, or the one for all. */
static cm_status derived_policy(cm_clean *c, size_t i, cm_error *err)
{
    const colset *own = NULL;
    const char *name = c->p->derives[i].name;
    for (size_t k = 0; k < c->p->npolicies; k++)
        if (!strcmp(c->p->policies[k].col, name))
            own = &c->p->policies[k];
    int p = own ? own->v : c->p->missing;
    long out = c->derive_out[i];
    if ((p == POLICY_ZERO || p == POLICY_VALUE) &&
        constant(c, name, K_NUM, out, p, own ? own->text : c->p->missing_value, own != NULL,
                 &p, err))
        return err->status;
    c->out_policy[out] = p;
    return CM_OK;
}

cm_status cm_clean_schema(cm_clean *c, const char *source, cm_error *err)
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
            if (c->time.n > 1 && cm_clean_find(c, "time") >= 0 &&
                c->cols[cm_clean_find(c, "time")].time_part < 0)
                name = "timestamp";
            st = add_out(c, col, name, CM_TIME, CM_ROLE_TIME, err);
            c->time_out = col->out;
        } else if (col->kind == K_NUM) {
            st = add_out(c, col, col->name, CM_F64, CM_ROLE_FEATURE, err);
        } else if (col->kind == K_TIME) {
            st = add_out(c, col, col->name, CM_TIME, CM_ROLE_FEATURE, err);
        } else {
            int key = c->p->r.key && !strcmp(col->name, c->p->r.key);
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
    if (!st && c->p->r.key && c->key_out < 0)
        st = cm_fail(err, CM_ERR_ARG, "key: column '%s' is not written as a category "
                     "(dropped, or --type other than cat)", c->p->r.key);
    if (!st)
        st = add_derived(c, err);
    size_t rec;
    if (!st && c->o.replay && c->o.number &&
        !(st = cm_schema_add(c->schema, CM_CLEAN_RECORD, CM_I64, CM_ROLE_FEATURE, &rec, err)))
        c->record_out = (long)rec;
    size_t nout = st ? 0 : cm_schema_ncols(c->schema);
    if (!st && (!(c->out_policy = calloc(nout + 1, sizeof *c->out_policy)) ||
                !(c->nodrop = calloc(nout + 1, 1)) ||
                !(c->out_const = calloc(nout + 1, sizeof *c->out_const))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st && (!(c->st.dropped_missing = calloc(nout + 1, sizeof(uint64_t))) ||
                !(c->st.out_of_range = calloc(nout + 1, sizeof(uint64_t))) ||
                !(c->st.filled = calloc(nout + 1, sizeof(uint64_t)))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < c->ncols; i++) {
        incol *col = &c->cols[i];
        if (col->out < 0)
            continue;
        const colset *own = NULL;
        for (size_t k = 0; k < c->p->npolicies; k++)
            if (!strcmp(c->p->policies[k].col, col->name))
                own = &c->p->policies[k]; /* the last one given */
        int p = own ? own->v : c->p->missing;
        if (p == POLICY_INTERP && col->kind != K_NUM) {
            if (own)
                return cm_fail(err, CM_ERR_ARG,
                               "column '%s': only numbers can be interpolated",
                               col->name);
            p = POLICY_FFILL; /* the global choice, where it can apply */
        }
        if ((p == POLICY_ZERO || p == POLICY_VALUE) && (int)col->out != c->time_out &&
            (st = constant(c, col->name, col->kind, col->out, p,
                           own ? own->text : c->p->missing_value, own != NULL, &p, err)))
            return st;
        c->out_policy[col->out] = (int)col->out == c->time_out ? POLICY_DROP : p;
        /* What a replay does not have or is to forecast leaves rows in. */
        c->nodrop[col->out] = c->o.replay && (col->absent || (c->o.keep_missing &&
                                              !strcmp(col->name, c->o.keep_missing)));
        if (col->absent)
            c->out_policy[col->out] = POLICY_KEEP;
    }
    for (size_t i = 0; !st && i < c->p->nderives; i++)
        st = derived_policy(c, i, err);
    if (!st && c->record_out >= 0)
        c->out_policy[c->record_out] = POLICY_KEEP;
    return st;
}

/* The recipe step: every setting, with the types as they were decided. */
cm_status cm_clean_recipe(cm_clean *c, cm_error *err)
{
    size_t step;
    cm_status st = cm_recipe_add(c->schema, "clean", &step, err);
    cm_kv *p = st ? NULL : cm_recipe_params(c->schema, step);
    /* What changes the data, not where and with how much memory to sort. */
    const cm_kv *given = c->p->settings;
    for (size_t i = 0; !st && i < cm_kv_count(given); i++) {
        const char *k = cm_kv_key(given, i), *part;
        if (cm_settings_find(&cm_clean_settings, k, &part)->flags & CM_SET_RECORD)
            st = cm_kv_set(p, k, cm_kv_value(given, i), err);
    }
    char d[2] = {c->delim_used, 0};
    if (!st)
        st = cm_kv_set(p, "delimiter", d[0] == '\t' ? "tab" : d, err);
    if (!st)
        st = cm_kv_set(p, "tz", cm_tz_name(c->p->tz), err);
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
        st = cm_kv_set(p, key, cm_clean_kinds[c->cols[i].time_part >= 0 ? K_TIME
                                                                    : c->cols[i].kind], err);
    }
    return st;
}
