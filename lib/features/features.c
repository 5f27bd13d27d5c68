/* features.c - cm-features' settings: which columns to derive, checked
 * against the input schema, turned into the output schema and recorded
 * as the "features" step of its recipe. */
#include <stdlib.h>
#include <string.h>

#include "features/featcore.h"

const char *const cm_feature_parts[P_NPARTS] = {
    "hour", "minute", "dow", "dom", "month", "doy", "week", "year", "weekend"};
static const char *const stats[] = {"mean", "std", "min", "max", "sum", "count"};

#define DEFAULT_PARTS "hour,dow,month,doy,weekend"

/* ---- small parsers ----------------------------------------------------- */

/* Next comma-separated item of *p into buf; 0 at the end. */
static int next_item(const char **p, char *buf, size_t n)
{
    if (!*p)
        return 0;
    const char *q = strchr(*p, ',');
    size_t len = q ? (size_t)(q - *p) : strlen(*p);
    snprintf(buf, n, "%.*s", (int)len, *p);
    *p = q ? q + 1 : NULL;
    return 1;
}

/* "24" is rows, "24h" a duration. */
static int parse_span(const char *s, int64_t *span, int *rows)
{
    size_t n = strlen(s);
    if (n && strspn(s, "0123456789") == n) {
        *rows = 1;
        *span = strtoll(s, NULL, 10);
        return *span > 0 && *span <= 1 << 30 ? 0 : -1;
    }
    *rows = 0;
    return cm_parse_duration(s, span) || *span <= 0 || *span > CM_MAX_TIME ? -1 : 0;
}

static cm_status no_column(const cm_schema *s, const char *what,
                           const char *name, cm_error *err)
{
    char have[200] = "";
    size_t n = 0;
    for (size_t i = 0; i < cm_schema_ncols(s) && n < sizeof have - 40; i++)
        n += (size_t)snprintf(have + n, sizeof have - n, "%s'%s'", i ? ", " : "",
                              cm_schema_name(s, i));
    return cm_fail(err, CM_ERR_ARG, "%s: no column '%.64s' (the columns are %s)",
                   what, name, have);
}

static int on_list(const char *list, const char *name)
{
    char buf[CM_MAX_NAME + 1];
    for (const char *p = list; next_item(&p, buf, sizeof buf);)
        if (!strcmp(buf, name))
            return 1;
    return 0;
}

/* ---- building ------------------------------------------------------------ */

static cm_status add_derived(cm_features *f, int kind, int part, size_t src,
                             int64_t span, int by_rows, const char *name,
                             cm_error *err)
{
    derived *d = realloc(f->d, (f->nd + 1) * sizeof *d);
    if (!d)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    f->d = d;
    size_t out;
    cm_status st = cm_schema_add(f->out, name, CM_F64, CM_ROLE_FEATURE, &out, err);
    if (st == CM_ERR_DATA) /* the name is taken */
        return cm_fail(err, CM_ERR_ARG, cm_schema_find(f->in, name) >= 0
                       ? "the derived column '%s' exists already as an input "
                         "column; drop or rename it"
                       : "the derived column '%s' is asked for twice", name);
    if (st)
        return st;
    f->d[f->nd++] = (derived){kind, part, src, span, by_rows, out};
    if (kind >= D_LAG) {
        if (by_rows && (uint64_t)span > f->max_rows)
            f->max_rows = (uint64_t)span;
        if (!by_rows && span > f->max_span)
            f->max_span = span;
    }
    return CM_OK;
}

/* The history slot of input column col, added on first use. */
static cm_status hist_slot(cm_features *f, size_t col, size_t *slot, cm_error *err)
{
    for (size_t i = 0; i < f->nhist; i++)
        if (f->hist_col[i] == col)
            return *slot = i, CM_OK;
    size_t *h = realloc(f->hist_col, (f->nhist + 1) * sizeof *h);
    if (!h)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    f->hist_col = h;
    h[f->nhist] = col;
    *slot = f->nhist++;
    return CM_OK;
}

/* The source of a lag, window or difference: a numeric input column. */
static cm_status source(cm_features *f, const char *what, const char *name,
                        size_t *slot, cm_error *err)
{
    long c = cm_schema_find(f->in, name);
    if (c < 0)
        return no_column(f->in, what, name, err);
    cm_dtype t = cm_schema_dtype(f->in, (size_t)c);
    if (t == CM_CAT || t == CM_TIME)
        return cm_fail(err, CM_ERR_ARG, "%s: column '%s' is %s, not a number",
                       what, name, t == CM_CAT ? "a category" : "a time");
    return hist_slot(f, (size_t)c, slot, err);
}

