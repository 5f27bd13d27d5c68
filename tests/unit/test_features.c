/* test_features.c - derived features as a specification: rows built in
 * memory are pushed through a features builder, two at a time so that
 * every look-back crosses batches, and each rule of cm-features(1) is
 * checked on values worked out by hand.  Columns are compared as text
 * ("1,,3": missing values empty), numbers in their shortest exact form,
 * so equal text is equal doubles. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm.h"
#include "../settings.h"
#include "tap.h"

#define MAXROWS 64
#define H(h) ((int64_t)(h) * 3600)
#define NOTIME INT64_MIN /* a row whose time is missing */
#define NA NAN           /* a missing x */
#define R(t, x) {(t), (x), NULL} /* a row of no series */

/* One input row: its time, x, and the series it belongs to (with by). */
typedef struct row {
    int64_t t;
    double x;
    const char *k;
} row;

/* A builder's run: its input, its settings and the rows it handed on. */
typedef struct run {
    cm_schema *in;
    cm_kv *set;
    cm_features *f;
    cm_batch *rows;
    size_t n;
    cm_status st;
    cm_error err;
} run;

static cm_status gather(void *ctx, cm_batch *b, cm_error *err)
{
    run *r = ctx;
    const cm_schema *s = cm_features_schema(r->f);
    (void)err;
    if (!r->rows)
        r->rows = cm_batch_new(s, MAXROWS);
    for (size_t i = 0; i < cm_batch_nrows(b) && r->n < MAXROWS; i++)
        cm_batch_copy_row(s, r->rows, r->n++, b, i);
    cm_batch_set_nrows(r->rows, r->n);
    return CM_OK;
}

/* The stream schema cm-clean would write: t (time, role time, tz=zone),
 * x (f64) and, keyed, k (a category). */
static cm_schema *input_schema(const char *zone, int keyed)
{
    cm_schema *s = cm_schema_new();
    size_t t;
    cm_schema_add(s, "t", CM_TIME, CM_ROLE_TIME, &t, NULL);
    cm_kv_set(cm_schema_col_meta(s, t), "tz", zone, NULL);
    cm_schema_add(s, "x", CM_F64, CM_ROLE_FEATURE, NULL, NULL);
    if (keyed)
        cm_schema_add(s, "k", CM_CAT, CM_ROLE_FEATURE, NULL, NULL);
    return s;
}

/* Derives the features of rows[0..n) by the settings, pushed two at a
 * time; r->st and r->err say how it went. */
static void features(run *r, const char *set, const char *zone, const row *rows, size_t n)
{
    int keyed = n && rows[0].k;
    memset(r, 0, sizeof *r);
    cm_error_clear(&r->err);
    r->in = input_schema(zone, keyed);
    r->set = settings(set);
    r->f = cm_features_new(r->in, r->set, &r->err);
    cm_kv_free(r->set); /* the builder keeps its own copy */
    r->set = NULL;
    if (!r->f) {
        r->st = r->err.status;
        printf("# features: %s\n", r->err.msg);
        return;
    }
    cm_batch *b = cm_batch_new(r->in, 2);
    for (size_t i = 0; !r->st && i < n; i += 2) {
        size_t m = n - i < 2 ? n - i : 2;
        for (size_t j = 0; j < m; j++) {
            const row *w = &rows[i + j];
            ((int64_t *)cm_batch_values(b, 0))[j] = w->t == NOTIME ? 0 : w->t;
            cm_batch_valid(b, 0)[j] = w->t != NOTIME;
            ((double *)cm_batch_values(b, 1))[j] = isnan(w->x) ? 0 : w->x;
            cm_batch_valid(b, 1)[j] = !isnan(w->x);
            if (keyed) {
                /* categories are interned in the input schema's dictionary */
                cm_dict_intern(cm_schema_dict(r->in, 2), w->k, strlen(w->k),
                               &((uint32_t *)cm_batch_values(b, 2))[j], NULL);
                cm_batch_valid(b, 2)[j] = 1;
            }
        }
        cm_batch_set_nrows(b, m);
        r->st = cm_features_push(r->f, b, gather, r, &r->err);
    }
    if (!r->st)
        r->st = cm_features_finish(r->f, gather, r, &r->err);
    if (r->st)
        printf("# features: %s\n", r->err.msg);
    cm_batch_free(b);
}

