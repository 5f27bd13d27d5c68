/*
 * cm_clean.h - cleaning: a raw CSV export to a typed stream.  The options
 * of cm-clean are the settings of a clean step; compiled once into a plan,
 * they are what the stream's recipe records and what a model replays on
 * its raw input, by this same code.
 */
#ifndef CM_CLEAN_H
#define CM_CLEAN_H

#include "stream/cm_stream.h"

/* Every setting of a clean step: delimiter, decimal, header, sample,
 * type.COL, time, time-format, tz, na, missing[.COL], max-gap, derive.N, range.COL,
 * lower, columns, drop, sort, buffer-size, tmpdir, dedupe, key, bad-rows
 * (see cm-clean(1) for what each does). */
extern const cm_settings cm_clean_settings;

/* The settings read, checked and compiled once: the zone loaded, the time
 * format compiled, the lists split.  A plan is only read by the cleaners
 * that run it, so one may serve several at once. */
typedef struct cm_clean_plan cm_clean_plan;
cm_clean_plan *cm_clean_plan_new(const cm_kv *settings, cm_error *err);
void cm_clean_plan_free(cm_clean_plan *p);
/* The zone of naive times, and the decimal mark of numbers. */
const cm_tz *cm_clean_plan_tz(const cm_clean_plan *p);
char cm_clean_plan_decimal(const cm_clean_plan *p);
/* The raw fields a record gives, as the plan types them: the i-th (from
 * 0) not skipped, its name and kind ("number", "category" or "time");
 * 0 past the last. */
int cm_clean_plan_field(const cm_clean_plan *p, size_t i, const char **name,
                        const char **kind);
/* What --dedupe keeps of rows of one time (and key). */
typedef enum cm_dedupe { CM_DEDUPE_NO = 0, CM_DEDUPE_FIRST = 1, CM_DEDUPE_LAST = 2 } cm_dedupe;
cm_dedupe cm_clean_plan_dedupe(const cm_clean_plan *p);
/* The first --derive column that reads column col, or NULL. */
const char *cm_clean_plan_feeds(const cm_clean_plan *p, const char *col);

/* How a cleaner runs its plan. */
typedef struct cm_clean_opts {
    /* A model's replay: the rows are sorted, merged and dropped as the
     * plan says, so that a model sees the series its training saw, but
     * every record left out is told to on_drop, and no recipe step is
     * added.  A column the plan types but the input lacks is then empty
     * (dropping no row) if may_lack says the model can do without it, an
     * error otherwise. */
    int replay;
    int (*may_lack)(void *ctx, const char *column, int is_time);
    void *ctx;
    size_t batch_rows; /* rows handed on together; 0: 16384 (1024 replaying) */
    /* Replaying: a column whose missing values drop no row, the target a
     * model forecasts (NULL: none). */
    const char *keep_missing;
    /* Replaying: every row carries the number of its record (from 1) in
     * an extra I64 column named CM_CLEAN_RECORD, so that results can be
     * put back in input order after a sort. */
    int number;
    /* A row given by hand: a number outside its column's --range, or not
     * finite, is an error naming the column, not a missing value. */
    int strict;
} cm_clean_opts;

/* A name no CSV header gives (it starts with ASCII's record separator). */
#define CM_CLEAN_RECORD "\x1erecord"

/* Why a replay leaves a record out. */
typedef enum cm_clean_drop {
    CM_CLEAN_NO_TIME = 1,   /* its time is missing */
    CM_CLEAN_DUPLICATE = 2, /* dedupe keeps another row of its time (and key) */
    CM_CLEAN_MISSING = 3,   /* a value its column may not miss */
    CM_CLEAN_BAD = 4        /* unreadable, and the plan skips bad rows */
} cm_clean_drop;

typedef struct cm_clean cm_clean;

/* A cleaner of its own plan, made from settings: cm-clean's. */
cm_clean *cm_clean_new(const cm_kv *settings, cm_error *err);
/* A cleaner running plan p (borrowed: it must outlive the cleaner);
 * o NULL for the defaults. */
cm_clean *cm_clean_start(const cm_clean_plan *p, const cm_clean_opts *o, cm_error *err);
void cm_clean_free(cm_clean *c);
/*
 * Reads CSV from in and writes the cleaned stream to out.  name is the
 * input's name for the stream metadata; errors carry the line and column.
 */
cm_status cm_clean_run(cm_clean *c, FILE *in, const char *name, FILE *out,
                       const cm_writer_opts *wo, cm_error *err);
/* The same, handing each batch of cleaned rows to emit instead; the
 * schema they are read under is cm_clean_out_schema's, set before the
 * first batch (dictionaries growing). */
cm_status cm_clean_each(cm_clean *c, FILE *in, const char *name, cm_batch_fn emit,
                        void *ctx, cm_error *err);
const cm_schema *cm_clean_out_schema(const cm_clean *c);
/* Replaying: 1 when the input lacks column, which the plan types. */
int cm_clean_lacks(const cm_clean *c, const char *column);
/* Records given one by one (a replay per request): the header from the
 * names, then each record into row `row` of b, a batch of
 * cm_clean_out_schema (the columns it lacks as empty ones after its own);
 * *drop set when the record has no time and so no row. */
cm_status cm_clean_prepare(cm_clean *c, size_t nf, const char *const *names,
                           const char *name, cm_error *err);
cm_status cm_clean_record(cm_clean *c, size_t nf, const char *const *f, const size_t *len,
                          uint64_t line, cm_batch *b, size_t row, int *drop, cm_error *err);
/* A record the plan leaves out: its number (from 1), why, the column to
 * blame ("" for a duplicate), and the row as far as it was cleaned (row
 * i of b, a batch of cm_clean_out_schema; b NULL for an unreadable one). */
typedef struct cm_clean_left {
    uint64_t record;
    cm_clean_drop why;
    const char *column;
    const cm_batch *b;
    size_t i;
} cm_clean_left;
/* Calls fn(ctx, left) for each record left out, in the order the stages
 * decide. */
typedef void (*cm_clean_drop_fn)(void *ctx, const cm_clean_left *left);
void cm_clean_on_drop(cm_clean *c, cm_clean_drop_fn fn, void *ctx);
/* After a run, the i-th (from 0) line for standard error into buf, and
 * 1; 0 past the last.  Such lines say that more than half the rows read
 * were left out, and the main reason (a run that leaves out every row
 * fails, with that reason), and that rows repeat the time of the row
 * before them without --dedupe or --key. */
int cm_clean_warning(const cm_clean *c, size_t i, char *buf, size_t n);
/* What the run did, as indented text lines or as one JSON object. */
void cm_clean_report(const cm_clean *c, FILE *out, int json);
/* Calls fn(ctx, rows read so far) every 65536 rows, for progress display. */
void cm_clean_on_progress(cm_clean *c, void (*fn)(void *ctx, uint64_t rows),
                          void *ctx);

#endif
