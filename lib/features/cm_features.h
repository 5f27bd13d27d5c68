/*
 * cm_features.h - features for forecasting, derived in one streaming
 * pass: calendar parts in the stream's zone, holidays, and lags, rolling
 * windows and differences looked up in each series' recent history.  The
 * options of cm-features are the settings of a features step; compiled
 * once into a plan, they are recorded in the recipe and replayed by a
 * model on its raw input, by this same code.
 */
#ifndef CM_FEATURES_H
#define CM_FEATURES_H

#include "stream/cm_stream.h"

/* Every setting of a features step: target, time-features, cyclic,
 * holidays (dates), holiday-col, holiday-none, lag.N, rolling.N, diff.N,
 * by, min-count, keep-incomplete, drop, keep, max-history (see
 * cm-features(1)). */
extern const cm_settings cm_features_settings;

/* The settings read, checked and compiled once, before any schema is
 * known: the calendar parts, the holidays, every lag, window and
 * difference with its span.  Read only by the builders that use it. */
typedef struct cm_features_plan cm_features_plan;
cm_features_plan *cm_features_plan_new(const cm_kv *settings, cm_error *err);
void cm_features_plan_free(cm_features_plan *p);
/* Whether the plan makes a column of this name (a calendar part, a lag,
 * a window...): in a stream from cm-features, the columns that are not
 * derived are the rows as the step read them. */
int cm_features_plan_derives(const cm_features_plan *p, const char *name);
/* The column that keeps series apart (--by), or NULL. */
const char *cm_features_plan_by(const cm_features_plan *p);
/* Whether the plan looks back on column col (a lag, window or difference
 * of it), or keeps series apart or finds holidays by it. */
int cm_features_plan_reads(const cm_features_plan *p, const char *col);

/* How a builder runs its plan. */
typedef struct cm_features_opts {
    int keep_incomplete;  /* keep rows whose derived values are missing too
                             (a replay counts them; the plan may say so too) */
    size_t batch_rows;    /* rows handed on together; 0: 4096 */
    const cm_tz *tz;      /* the time column's zone when the caller has it
                             loaded already (lent); NULL: loaded here */
    const char *carry;    /* a column passed through whatever the plan keeps
                             (a replay's record numbers); NULL: none */
    int may_lack;         /* a replay: the target, or a column a lag, window
                             or difference looks back on, may be absent;
                             what it would give is then missing */
} cm_features_opts;

typedef struct cm_features cm_features;

/* A builder of its own plan, made from settings, for rows of schema in
 * (borrowed: it must outlive the builder): cm-features'. */
cm_features *cm_features_new(const cm_schema *in, const cm_kv *settings, cm_error *err);
/* A builder running plan p (borrowed) on rows of schema in; o NULL for
 * the defaults. */
cm_features *cm_features_start(const cm_schema *in, const cm_features_plan *p,
                               const cm_features_opts *o, cm_error *err);
void cm_features_free(cm_features *f);
/* The output schema; its recipe is the input's plus this step. */
const cm_schema *cm_features_schema(const cm_features *f);
/* Derives the features of b's rows (b read under the input schema, whose
 * dictionaries may have grown); full output batches go to emit. */
cm_status cm_features_push(cm_features *f, const cm_batch *b, cm_batch_fn emit,
                           void *ctx, cm_error *err);
/* Hands on the rows still held. */
cm_status cm_features_finish(cm_features *f, cm_batch_fn emit, void *ctx,
                             cm_error *err);
/* Back to no rows seen: every series' history and the rows held are
 * forgotten, the plan and the output schema kept. */
void cm_features_reset(cm_features *f);
/* Rows in, rows out, rows dropped for a missing derived value (by column). */
void cm_features_report(const cm_features *f, FILE *out);
/* After the rows: 1 and the main reason into buf when more than half the
 * rows in were dropped ("N of M rows dropped: ..."), 0 otherwise; -1
 * when rows came in and none went out ("every row was dropped: ..."). */
int cm_features_verdict(const cm_features *f, char *buf, size_t n);

/* ---- forecasting: look-backs held apart from a builder's series ---------- */

/* How far back the builder's lags, windows and differences reach: span
 * seconds (-1: none by time) and rows; what names the farthest, the
 * derived column that looks back most. */
void cm_features_reach(const cm_features *f, int64_t *span, uint64_t *rows,
                       const char **what);
/* The earliest time a row at t looks back to by time (t when none does):
 * exact, months of the calendar included, where span is their longest. */
int64_t cm_features_earliest(const cm_features *f, int64_t t);

/* The series row i of b belongs to: 0 without --by (or with its value
 * missing), else 1 + the code of its --by value. */
size_t cm_features_series(const cm_features *f, const cm_batch *b, size_t i);

/* What one series' lags, windows and differences look back on, as a
 * builder's own series would hold it (f gives its columns and reach). */
typedef struct cm_lookback cm_lookback;
cm_lookback *cm_lookback_new(const cm_features *f, cm_error *err);
void cm_lookback_free(cm_lookback *lb);
/* Row i of b (a batch of f's input schema, after the look-back's last
 * time) joins it; a row without a time does not. */
cm_status cm_lookback_push(cm_features *f, cm_lookback *lb, const cm_batch *b, size_t i,
                           cm_error *err);
/* Row i of b derived from the look-back into row o of out (a batch of
 * f's output schema), as the builder would derive it (*complete: no
 * derived value missing), then joining the look-back.  Its holiday is
 * its own row's, not spread over a day. */
cm_status cm_lookback_derive(cm_features *f, cm_lookback *lb, const cm_batch *b, size_t i,
                             cm_batch *out, size_t o, int *complete, cm_error *err);
/* The last row's value of input column col (a forecast of the target),
 * or missing when !ok. */
void cm_lookback_set(const cm_features *f, cm_lookback *lb, size_t col, double v, int ok);
/* dst holding what src holds (dst from cm_lookback_new of the same f). */
cm_status cm_lookback_copy(cm_lookback *dst, const cm_lookback *src, cm_error *err);
/* The time of its last row (0), or -1 when empty; its rows. */
int cm_lookback_last(const cm_lookback *lb, int64_t *t);
size_t cm_lookback_rows(const cm_lookback *lb);

#endif
