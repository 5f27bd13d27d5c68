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
#include "clean/cm_clean.h"

/* The missing-value policies; zero and value:X fill a constant. */
enum { POLICY_DROP, POLICY_KEEP, POLICY_FFILL, POLICY_INTERP, POLICY_ZERO, POLICY_VALUE };
enum { DEDUPE_NONE, DEDUPE_FIRST, DEDUPE_LAST };

/* Counters for the report, by output column where it says so. */
typedef struct cm_clean_stats {
    uint64_t rows_read, rows_written;
    uint64_t bad_rows, missing_time, duplicates, rows_dropped_missing;
    uint64_t outside;          /* rows before --from or at or after --until */
    uint64_t repeats;          /* rows with the time of the row before */
    int64_t repeat_t;          /* the first such time */
    uint64_t *dropped_missing; /* per output column: missing in a dropped row */
    uint64_t *out_of_range;    /* per output column */
    uint64_t *filled;          /* per output column */
    int64_t tmin, tmax;
    int have_time;
    uint64_t tz_ambiguous, tz_gap;
    uint64_t sort_runs;
} cm_clean_stats;

typedef struct cm_cleanrows cm_cleanrows;

/* What the stages need to know, fixed once the schema is. */
typedef struct cm_cleanrows_cfg {
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
    const uint8_t *nodrop;   /* per output column: missing drops no row */
    /* told of each row the stages leave out (NULL: nobody asks) */
    void (*drop)(void *ctx, const cm_batch *b, size_t i, cm_clean_drop why, size_t col);
    void *drop_ctx;
    size_t batch_rows;       /* rows per batch handed on */
    const cm_writer_opts *wo;
    cm_clean_stats *stats;
    int watch_repeats;       /* count rows that repeat the time before them */
} cm_cleanrows_cfg;

cm_cleanrows *cm_cleanrows_new(const cm_cleanrows_cfg *cfg, cm_error *err);
/* Takes the rows of b (typed, validity set; b may be changed); line[i]
 * is row i's input line, for messages. */
cm_status cm_cleanrows_push(cm_cleanrows *r, cm_batch *b, const uint64_t *line,
                             cm_error *err);
/* Flushes everything through the stages; then ends the stream. */
cm_status cm_cleanrows_finish(cm_cleanrows *r, cm_error *err);
cm_status cm_cleanrows_end(cm_cleanrows *r, cm_error *err);
void cm_cleanrows_free(cm_cleanrows *r);

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
    int unnamed;   /* an empty name in the header (colN given) */
} incol;

/* A setting of one column: a type, a missing-value policy, a range. */
typedef struct colset {
    char *col;
    int v;
    double lo, hi;
    char *text; /* the X of a value:X policy */
} colset;

/* A --derive NAME=EXPR, compiled. */
typedef struct derivespec {
    char *name;
    struct cm_expr *e;
} derivespec;

/* The settings as declared (cm_settings_read fills these). */
typedef struct clean_raw {
    const char *delimiter, *decimal, *time, *time_format, *tz, *na, *lower, *columns,
        *drop, *key, *tmpdir;
    const char *missing, *from, *until;
    int header, sort, dedupe, bad_rows;
    int64_t sample, max_gap;
    uint64_t buffer;
} clean_raw;

/* A clean step, compiled: what every run of it does. */
struct cm_clean_plan {
    cm_kv *settings;   /* as given: the recipe records them */
    clean_raw r;
    char delim, decimal; /* delim 0: guessed */
    cm_list time, na, lower, keep, drop;
    size_t *na_len;    /* lengths of the extra markers */
    double *na_num;    /* the markers that are numbers, by value */
    size_t nna_num;
    cm_timefmt *tfmt;
    cm_tz *tz;         /* of naive times */
    colset *types, *policies, *ranges;
    size_t ntypes, npolicies, nranges;
    int missing;               /* the policy of every other column */
    const char *missing_value; /* its X, for value:X */
    derivespec *derives;       /* in the order given */
    size_t nderives;
    int64_t from, until;       /* the rows kept: from <= time < until */
    int have_from, have_until;
};

struct cm_clean {
    const cm_clean_plan *p;
    cm_clean_plan *owned;  /* p, when the cleaner compiled it */
    cm_clean_opts o;
    /* the plan as this run applies it (a replay sorts and merges nothing) */
    int sort, dedupe, bad_skip;
    cm_list time;          /* the plan's, or the column found to be the time */
    size_t nread;      /* columns in the input; the absent ones follow */
    const char **pad_f; /* a record with empty fields for the absent */
    size_t *pad_len;
    cm_clean_drop_fn on_drop;
    void *drop_ctx;
    size_t *time_idx; /* input column of each time part */
    incol *cols;
    size_t ncols;
    cm_schema *schema;
    int *out_policy;
    uint8_t *nodrop;       /* per output column: replaying, missing drops no row */
    uint8_t (*out_const)[8]; /* per output column: the constant of zero, value:X */
    long *derive_out;      /* per derive: its output column */
    long *derive_var;      /* per derive, its variables' output columns, flat */
    double *dvals;         /* scratch: one derive's variables */
    uint8_t *dok;
    long time_out, key_out, record_out;
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

/* cleanhead.c: the header, types, the output schema and the recipe step */
long cm_clean_find(const cm_clean *c, const char *name);
int cm_clean_is_na(const cm_clean *c, const char *s, size_t n);
cm_status cm_clean_header(cm_clean *c, size_t n, const char *const *f,
                          cm_error *err);
void cm_clean_infer(cm_clean *c, char ***rows, const size_t *nf, size_t nrows);
cm_status cm_clean_schema(cm_clean *c, const char *source, cm_error *err);
cm_status cm_clean_recipe(cm_clean *c, cm_error *err);
/* cleanreport.c: the main reason rows were left out, into buf */
void cm_clean_reason(const cm_clean *c, char *buf, size_t n);
/* cleanrow.c: one record to one typed row */
cm_status cm_clean_convert(cm_clean *c, const rowctx *r, size_t nf, cm_batch *b,
                           size_t row, int *drop, cm_error *err);

#endif