static cm_status need_time(cm_features *f, const char *what, const char *spec,
                           cm_error *err)
{
    if (f->time_col >= 0)
        return CM_OK;
    return cm_fail(err, CM_ERR_ARG, "%s '%s': durations need a time column "
                   "(give a number of rows instead)", what, spec);
}

/* lag.N = COL:SPAN,...   diff.N = COL:SPAN,... */
static cm_status lags(cm_features *f, const char *what, int kind,
                      const char *spec, cm_error *err)
{
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || !colon[1])
        return cm_fail(err, CM_ERR_ARG, "%s '%s': expected COL:SPAN[,SPAN...]",
                       what, spec);
    char col[CM_MAX_NAME + 1], item[64], name[CM_MAX_NAME + 160];
    snprintf(col, sizeof col, "%.*s", (int)(colon - spec), spec);
    size_t slot;
    cm_status st = source(f, what, col, &slot, err);
    if (!st && kind == D_DIFF && cm_schema_find(f->in, col) == f->target_col)
        return cm_fail(err, CM_ERR_ARG, "diff '%s': a difference of the target "
                       "uses the value to be forecast; lag it instead", spec);
    for (const char *p = colon + 1; !st && next_item(&p, item, sizeof item);) {
        int64_t span;
        int rows;
        if (parse_span(item, &span, &rows))
            return cm_fail(err, CM_ERR_ARG, "%s '%s': '%s' is not a duration "
                           "(90s 15m 1h 7d 1w) or a number of rows", what, spec, item);
        if (!rows && (st = need_time(f, what, spec, err)))
            return st;
        snprintf(name, sizeof name, "%s_%s%s", col, kind == D_LAG ? "lag" : "diff",
                 item);
        st = add_derived(f, kind, 0, slot, span, rows, name, err);
    }
    return st;
}

/* rolling.N = COL:STAT,...:SPAN */
static cm_status rolling(cm_features *f, const char *spec, cm_error *err)
{
    const char *c1 = strchr(spec, ':'), *c2 = strrchr(spec, ':');
    if (!c1 || c1 == c2 || c1 == spec || !c2[1])
        return cm_fail(err, CM_ERR_ARG, "rolling '%s': expected COL:STAT[,STAT...]:SPAN",
                       spec);
    char col[CM_MAX_NAME + 1], spanbuf[64], list[256], item[64];
    char name[CM_MAX_NAME + 160];
    snprintf(col, sizeof col, "%.*s", (int)(c1 - spec), spec);
    snprintf(list, sizeof list, "%.*s", (int)(c2 - c1 - 1), c1 + 1);
    snprintf(spanbuf, sizeof spanbuf, "%s", c2 + 1);
    int64_t span;
    int rows;
    if (parse_span(spanbuf, &span, &rows))
        return cm_fail(err, CM_ERR_ARG, "rolling '%s': '%s' is not a duration or a "
                       "number of rows", spec, spanbuf);
    size_t slot;
    cm_status st = source(f, "rolling", col, &slot, err);
    if (!st && !rows)
        st = need_time(f, "rolling", spec, err);
    for (const char *p = list; !st && next_item(&p, item, sizeof item);) {
        int stat = -1;
        for (int k = 0; k < 6; k++)
            if (!strcmp(item, stats[k]))
                stat = k;
        if (stat < 0)
            return cm_fail(err, CM_ERR_ARG, "rolling '%s': '%s' is not one of mean, "
                           "std, min, max, sum, count", spec, item);
        snprintf(name, sizeof name, "%s_%s%s", col, item, spanbuf);
        st = add_derived(f, D_ROLL, stat, slot, span, rows, name, err);
    }
    return st;
}

static cm_status calendar(cm_features *f, const char *parts, int parts_given,
                          int cyclic, cm_error *err)
{
    char item[64], name[80];
    cm_status st = CM_OK;
    if (!strcmp(parts, "none") || (!parts_given && f->time_col < 0))
        return CM_OK; /* the default set applies where there is a time */
    if (f->time_col < 0)
        return cm_fail(err, CM_ERR_ARG, "time features need a time column");
    for (const char *p = parts; !st && next_item(&p, item, sizeof item);) {
        int part = -1;
        for (int k = 0; k < P_NPARTS; k++)
            if (!strcmp(item, cm_feature_parts[k]))
                part = k;
        if (part < 0)
            return cm_fail(err, CM_ERR_ARG, "time-features: '%s' is not one of hour, "
                           "minute, dow, dom, month, doy, week, year, weekend", item);
        st = add_derived(f, D_PART, part, 0, 0, 0, item, err);
        if (!st && cyclic && part != P_YEAR && part != P_WEEKEND) {
            snprintf(name, sizeof name, "%s_sin", item);
            st = add_derived(f, D_SIN, part, 0, 0, 0, name, err);
            snprintf(name, sizeof name, "%s_cos", item);
            if (!st)
                st = add_derived(f, D_COS, part, 0, 0, 0, name, err);
        }
    }
    return st;
}

