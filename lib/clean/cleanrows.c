/* cleanrows.c - the cleaner's row stages, second half of cm-clean: typed
 * rows pass through sorting, duplicate removal and the missing-value
 * policies (cleansort.c, cleandedupe.c, cleanfill.c) to the writer. */
#include <stdlib.h>
#include <string.h>

#include "clean/cleanrows.h"

/* ---- a growable store of rows ------------------------------------------- */

/* Room for one more row at index at; copies rows [0, keep) when growing. */
cm_status cm_rowbuf_reserve(const cm_schema *s, rowbuf *r, size_t at,
                                size_t keep, cm_error *err)
{
    size_t cap = r->b ? cm_batch_capacity(r->b) : 0;
    if (at < cap)
        return CM_OK;
    size_t ncap = cap ? cap * 2 : 1024;
    while (ncap <= at)
        ncap *= 2;
    cm_batch *nb = cm_batch_new(s, ncap);
    if (!nb)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < keep; i++)
        cm_batch_copy_row(s, nb, i, r->b, i);
    cm_batch_free(r->b);
    r->b = nb;
    cm_batch_set_nrows(nb, ncap);
    return CM_OK;
}

cm_status cm_rowbuf_add(const cm_schema *s, rowbuf *r, const cm_batch *src,
                            size_t si, cm_error *err)
{
    cm_status st = cm_rowbuf_reserve(s, r, r->n, r->n, err);
    if (!st)
        cm_batch_copy_row(s, r->b, r->n++, src, si);
    return st;
}

void cm_cleanrows_free(cm_cleanrows *r)
{
    if (!r)
        return;
    cm_batch_free(r->sorted.b);
    for (size_t i = 0; i < r->nruns; i++)
        fclose(r->runs[i]);
    free(r->runs);
    cm_batch_free(r->group.b);
    free(r->stamp);
    free(r->last_in_group);
    cm_batch_free(r->ring);
    free(r->unresolved);
    free(r->xs);
    for (size_t i = 0; i < r->nseries * r->ncols; i++)
        free(r->fs[i].pending);
    free(r->fs);
    free(r->series_rows);
    cm_batch_free(r->out);
    cm_writer_free(r->w);
    free(r);
}

cm_cleanrows *cm_cleanrows_new(const cm_cleanrows_cfg *cfg, cm_error *err)
{
    cm_cleanrows *r = calloc(1, sizeof *r);
    if (!r) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->cfg = *cfg;
    r->ncols = cm_schema_ncols(cfg->schema);
    for (size_t c = 0; c < r->ncols; c++) {
        r->row_bytes += cm_dtype_width(cm_schema_dtype(cfg->schema, c)) + 1;
        r->any_interp |= cfg->policy[c] == POLICY_INTERP;
        r->any_fill |= cfg->policy[c] == POLICY_INTERP || cfg->policy[c] == POLICY_FFILL;
    }
    cm_status st = CM_OK;
    if (cfg->max_gap && cfg->time_col < 0)
        st = cm_fail(err, CM_ERR_ARG, "max-gap needs a time column (--time)");
    if (!st && (!(r->out = cm_batch_new(cfg->schema, cfg->batch_rows)) ||
                !(r->ring = cm_batch_new(cfg->schema, 1024)) ||
                !(r->unresolved = calloc(1024, sizeof *r->unresolved)) ||
                !(r->xs = calloc(1024, sizeof *r->xs))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st && cfg->out && !(r->w = cm_writer_new(cfg->out, cfg->schema, cfg->wo, err)))
        st = err->status;
    if (st) {
        cm_cleanrows_free(r);
        return NULL;
    }
    return r;
}

/* ---- write ------------------------------------------------------------------ */

/* To the writer, or to the caller's function when there is no file. */
static cm_status sink(cm_cleanrows *r, cm_batch *b, cm_error *err)
{
    return r->w ? cm_writer_write(r->w, b, err) : r->cfg.emit(r->cfg.ctx, b, err);
}

/* Rows that repeat the time of the row before them, in the order they
 * are written: lags and windows over them are rarely what is meant. */
static void watch(cm_cleanrows *r, const cm_batch *b, size_t i)
{
    if (!r->cfg.watch_repeats || !cm_batch_valid_c(b, (size_t)r->cfg.time_col)[i])
        return;
    int64_t t = time_of(b, r->cfg.time_col, i);
    if (r->have_last && t == r->last_t && !r->cfg.stats->repeats++)
        r->cfg.stats->repeat_t = t;
    r->last_t = t;
    r->have_last = 1;
}

cm_status cm_cleanrows_emit(cm_cleanrows *r, const cm_batch *b, size_t i, cm_error *err)
{
    watch(r, b, i);
    cm_batch_copy_row(r->cfg.schema, r->out, r->nout++, b, i);
    r->cfg.stats->rows_written++;
    if (r->nout < r->cfg.batch_rows)
        return CM_OK;
    cm_batch_set_nrows(r->out, r->nout);
    r->nout = 0;
    return sink(r, r->out, err);
}

cm_status cm_cleanrows_after_sort(cm_cleanrows *r, const cm_batch *b, size_t i,
                            uint64_t line, cm_error *err)
{
    if (r->cfg.dedupe)
        return cm_cleanrows_dedupe(r, b, i, line, err);
    return cm_cleanrows_fill(r, b, i, err);
}

/* ---- the pipe -------------------------------------------------------------------- */

/* With nothing to sort, match or fill, a batch only loses the rows its
 * missing values rule out and goes straight to the writer. */
static cm_status direct(cm_cleanrows *r, cm_batch *b, cm_error *err)
{
    size_t n = cm_batch_nrows(b), kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (cm_cleanrows_must_drop(r, b, i))
            continue;
        watch(r, b, i);
        if (kept++ != i)
            cm_batch_copy_row(r->cfg.schema, b, kept - 1, b, i);
    }
    cm_batch_set_nrows(b, kept);
    r->cfg.stats->rows_written += kept;
    return sink(r, b, err);
}

cm_status cm_cleanrows_push(cm_cleanrows *r, cm_batch *b, const uint64_t *line,
                             cm_error *err)
{
    size_t n = cm_batch_nrows(b);
    cm_status st = CM_OK;
    int sort = r->cfg.sort && r->cfg.time_col >= 0;
    if (!sort && !r->cfg.dedupe && !r->any_fill)
        return direct(r, b, err);
    for (size_t i = 0; !st && i < n; i++)
        st = sort ? cm_cleanrows_sort(r, b, i, err) : cm_cleanrows_after_sort(r, b, i, line[i], err);
    return st;
}

cm_status cm_cleanrows_finish(cm_cleanrows *r, cm_error *err)
{
    cm_status st = CM_OK;
    if (r->cfg.sort && r->cfg.time_col >= 0)
        st = cm_cleanrows_finish_sort(r, err);
    if (!st && r->cfg.dedupe == DEDUPE_LAST)
        st = cm_cleanrows_flush_group(r, err);
    /* Whatever still waits for a later value will not get one. */
    for (uint64_t s = r->head; !st && s < r->tail; s++)
        r->unresolved[s & cm_cleanrows_mask(r)] = 0;
    if (!st)
        st = cm_cleanrows_drain(r, err);
    if (!st && r->nout) {
        cm_batch_set_nrows(r->out, r->nout);
        r->nout = 0;
        st = sink(r, r->out, err);
    }
    return st;
}

cm_status cm_cleanrows_end(cm_cleanrows *r, cm_error *err)
{
    return r->w ? cm_writer_finish(r->w, err) : CM_OK;
}

