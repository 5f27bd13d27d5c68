/*
 * cleanrows.h - inside the cleaner's row stages (cleanrows.c): typed rows
 * pass through sorting (cleansort.c), duplicate removal (cleandedupe.c)
 * and the missing-value policies (cleanfill.c) to the writer, each stage
 * holding only what its job needs.
 */
#ifndef CM_CLEANROWS_H
#define CM_CLEANROWS_H

#include "clean/clean.h"

#define MAX_PENDING (1u << 16) /* rows interpolation may wait on */

/* ---- a growable store of rows ------------------------------------------- */

typedef struct rowbuf {
    cm_batch *b;
    size_t n;
} rowbuf;

/* Room for one more row at index at; copies rows [0, keep) when growing. */
cm_status cm_rowbuf_reserve(const cm_schema *s, rowbuf *r, size_t at, size_t keep,
                            cm_error *err);
/* Row si of src appended. */
cm_status cm_rowbuf_add(const cm_schema *s, rowbuf *r, const cm_batch *src, size_t si,
                        cm_error *err);

static inline int64_t time_of(const cm_batch *b, long col, size_t i)
{
    return ((const int64_t *)cm_batch_values_c(b, (size_t)col))[i];
}

/* ---- state of missing-value filling, per series and column --------------- */

typedef struct fillstate {
    int has_last;
    uint8_t last[8];  /* last present value, raw bytes */
    int64_t x_last;   /* its time, or its row number in the series */
    uint64_t *pending; /* queue sequence numbers waiting to interpolate */
    size_t npending, cap;
} fillstate;

struct cm_cleanrows {
    cm_cleanrows_cfg cfg;
    size_t ncols;
    /* sort */
    rowbuf sorted;
    size_t row_bytes;
    FILE **runs;
    size_t nruns;
    /* dedupe */
    rowbuf group;
    int64_t group_t;
    int have_group;
    uint64_t group_id;
    uint64_t *stamp; /* per key: the group it was last seen in, + 1 */
    size_t *last_in_group;
    size_t nstamp;
    /* fill: a ring of rows still waiting on a later value */
    cm_batch *ring;
    uint64_t head, tail; /* sequence numbers; ring index is seq & mask */
    uint16_t *unresolved;
    int64_t *xs;         /* per ring row: its time or series row number */
    fillstate *fs;       /* [series * ncols + col] */
    int64_t *series_rows;
    size_t nseries;
    int any_interp, any_fill;
    /* write */
    int64_t last_t;          /* the time of the last row written */
    int have_last;
    cm_batch *out;
    size_t nout;
    cm_writer *w;
};


/* cleanrows.c: a row to the writer; the next stage after sorting */
cm_status cm_cleanrows_emit(cm_cleanrows *r, const cm_batch *b, size_t i, cm_error *err);
cm_status cm_cleanrows_after_sort(cm_cleanrows *r, const cm_batch *b, size_t i,
                                  uint64_t line, cm_error *err);
/* Series of a row: its key's code + 1, or 0 without a key. */
size_t cm_cleanrows_series(const cm_cleanrows *r, const cm_batch *b, size_t i);
/* cleanfill.c: a row through the policies; the rows still held, out */
cm_status cm_cleanrows_fill(cm_cleanrows *r, const cm_batch *b, size_t si, cm_error *err);
int cm_cleanrows_must_drop(cm_cleanrows *r, const cm_batch *b, size_t i);
cm_status cm_cleanrows_drain(cm_cleanrows *r, cm_error *err);
size_t cm_cleanrows_mask(const cm_cleanrows *r);
/* cleandedupe.c: a row of a time in order; the group of the last time */
cm_status cm_cleanrows_dedupe(cm_cleanrows *r, const cm_batch *b, size_t i, uint64_t line,
                              cm_error *err);
cm_status cm_cleanrows_flush_group(cm_cleanrows *r, cm_error *err);
/* Row i of b loses to another of its time (and key): counted and told. */
void cm_cleanrows_duplicate(cm_cleanrows *r, const cm_batch *b, size_t i);
/* cleansort.c: a row into the sort; everything sorted, on to the next stage */
cm_status cm_cleanrows_sort(cm_cleanrows *r, const cm_batch *b, size_t i, cm_error *err);
cm_status cm_cleanrows_finish_sort(cm_cleanrows *r, cm_error *err);

#endif
