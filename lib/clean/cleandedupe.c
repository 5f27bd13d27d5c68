/* cleandedupe.c - one row per time (and key): the first of each, or the
 * last (the rows of one time wait for the next time), on sorted rows. */
#include <stdlib.h>
#include <string.h>

#include "clean/cleanrows.h"

static cm_status mark(cm_cleanrows *r, size_t key, cm_error *err)
{
    if (key < r->nstamp)
        return CM_OK;
    size_t n = cm_cap_for(r->nstamp, key, 64);
    if (cm_resize(&r->stamp, r->nstamp, n, sizeof *r->stamp, err) ||
        cm_resize(&r->last_in_group, r->nstamp, n, sizeof *r->last_in_group, err))
        return CM_ERR_NOMEM;
    r->nstamp = n;
    return CM_OK;
}

void cm_cleanrows_duplicate(cm_cleanrows *r, const cm_batch *b, size_t i)
{
    r->cfg.stats->duplicates++;
    if (r->cfg.drop)
        r->cfg.drop(r->cfg.drop_ctx, b, i, CM_CLEAN_DUPLICATE, 0);
}

/* With dedupe=last the rows of one time wait here; the last of each key
 * goes on, in the order the kept rows came. */
cm_status cm_cleanrows_flush_group(cm_cleanrows *r, cm_error *err)
{
    rowbuf *g = &r->group;
    r->group_id++;
    for (size_t i = 0; i < g->n; i++) {
        size_t k = cm_cleanrows_series(r, g->b, i);
        if (mark(r, k, err))
            return CM_ERR_NOMEM;
        r->stamp[k] = r->group_id;
        r->last_in_group[k] = i;
    }
    for (size_t i = 0; i < g->n; i++) {
        if (r->last_in_group[cm_cleanrows_series(r, g->b, i)] != i)
            cm_cleanrows_duplicate(r, g->b, i);
        else if (cm_cleanrows_fill(r, g->b, i, err))
            return CM_ERR_NOMEM;
    }
    g->n = 0;
    r->group_id++;
    return CM_OK;
}

cm_status cm_cleanrows_dedupe(cm_cleanrows *r, const cm_batch *b, size_t i,
                            uint64_t line, cm_error *err)
{
    int64_t t = time_of(b, r->cfg.time_col, i);
    if (r->have_group && t < r->group_t) {
        char a[40], z[40];
        cm_fmt_time(a, sizeof a, t);
        cm_fmt_time(z, sizeof z, r->group_t);
        err->line = line;
        return cm_fail(err, CM_ERR_DATA,
                       "rows are not in time order (%s after %s): add --sort "
                       "to remove duplicates", a, z);
    }
    if (!r->have_group || t != r->group_t) {
        if (r->cfg.dedupe == DEDUPE_LAST && cm_cleanrows_flush_group(r, err))
            return CM_ERR_NOMEM;
        r->group_id++;
        r->group_t = t;
        r->have_group = 1;
    }
    if (r->cfg.dedupe == DEDUPE_LAST)
        return cm_rowbuf_add(r->cfg.schema, &r->group, b, i, err);
    size_t k = cm_cleanrows_series(r, b, i);
    if (mark(r, k, err))
        return CM_ERR_NOMEM;
    if (r->stamp[k] == r->group_id) {
        cm_cleanrows_duplicate(r, b, i);
        return CM_OK;
    }
    r->stamp[k] = r->group_id;
    return cm_cleanrows_fill(r, b, i, err);
}

