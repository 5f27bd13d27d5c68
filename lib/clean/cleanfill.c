/* cleanfill.c - the missing-value policies: drop a row, keep it, carry
 * the last value forward, or interpolate in time, each within a series;
 * rows wait in a ring for a later value, never more than MAX_PENDING. */
#include <stdlib.h>
#include <string.h>

#include "clean/cleanrows.h"

size_t cm_cleanrows_mask(const cm_cleanrows *r)
{
    return cm_batch_capacity(r->ring) - 1;
}

size_t cm_cleanrows_series(const cm_cleanrows *r, const cm_batch *b, size_t i)
{
    long k = r->cfg.key_col;
    if (k < 0 || !cm_batch_valid_c(b, (size_t)k)[i])
        return 0;
    return (size_t)((const uint32_t *)cm_batch_values_c(b, (size_t)k))[i] + 1;
}

static cm_status grow_series(cm_cleanrows *r, size_t series, cm_error *err)
{
    if (series < r->nseries)
        return CM_OK;
    size_t n = cm_cap_for(r->nseries, series, 4);
    if (cm_resize(&r->fs, r->nseries * r->ncols, n * r->ncols, sizeof *r->fs, err) ||
        cm_resize(&r->series_rows, r->nseries, n, sizeof *r->series_rows, err))
        return CM_ERR_NOMEM;
    r->nseries = n;
    return CM_OK;
}

