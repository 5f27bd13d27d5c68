/*
 * history.h - the recent past of one series, for lags and rolling windows:
 * a ring of rows (time, row number, and the values of the columns that
 * features look back on), oldest dropped once no feature can reach them.
 */
#ifndef CM_HISTORY_H
#define CM_HISTORY_H

#include "common/common.h"
#include "features/cm_features.h"

typedef struct cm_history {
    size_t ncols;     /* values kept per row */
    size_t cap, head, n; /* ring of n rows from head; cap a power of two */
    int64_t *t;
    uint64_t *rowno;
    double *v;        /* [slot * ncols + col] */
    uint8_t *ok;      /* the same, 1 when the value is present */
    uint64_t rows;    /* rows the series has had */
} cm_history;

void cm_history_free(cm_history *h);
/* Appends a row (values[ncols], ok[ncols]); fails only on memory or when
 * more than max rows are already held. */
cm_status cm_history_add(cm_history *h, int64_t t, const double *values,
                         const uint8_t *ok, size_t max, cm_error *err);
/* Drops rows older than both t - span seconds (span < 0: any time) and
 * `rows` rows back. */
void cm_history_trim(cm_history *h, int64_t t, int64_t span, uint64_t rows);
/* Slot of the k-th row from the end (k = 1: the last), or -1. */
long cm_history_back(const cm_history *h, uint64_t k);
/* Slot of the last row whose time is exactly t, or -1. */
long cm_history_at(const cm_history *h, int64_t t);
/* Rows [first, end) by position from the oldest, with times in [a, b). */
void cm_history_range(const cm_history *h, int64_t a, int64_t b, size_t *first,
                      size_t *end);
/* Slot of the row at position i from the oldest. */
static inline size_t cm_history_slot(const cm_history *h, size_t i)
{
    return (h->head + i) & (h->cap - 1);
}

#endif
