/* cleanset.c - the cleaner's settings, declared once: read, checked and
 * compiled into a plan (zone loaded, time format compiled, lists split),
 * which every run of the step, cm-clean's or a model's replay, applies. */
#include <stdlib.h>
#include <string.h>

#include "clean/clean.h"
#include "clean/expr.h"

const char *const cm_clean_kinds[] = {"auto", "num", "cat", "time", "skip"};

static int delimiter_ok(const char *v)
{
    return !(!strcmp(v, "auto") || !strcmp(v, "tab") || !strcmp(v, "\t") ||
             (strlen(v) == 1 && strchr(",;|", v[0])));
}

static int decimal_ok(const char *v)
{
    return strcmp(v, ".") && strcmp(v, ",");
}

/* MIN:MAX, MIN <= MAX, read the same under every locale */
static int range_parse(const char *v, double *lo, double *hi)
{
    const char *colon = strchr(v, ':');
    return !colon || cm_parse_num(v, (size_t)(colon - v), '.', lo) ||
                   cm_parse_num(colon + 1, strlen(colon + 1), '.', hi) || !(*lo <= *hi)
               ? -1 : 0;
}

/* A missing-value policy: its POLICY_ number, and for value:X the X. */
static int policy_parse(const char *v, const char **value)
{
    static const char *const names[] = {"drop", "keep", "ffill", "interpolate", "zero"};
    *value = NULL;
    for (int k = 0; k < (int)(sizeof names / sizeof *names); k++)
        if (!strcmp(v, names[k]))
            return k;
    if (!strncmp(v, "value:", 6) && v[6]) {
        *value = v + 6;
        return POLICY_VALUE;
    }
    return -1;
}

/* --from and --until to UTC instants: naive ones are in the plan's zone. */
static void bound(const cm_clean_plan *p, const char *v, int64_t *t, int *have)
{
    *have = v && !cm_time_instant(v, p->tz, t);
}

/* NAME=EXPR, a name before the first '=' */
static int derive_ok(const char *v)
{
    const char *eq = strchr(v, '=');
    return eq && eq > v && eq[1] ? 0 : -1;
}

static int policy_ok(const char *v)
{
    const char *value;
    return policy_parse(v, &value) < 0 ? -1 : 0;
}

static int range_ok(const char *v)
{
    double lo, hi;
    return range_parse(v, &lo, &hi);
}