static void run_free(run *r)
{
    cm_batch_free(r->rows);
    cm_features_free(r->f);
    cm_kv_free(r->set);
    cm_schema_free(r->in);
}

/* Column name of the output rows as text, "v0,v1,...": numbers
 * shortest, times ISO 8601 UTC, categories as strings, missing empty. */
static const char *column(const run *r, const char *name)
{
    static char out[4][2048];
    static int k;
    char *buf = out[k++ & 3];
    size_t n = 0;
    const cm_schema *s = r->f ? cm_features_schema(r->f) : NULL;
    long c = s ? cm_schema_find(s, name) : -1;
    buf[0] = '\0';
    if (c < 0)
        return "(no such column)";
    for (size_t i = 0; i < r->n; i++) {
        char v[128] = "";
        const void *vals = cm_batch_values_c(r->rows, (size_t)c);
        if (cm_batch_valid_c(r->rows, (size_t)c)[i]) {
            switch (cm_schema_dtype(s, (size_t)c)) {
            case CM_F64: cm_fmt_f64(v, sizeof v, ((const double *)vals)[i]); break;
            case CM_TIME: cm_fmt_time(v, sizeof v, ((const int64_t *)vals)[i]); break;
            case CM_CAT:
                snprintf(v, sizeof v, "%s",
                         cm_dict_string(cm_schema_dict_c(s, (size_t)c),
                                        ((const uint32_t *)vals)[i], NULL));
                break;
            default: snprintf(v, sizeof v, "?"); break;
            }
        }
        n += (size_t)snprintf(buf + n, sizeof out[0] - n, "%s%s", i ? "," : "", v);
    }
    return buf;
}

#define SAME(got_, want_, ...)                                                 \
    do {                                                                      \
        const char *g_ = (got_), *w_ = (want_);                               \
        CHECK(!strcmp(g_, w_), __VA_ARGS__);                                  \
        if (strcmp(g_, w_))                                                   \
            printf("#   got  '%s'\n#   want '%s'\n", g_, w_);                 \
    } while (0)

#define N(a) (sizeof(a) / sizeof *(a))

/* ---- lags ------------------------------------------------------------------------- */

/* A lag by time is the value at exactly t - SPAN: across a missing hour
 * it is missing, not the value of the row before.  A lag of N rows is
 * the Nth row before, whatever the times. */
static void test_lags(void)
{
    static const row rows[] = {R(H(0), 10), R(H(1), 11), R(H(2), 12), R(H(4), 14), R(H(5), 15)};
    run r;
    features(&r, "lag.1=x:1h,2h lag.2=x:2 keep-incomplete=yes time-features=none", "UTC",
             rows, N(rows));
    CHECK(r.st == CM_OK && r.n == 5, "lags: every row kept with keep-incomplete");
    SAME(column(&r, "x_lag1h"), ",10,11,,14", "lag 1h: 04:00 follows a gap, its lag is missing");
    SAME(column(&r, "x_lag2h"), ",,10,12,", "lag 2h: 04:00 sees 02:00; 05:00 finds no 03:00");
    SAME(column(&r, "x_lag2"), ",,10,11,12", "lag of 2 rows: the row two before, gap or not");
    const cm_schema *s = r.f ? cm_features_schema(r.f) : NULL;
    CHECK(s && cm_schema_ncols(s) == 5 && !strcmp(cm_schema_name(s, 2), "x_lag1h") &&
              !strcmp(cm_schema_name(s, 4), "x_lag2"),
          "lags: t, x, then x_lag1h, x_lag2h, x_lag2 in the order given");
    run_free(&r);

    /* Two rows at one time: a lag of a row sees the first from the second,
     * a lag of a duration sees neither from the other. */
    static const row same[] = {R(H(0), 1), R(H(0), 2), R(H(1), 3)};
    features(&r, "lag.1=x:1 lag.2=x:1h keep-incomplete=yes time-features=none", "UTC", same,
             N(same));
    SAME(column(&r, "x_lag1"), ",1,2", "lag of 1 row across rows of the same time");
    SAME(column(&r, "x_lag1h"), ",,2", "lag 1h: of two rows at 00:00 the last counts");
    run_free(&r);
}

