/* test_clean.c - cleaning as a specification: a raw CSV in, typed rows
 * out (cm_clean_each), each rule of cm-clean(1) checked on a few rows
 * whose every value is worked out by hand.  Columns are compared as text
 * ("1.5,,26": missing values empty), numbers in their shortest exact
 * form, so equal text is equal doubles. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm.h"
#include "../settings.h"
#include "tap.h"

#define MAXROWS 64

/* ---- running a cleaner ------------------------------------------------------ */

/* What one run handed on: every row, gathered into one batch. */
typedef struct got {
    cm_kv *set;
    cm_clean *c;
    cm_batch *rows;
    size_t n;
    cm_status st;
    cm_error err;
} got;

static cm_status gather(void *ctx, cm_batch *b, cm_error *err)
{
    got *g = ctx;
    const cm_schema *s = cm_clean_out_schema(g->c);
    (void)err;
    if (!g->rows)
        g->rows = cm_batch_new(s, MAXROWS);
    for (size_t i = 0; i < cm_batch_nrows(b) && g->n < MAXROWS; i++)
        cm_batch_copy_row(s, g->rows, g->n++, b, i);
    cm_batch_set_nrows(g->rows, g->n);
    return CM_OK;
}

/* Cleans csv with the settings; g->st and g->err say how it went.  The
 * settings are freed at once: the cleaner keeps its own copy (under the
 * sanitizers a pointer into the caller's would show here). */
static void clean(got *g, const char *csv, const char *set)
{
    memset(g, 0, sizeof *g);
    g->set = settings(set);
    cm_error_clear(&g->err);
    g->c = cm_clean_new(g->set, &g->err);
    cm_kv_free(g->set);
    g->set = NULL;
    if (!g->c) {
        g->st = g->err.status;
        return;
    }
    FILE *in = fmemopen((void *)(uintptr_t)csv, strlen(csv), "r");
    g->st = cm_clean_each(g->c, in, "test.csv", gather, g, &g->err);
    fclose(in);
    if (g->st)
        printf("# clean: %s\n", g->err.msg);
}

static void got_free(got *g)
{
    cm_batch_free(g->rows);
    cm_clean_free(g->c);
    cm_kv_free(g->set);
}

static const cm_schema *schema(const got *g)
{
    return g->c ? cm_clean_out_schema(g->c) : NULL;
}

/* ---- reading the rows back ----------------------------------------------------- */

/* Column name of the rows as text, "v0,v1,...": numbers shortest, times
 * ISO 8601 UTC, categories as their strings, missing values empty. */
