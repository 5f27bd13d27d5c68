/* fcrows.c - the rows a forecaster holds.  Whatever they come from (a CSV
 * replayed by the model's clean step, a stream of any stage, a request's
 * fields, a future file cleaned apart), rows are copied into one schema of
 * the forecaster's own, the one the features step reads: columns matched
 * by name, categories by their strings.  Each series keeps its rows in
 * time order; the future file's are indexed apart. */
#include <stdlib.h>
#include <string.h>

#include "forecast/forecast.h"

/* ---- rows --------------------------------------------------------------------- */

/* Room for row r->n; the rows kept when the batch grows. */
cm_status fc_rows_add(const cm_schema *s, fc_rows *r, cm_error *err)
{
    size_t cap = r->b ? cm_batch_capacity(r->b) : 0;
    if (r->n < cap)
        return CM_OK;
    cm_batch *nb = cm_batch_new(s, cm_cap_for(cap, r->n, 1024));
    if (!nb)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < r->n; i++)
        cm_batch_copy_row(s, nb, i, r->b, i);
    cm_batch_set_nrows(nb, cm_batch_capacity(nb));
    cm_batch_free(r->b);
    r->b = nb;
    return CM_OK;
}

int64_t fc_time(const cm_forecaster *fc, const cm_batch *b, size_t i)
{
    return ((const int64_t *)cm_batch_values_c(b, (size_t)fc->time_col))[i];
}

/* ---- the forecaster's schema ----------------------------------------------------- */

/* The rows as the features step reads them, from the first source: its
 * columns but the ones the step itself derives (a stream of cm-features
 * has them) and a stage's own; no recipe step after the clean one. */
cm_status fc_adopt(cm_forecaster *fc, const cm_schema *s, cm_error *err)
{
    const cm_features_plan *plan = cm_predictor_features_plan(fc->p);
    cm_status st = (fc->in = cm_schema_new()) ? cm_kv_copy(cm_schema_meta(fc->in),
                                                            cm_schema_meta_c(s), err)
                                              : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t c = 0; !st && c < cm_schema_ncols(s); c++) {
        const char *name = cm_schema_name(s, c);
        size_t o;
        if ((unsigned char)name[0] < 0x20 || (plan && cm_features_plan_derives(plan, name)))
            continue;
        cm_role role = cm_schema_role(s, c) == CM_ROLE_TARGET ? CM_ROLE_FEATURE
                                                              : cm_schema_role(s, c);
        st = cm_schema_add(fc->in, name, cm_schema_dtype(s, c), role, &o, err);
        if (!st)
            st = cm_kv_copy(cm_schema_col_meta(fc->in, o), cm_schema_col_meta_c(s, c), err);
    }
    for (size_t i = 0; !st && i < cm_recipe_nsteps(s); i++) {
        size_t k;
        if (!strcmp(cm_recipe_op(s, i), "features"))
            continue;
        st = cm_recipe_add(fc->in, cm_recipe_op(s, i), &k, err);
        if (!st)
            st = cm_kv_copy(cm_recipe_params(fc->in, k), cm_recipe_params_c(s, i), err);
    }
    fc->time_col = -1;
    for (size_t c = 0; !st && c < cm_schema_ncols(fc->in); c++)
        if (cm_schema_role(fc->in, c) == CM_ROLE_TIME && cm_schema_dtype(fc->in, c) == CM_TIME)
            fc->time_col = (long)c;
    if (!st && fc->time_col < 0)
        st = cm_fail(err, CM_ERR_DATA, "the history has no time column: nothing to step "
                     "from");
    fc->target_col = st ? -1 : cm_schema_find(fc->in, cm_model_target(fc->m));
    /* rows are derived one at a time into the forecaster's own batches
     * (cm_lookback_derive): the builder's batch of rows goes unused */
    cm_features_opts fo = {1, 1, fc->tz, NULL, 1};
    if (!st && plan && !(fc->feat = cm_features_start(fc->in, plan, &fo, err)))
        st = err->status;
    return st;
}

/* ---- sources ---------------------------------------------------------------------- */

void fc_source_free(fc_source *src)
{
    for (size_t c = 0; src->code && c < src->n; c++)
        free(src->code[c]);
    free(src->code);
    free(src->ncode);
    free(src->col);
    memset(src, 0, sizeof *src);
}