static int by_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static cm_status holidays(cm_features *f, const char *dates, cm_error *err)
{
    char item[64];
    for (const char *p = dates; next_item(&p, item, sizeof item);) {
        cm_walltime w;
        if (!*item)
            continue;
        if (strlen(item) != 10 || item[4] != '-' || item[7] != '-' ||
            cm_parse_time(item, strlen(item), &w) != CM_TIME_ISO)
            return cm_fail(err, CM_ERR_ARG, "holidays: '%s' is not a date "
                           "(YYYY-MM-DD)", item);
        int64_t *h = realloc(f->holidays, (f->nholidays + 1) * sizeof *h);
        if (!h)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        f->holidays = h;
        h[f->nholidays++] = w.wall / 86400;
    }
    qsort(f->holidays, f->nholidays, sizeof *f->holidays, by_day);
    return CM_OK;
}

/* ---- the whole ------------------------------------------------------------ */

static const char *get(const cm_kv *s, const char *k, const char *dflt)
{
    const char *v = cm_kv_get(s, k);
    return v ? v : dflt;
}

static cm_status check_keys(const cm_kv *s, cm_error *err)
{
    static const char *const known[] = {
        "target", "time-features", "cyclic", "holidays", "holiday-col",
        "holiday-none", "by", "min-count", "keep-incomplete", "drop", "keep",
        "max-history", "batch-rows"};
    for (size_t i = 0; i < cm_kv_count(s); i++) {
        const char *k = cm_kv_key(s, i);
        int ok = !strncmp(k, "lag.", 4) || !strncmp(k, "rolling.", 8) ||
                 !strncmp(k, "diff.", 5);
        for (size_t j = 0; !ok && j < sizeof known / sizeof *known; j++)
            ok = !strcmp(k, known[j]);
        if (!ok)
            return cm_fail(err, CM_ERR_ARG, "unknown setting '%.64s'", k);
    }
    return CM_OK;
}

