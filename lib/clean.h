/*
 * clean.h - the parts of cm-clean's engine: settings and typing (clean.c)
 * and the row stages after typing (cleanrows.c): sorting, removing
 * duplicates, filling and dropping missing values, writing.
 */
#ifndef CM_CLEAN_H
#define CM_CLEAN_H

#include "internal.h"

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
    FILE *out;
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

#endif
