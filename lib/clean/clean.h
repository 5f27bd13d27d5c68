/*
 * clean.h - the parts of cm-clean's engine: settings (cleanset.c), header
 * and types (cleanhead.c), typing a record (cleanrow.c), the run
 * (clean.c), the report (cleanreport.c), and the row stages after typing
 * (cleanrows.c): sorting, removing duplicates, filling and dropping
 * missing values, writing.
 */
#ifndef CM_CLEAN_INTERNAL_H
#define CM_CLEAN_INTERNAL_H

#include "common/common.h"
#include "stream/stream.h"
#include "clean/cm_clean.h"

enum { POLICY_DROP, POLICY_KEEP, POLICY_FFILL, POLICY_INTERP };
enum { DEDUPE_NONE, DEDUPE_FIRST, DEDUPE_LAST };

/* Counters for the report, by output column where it says so. */
typedef struct cm_clean_stats {
    uint64_t rows_read, rows_written;
    uint64_t bad_rows, missing_time, duplicates, rows_dropped_missing;
    uint64_t *dropped_missing; /* per output column: missing in a dropped row */
    uint64_t *out_of_range;    /* per output column */
    uint64_t *filled;          /* per output column */
    int64_t tmin, tmax;
    int have_time;
    uint64_t tz_ambiguous, tz_gap;
    uint64_t sort_runs;
} cm_clean_stats;

typedef struct cm_rows cm_rows;

/* What the stages need to know, fixed once the schema is. */
typedef struct cm_rows_cfg {
    const cm_schema *schema; /* output schema, dictionaries growing */
    long time_col, key_col;  /* -1 when absent */
    const int *policy;       /* per output column */
    int64_t max_gap;         /* seconds, 0: unbounded */
    int sort, dedupe;
    size_t sort_memory;
    const char *tmpdir;
    FILE *out;               /* the stream written, or NULL: */
    cm_batch_fn emit;        /* the rows go to emit(ctx, ...) */
    void *ctx;
    int keep_all;            /* no row dropped for a missing value */
    size_t batch_rows;       /* rows per batch handed on */
    const cm_writer_opts *wo;
    cm_clean_stats *stats;
} cm_rows_cfg;

cm_rows *cm_rows_new(const cm_rows_cfg *cfg, cm_error *err);
/* Takes the rows of b (typed, validity set; b may be changed); line[i]
 * is row i's input line, for messages. */
cm_status cm_rows_push_batch(cm_rows *r, cm_batch *b, const uint64_t *line,
                             cm_error *err);
/* Flushes everything through the stages and ends the stream. */
cm_status cm_rows_finish(cm_rows *r, cm_error *err);
void cm_rows_free(cm_rows *r);

/* ---- the cleaner's own state -------------------------------------------- */

enum { K_AUTO, K_NUM, K_CAT, K_TIME, K_SKIP };
extern const char *const cm_clean_kinds[]; /* names of the K_ values */

#define MAX_NOTES 5 /* skipped bad rows quoted in the report */

typedef struct incol {
    char *name;
    int kind;
    int explicit_kind;
    int absent;    /* replaying: named by the recipe, not in the input */
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
    int replay;        /* a model's replay: every row comes out, in order */
    size_t nread;      /* columns in the input; the absent ones follow */
    const char **pad_f; /* a record with empty fields for the absent */
    size_t *pad_len;
    void (*on_drop)(void *, uint64_t);
    void *drop_ctx;
    size_t sample, sort_memory;
    size_t batch_rows; /* rows handed on at a time; 0: by the use */
    int64_t max_gap;
    list na, time, lower, keep, drop, absent_ok;
    size_t *time_idx; /* input column of each time part */
    size_t *na_len;   /* lengths of the extra markers */
    double *na_num;
    size_t nna_num;
    char *key, *tmpdir;
    cm_timefmt *tfmt;
    const cm_tz *tz; /* of naive times: tz_owned, or the caller's */
    cm_tz *tz_owned;
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

/* ---- shared by the files of the cleaner (clean*.c) ---------------------- */

/* A record's fields, as the CSV reader handed them out. */
typedef struct rowctx {
    const char *const *f;
    const size_t *len;
    uint64_t line;
} rowctx;

/* cleanset.c: settings; cm_clean_new with a zone lent for c's life */
cm_clean *cm_clean_new_tz(const cm_kv *settings, const cm_tz *tz, cm_error *err);
void cm_clean_list_free(list *l);
cm_status cm_clean_split(const char *v, list *l, cm_error *err);
int cm_clean_in_list(const list *l, const char *s);
int cm_clean_policy(const char *v);
cm_status cm_clean_bad_setting(cm_error *err, const char *k, const char *v,
                               const char *want);
/* cleanhead.c: the header, types, the output schema and the recipe step */
long cm_clean_find(const cm_clean *c, const char *name);
int cm_clean_is_na(const cm_clean *c, const char *s, size_t n);
cm_status cm_clean_header(cm_clean *c, size_t n, const char *const *f,
                          cm_error *err);
void cm_clean_infer(cm_clean *c, char ***rows, const size_t *nf, size_t nrows);
cm_status cm_clean_schema(cm_clean *c, const char *source, cm_error *err);
cm_status cm_clean_recipe(cm_clean *c, cm_error *err);
/* clean.c: a cleaner set up for records given one by one (a replay
 * per request): the header from names, then each record into row of b
 * (the columns it lacks as empty ones after its own). */
cm_status cm_clean_prepare(cm_clean *c, size_t nf, const char *const *names,
                           const char *name, cm_error *err);
cm_status cm_clean_record(cm_clean *c, size_t nf, const char *const *f, const size_t *len,
                          uint64_t line, cm_batch *b, size_t row, int *drop, cm_error *err);
/* cleanrow.c: one record to one typed row */
cm_status cm_clean_convert(cm_clean *c, const rowctx *r, size_t nf, cm_batch *b,
                           size_t row, int *drop, cm_error *err);

#endif
