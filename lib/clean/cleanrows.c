/* cleanrows.c - cm-clean's engine, second half: typed rows pass through
 * sorting (in memory, spilling sorted runs to disk beyond a budget),
 * duplicate removal, the missing-value policies and the writer, each
 * holding only what its job needs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clean/clean.h"

#define MAX_PENDING (1u << 16) /* rows interpolation may wait on */

/* ---- a growable store of rows ------------------------------------------- */

typedef struct rowbuf {
    cm_batch *b;
    size_t n;
} rowbuf;

/* Room for one more row at index at; copies rows [0, keep) when growing. */
static cm_status rowbuf_reserve(const cm_schema *s, rowbuf *r, size_t at,
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

static cm_status rowbuf_add(const cm_schema *s, rowbuf *r, const cm_batch *src,
                            size_t si, cm_error *err)
{
    cm_status st = rowbuf_reserve(s, r, r->n, r->n, err);
    if (!st)
        cm_batch_copy_row(s, r->b, r->n++, src, si);
    return st;
}

static int64_t time_of(const cm_batch *b, long col, size_t i)
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
    cm_batch *out;
    size_t nout;
    cm_writer *w;
};

static size_t mask(const cm_cleanrows *r)
{
    return cm_batch_capacity(r->ring) - 1;
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

/* ---- write ------------------------------------------------------------------ */

/* To the writer, or to the caller's function when there is no file. */
static cm_status sink(cm_cleanrows *r, cm_batch *b, cm_error *err)
{
    return r->w ? cm_writer_write(r->w, b, err) : r->cfg.emit(r->cfg.ctx, b, err);
}

static cm_status emit(cm_cleanrows *r, const cm_batch *b, size_t i, cm_error *err)
{
    cm_batch_copy_row(r->cfg.schema, r->out, r->nout++, b, i);
    r->cfg.stats->rows_written++;
    if (r->nout < r->cfg.batch_rows)
        return CM_OK;
    cm_batch_set_nrows(r->out, r->nout);
    r->nout = 0;
    return sink(r, r->out, err);
}

/* ---- fill and drop ------------------------------------------------------------ */

/* Series of a row: its key's code + 1, or 0 without a key. */
static size_t series_of(const cm_cleanrows *r, const cm_batch *b, size_t i)
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
    size_t n = r->nseries ? r->nseries : 4;
    while (n <= series)
        n *= 2;
    fillstate *fs = realloc(r->fs, n * r->ncols * sizeof *fs);
    if (fs)
        r->fs = fs;
    int64_t *rows = fs ? realloc(r->series_rows, n * sizeof *rows) : NULL;
    if (!rows)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    r->series_rows = rows;
    memset(fs + r->nseries * r->ncols, 0, (n - r->nseries) * r->ncols * sizeof *fs);
    memset(rows + r->nseries, 0, (n - r->nseries) * sizeof *rows);
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

/* Whether row i of b misses a value its column may not miss (counted);
 * never when every row must come out, as when a model replays cleaning. */
static int must_drop(cm_cleanrows *r, const cm_batch *b, size_t i)
{
    int drop = 0;
    for (size_t c = 0; c < r->ncols && !r->cfg.keep_all; c++)
        if (!cm_batch_valid_c(b, c)[i] && r->cfg.policy[c] != POLICY_KEEP) {
            r->cfg.stats->dropped_missing[c]++;
            drop = 1;
        }
    r->cfg.stats->rows_dropped_missing += (uint64_t)drop;
    return drop;
}

/* Rows leave the ring in order once nothing in them waits any more; a row
 * still missing a value its column may not miss is dropped then. */
static cm_status drain(cm_cleanrows *r, cm_error *err)
{
    while (r->head < r->tail && r->unresolved[r->head & mask(r)] == 0) {
        size_t i = r->head++ & mask(r);
        if (!must_drop(r, r->ring, i) && emit(r, r->ring, i, err))
            return err->status;
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
        size_t i = s & mask(r);
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

static cm_status fill_row(cm_cleanrows *r, const cm_batch *b, size_t si, cm_error *err)
{
    if (!r->any_fill) /* nothing to fill: decide at once, no ring needed */
        return must_drop(r, b, si) ? CM_OK : emit(r, b, si, err);
    cm_status st = grow_ring(r, err);
    size_t series = series_of(r, b, si);
    if (!st)
        st = grow_series(r, series, err);
    if (st)
        return st;
    uint64_t seq = r->tail++;
    size_t i = seq & mask(r);
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
                size_t cap = f->cap ? f->cap * 2 : 16;
                uint64_t *p = realloc(f->pending, cap * sizeof *p);
                if (!p)
                    return cm_fail(err, CM_ERR_NOMEM, "out of memory");
                f->pending = p;
                f->cap = cap;
            }
            f->pending[f->npending++] = seq;
            r->unresolved[i]++;
        }
    }
    /* Memory stays bounded: past MAX_PENDING rows the oldest gives up. */
    if (r->tail - r->head > MAX_PENDING)
        r->unresolved[r->head & mask(r)] = 0;
    return drain(r, err);
}