#define AT(f, U) CM_SET_AT(clean_raw, f, U)
#define REC CM_SET_RECORD
static const cm_setting decls[] = {
    {.name = "delimiter", .short_opt = 'd', .type = CM_SET_TEXT, .flags = REC, .arg = "C",
     .help = ", ; tab | or auto (guessed, the default)", .section = "Reading",
     .check = delimiter_ok, .want = "one of , ; tab | auto", .offset = AT(delimiter, const char *)},
    {.name = "decimal", .type = CM_SET_TEXT, .flags = REC, .arg = "C", .dflt = ".",
     .help = "decimal mark, . or ,", .check = decimal_ok, .want = "'.' or ','",
     .offset = AT(decimal, const char *)},
    {.name = "header", .option = "no-header", .flag = "no", .type = CM_SET_FLAG, .flags = REC,
     .dflt = "yes", .help = "the first line is data; columns are col1, col2...",
     .offset = AT(header, int)},
    {.name = "sample", .type = CM_SET_COUNT, .flags = REC, .arg = "N", .lo = 1, .dflt = "1000",
     .help = "rows read to infer column types", .offset = AT(sample, int64_t)},
    {.name = "type", .short_opt = 't', .type = CM_SET_CHOICE, .flags = REC | CM_SET_PER_COLUMN,
     .arg = "COL=TYPE", .choices = "num|cat|time|skip",
     .help = "num, cat, time or skip (repeatable)", .offset = CM_SET_NOWHERE},
    {.name = "time", .short_opt = 'T', .type = CM_SET_TEXT, .flags = REC, .arg = "COL[,COL]",
     .help = "the time column, or the columns that make it up", .section = "Time",
     .offset = AT(time, const char *)},
    {.name = "time-format", .type = CM_SET_TEXT, .flags = REC, .arg = "FMT",
     .help = "strptime-like, e.g. '%d/%m/%Y %H.%M.%S'", .offset = AT(time_format, const char *)},
    {.name = "tz", .type = CM_SET_TEXT, .flags = REC, .arg = "ZONE", .dflt = "UTC",
     .help = "zone of times without an offset", .offset = AT(tz, const char *)},
    {.name = "from", .type = CM_SET_TEXT, .flags = REC, .arg = "TIME",
     .help = "keep the rows at or after TIME (in --tz)", .check = cm_time_instant_bad,
     .want = "an ISO 8601 time or date such as 2011-12-01",
     .offset = AT(from, const char *)},
    {.name = "until", .type = CM_SET_TEXT, .flags = REC, .arg = "TIME",
     .help = "keep the rows before TIME (in --tz)", .check = cm_time_instant_bad,
     .want = "an ISO 8601 time or date such as 2011-12-01",
     .offset = AT(until, const char *)},
    {.name = "na", .type = CM_SET_TEXT, .flags = REC, .arg = "LIST",
     .help = "more missing-value markers, e.g. -200,-999", .section = "Values",
     .offset = AT(na, const char *)},
    {.name = "missing", .short_opt = 'm', .type = CM_SET_TEXT, .flags = REC | CM_SET_OR_COLUMN,
     .arg = "POLICY", .dflt = "drop", .check = policy_ok,
     .want = "drop, keep, ffill, interpolate, zero or value:X",
     .help = "drop, keep, ffill, interpolate, zero or value:X\n(a constant); COL=POLICY for "
             "one column (repeatable)",
     .offset = AT(missing, const char *)},
    {.name = "max-gap", .type = CM_SET_DURATION, .flags = REC, .arg = "DUR", .lo = 1,
     .help = "longest gap a fill may bridge: 90s 15m 2h 1d 1w",
     .offset = AT(max_gap, int64_t)},
    {.name = "derive", .type = CM_SET_TEXT, .flags = REC | CM_SET_REPEAT, .arg = "NAME=EXPR",
     .help = "a new number column from the row's numbers:\n+ - * / ( ) abs min max log exp "
             "(repeatable)",
     .check = derive_ok, .want = "NAME=EXPR", .offset = CM_SET_NOWHERE},
    {.name = "range", .type = CM_SET_TEXT, .flags = REC | CM_SET_PER_COLUMN, .arg = "COL=MIN:MAX",
     .help = "readings outside become missing (repeatable)", .check = range_ok,
     .want = "MIN:MAX with MIN <= MAX", .offset = CM_SET_NOWHERE},
    {.name = "lower", .type = CM_SET_TEXT, .flags = REC, .arg = "COL,...|all",
     .help = "lower-case and trim categories", .offset = AT(lower, const char *)},
    {.name = "columns", .short_opt = 'c', .type = CM_SET_TEXT, .flags = REC, .arg = "LIST",
     .help = "keep only these columns", .section = "Rows", .offset = AT(columns, const char *)},
    {.name = "drop", .type = CM_SET_TEXT, .flags = REC, .arg = "LIST",
     .help = "leave out these columns", .offset = AT(drop, const char *)},
    {.name = "sort", .short_opt = 's', .type = CM_SET_FLAG, .flags = REC,
     .help = "sort rows by time (stable)", .offset = AT(sort, int)},
    {.name = "buffer-size", .short_opt = 'S', .type = CM_SET_SIZE, .arg = "SIZE", .dflt = "256M",
     .help = "memory for sorting before spilling to disk", .offset = AT(buffer, uint64_t)},
    {.name = "tmpdir", .type = CM_SET_TEXT, .arg = "DIR",
     .help = "where sorting spills (default $TMPDIR or /tmp)", .offset = AT(tmpdir, const char *)},
    {.name = "dedupe", .type = CM_SET_CHOICE, .flags = REC, .arg = "first|last|no",
     .choices = "first|last|no", .dflt = "no", .help = "one row per time (and key)",
     .offset = AT(dedupe, int)},
    {.name = "key", .short_opt = 'k', .type = CM_SET_TEXT, .flags = REC, .arg = "COL",
     .help = "the series a row belongs to (sensor, station)", .offset = AT(key, const char *)},
    {.name = "bad-rows", .type = CM_SET_CHOICE, .flags = REC, .arg = "fail|skip",
     .choices = "fail|skip", .dflt = "fail",
     .help = "stop at the first bad row, or skip bad rows", .offset = AT(bad_rows, int)},
};
#undef AT
#undef REC

const cm_settings cm_clean_settings = {decls, sizeof decls / sizeof *decls};

/* ---- the plan ------------------------------------------------------------- */

static void colsets_free(colset *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].col), free(c[i].text);
    free(c);
}

void cm_clean_plan_free(cm_clean_plan *p)
{
    if (!p)
        return;
    cm_kv_free(p->settings);
    cm_list_free(&p->time);
    cm_list_free(&p->na);
    cm_list_free(&p->lower);
    cm_list_free(&p->keep);
    cm_list_free(&p->drop);
    free(p->na_len);
    free(p->na_num);
    cm_timefmt_free(p->tfmt);
    cm_tz_free(p->tz);
    colsets_free(p->types, p->ntypes);
    colsets_free(p->policies, p->npolicies);
    colsets_free(p->ranges, p->nranges);
    for (size_t i = 0; i < p->nderives; i++) {
        free(p->derives[i].name);
        cm_expr_free(p->derives[i].e);
    }
    free(p->derives);
    free(p);
}

