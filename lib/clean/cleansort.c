/* cleansort.c - rows sorted by time, stably: in memory up to a budget,
 * then spilled as sorted runs (cm streams in unlinked temporary files)
 * and merged, ties to the earlier run, as sort(1) does. */
#define _GNU_SOURCE /* O_TMPFILE */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clean/cleanrows.h"

typedef struct order {
    int64_t t;
    size_t i;
} order;

static int by_time(const void *a, const void *b)
{
    const order *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i; /* stable: ties keep file order */
}

static order *sorted_order(cm_cleanrows *r, cm_error *err)
{
    rowbuf *s = &r->sorted;
    order *o = malloc((s->n ? s->n : 1) * sizeof *o);
    if (!o) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++)
        o[i] = (order){time_of(s->b, r->cfg.time_col, i), i};
    qsort(o, s->n, sizeof *o, by_time);
    return o;
}

/* A run is never named (O_TMPFILE), so it goes with the process however
 * that ends, SIGKILL too; where the file system cannot make such a file,
 * mkstemp's name is unlinked at once, and only a kill in between leaves
 * it. */
static FILE *temp_file(const char *dir, cm_error *err)
{
    const char *d = dir ? dir : getenv("TMPDIR");
    d = d && *d ? d : "/tmp";
    int fd = -1;
#ifdef O_TMPFILE
    fd = open(d, O_TMPFILE | O_RDWR | O_EXCL, 0600);
#endif
    if (fd < 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/cm-sort.XXXXXX", d);
        if ((fd = mkstemp(path)) < 0) {
            cm_fail_sys(err, errno, "sort: temporary file in %s", d);
            return NULL;
        }
        unlink(path);
    }
    FILE *f = fdopen(fd, "w+b");
    if (!f) {
        close(fd);
        cm_fail_sys(err, errno, "sort: temporary file");
    }
    return f;
}

/* Writes the buffered rows, sorted, as one run: a cm stream of its own. */
static cm_status spill(cm_cleanrows *r, cm_error *err)
{
    order *o = sorted_order(r, err);
    if (!o)
        return err->status;
    FILE **runs = realloc(r->runs, (r->nruns + 1) * sizeof *runs);
    cm_status st = runs ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    FILE *f = NULL;
    if (!st) {
        r->runs = runs;
        if (!(f = temp_file(r->cfg.tmpdir, err)))
            st = err->status;
    }
    cm_writer_opts wo = {1, CM_LAYOUT_AUTO, 0};
    cm_writer *w = st ? NULL : cm_writer_new(f, r->cfg.schema, &wo, err);
    cm_batch *b = w ? cm_batch_new(r->cfg.schema, r->cfg.batch_rows) : NULL;
    if (!st && !w)
        st = err->status;
    if (!st && !b)
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t k = 0; !st && k < r->sorted.n; k++) {
        cm_batch_copy_row(r->cfg.schema, b, n++, r->sorted.b, o[k].i);
        if (n == r->cfg.batch_rows || k + 1 == r->sorted.n) {
            cm_batch_set_nrows(b, n);
            st = cm_writer_write(w, b, err);
            n = 0;
        }
    }
    if (!st)
        st = cm_writer_finish(w, err);
    if (!st && fseek(f, 0, SEEK_SET))
        st = cm_fail_sys(err, errno, "sort: temporary file");
    if (!st) {
        r->runs[r->nruns++] = f;
        r->cfg.stats->sort_runs++;
    } else if (f) {
        fclose(f);
    }
    cm_writer_free(w);
    cm_batch_free(b);
    free(o);
    r->sorted.n = 0;
    return st;
}

cm_status cm_cleanrows_sort(cm_cleanrows *r, const cm_batch *b, size_t i, cm_error *err)
{
    if (r->sorted.n && (r->sorted.n + 1) * r->row_bytes > r->cfg.sort_memory &&
        spill(r, err))
        return err->status;
    return cm_rowbuf_add(r->cfg.schema, &r->sorted, b, i, err);
}

/* Merges the runs: the earliest time first, ties to the earlier run, which
 * holds the earlier rows of the file, so the merge is stable too. */
static cm_status merge(cm_cleanrows *r, cm_error *err)
{
    size_t n = r->nruns;
    cm_reader **rd = calloc(n, sizeof *rd);
    cm_batch **cur = calloc(n, sizeof *cur);
    size_t *pos = calloc(n, sizeof *pos);
    cm_status st = rd && cur && pos ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t k = 0; !st && k < n; k++) {
        int got;
        if (!(rd[k] = cm_reader_new(r->runs[k], err)) ||
            (got = cm_reader_next(rd[k], &cur[k], err)) < 0)
            st = err->status ? err->status : CM_ERR_CORRUPT;
        else if (got == 0)
            cur[k] = NULL;
    }
    while (!st) {
        size_t best = n;
        int64_t bt = 0;
        for (size_t k = 0; k < n; k++) {
            if (!cur[k])
                continue;
            int64_t t = time_of(cur[k], r->cfg.time_col, pos[k]);
            if (best == n || t < bt)
                best = k, bt = t;
        }
        if (best == n)
            break;
        st = cm_cleanrows_after_sort(r, cur[best], pos[best], 0, err);
        if (!st && ++pos[best] == cm_batch_nrows(cur[best])) {
            pos[best] = 0;
            int got = cm_reader_next(rd[best], &cur[best], err);
            if (got < 0)
                st = err->status;
            else if (got == 0)
                cur[best] = NULL;
        }
    }
    for (size_t k = 0; rd && k < n; k++)
        cm_reader_free(rd[k]);
    free(rd);
    free(cur);
    free(pos);
    return st;
}

cm_status cm_cleanrows_finish_sort(cm_cleanrows *r, cm_error *err)
{
    if (r->nruns) {
        if (r->sorted.n && spill(r, err))
            return err->status;
        return merge(r, err);
    }
    order *o = sorted_order(r, err);
    if (!o)
        return err->status;
    cm_status st = CM_OK;
    for (size_t k = 0; !st && k < r->sorted.n; k++)
        st = cm_cleanrows_after_sort(r, r->sorted.b, o[k].i, 0, err);
    free(o);
    return st;
}