/* ---- duplicates ---------------------------------------------------------------- */

static size_t key_of(const cm_cleanrows *r, const cm_batch *b, size_t i)
{
    return series_of(r, b, i);
}

static cm_status mark(cm_cleanrows *r, size_t key, cm_error *err)
{
    if (key < r->nstamp)
        return CM_OK;
    size_t n = r->nstamp ? r->nstamp : 64;
    while (n <= key)
        n *= 2;
    uint64_t *s = realloc(r->stamp, n * sizeof *s);
    if (s)
        r->stamp = s;
    size_t *l = s ? realloc(r->last_in_group, n * sizeof *l) : NULL;
    if (!l)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    r->last_in_group = l;
    memset(s + r->nstamp, 0, (n - r->nstamp) * sizeof *s);
    r->nstamp = n;
    return CM_OK;
}

/* With dedupe=last the rows of one time wait here; the last of each key
 * goes on, in the order the kept rows came. */
static cm_status flush_group(cm_cleanrows *r, cm_error *err)
{
    rowbuf *g = &r->group;
    r->group_id++;
    for (size_t i = 0; i < g->n; i++) {
        size_t k = key_of(r, g->b, i);
        if (mark(r, k, err))
            return err->status;
        r->stamp[k] = r->group_id;
        r->last_in_group[k] = i;
    }
    for (size_t i = 0; i < g->n; i++) {
        if (r->last_in_group[key_of(r, g->b, i)] != i)
            r->cfg.stats->duplicates++;
        else if (fill_row(r, g->b, i, err))
            return err->status;
    }
    g->n = 0;
    r->group_id++;
    return CM_OK;
}

static cm_status dedupe_row(cm_cleanrows *r, const cm_batch *b, size_t i,
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
        if (r->cfg.dedupe == DEDUPE_LAST && flush_group(r, err))
            return err->status;
        r->group_id++;
        r->group_t = t;
        r->have_group = 1;
    }
    if (r->cfg.dedupe == DEDUPE_LAST)
        return rowbuf_add(r->cfg.schema, &r->group, b, i, err);
    size_t k = key_of(r, b, i);
    if (mark(r, k, err))
        return err->status;
    if (r->stamp[k] == r->group_id) {
        r->cfg.stats->duplicates++;
        return CM_OK;
    }
    r->stamp[k] = r->group_id;
    return fill_row(r, b, i, err);
}

static cm_status after_sort(cm_cleanrows *r, const cm_batch *b, size_t i,
                            uint64_t line, cm_error *err)
{
    if (r->cfg.dedupe)
        return dedupe_row(r, b, i, line, err);
    return fill_row(r, b, i, err);
}

/* ---- sort ------------------------------------------------------------------------ */

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

static FILE *temp_file(const char *dir, cm_error *err)
{
    const char *d = dir ? dir : getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/cm-sort.XXXXXX", d && *d ? d : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        cm_fail_sys(err, errno, "sort: temporary file in %s", d && *d ? d : "/tmp");
        return NULL;
    }
    unlink(path); /* gone with the process, however it ends */
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

static cm_status sort_row(cm_cleanrows *r, const cm_batch *b, size_t i, cm_error *err)
{
    if (r->sorted.n && (r->sorted.n + 1) * r->row_bytes > r->cfg.sort_memory &&
        spill(r, err))
        return err->status;
    return rowbuf_add(r->cfg.schema, &r->sorted, b, i, err);
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
        st = after_sort(r, cur[best], pos[best], 0, err);
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

static cm_status finish_sort(cm_cleanrows *r, cm_error *err)
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
        st = after_sort(r, r->sorted.b, o[k].i, 0, err);
    free(o);
    return st;
}

/* ---- the pipe -------------------------------------------------------------------- */

/* With nothing to sort, match or fill, a batch only loses the rows its
 * missing values rule out and goes straight to the writer. */
static cm_status direct(cm_cleanrows *r, cm_batch *b, cm_error *err)
{
    size_t n = cm_batch_nrows(b), kept = 0;
    for (size_t i = 0; i < n; i++)
        if (!must_drop(r, b, i) && kept++ != i)
            cm_batch_copy_row(r->cfg.schema, b, kept - 1, b, i);
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
        st = sort ? sort_row(r, b, i, err) : after_sort(r, b, i, line[i], err);
    return st;
}

cm_status cm_cleanrows_finish(cm_cleanrows *r, cm_error *err)
{
    cm_status st = CM_OK;
    if (r->cfg.sort && r->cfg.time_col >= 0)
        st = finish_sort(r, err);
    if (!st && r->cfg.dedupe == DEDUPE_LAST)
        st = flush_group(r, err);
    /* Whatever still waits for a later value will not get one. */
    for (uint64_t s = r->head; !st && s < r->tail; s++)
        r->unresolved[s & mask(r)] = 0;
    if (!st)
        st = drain(r, err);
    if (!st && r->nout) {
        cm_batch_set_nrows(r->out, r->nout);
        r->nout = 0;
        st = sink(r, r->out, err);
    }
    if (!st && r->w)
        st = cm_writer_finish(r->w, err);
    return st;
}
