/* history.c - a series' recent rows in a ring, searched by time with
 * binary search since rows arrive in time order. */
#include <stdlib.h>
#include <string.h>

#include "features/history.h"

void cm_history_free(cm_history *h)
{
    free(h->t);
    free(h->rowno);
    free(h->v);
    free(h->ok);
    memset(h, 0, sizeof *h);
}

/* Capacities are powers of two, so a slot is a mask, not a division. */
static cm_status grow(cm_history *h, size_t max, cm_error *err)
{
    size_t cap = h->cap ? h->cap * 2 : 64;
    if (h->n > max) /* the rows before this one, max of them at most */
        return cm_fail(err, CM_ERR_LIMIT,
                       "a lag or window reaches back more than %zu rows of one "
                       "series (raise --max-history)", max);
    int64_t *t = malloc(cap * sizeof *t);
    uint64_t *r = malloc(cap * sizeof *r);
    double *v = malloc(cap * (h->ncols ? h->ncols : 1) * sizeof *v);
    uint8_t *ok = malloc(cap * (h->ncols ? h->ncols : 1));
    if (!t || !r || !v || !ok) {
        free(t), free(r), free(v), free(ok);
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < h->n; i++) {
        size_t s = cm_history_slot(h, i);
        t[i] = h->t[s];
        r[i] = h->rowno[s];
        memcpy(v + i * h->ncols, h->v + s * h->ncols, h->ncols * sizeof *v);
        memcpy(ok + i * h->ncols, h->ok + s * h->ncols, h->ncols);
    }
    free(h->t), free(h->rowno), free(h->v), free(h->ok);
    h->t = t, h->rowno = r, h->v = v, h->ok = ok;
    h->cap = cap;
    h->head = 0;
    return CM_OK;
}

cm_status cm_history_add(cm_history *h, int64_t t, const double *values,
                         const uint8_t *ok, size_t max, cm_error *err)
{
    if (h->n == h->cap || h->n > max) {
        cm_status st = grow(h, max, err);
        if (st)
            return st;
    }
    size_t s = cm_history_slot(h, h->n++);
    h->t[s] = t;
    h->rowno[s] = h->rows++;
    memcpy(h->v + s * h->ncols, values, h->ncols * sizeof *values);
    memcpy(h->ok + s * h->ncols, ok, h->ncols);
    return CM_OK;
}

void cm_history_trim(cm_history *h, int64_t t, int64_t span, uint64_t rows)
{
    while (h->n > rows) {
        size_t s = h->head;
        if (span >= 0 && h->t[s] >= t - span)
            break;
        h->head = (h->head + 1) & (h->cap - 1);
        h->n--;
    }
}

long cm_history_back(const cm_history *h, uint64_t k)
{
    if (k == 0 || k > h->n)
        return -1;
    return (long)cm_history_slot(h, h->n - k);
}

/* First position whose time is >= t. */
static size_t lower(const cm_history *h, int64_t t)
{
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->t[cm_history_slot(h, mid)] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

long cm_history_at(const cm_history *h, int64_t t)
{
    if (!h->n)
        return -1;
    /* Where a regular series has it first: a lag of a forecast looks up
     * every step of every window */
    int64_t t0 = h->t[cm_history_slot(h, 0)], tn = h->t[cm_history_slot(h, h->n - 1)];
    if (t < t0 || t > tn)
        return -1;
    size_t g = tn > t0 ? (size_t)((double)(t - t0) / (double)(tn - t0) * (double)(h->n - 1) + 0.5)
                       : h->n - 1;
    if (g < h->n && h->t[cm_history_slot(h, g)] == t &&
        (g + 1 == h->n || h->t[cm_history_slot(h, g + 1)] != t))
        return (long)cm_history_slot(h, g);
    size_t i = lower(h, t + 1); /* past the last row at t */
    if (i == 0 || h->t[cm_history_slot(h, i - 1)] != t)
        return -1;
    return (long)cm_history_slot(h, i - 1);
}

void cm_history_range(const cm_history *h, int64_t a, int64_t b, size_t *first,
                      size_t *end)
{
    *first = lower(h, a);
    *end = lower(h, b);
}
