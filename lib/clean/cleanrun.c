/* clean.c - cm-clean's engine: reads the header and a leading sample,
 * settles the types, then types every record and hands the rows, a batch
 * at a time, to the stages of cleanrows.c. */
#include <stdlib.h>
#include <string.h>

#include "clean/clean.h"
#include "clean/csvin.h"

/* ---- the run ------------------------------------------------------------------ */


/* A leading sample, copied out of the reader for two passes. */
typedef struct sample {
    char ***rows;
    size_t **lens;
    size_t *nf;
    uint64_t *line;
    size_t n;
} sample;

static void sample_free(sample *s)
{
    for (size_t i = 0; i < s->n; i++) {
        for (size_t j = 0; j < s->nf[i]; j++)
            free(s->rows[i][j]);
        free(s->rows[i]);
        free(s->lens[i]);
    }
    free(s->rows);
    free(s->lens);
    free(s->nf);
    free(s->line);
}

static cm_status sample_add(sample *s, size_t nf, const char *const *f,
                            const size_t *len, uint64_t line, cm_error *err)
{
    size_t i = s->n;
    char ***r = realloc(s->rows, (i + 1) * sizeof *r);
    if (r) s->rows = r;
    size_t **l = r ? realloc(s->lens, (i + 1) * sizeof *l) : NULL;
    if (l) s->lens = l;
    size_t *n = l ? realloc(s->nf, (i + 1) * sizeof *n) : NULL;
    if (n) s->nf = n;
    uint64_t *ln = n ? realloc(s->line, (i + 1) * sizeof *ln) : NULL;
    if (ln) s->line = ln;
    if (!ln || !(s->rows[i] = calloc(nf + 1, sizeof(char *))) ||
        !(s->lens[i] = calloc(nf + 1, sizeof(size_t))))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    s->nf[i] = nf;
    s->line[i] = line;
    s->n++;
    for (size_t j = 0; j < nf; j++) {
        if (!(s->rows[i][j] = cm_strndup(f[j], len[j])))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        s->lens[i][j] = len[j];
    }
    return CM_OK;
}

/* A bad row: fatal, or counted and noted with --bad-rows skip. */
static cm_status bad_row(cm_clean *c, cm_error *err, uint64_t line)
{
    err->line = line;
    if (!c->bad_skip || err->status != CM_ERR_DATA)
        return err->status;
    c->st.bad_rows++;
    if (c->on_drop)
        c->on_drop(c->drop_ctx, &(cm_clean_left){c->st.rows_read, CM_CLEAN_BAD, err->column,
                                                 NULL, 0});
    if (c->nnotes < MAX_NOTES) {
        if (err->column[0])
            snprintf(c->notes[c->nnotes++], sizeof c->notes[0],
                     "line %llu: column '%.40s': %.120s", (unsigned long long)line,
                     err->column, err->msg);
        else
            snprintf(c->notes[c->nnotes++], sizeof c->notes[0], "line %llu: %.150s",
                     (unsigned long long)line, err->msg);
    }
    cm_error_clear(err);
    return CM_OK;
}

/* Rows are typed a batch at a time and handed on together. */
typedef struct pending {
    cm_batch *b;
    uint64_t *line;
    size_t n, cap;
} pending;

static cm_status hand_on(cm_cleanrows *rows, pending *p, cm_error *err)
{
    cm_batch_set_nrows(p->b, p->n);
    cm_status st = cm_cleanrows_push(rows, p->b, p->line, err);
    p->n = 0;
    return st;
}

cm_status cm_clean_record(cm_clean *c, size_t nf, const char *const *f, const size_t *len,
                          uint64_t line, cm_batch *b, size_t row, int *drop, cm_error *err)
{
    if (c->nread < c->ncols && nf == c->nread) {
        /* the columns the input lacks, as empty fields after its own */
        memcpy(c->pad_f, f, nf * sizeof *f);
        memcpy(c->pad_len, len, nf * sizeof *len);
        f = c->pad_f;
        len = c->pad_len;
        nf = c->ncols;
    }
    rowctx r = {f, len, line};
    return cm_clean_convert(c, &r, nf, b, row, drop, err);
}