cm_status fc_source_bind(cm_forecaster *fc, fc_source *src, const cm_schema *s, cm_error *err)
{
    size_t n = cm_schema_ncols(fc->in);
    fc_source_free(src);
    src->s = s;
    if (!(src->col = calloc(n + 1, sizeof *src->col)) ||
        !(src->code = calloc(n + 1, sizeof *src->code)) ||
        !(src->ncode = calloc(n + 1, sizeof *src->ncode)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    src->n = n;
    for (size_t c = 0; c < n; c++) {
        src->col[c] = cm_schema_find(s, cm_schema_name(fc->in, c));
        if (src->col[c] >= 0 &&
            cm_schema_dtype(s, (size_t)src->col[c]) != cm_schema_dtype(fc->in, c))
            return cm_fail(err, CM_ERR_DATA, "column '%s' is %s here but %s in the history",
                           cm_schema_name(fc->in, c),
                           cm_dtype_name(cm_schema_dtype(s, (size_t)src->col[c])),
                           cm_dtype_name(cm_schema_dtype(fc->in, c)));
    }
    return CM_OK;
}

/* Our code for the source's code of column c, interned on first use. */
static cm_status translate(cm_forecaster *fc, fc_source *src, size_t c, uint32_t code,
                           uint32_t *out, cm_error *err)
{
    if (code >= src->ncode[c]) {
        size_t n = cm_cap_for(src->ncode[c], code, 16);
        if (cm_resize(&src->code[c], src->ncode[c], n, sizeof **src->code, err))
            return CM_ERR_NOMEM;
        for (size_t k = src->ncode[c]; k < n; k++)
            src->code[c][k] = UINT32_MAX;
        src->ncode[c] = n;
    }
    if (src->code[c][code] == UINT32_MAX) {
        size_t len;
        const char *str = cm_dict_string(cm_schema_dict_c(src->s, (size_t)src->col[c]), code,
                                         &len);
        if (!str)
            return cm_fail(err, CM_ERR_CORRUPT, "a category code past the dictionary");
        cm_status st = cm_dict_intern(cm_schema_dict(fc->in, c), str, len, &src->code[c][code],
                                      err);
        if (st)
            return st;
    }
    *out = src->code[c][code];
    return CM_OK;
}

cm_status fc_import(cm_forecaster *fc, fc_source *src, const cm_batch *b, size_t i,
                    cm_batch *to, size_t j, cm_error *err)
{
    for (size_t c = 0; c < cm_schema_ncols(fc->in); c++) {
        long sc = src->col[c];
        int ok = sc >= 0 && cm_batch_valid_c(b, (size_t)sc)[i];
        cm_batch_valid(to, c)[j] = (uint8_t)ok;
        if (!ok)
            continue;
        cm_dtype t = cm_schema_dtype(fc->in, c);
        if (t == CM_CAT) {
            uint32_t code = ((const uint32_t *)cm_batch_values_c(b, (size_t)sc))[i];
            if (translate(fc, src, c, code, &((uint32_t *)cm_batch_values(to, c))[j], err))
                return err->status;
            continue;
        }
        size_t w = cm_dtype_width(t);
        memcpy((uint8_t *)cm_batch_values(to, c) + j * w,
               (const uint8_t *)cm_batch_values_c(b, (size_t)sc) + i * w, w);
    }
    return CM_OK;
}

/* ---- the history ------------------------------------------------------------------- */

static cm_status series_room(cm_forecaster *fc, size_t k, cm_error *err)
{
    if (k < fc->nser)
        return CM_OK;
    size_t n = cm_cap_for(fc->nser, k, 8);
    if (cm_resize(&fc->ser, fc->nser, n, sizeof *fc->ser, err))
        return CM_ERR_NOMEM;
    fc->nser = n;
    return CM_OK;
}

static size_t series_of(const cm_forecaster *fc, const cm_batch *b, size_t i)
{
    return fc->feat ? cm_features_series(fc->feat, b, i) : 0;
}

/* " in series 'X'" for row i of b (the forecaster's buffer), or "". */
static const char *row_label(cm_forecaster *fc, const cm_batch *b, size_t i)
{
    const char *by = fc->feat ? cm_features_plan_by(cm_predictor_features_plan(fc->p)) : NULL;
    long c = by ? cm_schema_find(fc->in, by) : -1;
    if (c < 0 || !cm_batch_valid_c(b, (size_t)c)[i])
        return "";
    size_t len;
    const char *str = cm_dict_string(cm_schema_dict_c(fc->in, (size_t)c),
                                     ((const uint32_t *)cm_batch_values_c(b, (size_t)c))[i],
                                     &len);
    /* the forecaster's own buffer: one label at a time */
    char *buf = fc->label;
    snprintf(buf, sizeof fc->label, " in series '%.*s'", (int)(len > 64 ? 64 : len), str);
    return buf;
}

const char *fc_series_label(cm_forecaster *fc, size_t k)
{
    const fc_series *s = &fc->ser[k];
    return s->n ? row_label(fc, fc->rows.b, s->idx[0]) : "";
}

/* Row j of the history joins its series, which must be in time order:
 * repeated or unsorted times that the recipe does not resolve are an
 * error (a forecast steps from one time to the next). */
cm_status fc_join(cm_forecaster *fc, size_t j, cm_error *err)
{
    size_t k = series_of(fc, fc->rows.b, j);
    if (series_room(fc, k, err))
        return CM_ERR_NOMEM;
    fc_series *s = &fc->ser[k];
    int64_t t = fc_time(fc, fc->rows.b, j);
    if (s->n && fc_time(fc, fc->rows.b, s->idx[s->n - 1]) >= t) {
        char a[40];
        int64_t before = fc_time(fc, fc->rows.b, s->idx[s->n - 1]);
        const char *lab = fc_series_label(fc, k);
        cm_fmt_time(a, sizeof a, t);
        if (before == t)
            return cm_fail(err, CM_ERR_DATA, "the history repeats the time %s%s: the model's "
                           "recipe keeps both (remove them with cm-clean --dedupe first|last)",
                           a, lab);
        return cm_fail(err, CM_ERR_DATA, "the history is not in time order at %s%s: the "
                       "model's recipe does not sort it (sort it with cm-clean --sort)", a, lab);
    }
    if (!s->n) {
        if (cm_resize(&fc->seen, fc->nseen, fc->nseen + 1, sizeof *fc->seen, err))
            return CM_ERR_NOMEM;
        fc->seen[fc->nseen++] = k;
    }
    if (s->n == s->cap) {
        size_t cap = cm_cap_for(s->cap, s->n, 64);
        if (cm_resize(&s->idx, s->cap, cap, sizeof *s->idx, err))
            return CM_ERR_NOMEM;
        s->cap = cap;
    }
    s->idx[s->n++] = j;
    return CM_OK;
}

/* The first of series k's rows that a forecast from its last row needs:
 * the row its look-back reaches back to (by time: the features step's
 * earliest, and the steps of its look-back by rows), and the row before,
 * for a gap filled across that time. */
static size_t needed_from(const cm_forecaster *fc, size_t k)
{
    const fc_series *s = &fc->ser[k];
    int64_t t1 = cm_step_add(fc->tz, fc_time(fc, fc->rows.b, s->idx[s->n - 1]), fc->step, 1);
    int64_t span = -1, from = t1;
    uint64_t rows = 0;
    const char *what;
    if (fc->feat) {
        cm_features_reach(fc->feat, &span, &rows, &what);
        from = cm_features_earliest(fc->feat, t1);
        int64_t by_rows = cm_step_add(fc->tz, t1, fc->step, -(int64_t)rows);
        from = by_rows < from ? by_rows : from;
    }
    size_t p = 0;
    while (p < s->n && fc_time(fc, fc->rows.b, s->idx[p]) < from)
        p++;
    if (p > 0)
        p--;
    return s->n - p > rows ? p : s->n > rows ? s->n - rows - 1 : 0;
}

/* A forecast from the end of the history needs no row older than its
 * look-back: those are dropped as the history is read, so that memory is
 * bounded by the look-back times the series, not by the rows.  Kept rows
 * move down in order; each series' indices follow them. */
#define FC_TRIM_MIN 16384
void fc_trim(cm_forecaster *fc, int last)
{
    if (fc->o.has_origin || fc->o.backtest || fc->rows.n == 0 ||
        (!last && (fc->rows.n < fc->trim_at || fc->rows.n < FC_TRIM_MIN)))
        return;
    size_t *map = malloc(fc->rows.n * sizeof *map), n = 0;
    if (!map) /* held whole: the same forecasts, in more memory */
        return;
    for (size_t j = 0; j < fc->rows.n; j++)
        map[j] = SIZE_MAX;
    for (size_t i = 0; i < fc->nseen; i++) {
        fc_series *s = &fc->ser[fc->seen[i]];
        for (size_t q = needed_from(fc, fc->seen[i]); q < s->n; q++)
            map[s->idx[q]] = 0;
    }
    for (size_t j = 0; j < fc->rows.n; j++)
        if (map[j] == 0) {
            if (n != j)
                cm_batch_copy_row(fc->in, fc->rows.b, n, fc->rows.b, j);
            map[j] = n++;
        }
    for (size_t i = 0; i < fc->nseen; i++) {
        fc_series *s = &fc->ser[fc->seen[i]];
        size_t m = 0;
        for (size_t q = 0; q < s->n; q++)
            if (map[s->idx[q]] != SIZE_MAX)
                s->idx[m++] = map[s->idx[q]];
        s->n = m;
    }
    free(map);
    fc->rows.n = n;
    fc->trim_at = 2 * n > FC_TRIM_MIN ? 2 * n : FC_TRIM_MIN;
}

/* A batch of history rows (a cm_batch_fn of the cleaner and the reader). */
cm_status fc_history_batch(void *ctx, cm_batch *b, cm_error *err)
{
    cm_forecaster *fc = ctx;
    const cm_schema *s = fc->src.s;
    for (size_t i = 0; i < cm_batch_nrows(b); i++) {
        long tc = fc->src.col[fc->time_col];
        if (tc < 0 || !cm_batch_valid_c(b, (size_t)tc)[i])
            continue; /* no time, no place in a series */
        if (fc_rows_add(fc->in, &fc->rows, err) ||
            fc_import(fc, &fc->src, b, i, fc->rows.b, fc->rows.n, err))
            return err->status;
        if (fc_join(fc, fc->rows.n++, err))
            return err->status;
    }
    (void)s;
    fc_trim(fc, 0);
    return CM_OK;
}

cm_status fc_read_stream(cm_forecaster *fc, FILE *in, const char *name, cm_error *err)
{
    (void)name;
    cm_reader *r = cm_reader_new(in, err);
    cm_status st = r ? CM_OK : err->status;
    if (!st && !fc->in)
        st = fc_adopt(fc, cm_reader_schema(r), err);
    if (!st)
        st = fc_source_bind(fc, &fc->src, cm_reader_schema(r), err);
    cm_batch *b;
    int got = 0;
    while (!st && (got = cm_reader_next(r, &b, err)) == 1)
        st = fc_history_batch(fc, b, err);
    if (!st && got < 0)
        st = err->status;
    fc->src.s = NULL; /* the reader's schema goes with it */
    cm_reader_free(r);
    return st;
}

/* ---- the future ------------------------------------------------------------------- */

cm_status fc_index_future(cm_forecaster *fc, cm_error *err)
{
    cm_rowkey *key = malloc((fc->fut.n + 1) * sizeof *key);
    if (!key || cm_resize(&fc->fidx, 0, fc->fut.n + 1, sizeof *fc->fidx, err)) {
        free(key);
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < fc->fut.n; i++)
        key[i] = (cm_rowkey){series_of(fc, fc->fut.b, i), fc_time(fc, fc->fut.b, i), i};
    qsort(key, fc->fut.n, sizeof *key, cm_rowkey_cmp);
    for (size_t i = 0; i < fc->fut.n; i++)
        fc->fidx[i] = key[i].row;
    free(key);
    fc->nfidx = fc->fut.n;
    for (size_t a = 0; a < fc->fut.n;) {
        size_t k = series_of(fc, fc->fut.b, fc->fidx[a]), z = a;
        while (z < fc->fut.n && series_of(fc, fc->fut.b, fc->fidx[z]) == k)
            z++;
        if (k >= fc->nser || !fc->ser[k].n) {
            char t[40];
            cm_fmt_time(t, sizeof t, fc_time(fc, fc->fut.b, fc->fidx[a]));
            return cm_fail_as(err, CM_ERR_DATA, CM_DETAIL_FUTURE,
                              "rows%s from %s, a series the history lacks",
                              row_label(fc, fc->fut.b, fc->fidx[a]), t);
        }
        for (size_t i = a + 1; i < z; i++)
            if (fc_time(fc, fc->fut.b, fc->fidx[i]) == fc_time(fc, fc->fut.b, fc->fidx[i - 1])) {
                char t[40];
                cm_fmt_time(t, sizeof t, fc_time(fc, fc->fut.b, fc->fidx[i]));
                return cm_fail_as(err, CM_ERR_DATA, CM_DETAIL_FUTURE, "the time %s repeats%s",
                                  t, row_label(fc, fc->fut.b, fc->fidx[i]));
            }
        fc->ser[k].fut0 = a;
        fc->ser[k].nfut = z - a;
        a = z;
    }
    fc->have_future = 1;
    return CM_OK;
}

size_t fc_find(const cm_forecaster *fc, size_t k, int64_t t, int fut)
{
    const fc_series *s = &fc->ser[k];
    const size_t *idx = fut ? fc->fidx + s->fut0 : s->idx;
    const cm_batch *b = fut ? fc->fut.b : fc->rows.b;
    const int64_t *tv = cm_batch_values_c(b, (size_t)fc->time_col);
    size_t lo = 0, hi = fut ? s->nfut : s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tv[idx[mid]] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < (fut ? s->nfut : s->n) && tv[idx[lo]] == t ? idx[lo] : SIZE_MAX;
}