/* A difference is the row's value minus its lag: missing when either is. */
static void test_diff(void)
{
    static const row rows[] = {R(H(0), 10), R(H(1), 13), R(H(2), NA), R(H(3), 20), R(H(4), 26)};
    run r;
    features(&r, "diff.1=x:1h keep-incomplete=yes time-features=none", "UTC", rows, N(rows));
    SAME(column(&r, "x_diff1h"), ",3,,,6", "diff 1h: 13-10, missing around the missing x, 26-20");
    run_free(&r);
}

/* Rows with a missing derived value are dropped unless keep-incomplete,
 * yet still serve as the past of the rows after them; a row without a
 * time is always dropped. */
static void test_incomplete(void)
{
    static const row rows[] = {R(H(0), 10), R(H(1), 11), R(H(3), 13), R(H(4), 14),
                               R(NOTIME, 99), R(H(5), 15)};
    run r;
    features(&r, "lag.1=x:1h time-features=none", "UTC", rows, N(rows));
    CHECK(r.st == CM_OK, "incomplete: the run succeeds");
    SAME(column(&r, "x"), "11,14,15", "incomplete: 00:00 and 03:00 (no lag) and the row "
                                      "without a time are dropped");
    SAME(column(&r, "x_lag1h"), "10,13,14", "incomplete: 04:00 lags the dropped 03:00");
    run_free(&r);
}

/* ---- windows ------------------------------------------------------------------------ */

/* A window of SPAN holds the rows in [t - SPAN, t): never the row itself.
 * Its statistics are over the present values; std (n - 1) is missing
 * below two values, count is never missing, and min-count makes the
 * others missing below that many values. */
static void test_rolling(void)
{
    static const row rows[] = {R(H(0), 2), R(H(1), NA), R(H(2), 4),
                               R(H(3), 6), R(H(4), 8),  R(H(5), 100)};
    run r;
    features(&r, "rolling.1=x:mean,std,count,sum,min,max:3h keep-incomplete=yes "
                 "time-features=none", "UTC", rows, N(rows));
    CHECK(r.st == CM_OK && r.n == 6, "rolling: 6 rows");
    /* windows: {} {2} {2,-} {2,-,4} {-,4,6} {4,6,8} */
    SAME(column(&r, "x_count3h"), "0,1,1,2,2,3", "rolling count: present values only, 0 when empty");
    SAME(column(&r, "x_mean3h"), ",2,2,3,5,6", "rolling mean: 05:00 is (4+6+8)/3, not with 100");
    SAME(column(&r, "x_std3h"), ",,,1.4142135623730951,1.4142135623730951,2",
         "rolling std: missing for one value; sqrt(2) for {2,4}; 2 for {4,6,8}");
    SAME(column(&r, "x_sum3h"), ",2,2,6,10,18", "rolling sum");
    SAME(column(&r, "x_min3h"), ",2,2,2,4,4", "rolling min");
    SAME(column(&r, "x_max3h"), ",2,2,4,6,8", "rolling max: the row's own 100 never counts");
    run_free(&r);

    features(&r, "rolling.1=x:mean,count:3h min-count=3 keep-incomplete=yes time-features=none",
             "UTC", rows, N(rows));
    SAME(column(&r, "x_mean3h"), ",,,,,6", "min-count=3: the mean needs 3 values");
    SAME(column(&r, "x_count3h"), "0,1,1,2,2,3", "min-count=3: count is never missing");
    run_free(&r);

    /* a window of 2 rows: the two rows before, whatever their times */
    static const row gappy[] = {R(H(0), 1), R(H(1), 2), R(H(10), 4), R(H(20), 8)};
    features(&r, "rolling.1=x:sum:2 keep-incomplete=yes time-features=none", "UTC", gappy,
             N(gappy));
    SAME(column(&r, "x_sum2"), ",1,3,6", "rolling over 2 rows ignores the gaps");
    run_free(&r);
}