static cm_status one_row(cm_clean *c, cm_cleanrows *rows, pending *p, size_t nf,
                         const char *const *f, const size_t *len, uint64_t line,
                         cm_error *err)
{
    int drop;
    if (++c->st.rows_read % 65536 == 0 && c->progress)
        c->progress(c->progress_ctx, c->st.rows_read);
    cm_status st = cm_clean_record(c, nf, f, len, line, p->b, p->n, &drop, err);
    if (st)
        return bad_row(c, err, line);
    if (drop && c->on_drop)
        c->on_drop(c->drop_ctx, &(cm_clean_left){c->st.rows_read, CM_CLEAN_NO_TIME,
                                                 c->time.item[0], p->b, p->n});
    if (drop)
        return CM_OK;
    if (c->record_out >= 0) {
        ((int64_t *)cm_batch_values(p->b, (size_t)c->record_out))[p->n] =
            (int64_t)c->st.rows_read;
        cm_batch_valid(p->b, (size_t)c->record_out)[p->n] = 1;
    }
    if (c->time_out >= 0) {
        int64_t t = ((const int64_t *)cm_batch_values(p->b, (size_t)c->time_out))[p->n];
        /* a window of time chooses the data: a model's rows are all new */
        if (!c->o.replay && ((c->p->have_from && t < c->p->from) ||
                             (c->p->have_until && t >= c->p->until))) {
            c->st.outside++;
            return CM_OK;
        }
        if (!c->st.have_time || t < c->st.tmin)
            c->st.tmin = t;
        if (!c->st.have_time || t > c->st.tmax)
            c->st.tmax = t;
        c->st.have_time = 1;
    }
    p->line[p->n++] = line;
    return p->n == p->cap ? hand_on(rows, p, err) : CM_OK;
}

