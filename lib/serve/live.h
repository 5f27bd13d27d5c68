/*
 * live.h - inside libcmserve: the live history of a model (live.c), the
 * rows sensors post, each series' in time order and bounded; and its
 * journal (journal.c), which keeps them across restarts in the framing of
 * cm streams.  See cm-serve(1), LIVE HISTORY.
 */
#ifndef CM_LIVE_H
#define CM_LIVE_H

#include "serve/serve.h"

/* ---- the journal ----------------------------------------------------------------- */

/* Record types: a row, a series dropped, the raw fields (the first). */
enum { JR_ROW = 1, JR_DROP = 2, JR_FIELDS = 3 };

typedef struct cm_journal cm_journal;
/* Replays each record of path (made if absent) into fn, then opens it for
 * appending.  A torn or damaged tail is cut at the last whole record and
 * said to note (with how many bytes went).  A journal of other raw fields
 * than fields (a JR_FIELDS payload) is moved aside as PATH.TIME, and said
 * to note; the history starts empty. */
typedef cm_status (*cm_journal_fn)(void *ctx, uint32_t type, const uint8_t *rec, size_t len,
                                   cm_error *err);
cm_journal *cm_journal_open(const char *path, const uint8_t *fields, size_t nfields,
                            cm_journal_fn fn, void *ctx, char *note, size_t noten,
                            cm_error *err);
void cm_journal_free(cm_journal *j);
/* A record appended (buffered); *mark the journal's length after it. */
cm_status cm_journal_append(cm_journal *j, uint32_t type, const uint8_t *rec, size_t len,
                            uint64_t *mark, cm_error *err);
/* Every record up to mark handed to the kernel (so a killed server keeps
 * it) and, with sync, on the disk: one fsync for every request waiting. */
cm_status cm_journal_commit(cm_journal *j, uint64_t mark, int sync, cm_error *err);
/* The fsync of whatever is not yet on disk (--sync interval). */
void cm_journal_sync(cm_journal *j);
/* The journal rewritten as the records write() gives it (an atomic file
 * of the same name), when it has grown past twice its last such size. */
int cm_journal_wants_compaction(cm_journal *j);
cm_status cm_journal_compact(cm_journal *j,
                             cm_status (*write)(void *ctx, cm_journal *out, cm_error *err),
                             void *ctx, cm_error *err);
/* Bytes in the file; the fsyncs' seconds added to a histogram of
 * cm_serve_bucket (CM_SERVE_NBUCKETS + 1 counts) and to *sum. */
uint64_t cm_journal_bytes(cm_journal *j);
void cm_journal_fsyncs(cm_journal *j, uint64_t *hist, double *sum);

/* ---- the history ------------------------------------------------------------------ */

/* What a posted row became. */
typedef enum live_fate {
    LIVE_NEW,       /* after every row held */
    LIVE_LATE,      /* before some, within the kept span: put in its place */
    LIVE_REPLACED,  /* its time was held: it took the row's place (--dedupe last) */
    LIVE_DROPPED,   /* its time was held: the row held stays (--dedupe first) */
    LIVE_REPEAT,    /* its time was held, and the recipe keeps both: refused */
    LIVE_TOO_OLD,   /* before the kept span */
    LIVE_FULL       /* a new series past --max-series */
} live_fate;

/* The rows of a series copied out: count, times, and each row's fields
 * (the model's raw fields, in its clean step's order, "" when missing). */
typedef struct live_copy {
    size_t n, nf;
    int64_t *t;
    const char **vals; /* n * nf */
    char *text;
} live_copy;
void live_copy_free(live_copy *c);

/* Counts for /metrics. */
typedef struct live_counts {
    uint64_t accepted, late, duplicate, rejected, series, journal_bytes;
} live_counts;

#endif

typedef struct cm_live cm_live;
/* The history of model name, which p replays: its raw fields, the
 * recipe's --dedupe and the look-back of its forecasts; with o->state, the
 * journal DIR/NAME.journal replayed into it, note saying what was cut or
 * moved aside (or ""). */
cm_live *cm_live_open(const char *name, cm_predictor *p, const cm_live_opts *o, char *note,
                      size_t noten, cm_error *err);
/* References: each version of the model served holds one. */
void cm_live_hold(cm_live *l);
void cm_live_release(cm_live *l);
/* Whether p reads the same raw fields (then a new version keeps this
 * history, its look-back raised to p's when longer); 0, and why into why. */
int cm_live_fits(cm_live *l, cm_predictor *p, char *why, size_t whyn);
/* 1 and why into why (n bytes) when the model's forecasts cannot use a
 * history (its step unknown): observations for it are refused; else 0. */
int cm_live_cannot(cm_live *l, char *why, size_t n);
/* The steps of a series' history a forecast needs (its look-back, at
 * least 1) and a step's seconds, as the latest version of the model
 * says; and how many of them a copy lacks. */
int64_t cm_live_need(cm_live *l);
int64_t cm_live_missing(cm_live *l, const live_copy *c);
/* The raw fields, in the clean step's order. */
const char *const *cm_live_fields(const cm_live *l);

/* Row vals (cm_live_nfields of them, "" missing) of series at time t, as
 * cm_forecast_peek read it; what became of it into *fate.  Journaled
 * (the mark to commit) when it changed the history. */
cm_status cm_live_add(cm_live *l, const char *series, int64_t t, const char *const *vals,
                      live_fate *fate, uint64_t *mark, cm_error *err);
/* Every change up to mark as durable as --sync says. */
cm_status cm_live_commit(cm_live *l, uint64_t mark, cm_error *err);
/* Rows refused, whether by the history or before it. */
void cm_live_rejected(cm_live *l, uint64_t n);
/* Drops a series: 1, 0 when not held, -1 with err. */
int cm_live_drop(cm_live *l, const char *series, uint64_t *mark, cm_error *err);
/* A copy of one series' rows as they are now: 1, 0 when not held, -1. */
int cm_live_copy(cm_live *l, const char *series, live_copy *c, cm_error *err);
/* The series held, by name (free each and the array); -1 out of memory. */
long cm_live_names(cm_live *l, char ***names);
void cm_live_counts(cm_live *l, live_counts *c);
/* Its journal's fsyncs added to a histogram (cm_journal_fsyncs). */
void cm_live_fsyncs(cm_live *l, uint64_t *hist, double *sum);

/* Forecasters pooled per version (registry.c), each with the predictor
 * it borrows: one taken is reset to o (cm_forecaster_reset); put back
 * only when intact (not after a failure), else freed. */
typedef struct cm_pooled cm_pooled;
cm_pooled *cm_served_take(cm_served *s, const cm_forecast_opts *o, cm_error *err);
void cm_served_put(cm_served *s, cm_pooled *k, int intact);
cm_forecaster *cm_pooled_forecaster(cm_pooled *k);
const cm_predictor *cm_pooled_predictor(const cm_pooled *k);

/* The history of a version of a model served (registry.c). */
cm_live *cm_served_live(const cm_served *s);
/* Once a second: --sync interval's fsync; the journal rewritten when
 * it has doubled.  Said into note when that failed (or ""). */
void cm_live_tick(cm_live *l, char *note, size_t noten);