static cm_status add_colset(colset **c, size_t *n, const char *col, int v, double lo,
                            double hi, const char *text, cm_error *err)
{
    colset *g = realloc(*c, (*n + 1) * sizeof *g);
    if (!g)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    *c = g;
    g[*n] = (colset){cm_strdup(col), v, lo, hi, text ? cm_strdup(text) : NULL};
    (*n)++;
    if (!g[*n - 1].col || (text && !g[*n - 1].text))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    return CM_OK;
}

static int choice_index(const char *choices, const char *v)
{
    int k = 0;
    for (const char *p = choices;; k++) {
        size_t w = strcspn(p, "|");
        if (w == strlen(v) && !strncmp(p, v, w))
            return k;
        if (!p[w])
            return -1;
        p += w + 1;
    }
}

/* derive.N: NAME=EXPR, compiled. */
static cm_status add_derive(cm_clean_plan *p, const char *v, cm_error *err)
{
    const char *eq = strchr(v, '=');
    derivespec *d = realloc(p->derives, (p->nderives + 1) * sizeof *d);
    if (!d)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    p->derives = d;
    d += p->nderives++;
    *d = (derivespec){cm_strndup(v, (size_t)(eq - v)), NULL};
    if (!d->name)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i + 1 < p->nderives; i++)
        if (!strcmp(p->derives[i].name, d->name))
            return cm_fail(err, CM_ERR_ARG, "derive '%s': given twice", d->name);
    cm_error e;
    if (!(d->e = cm_expr_parse(eq + 1, &e)))
        return cm_fail(err, e.status, "derive '%s': %s", d->name, e.msg);
    return CM_OK;
}

/* type.COL, missing.COL, range.COL and derive.N, in the order given. */
static cm_status per_column(cm_clean_plan *p, cm_error *err)
{
    cm_status st = CM_OK;
    for (size_t i = 0; !st && i < cm_kv_count(p->settings); i++) {
        const char *key = cm_kv_key(p->settings, i), *v = cm_kv_value(p->settings, i), *col;
        const cm_setting *s = cm_settings_find(&cm_clean_settings, key, &col);
        double lo, hi;
        const char *value = NULL;
        if (!col)
            continue;
        if (!strcmp(s->name, "derive")) {
            st = add_derive(p, v, err);
            continue;
        }
        if (s->name[0] == 't')
            st = add_colset(&p->types, &p->ntypes, col, K_NUM + choice_index(s->choices, v),
                            0, 0, NULL, err);
        else if (s->name[0] == 'm') {
            int policy = policy_parse(v, &value);
            st = add_colset(&p->policies, &p->npolicies, col, policy, 0, 0, value, err);
        }
        else if (!range_parse(v, &lo, &hi))
            st = add_colset(&p->ranges, &p->nranges, col, 0, lo, hi, NULL, err);
    }
    return st;
}

cm_clean_plan *cm_clean_plan_new(const cm_kv *settings, cm_error *err)
{
    cm_clean_plan *p = calloc(1, sizeof *p);
    cm_status st = p && (p->settings = cm_kv_new()) ? CM_OK
                 : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st)
        st = cm_kv_copy(p->settings, settings, err);
    if (!st)
        st = cm_settings_read(&cm_clean_settings, p->settings, &p->r, err);
    const clean_raw *r = &p->r;
    if (!st) {
        const char *d = r->delimiter ? r->delimiter : "auto";
        p->delim = !strcmp(d, "auto") ? 0 : !strcmp(d, "tab") ? '\t' : d[0];
        p->decimal = r->decimal[0];
        if (p->decimal == p->delim)
            st = cm_fail(err, CM_ERR_ARG, "the decimal mark cannot be the delimiter");
    }
    if (!st && r->time)
        st = cm_list_split(&p->time, r->time, err);
    if (!st && r->na)
        st = cm_list_split(&p->na, r->na, err);
    if (!st && r->lower)
        st = cm_list_split(&p->lower, r->lower, err);
    if (!st && r->columns)
        st = cm_list_split(&p->keep, r->columns, err);
    if (!st && r->drop)
        st = cm_list_split(&p->drop, r->drop, err);
    if (!st && r->time_format && !(p->tfmt = cm_timefmt_new(r->time_format, err)))
        st = err->status;
    if (!st && !(p->tz = cm_tz_load(r->tz, err)))
        st = err->status;
    if (!st) {
        p->missing = policy_parse(r->missing, &p->missing_value);
        bound(p, r->from, &p->from, &p->have_from);
        bound(p, r->until, &p->until, &p->have_until);
        if (p->have_from && p->have_until && p->from >= p->until)
            st = cm_fail(err, CM_ERR_ARG, "from %s is not before until %s", r->from, r->until);
    }
    if (!st)
        st = per_column(p, err);
    if (!st && !(p->na_len = calloc(p->na.n + 1, sizeof *p->na_len)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < p->na.n; i++)
        p->na_len[i] = strlen(p->na.item[i]);
    /* Missing markers that are numbers match numeric fields by value:
     * -200 catches -200.0 and, with a decimal comma, -200,0 too. */
    for (size_t i = 0; !st && i < p->na.n; i++) {
        double v;
        const char *m = p->na.item[i];
        if (cm_parse_num(m, strlen(m), '.', &v) && cm_parse_num(m, strlen(m), p->decimal, &v))
            continue;
        double *q = realloc(p->na_num, (p->nna_num + 1) * sizeof *q);
        if (!q)
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
        else
            (p->na_num = q)[p->nna_num++] = v;
    }
    if (st) {
        cm_clean_plan_free(p);
        return NULL;
    }
    return p;
}