static cm_status build(cm_features *f, const cm_kv *s, cm_error *err)
{
    const cm_schema *in = f->in;
    cm_status st = check_keys(s, err);
    const char *target = cm_kv_get(s, "target"), *by = cm_kv_get(s, "by");
    const char *drop = get(s, "drop", ""), *keep = cm_kv_get(s, "keep");
    const char *hcol = cm_kv_get(s, "holiday-col");
    long tcol = target ? cm_schema_find(in, target) : -1;
    for (size_t c = 0; !target && c < cm_schema_ncols(in); c++)
        if (cm_schema_role(in, c) == CM_ROLE_TARGET)
            tcol = (long)c; /* an earlier stage's target stays the target */
    if (!st && target && tcol < 0)
        st = no_column(in, "target", target, err);
    if (!st && tcol >= 0 && cm_schema_dtype(in, (size_t)tcol) != CM_F32 &&
        cm_schema_dtype(in, (size_t)tcol) != CM_F64 && cm_schema_dtype(in, (size_t)tcol) != CM_I64)
        st = cm_fail(err, CM_ERR_ARG, "target: column '%s' is %s; cm forecasts "
                     "numbers", cm_schema_name(in, (size_t)tcol),
                     cm_schema_dtype(in, (size_t)tcol) == CM_CAT ? "a category" : "a time");
    if (!st && (cm_kv_get(s, "holidays") || hcol) && f->time_col < 0)
        st = cm_fail(err, CM_ERR_ARG, "holidays need a time column");
    if (!st && f->time_col >= 0 && on_list(drop, cm_schema_name(in, (size_t)f->time_col)))
        st = cm_fail(err, CM_ERR_ARG, "drop: '%s' is the time column; it stays",
                     cm_schema_name(in, (size_t)f->time_col));
    f->target_col = tcol;
    if (!st && by && (f->by_col = cm_schema_find(in, by)) < 0)
        st = no_column(in, "by", by, err);
    if (!st && by && cm_schema_dtype(in, (size_t)f->by_col) != CM_CAT)
        st = cm_fail(err, CM_ERR_ARG, "by: column '%s' is not a category", by);
    if (!st && hcol && (f->holiday_col = cm_schema_find(in, hcol)) < 0)
        st = no_column(in, "holiday-col", hcol, err);
    if (!st && hcol && cm_schema_dtype(in, (size_t)f->holiday_col) != CM_CAT)
        st = cm_fail(err, CM_ERR_ARG, "holiday-col: column '%s' is not a category", hcol);
    char item[CM_MAX_NAME + 1];
    for (const char *p = drop; !st && next_item(&p, item, sizeof item);)
        if (*item && cm_schema_find(in, item) < 0)
            st = no_column(in, "drop", item, err);
    for (const char *p = keep; !st && next_item(&p, item, sizeof item);)
        if (cm_schema_find(in, item) < 0)
            st = no_column(in, "keep", item, err);
    if (st)
        return st;

    /* Passed through: the input's columns, chosen, with the target last. */
    if (!(f->out = cm_schema_new()) || cm_kv_copy(cm_schema_meta(f->out),
                                                  cm_schema_meta_c(in), err) ||
        cm_kv_set(cm_schema_meta(f->out), "producer", "cm-features " CM_VERSION_STRING, err))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!(f->pass = calloc(cm_schema_ncols(in) + 1, sizeof *f->pass)) ||
        !(f->pass_out = calloc(cm_schema_ncols(in) + 1, sizeof *f->pass_out)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (int round = 0; round < 2 && !st; round++) {
        if (round == 1) {
            /* derived columns go between the inputs and the target */
            st = calendar(f, get(s, "time-features", DEFAULT_PARTS),
                          cm_kv_get(s, "time-features") != NULL,
                          !strcmp(get(s, "cyclic", "no"), "yes"), err);
            if (!st && (cm_kv_get(s, "holidays") || hcol))
                st = add_derived(f, D_HOLIDAY, 0, 0, 0, 0, "is_holiday", err);
            if (!st && cm_kv_get(s, "holidays"))
                st = holidays(f, cm_kv_get(s, "holidays"), err);
            for (size_t i = 0; !st && i < cm_kv_count(s); i++) {
                const char *k = cm_kv_key(s, i), *v = cm_kv_value(s, i);
                if (!strncmp(k, "lag.", 4))
                    st = lags(f, "lag", D_LAG, v, err);
                else if (!strncmp(k, "diff.", 5))
                    st = lags(f, "diff", D_DIFF, v, err);
                else if (!strncmp(k, "rolling.", 8))
                    st = rolling(f, v, err);
            }
        }
        for (size_t c = 0; c < cm_schema_ncols(in) && !st; c++) {
            const char *name = cm_schema_name(in, c);
            int is_target = (long)c == tcol;
            if (is_target != round)
                continue;
            if ((long)c != f->time_col && !is_target &&
                ((keep && !on_list(keep, name)) || on_list(drop, name)))
                continue;
            size_t o;
            cm_role role = is_target ? CM_ROLE_TARGET
                         : cm_schema_role(in, c) == CM_ROLE_TARGET ? CM_ROLE_FEATURE
                                                                  : cm_schema_role(in, c);
            st = cm_schema_add(f->out, name, cm_schema_dtype(in, c), role, &o, err);
            if (!st)
                st = cm_kv_copy(cm_schema_col_meta(f->out, o),
                                cm_schema_col_meta_c(in, c), err);
            f->pass[f->npass] = c;
            f->pass_out[f->npass++] = o;
        }
    }
    return st;
}

/* The recipe: the input's steps, then this one with every setting. */
static cm_status recipe(cm_features *f, const cm_kv *s, cm_error *err)
{
    cm_status st = CM_OK;
    for (size_t i = 0; !st && i < cm_recipe_nsteps(f->in); i++) {
        size_t k;
        st = cm_recipe_add(f->out, cm_recipe_op(f->in, i), &k, err);
        if (!st)
            st = cm_kv_copy(cm_recipe_params(f->out, k), cm_recipe_params_c(f->in, i), err);
    }
    size_t k;
    if (!st)
        st = cm_recipe_add(f->out, "features", &k, err);
    if (!st)
        st = cm_kv_copy(cm_recipe_params(f->out, k), s, err);
    if (!st && !cm_kv_get(s, "time-features") && f->time_col >= 0)
        st = cm_kv_set(cm_recipe_params(f->out, k), "time-features", DEFAULT_PARTS, err);
    return st;
}

cm_features *cm_features_new(const cm_schema *in, const cm_kv *s, cm_error *err)
{
    return cm_features_new_tz(in, s, NULL, err);
}

cm_features *cm_features_new_tz(const cm_schema *in, const cm_kv *s, const cm_tz *lent,
                                cm_error *err)
{
    cm_features *f = calloc(1, sizeof *f);
    if (!f) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    f->in = in;
    f->max_span = -1;
    f->time_col = f->by_col = f->holiday_col = -1;
    for (size_t c = 0; c < cm_schema_ncols(in); c++)
        if (cm_schema_role(in, c) == CM_ROLE_TIME && cm_schema_dtype(in, c) == CM_TIME)
            f->time_col = (long)c;
    cm_status st = CM_OK;
    const char *zone = f->time_col >= 0
                           ? cm_kv_get(cm_schema_col_meta_c(in, (size_t)f->time_col), "tz")
                           : NULL;
    if (zone && lent && !strcmp(cm_tz_name(lent), zone))
        f->tz = lent; /* the caller's copy: no zone file read per replay */
    else if (zone && !(f->tz = f->tz_owned = cm_tz_load(zone, err)))
        st = err->status;
    const char *none = get(s, "holiday-none", "None");
    if (!st && !(f->holiday_none = malloc(strlen(none) + 1)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st)
        strcpy(f->holiday_none, none);
    char *end;
    const char *mc = get(s, "min-count", "1"), *mh = get(s, "max-history", "1048576");
    f->min_count = (size_t)strtoull(mc, &end, 10);
    if (!st && (*end || mc[0] < '0' || mc[0] > '9' || f->min_count == 0))
        st = cm_fail(err, CM_ERR_ARG, "min-count: '%s' is not a positive number", mc);
    f->max_history = (size_t)strtoull(mh, &end, 10);
    if (!st && (*end || mh[0] < '0' || mh[0] > '9' || f->max_history < 1))
        st = cm_fail(err, CM_ERR_ARG, "max-history: '%s' is not a number of rows", mh);
    const char *ki = get(s, "keep-incomplete", "no");
    if (!st && strcmp(ki, "yes") && strcmp(ki, "no"))
        st = cm_fail(err, CM_ERR_ARG, "keep-incomplete: '%s' is not yes or no", ki);
    f->keep_incomplete = !strcmp(ki, "yes");
    if (!st)
        st = build(f, s, err);
    if (!st)
        st = recipe(f, s, err);
    size_t nout = f->out ? cm_schema_ncols(f->out) : 0;
    /* rows written together; a one-row replay wants few, a file many */
    size_t rows = strtoul(get(s, "batch-rows", "4096"), NULL, 10);
    if (!st && (!(f->ob = cm_batch_new(f->out, rows ? rows : 4096)) ||
                !(f->vals = calloc(f->nhist + 1, sizeof *f->vals)) ||
                !(f->oks = calloc(f->nhist + 1, 1)) ||
                !(f->dropped_by = calloc(nout + 1, sizeof *f->dropped_by))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (st) {
        cm_features_free(f);
        return NULL;
    }
    return f;
}

void cm_features_reset(cm_features *f)
{
    for (size_t i = 0; i < f->nser; i++)
        cm_history_free(&f->ser[i].h);
    free(f->ser);
    f->ser = NULL;
    f->nser = 0;
    f->on = f->day_start = 0;
    f->cur_day = 0;
    f->day_holiday = f->have_day = 0;
    f->rows_in = f->rows_out = f->dropped = f->no_time = 0;
    memset(f->dropped_by, 0, (cm_schema_ncols(f->out) + 1) * sizeof *f->dropped_by);
}

void cm_features_free(cm_features *f)
{
    if (!f)
        return;
    cm_schema_free(f->out);
    cm_tz_free(f->tz_owned);
    free(f->pass);
    free(f->pass_out);
    free(f->d);
    free(f->hist_col);
    free(f->holidays);
    free(f->holiday_none);
    for (size_t i = 0; i < f->nser; i++)
        cm_history_free(&f->ser[i].h);
    free(f->ser);
    cm_batch_free(f->ob);
    free(f->vals);
    free(f->oks);
    free(f->dropped_by);
    free(f);
}

const cm_schema *cm_features_schema(const cm_features *f)
{
    return f->out;
}

void cm_features_report(const cm_features *f, FILE *out)
{
    fprintf(out, "rows read: %llu\nrows written: %llu\nrows dropped: %llu "
            "(a derived value missing), %llu (no time)\n", (unsigned long long)f->rows_in,
            (unsigned long long)f->rows_out, (unsigned long long)f->dropped,
            (unsigned long long)f->no_time);
    for (size_t c = 0; c < cm_schema_ncols(f->out); c++)
        if (f->dropped_by[c])
            fprintf(out, "  %s: missing in %llu dropped rows\n", cm_schema_name(f->out, c),
                    (unsigned long long)f->dropped_by[c]);
}