/* After the header and the sample: the types, the time, the schema. */
static cm_status settle(cm_clean *c, char ***rows, const size_t *nf, size_t n,
                        const char *name, cm_error *err)
{
    cm_status st = CM_OK;
    cm_clean_infer(c, rows, nf, n);
    for (size_t i = 0; i < c->time.n; i++)
        c->cols[cm_clean_find(c, c->time.item[i])].kind = K_TIME;
    /* Without --time, the first column that reads as times is the time:
     * its name whole (a name may hold a comma, which would split it). */
    for (size_t j = 0; !c->time.n && j < c->ncols; j++)
        if (c->cols[j].kind == K_TIME) {
            if (!(c->time.item = calloc(1, sizeof *c->time.item)) ||
                !(c->time.item[0] = cm_strdup(c->cols[j].name)))
                st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
            else
                c->time.n = 1;
            c->cols[j].time_part = 0;
        }
    if (!st && (c->dedupe || c->sort || c->p->have_from || c->p->have_until) && !c->time.n)
        st = cm_fail(err, CM_ERR_ARG, "%s needs a time column (--time)",
                     c->sort ? "sort" : c->dedupe ? "dedupe"
                                      : c->p->have_from ? "from" : "until");
    if (!st && !(c->time_idx = calloc(c->time.n + 1, sizeof *c->time_idx)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < c->time.n; i++)
        c->time_idx[i] = (size_t)cm_clean_find(c, c->time.item[i]);
    if (!st)
        st = cm_clean_schema(c, name, err);
    /* A replay's rows go to the model that holds the recipe already. */
    if (!st && !c->o.replay)
        st = cm_clean_recipe(c, err);
    if (!st && cm_schema_ncols(c->schema) == 0)
        st = cm_fail(err, CM_ERR_ARG, "no columns left to write");
    return st;
}

cm_status cm_clean_prepare(cm_clean *c, size_t nf, const char *const *names,
                           const char *name, cm_error *err)
{
    cm_status st = cm_clean_header(c, nf, names, err);
    return st ? st : settle(c, NULL, NULL, 0, name, err);
}

/* A row the stages leave out, to the caller by its record number. */
static void stage_drop(void *ctx, const cm_batch *b, size_t i, cm_clean_drop why,
                       size_t col)
{
    cm_clean *c = ctx;
    if (!c->on_drop || c->record_out < 0)
        return;
    uint64_t rec = (uint64_t)((const int64_t *)cm_batch_values_c(b, (size_t)c->record_out))[i];
    c->on_drop(c->drop_ctx, &(cm_clean_left){rec, why,
                                             why == CM_CLEAN_MISSING
                                                 ? cm_schema_name(c->schema, col) : "",
                                             b, i});
}

/* Below a megabyte each sorted run would be a handful of rows, and every
 * run an open file until the merge. */
static size_t sort_memory(const cm_clean_plan *p)
{
    return p->r.buffer < (1u << 20) ? (1u << 20) : (size_t)p->r.buffer;
}

/* The rows go to out as a stream, or to emit. */
static cm_status run(cm_clean *c, FILE *in, const char *name, FILE *out,
                     const cm_writer_opts *wo, cm_batch_fn emit, void *ctx,
                     cm_error *err)
{
    cm_csv *csv = cm_csv_new(in, c->p->delim, c->p->decimal, err);
    if (!csv)
        return err->status;
    c->delim_used = cm_csv_delim(csv);
    sample s = {0};
    /* A replay may be one row at a terminal: small batches spare it
     * megabytes of zeroed memory (and 4 ms); 16384 suit a file. */
    pending pd = {NULL, NULL, 0, c->o.batch_rows ? c->o.batch_rows : c->o.replay ? 1024 : 16384};
    cm_cleanrows *rows = NULL;
    size_t nf;
    const char *const *f;
    const size_t *len;
    int got = cm_csv_next(csv, &nf, &f, &len, err);
    cm_status st = got < 0 ? err->status : CM_OK;
    if (got == 0)
        st = cm_fail(err, CM_ERR_DATA, "empty input: no header line");
    if (!st)
        st = cm_clean_header(c, nf, f, err);
    if (!st && !c->p->r.header)
        st = sample_add(&s, nf, f, len, cm_csv_line(csv), err);
    while (!st && s.n < (size_t)c->p->r.sample && (got = cm_csv_next(csv, &nf, &f, &len, err)) == 1)
        st = sample_add(&s, nf, f, len, cm_csv_line(csv), err);
    if (!st && got < 0)
        st = err->status;
    if (!st)
        st = settle(c, s.rows, s.nf, s.n, name, err);
    if (!st && (!(pd.b = cm_batch_new(c->schema, pd.cap)) ||
                !(pd.line = malloc(pd.cap * sizeof *pd.line))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st) {
        cm_cleanrows_cfg cfg = {c->schema, c->time_out, c->key_out, c->out_policy,
                           c->p->r.max_gap, c->sort, c->dedupe, sort_memory(c->p),
                           c->p->r.tmpdir, out, emit, ctx, c->nodrop, stage_drop, c,
                           pd.cap, wo, &c->st,
                           !c->o.replay && !c->dedupe && c->key_out < 0 && c->time_out >= 0};
        if (!(rows = cm_cleanrows_new(&cfg, err)))
            st = err->status;
    }
    for (size_t i = 0; !st && i < s.n; i++)
        st = one_row(c, rows, &pd, s.nf[i], (const char *const *)s.rows[i], s.lens[i],
                     s.line[i], err);
    sample_free(&s);
    while (!st && (got = cm_csv_next(csv, &nf, &f, &len, err)) == 1)
        st = one_row(c, rows, &pd, nf, f, len, cm_csv_line(csv), err);
    if (!st && got < 0)
        st = err->status;
    if (!st && pd.n)
        st = hand_on(rows, &pd, err);
    if (!st)
        st = cm_cleanrows_finish(rows, err);
    /* No stream without rows (it would not even end, for a reader to
     * take as whole), unless a model replays: it answers every row. */
    if (!st && !c->o.replay && !c->st.rows_written) {
        char why[400];
        cm_clean_reason(c, why, sizeof why);
        st = cm_fail(err, CM_ERR_DATA, "%s", why);
    }
    if (!st)
        st = cm_cleanrows_end(rows, err);
    cm_cleanrows_free(rows);
    cm_batch_free(pd.b);
    free(pd.line);
    cm_csv_free(csv);
    return st;
}

cm_status cm_clean_run(cm_clean *c, FILE *in, const char *name, FILE *out,
                       const cm_writer_opts *wo, cm_error *err)
{
    return run(c, in, name, out, wo, NULL, NULL, err);
}

cm_status cm_clean_each(cm_clean *c, FILE *in, const char *name, cm_batch_fn emit,
                        void *ctx, cm_error *err)
{
    return run(c, in, name, NULL, NULL, emit, ctx, err);
}

const cm_schema *cm_clean_out_schema(const cm_clean *c)
{
    return c->schema;
}

void cm_clean_on_drop(cm_clean *c, cm_clean_drop_fn fn, void *ctx)
{
    c->on_drop = fn;
    c->drop_ctx = ctx;
}

void cm_clean_on_progress(cm_clean *c, void (*fn)(void *ctx, uint64_t rows),
                          void *ctx)
{
    c->progress = fn;
    c->progress_ctx = ctx;
}