const cm_tz *cm_clean_plan_tz(const cm_clean_plan *p)
{
    return p->tz;
}

char cm_clean_plan_decimal(const cm_clean_plan *p)
{
    return p->decimal;
}

cm_dedupe cm_clean_plan_dedupe(const cm_clean_plan *p)
{
    /* the setting's choices are first|last|no */
    return (cm_dedupe[]){CM_DEDUPE_FIRST, CM_DEDUPE_LAST, CM_DEDUPE_NO}[p->r.dedupe];
}

const char *cm_clean_plan_feeds(const cm_clean_plan *p, const char *col)
{
    for (size_t i = 0; i < p->nderives; i++)
        for (size_t k = 0; k < cm_expr_nvars(p->derives[i].e); k++)
            if (!strcmp(cm_expr_var(p->derives[i].e, k), col))
                return p->derives[i].name;
    return NULL;
}

int cm_clean_plan_field(const cm_clean_plan *p, size_t i, const char **name,
                        const char **kind)
{
    static const char *const kinds[] = {"", "number", "category", "time", "number"};
    for (size_t k = 0, n = 0; k < p->ntypes; k++) {
        /* a column left out is no field, unless a derive reads it */
        int skip = p->types[k].v == K_SKIP && !cm_clean_plan_feeds(p, p->types[k].col);
        if (skip || n++ < i)
            continue;
        *name = p->types[k].col;
        *kind = kinds[p->types[k].v];
        return 1;
    }
    return 0;
}

/* ---- a cleaner -------------------------------------------------------------- */

void cm_clean_free(cm_clean *c)
{
    if (!c)
        return;
    cm_list_free(&c->time);
    free(c->pad_f);
    free(c->pad_len);
    free(c->time_idx);
    for (size_t i = 0; i < c->ncols; i++)
        free(c->cols[i].name);
    free(c->cols);
    cm_schema_free(c->schema);
    free(c->out_policy);
    free(c->nodrop);
    free(c->out_const);
    free(c->derive_out);
    free(c->derive_var);
    free(c->dvals);
    free(c->dok);
    free(c->st.dropped_missing);
    free(c->st.out_of_range);
    free(c->st.filled);
    cm_clean_plan_free(c->owned);
    free(c);
}

cm_clean *cm_clean_new(const cm_kv *settings, cm_error *err)
{
    cm_clean_plan *p = cm_clean_plan_new(settings, err);
    cm_clean *c = p ? cm_clean_start(p, NULL, err) : NULL;
    if (c)
        c->owned = p;
    else
        cm_clean_plan_free(p);
    return c;
}

cm_clean *cm_clean_start(const cm_clean_plan *p, const cm_clean_opts *o, cm_error *err)
{
    cm_clean *c = calloc(1, sizeof *c);
    if (!c) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->p = p;
    if (o)
        c->o = *o;
    /* A model's replay runs the row stages too: its lags and windows must
     * look back over the series training saw. */
    c->sort = p->r.sort;
    c->dedupe = (int[]){DEDUPE_FIRST, DEDUPE_LAST, DEDUPE_NONE}[p->r.dedupe];
    c->bad_skip = p->r.bad_rows == 1;
    c->time_out = c->key_out = c->record_out = -1;
    /* the run's own copy: without one it may find the time column itself */
    if (p->r.time && cm_list_split(&c->time, p->r.time, err)) {
        cm_clean_free(c);
        return NULL;
    }
    return c;
}