/* ---- calendar --------------------------------------------------------------------------- */

/* Calendar parts are those of the local clock of the time column's zone;
 * dow counts from Monday 0: 1970-01-01 was a Thursday (3), 2024-02-29 a
 * Thursday too, and 2024-03-01 00:00 in Berlin is 2024-02-29T23:00Z. */
static void test_calendar(void)
{
    /* 1970-01-01 00:00, 1970-01-04 13:00 (Sunday), 2024-02-29 23:00 (UTC) */
    static const row rows[] = {R(0, 1), R(H(3 * 24 + 13), 2), R(1709247600, 3)};
    run r;
    features(&r, "time-features=hour,dow,dom,month,doy,week,year,weekend", "UTC", rows,
             N(rows));
    CHECK(r.st == CM_OK && r.n == 3, "calendar: 3 rows");
    SAME(column(&r, "hour"), "0,13,23", "calendar hour");
    SAME(column(&r, "dow"), "3,6,3", "calendar dow: Thursday 3, Sunday 6 (Monday 0)");
    SAME(column(&r, "dom"), "1,4,29", "calendar dom");
    SAME(column(&r, "month"), "1,1,2", "calendar month");
    SAME(column(&r, "doy"), "1,4,60", "calendar doy: 29 February is day 60");
    SAME(column(&r, "week"), "1,1,9", "calendar ISO week");
    SAME(column(&r, "year"), "1970,1970,2024", "calendar year");
    SAME(column(&r, "weekend"), "0,1,0", "calendar weekend: Sunday is 1");
    run_free(&r);

    features(&r, "time-features=hour,dow,dom,month", "Europe/Berlin", rows, N(rows));
    SAME(column(&r, "hour"), "1,14,0", "calendar in Europe/Berlin: one hour ahead of UTC in winter");
    SAME(column(&r, "dow"), "3,6,4", "calendar in Europe/Berlin: 2024-03-01 is a Friday");
    SAME(column(&r, "dom"), "1,4,1", "calendar in Europe/Berlin: day of the local date");
    SAME(column(&r, "month"), "1,1,3", "calendar in Europe/Berlin: March already");
    run_free(&r);
}

/* ---- series and order --------------------------------------------------------------------- */

/* With by, each series looks back only at its own rows, and the rows of
 * different series may come in any order relative to each other. */
static void test_series(void)
{
    static const row rows[] = {{H(0), 1, "a"},   {H(2), 102, "b"}, {H(1), 2, "a"},
                               {H(3), 103, "b"}, {H(2), 3, "a"}};
    run r;
    features(&r, "by=k lag.1=x:1h keep-incomplete=yes time-features=none", "UTC", rows,
             N(rows));
    CHECK(r.st == CM_OK && r.n == 5, "series: rows of two series interleaved out of time order");
    SAME(column(&r, "k"), "a,b,a,b,a", "series: the by column passes through with its strings");
    SAME(column(&r, "x_lag1h"), ",,1,102,2", "series: each lag from its own series");
    run_free(&r);

    features(&r, "lag.1=x:1h keep-incomplete=yes time-features=none", "UTC", rows, N(rows));
    CHECK(r.st == CM_ERR_DATA, "order: without by the same rows are out of time order "
                               "(CM_ERR_DATA)");
    run_free(&r);

    static const row back[] = {{H(0), 1, "a"}, {H(2), 3, "a"}, {H(5), 9, "b"}, {H(1), 2, "a"}};
    features(&r, "by=k lag.1=x:1h keep-incomplete=yes time-features=none", "UTC", back,
             N(back));
    CHECK(r.st == CM_ERR_DATA, "order: a row earlier than the one before in its series is "
                               "CM_ERR_DATA");
    run_free(&r);
}

int main(void)
{
    test_lags();
    test_diff();
    test_incomplete();
    test_rolling();
    test_calendar();
    test_series();
    return tap_done();
}