static cm_status grow_ring(cm_cleanrows *r, cm_error *err)
{
    size_t cap = cm_batch_capacity(r->ring), m2 = cap * 2 - 1;
    if (r->tail - r->head < cap)
        return CM_OK;
    cm_batch *nb = cm_batch_new(r->cfg.schema, cap * 2);
    uint16_t *nu = calloc(cap * 2, sizeof *nu);
    int64_t *nx = calloc(cap * 2, sizeof *nx);
    if (!nb || !nu || !nx) {
        cm_batch_free(nb);
        free(nu);
        free(nx);
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    for (uint64_t s = r->head; s < r->tail; s++) {
        cm_batch_copy_row(r->cfg.schema, nb, s & m2, r->ring, s & (cap - 1));
        nu[s & m2] = r->unresolved[s & (cap - 1)];
        nx[s & m2] = r->xs[s & (cap - 1)];
    }
    cm_batch_free(r->ring);
    free(r->unresolved);
    free(r->xs);
    r->ring = nb;
    r->unresolved = nu;
    r->xs = nx;
    return CM_OK;
}

/* Whether row i of b misses a value its column may not miss (counted,
 * and told by the first such column). */
int cm_cleanrows_must_drop(cm_cleanrows *r, const cm_batch *b, size_t i)
{
    size_t first = r->ncols;
    for (size_t c = 0; c < r->ncols; c++)
        if (!cm_batch_valid_c(b, c)[i] && r->cfg.policy[c] != POLICY_KEEP &&
            !r->cfg.nodrop[c]) {
            r->cfg.stats->dropped_missing[c]++;
            if (first == r->ncols)
                first = c;
        }
    if (first == r->ncols)
        return 0;
    r->cfg.stats->rows_dropped_missing++;
    if (r->cfg.drop)
        r->cfg.drop(r->cfg.drop_ctx, b, i, CM_CLEAN_MISSING, first);
    return 1;
}

/* Rows leave the ring in order once nothing in them waits any more; a row
 * still missing a value its column may not miss is dropped then. */
cm_status cm_cleanrows_drain(cm_cleanrows *r, cm_error *err)
{
    while (r->head < r->tail && r->unresolved[r->head & cm_cleanrows_mask(r)] == 0) {
        size_t i = r->head++ & cm_cleanrows_mask(r);
        if (!cm_cleanrows_must_drop(r, r->ring, i) && cm_cleanrows_emit(r, r->ring, i, err))
            return CM_ERR_NOMEM;
    }
    return CM_OK;
}

/* A present value of an interpolated column settles the rows waiting on it. */
static void settle(cm_cleanrows *r, fillstate *f, size_t c, double v1, int64_t x1)
{
    double v0;
    memcpy(&v0, f->last, 8);
    int ok = f->has_last &&
             (!r->cfg.max_gap || x1 - f->x_last <= r->cfg.max_gap);
    for (size_t k = 0; k < f->npending; k++) {
        uint64_t s = f->pending[k];
        if (s < r->head)
            continue; /* given up on when the ring was full */
        size_t i = s & cm_cleanrows_mask(r);
        int64_t x = r->xs[i];
        if (ok) {
            double frac = x1 == f->x_last ? 0 : (double)(x - f->x_last) / (double)(x1 - f->x_last);
            ((double *)cm_batch_values(r->ring, c))[i] = v0 + (v1 - v0) * frac;
            cm_batch_valid(r->ring, c)[i] = 1;
            r->cfg.stats->filled[c]++;
        }
        r->unresolved[i]--;
    }
    f->npending = 0;
}

cm_status cm_cleanrows_fill(cm_cleanrows *r, const cm_batch *b, size_t si, cm_error *err)
{
    if (!r->any_fill) /* nothing to fill: decide at once, no ring needed */
        return cm_cleanrows_must_drop(r, b, si) ? CM_OK : cm_cleanrows_emit(r, b, si, err);
    cm_status st = grow_ring(r, err);
    size_t series = cm_cleanrows_series(r, b, si);
    if (!st)
        st = grow_series(r, series, err);
    if (st)
        return st;
    uint64_t seq = r->tail++;
    size_t i = seq & cm_cleanrows_mask(r);
    cm_batch_copy_row(r->cfg.schema, r->ring, i, b, si);
    r->unresolved[i] = 0;
    int64_t x = r->cfg.time_col >= 0 ? time_of(b, r->cfg.time_col, si)
                                     : r->series_rows[series];
    r->series_rows[series]++;
    r->xs[i] = x;
    for (size_t c = 0; c < r->ncols; c++) {
        fillstate *f = &r->fs[series * r->ncols + c];
        int policy = r->cfg.policy[c];
        size_t w = cm_dtype_width(cm_schema_dtype(r->cfg.schema, c));
        uint8_t *v = (uint8_t *)cm_batch_values(r->ring, c) + i * w;
        if (cm_batch_valid_c(r->ring, c)[i]) {
            if (policy == POLICY_INTERP) {
                double d;
                memcpy(&d, v, 8);
                settle(r, f, c, d, x);
            }
            memcpy(f->last, v, w);
            f->has_last = 1;
            f->x_last = x;
        } else if (policy == POLICY_FFILL) {
            if (f->has_last && (!r->cfg.max_gap || x - f->x_last <= r->cfg.max_gap)) {
                memcpy(v, f->last, w);
                cm_batch_valid(r->ring, c)[i] = 1;
                r->cfg.stats->filled[c]++;
            }
        } else if (policy == POLICY_INTERP && f->has_last) {
            if (f->npending == f->cap) {
                /* rows the ring gave up on need no place in the list */
                size_t kept = 0;
                for (size_t k = 0; k < f->npending; k++)
                    if (f->pending[k] >= r->head)
                        f->pending[kept++] = f->pending[k];
                f->npending = kept;
            }
            if (f->npending == f->cap) {
                size_t cap = cm_cap_for(f->cap, f->npending, 16);
                if (cm_resize(&f->pending, f->npending, cap, sizeof *f->pending, err))
                    return CM_ERR_NOMEM;
                f->cap = cap;
            }
            f->pending[f->npending++] = seq;
            r->unresolved[i]++;
        }
    }
    /* Memory stays bounded: past MAX_PENDING rows the oldest gives up. */
    if (r->tail - r->head > MAX_PENDING)
        r->unresolved[r->head & cm_cleanrows_mask(r)] = 0;
    return cm_cleanrows_drain(r, err);
}