static const char *column(const got *g, const char *name)
{
    static char out[4][2048];
    static int k;
    char *buf = out[k++ & 3];
    size_t n = 0;
    const cm_schema *s = schema(g);
    long c = s ? cm_schema_find(s, name) : -1;
    buf[0] = '\0';
    if (c < 0)
        return "(no such column)";
    for (size_t i = 0; i < g->n; i++) {
        char v[128] = "";
        const void *vals = cm_batch_values_c(g->rows, (size_t)c);
        if (cm_batch_valid_c(g->rows, (size_t)c)[i]) {
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

static int dtype_is(const got *g, const char *name, cm_dtype t, cm_role r)
{
    long c = schema(g) ? cm_schema_find(schema(g), name) : -1;
    return c >= 0 && cm_schema_dtype(schema(g), (size_t)c) == t &&
           cm_schema_role(schema(g), (size_t)c) == r;
}

/* Whether the JSON report holds text. */
static int report_has(const got *g, const char *text)
{
    char *mem = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&mem, &size);
    cm_clean_report(g->c, f, 1);
    fclose(f);
    int found = strstr(mem, text) != NULL;
    if (!found)
        printf("# report: %s", mem);
    free(mem);
    return found;
}

#define SAME(got_, want_, ...)                                                 \
    do {                                                                      \
        const char *g_ = (got_), *w_ = (want_);                               \
        CHECK(!strcmp(g_, w_), __VA_ARGS__);                                  \
        if (strcmp(g_, w_))                                                   \
            printf("#   got  '%s'\n#   want '%s'\n", g_, w_);                 \
    } while (0)

/* ---- types ------------------------------------------------------------------------- */

/* The sample decides each column's type: plain numbers are numbers,
 * codes with a leading zero categories, ISO times times (the first of
 * them the row's time), a column with no value at all a number. */
static void test_inference(void)
{
    got g;
    clean(&g,
          "t,n,code,when,empty,name\n"
          "2024-01-01T00:00:00Z,1.5,007,2024-03-01,,a\n"
          "2024-01-01T01:00:00Z,-2,010,2024-03-02 10:00,NA,b\n"
          "2024-01-01T02:00:00Z,0.5,011,,,a\n",
          "missing=keep");
    CHECK(g.st == CM_OK && g.n == 3, "inference: 3 rows cleaned");
    const cm_schema *s = schema(&g);
    CHECK(s && cm_schema_ncols(s) == 6, "inference: every column written, in input order");
    CHECK(dtype_is(&g, "t", CM_TIME, CM_ROLE_TIME),
          "inference: the first column of times is the row's time");
    CHECK(s && !strcmp(cm_kv_get(cm_schema_col_meta_c(s, 0), "tz"), "UTC"),
          "inference: the time column carries tz=UTC");
    CHECK(dtype_is(&g, "n", CM_F64, CM_ROLE_FEATURE), "inference: 1.5, -2, 0.5 are numbers");
    CHECK(dtype_is(&g, "code", CM_CAT, CM_ROLE_FEATURE),
          "inference: 007, 010, 011 (leading zeros) are categories");
    CHECK(dtype_is(&g, "when", CM_TIME, CM_ROLE_FEATURE),
          "inference: a second column of ISO times is a time feature");
    CHECK(dtype_is(&g, "empty", CM_F64, CM_ROLE_FEATURE),
          "inference: a column with no value in the sample is a number");
    CHECK(dtype_is(&g, "name", CM_CAT, CM_ROLE_FEATURE), "inference: words are categories");
    SAME(column(&g, "t"), "2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T02:00:00Z",
         "inference: Z times read as UTC instants");
    SAME(column(&g, "n"), "1.5,-2,0.5", "inference: numbers read exactly");
    SAME(column(&g, "code"), "007,010,011", "inference: codes keep their zeros");
    SAME(column(&g, "when"), "2024-03-01T00:00:00Z,2024-03-02T10:00:00Z,",
         "inference: a date is its midnight, a missing time stays missing");
    SAME(column(&g, "empty"), ",,", "inference: the empty column is all missing");
    got_free(&g);
}

/* ---- one record's values ------------------------------------------------------------ */

/* With decimal=, a number is written 1,5, and a numeric NA marker matches
 * the value written with the decimal comma too. */
static void test_decimal_comma(void)
{
    got g;
    clean(&g,
          "t;x\n"
          "2024-01-01 00:00;1,5\n"
          "2024-01-01 01:00;-200,0\n"
          "2024-01-01 02:00;2,6e1\n"
          "2024-01-01 03:00;-0,25\n",
          "decimal=, delimiter=; na=-200 missing=keep");
    CHECK(g.st == CM_OK && g.n == 4, "decimal comma: 4 rows cleaned");
    CHECK(dtype_is(&g, "x", CM_F64, CM_ROLE_FEATURE), "decimal comma: 1,5 is a number");
    SAME(column(&g, "x"), "1.5,,26,-0.25",
         "decimal comma: 1,5 is 1.5, -200,0 is the marker -200, 2,6e1 is 26");
    SAME(column(&g, "t"), "2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T02:00:00Z,"
                          "2024-01-01T03:00:00Z", "decimal comma: naive times read in UTC");
    got_free(&g);
}

/* A marker of na that is a number matches numeric fields by value
 * (-200, -200.0, -2e2) but category fields only as the same text; NaN is
 * missing too. */
static void test_na_markers(void)
{
    got g;
    clean(&g,
          "t,x,s\n"
          "2024-01-01 00:00,-200.0,-200\n"
          "2024-01-01 01:00,-200,ok\n"
          "2024-01-01 02:00,-200.5,-200.0\n"
          "2024-01-01 03:00,-2e2,N/A\n"
          "2024-01-01 04:00,NaN,x\n",
          "na=-200,-999 missing=keep");
    CHECK(g.st == CM_OK && g.n == 5, "na: 5 rows cleaned");
    SAME(column(&g, "x"), ",,-200.5,,",
         "na: -200.0, -200 and -2e2 match the marker -200, -200.5 does not, NaN is missing");
    SAME(column(&g, "s"), ",ok,-200.0,,x",
         "na: in a category the marker matches as text only (-200.0 stays a category)");
    got_free(&g);
}

/* A reading outside range.COL (bounds included) becomes missing, and is
 * counted as out of range in the report. */
static void test_range(void)
{
    got g;
    clean(&g,
          "t,r\n"
          "2024-01-01 00:00,50\n"
          "2024-01-01 01:00,150\n"
          "2024-01-01 02:00,-1\n"
          "2024-01-01 03:00,100\n"
          "2024-01-01 04:00,0\n",
          "range.r=0:100 missing=keep");
    CHECK(g.st == CM_OK && g.n == 5, "range: 5 rows cleaned");
    SAME(column(&g, "r"), "50,,,100,0", "range: 150 and -1 are missing, 0 and 100 kept");
    CHECK(report_has(&g, "{\"name\":\"r\",\"type\":\"num\",\"dropped_missing\":0,"
                         "\"out_of_range\":2,"), "range: 2 readings counted out of range");
    got_free(&g);
    /* with the default policy the rows of the missing readings go */
    clean(&g,
          "t,r\n"
          "2024-01-01 00:00,50\n"
          "2024-01-01 01:00,150\n"
          "2024-01-01 02:00,7\n",
          "range.r=0:100");
    SAME(column(&g, "r"), "50,7", "range: under missing=drop the out-of-range row is dropped");
    CHECK(report_has(&g, "\"dropped_missing\":1,"), "range: the dropped row is counted");
    got_free(&g);
}

/* A field that is not a number in a number column is CM_ERR_DATA naming
 * the input line (the header is line 1) and the column; with
 * bad-rows=skip the row is left out and counted. */
static void test_bad_number(void)
{
    const char *csv = "t,x\n"
                      "2024-01-01 00:00,1\n"
                      "2024-01-01 01:00,2\n"
                      "2024-01-01 02:00,1O\n"
                      "2024-01-01 03:00,4\n";
    got g;
    clean(&g, csv, "type.x=num");
    CHECK(g.st == CM_ERR_DATA, "bad number: 1O in a num column is CM_ERR_DATA");
    CHECK(g.err.line == 4, "bad number: err.line is 4 (got %llu)",
          (unsigned long long)g.err.line);
    CHECK(!strcmp(g.err.column, "x"), "bad number: err.column is x (got '%s')", g.err.column);
    got_free(&g);
    /* the sample of one record types x as a number; the word after it is bad */
    clean(&g, csv, "sample=1");
    CHECK(g.st == CM_ERR_DATA && g.err.line == 4,
          "bad number: after a sample of 1 row, 1O is a bad row on line 4");
    got_free(&g);
    clean(&g, csv, "type.x=num bad-rows=skip");
    CHECK(g.st == CM_OK, "bad number: bad-rows=skip goes on");
    SAME(column(&g, "x"), "1,2,4", "bad number: the bad row is left out");
    CHECK(report_has(&g, "\"bad_rows\":1,"), "bad number: 1 bad row counted");
    got_free(&g);
}

/* ---- duplicates ------------------------------------------------------------------------ */

/* dedupe keeps one row per time: the first or the last of them in input
 * order; with a key, one per time and key, the kept rows in the order
 * they came. */
static void test_dedupe(void)
{
    const char *csv = "t,x\n"
                      "2024-01-01 00:00,1\n"
                      "2024-01-01 01:00,2\n"
                      "2024-01-01 01:00,3\n"
                      "2024-01-01 01:00,4\n"
                      "2024-01-01 02:00,5\n";
    got g;
    clean(&g, csv, "dedupe=first");
    SAME(column(&g, "x"), "1,2,5", "dedupe=first: the first row of 01:00 stays");
    CHECK(report_has(&g, "\"duplicates\":2,"), "dedupe=first: 2 duplicates counted");
    got_free(&g);
    clean(&g, csv, "dedupe=last");
    SAME(column(&g, "x"), "1,4,5", "dedupe=last: the last row of 01:00 stays");
    SAME(column(&g, "t"), "2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T02:00:00Z",
         "dedupe=last: one row per time");
    got_free(&g);

    const char *keyed = "t,k,x\n"
                        "2024-01-01 00:00,a,1\n"
                        "2024-01-01 00:00,b,2\n"
                        "2024-01-01 00:00,a,3\n"
                        "2024-01-01 01:00,b,4\n"
                        "2024-01-01 01:00,b,5\n"
                        "2024-01-01 01:00,a,6\n";
    clean(&g, keyed, "dedupe=first key=k");
    SAME(column(&g, "x"), "1,2,4,6", "dedupe=first key=k: the first of each time and key");
    SAME(column(&g, "k"), "a,b,b,a", "dedupe=first key=k: kept rows in input order");
    CHECK(dtype_is(&g, "k", CM_CAT, CM_ROLE_ID), "dedupe key=k: the key is a cat with role id");
    got_free(&g);
    clean(&g, keyed, "dedupe=last key=k");
    SAME(column(&g, "x"), "2,3,5,6", "dedupe=last key=k: the last of each time and key");
    SAME(column(&g, "k"), "b,a,b,a", "dedupe=last key=k: kept rows in the order they came");
    got_free(&g);

    const char *unsorted = "t,x\n"
                           "2024-01-01 02:00,1\n"
                           "2024-01-01 01:00,2\n"
                           "2024-01-01 01:00,3\n";
    clean(&g, unsorted, "dedupe=first");
    CHECK(g.st == CM_ERR_DATA && g.err.line == 3,
          "dedupe without sort: a row out of time order is CM_ERR_DATA on its line (3)");
    got_free(&g);
    clean(&g, unsorted, "dedupe=first sort=yes");
    SAME(column(&g, "x"), "2,1", "dedupe with sort=yes: the sort is stable, the first "
                                 "of 01:00 in input order stays");
    got_free(&g);
}

/* ---- missing values ---------------------------------------------------------------------- */

/* ffill copies the last present value; max-gap limits how long after it
 * (a value left missing drops its row); with a key each series apart. */
static void test_ffill(void)
{
    const char *csv = "t,x\n"
                      "2024-01-01 00:00,\n"
                      "2024-01-01 01:00,1\n"
                      "2024-01-01 02:00,\n"
                      "2024-01-01 03:00,\n"
                      "2024-01-01 04:00,4\n";
    got g;
    clean(&g, csv, "missing=ffill");
    SAME(column(&g, "x"), "1,1,1,4", "ffill: 02:00 and 03:00 get 1; 00:00, with no value "
                                     "before it, is dropped");
    CHECK(report_has(&g, "\"filled\":2"), "ffill: 2 values filled");
    got_free(&g);
    clean(&g, csv, "missing=ffill max-gap=3600");
    SAME(column(&g, "x"), "1,1,4", "ffill max-gap=1h: 02:00 is filled, 03:00 (2h after) dropped");
    SAME(column(&g, "t"), "2024-01-01T01:00:00Z,2024-01-01T02:00:00Z,2024-01-01T04:00:00Z",
         "ffill max-gap=1h: the rows kept");
    got_free(&g);
    clean(&g,
          "t,k,x\n"
          "2024-01-01 00:00,a,1\n"
          "2024-01-01 00:00,b,2\n"
          "2024-01-01 01:00,b,\n"
          "2024-01-01 01:00,a,\n",
          "missing=ffill key=k");
    SAME(column(&g, "x"), "1,2,2,1", "ffill key=k: each series fills from its own past");
    got_free(&g);
}

/* interpolate is linear in time between the values before and after:
 * uneven spacing weighs by time, not by rows; a gap longer than max-gap
 * is not bridged, and a value with nothing before or after it drops its
 * row, while a column of policy keep keeps its row. */
static void test_interpolate(void)
{
    got g;
    /* 0 at 00:00 and 8 at 04:00: 2 at 01:00 and 6 at 03:00 (by rows they
     * would be 8/3 and 16/3) */
    clean(&g,
          "t,x\n"
          "2024-01-01 00:00,0\n"
          "2024-01-01 01:00,\n"
          "2024-01-01 03:00,\n"
          "2024-01-01 04:00,8\n",
          "missing=interpolate");
    SAME(column(&g, "x"), "0,2,6,8", "interpolate: linear in time over uneven spacing");
    got_free(&g);
    clean(&g,
          "t,x\n"
          "2024-01-01 00:00,\n"
          "2024-01-01 01:00,0\n"
          "2024-01-01 02:00,\n"
          "2024-01-01 03:00,4\n"
          "2024-01-01 04:00,\n"
          "2024-01-01 05:00,\n"
          "2024-01-01 06:00,\n"
          "2024-01-01 07:00,8\n"
          "2024-01-01 08:00,\n",
          "missing=interpolate max-gap=7200");
    SAME(column(&g, "x"), "0,2,4,8", "interpolate max-gap=2h: 02:00 is 2; 04:00-06:00 "
                                     "(4h between 4 and 8) and the first and last rows dropped");
    SAME(column(&g, "t"), "2024-01-01T01:00:00Z,2024-01-01T02:00:00Z,2024-01-01T03:00:00Z,"
                          "2024-01-01T07:00:00Z", "interpolate max-gap=2h: the rows kept");
    CHECK(report_has(&g, "\"filled\":1"), "interpolate max-gap=2h: 1 value filled");
    got_free(&g);
    /* the policy of one column; the other keeps its missing values */
    clean(&g,
          "t,x,y\n"
          "2024-01-01 00:00,10,\n"
          "2024-01-01 01:00,,1\n"
          "2024-01-01 04:00,50,\n"
          "2024-01-01 05:00,,2\n",
          "missing=keep missing.x=interpolate");
    SAME(column(&g, "x"), "10,20,50", "missing.x=interpolate: 10 + (50-10)*1/4 = 20, "
                                      "the trailing row dropped");
    SAME(column(&g, "y"), ",1,", "missing.x=interpolate: y (keep) stays missing");
    got_free(&g);
    /* a: 0 and 4 around 01:00; b: 100 and 108 around 01:00, 3h later */
    clean(&g,
          "t,k,x\n"
          "2024-01-01 00:00,a,0\n"
          "2024-01-01 00:00,b,100\n"
          "2024-01-01 01:00,a,\n"
          "2024-01-01 01:00,b,\n"
          "2024-01-01 02:00,a,4\n"
          "2024-01-01 04:00,b,108\n",
          "missing=interpolate key=k");
    SAME(column(&g, "x"), "0,100,2,102,4,108",
         "interpolate key=k: each series between its own values, rows in input order");
    got_free(&g);
}

/* Fills work on the rows in the order they are passed on: after sort=yes
 * that is time order, not input order. */
static void test_sort_then_fill(void)
{
    got g;
    clean(&g,
          "t,x\n"
          "2024-01-01 02:00,3\n"
          "2024-01-01 00:00,1\n"
          "2024-01-01 01:00,\n",
          "sort=yes missing=ffill");
    SAME(column(&g, "t"), "2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T02:00:00Z",
         "sort=yes: rows in time order");
    SAME(column(&g, "x"), "1,1,3", "sort=yes missing=ffill: 01:00 gets 1 from 00:00, "
                                   "not 3 from the line before it");
    got_free(&g);
}

/* ---- the recipe --------------------------------------------------------------------------- */

/* The output schema's recipe has one step, clean: the recorded settings
 * given, in their order, then the delimiter used, the zone, and
 * type.COL for every input column (inferred ones too, skipped ones as
 * skip); machine settings such as buffer-size are not recorded. */
static void test_recipe(void)
{
    got g;
    clean(&g,
          "t,code,x,junk\n"
          "2024-01-01 00:00,007,1.5,a\n"
          "2024-01-01 01:00,008,2.5,b\n",
          "time=t type.code=cat buffer-size=1048576 missing=keep drop=junk");
    const cm_schema *s = schema(&g);
    CHECK(g.st == CM_OK && s && cm_recipe_nsteps(s) == 1 && !strcmp(cm_recipe_op(s, 0), "clean"),
          "recipe: one step, clean");
    static const char *const want[][2] = {
        {"time", "t"},       {"type.code", "cat"}, {"missing", "keep"}, {"drop", "junk"},
        {"delimiter", ","},  {"tz", "UTC"},        {"type.t", "time"},  {"type.x", "num"},
        {"type.junk", "skip"},
    };
    size_t nwant = sizeof want / sizeof *want;
    const cm_kv *p = s && cm_recipe_nsteps(s) ? cm_recipe_params_c(s, 0) : NULL;
    CHECK(p && cm_kv_count(p) == nwant, "recipe: %zu parameters (got %zu)", nwant,
          p ? cm_kv_count(p) : 0);
    for (size_t i = 0; p && i < nwant && i < cm_kv_count(p); i++)
        CHECK(!strcmp(cm_kv_key(p, i), want[i][0]) && !strcmp(cm_kv_value(p, i), want[i][1]),
              "recipe: parameter %zu is %s=%s (got %s=%s)", i + 1, want[i][0], want[i][1],
              cm_kv_key(p, i), cm_kv_value(p, i));
    CHECK(p && !cm_kv_get(p, "buffer-size"), "recipe: buffer-size is not recorded");
    CHECK(s && cm_schema_ncols(s) == 3, "recipe: junk is not written");
    got_free(&g);
}

int main(void)
{
    test_inference();
    test_decimal_comma();
    test_na_markers();
    test_range();
    test_bad_number();
    test_dedupe();
    test_ffill();
    test_interpolate();
    test_sort_then_fill();
    test_recipe();
    return tap_done();
}
