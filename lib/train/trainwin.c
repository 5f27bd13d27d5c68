/* trainwin.c - the windows of a sequence model.  The stream's rows are
 * held, the step of their series told from them, and then the features
 * step's own sequence (cm-features --sequence) derives every row's
 * window, over every row of the stream as history.  The model's recipe
 * gets that sequence in its features step, so that a model derives the
 * windows of rows to forecast by the same code, from the history in
 * its input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/trainer.h"

void cm_train_win_free(cm_train_win *w)
{
    cm_batch_free(w->rows);
    cm_features_free(w->feat);
    free(w->spec);
    *w = (cm_train_win){0};
}

/* The rows of b (of schema s) onto the end of *all, which grows by
 * doubling. */
static cm_status append(const cm_schema *s, cm_batch **all, const cm_batch *b, cm_error *err)
{
    size_t k = cm_batch_nrows(b), n = *all ? cm_batch_nrows(*all) : 0;
    if (!*all || n + k > cm_batch_capacity(*all)) {
        size_t cap = cm_cap_for(*all ? cm_batch_capacity(*all) : 0, n + k, 4096);
        cm_batch *bigger = cm_batch_new(s, cap);
        if (!bigger)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory: %zu rows", cap);
        for (size_t i = 0; i < n; i++)
            cm_batch_copy_row(s, bigger, i, *all, i);
        cm_batch_free(*all);
        *all = bigger;
    }
    cm_batch_set_nrows(*all, n + k);
    for (size_t i = 0; i < k; i++)
        cm_batch_copy_row(s, *all, n + i, b, i);
    return CM_OK;
}

/* Every row of r into one batch of its schema. */
static cm_status hold(cm_reader *r, cm_batch **all, size_t *n, cm_error *err)
{
    cm_batch *b;
    int got;
    while ((got = cm_reader_next(r, &b, err)) > 0)
        if (append(cm_reader_schema(r), all, b, err))
            return err->status;
    *n = *all ? cm_batch_nrows(*all) : 0;
    return got < 0 ? err->status : CM_OK;
}

/* Whether column c of the rows is a flag: no more than two values (a
 * holiday, a working day, a year of two), which the row's own inputs
 * carry; a window of it adds nothing. */
static int is_flag(const cm_schema *s, const cm_batch *b, size_t c)
{
    const void *v = cm_batch_values_c(b, c);
    const uint8_t *ok = cm_batch_valid_c(b, c);
    double seen[2];
    size_t k = 0;
    for (size_t i = 0; i < cm_batch_nrows(b); i++) {
        if (!ok[i])
            continue;
        double x = cm_cell_f64(v, cm_schema_dtype(s, c), i);
        if ((k > 0 && x == seen[0]) || (k > 1 && x == seen[1]))
            continue;
        if (k == 2)
            return 0;
        seen[k++] = x;
    }
    return 1;
}

/* name onto the list in out, after a comma unless it is the first */
static void put_name(cm_buf *out, const char *name)
{
    if (out->len)
        cm_buf_u8(out, ',');
    cm_buf_put(out, name, strlen(name));
}

static int numeric(cm_dtype t)
{
    return t == CM_F32 || t == CM_F64 || t == CM_I64;
}

/* The sequence's columns, comma-separated, into *out: those given, each a
 * numeric column; or the target, then each numeric input that the
 * stream's features step did not derive and that is not a flag. */
static cm_status choose_columns(const cm_train_cfg *c, const cm_schema *s, const cm_batch *b,
                                cm_buf *out, cm_error *err)
{
    cm_list given = {0}, inputs = {0};
    cm_status st = c->sequence ? cm_list_split(&given, c->sequence, err) : CM_OK;
    if (!st && c->features)
        st = cm_list_split(&inputs, c->features, err);
    for (size_t i = 0; !st && i < given.n; i++) {
        long col = cm_schema_find(s, given.item[i]);
        if (cm_list_find(&given, given.item[i]) < (long)i)
            st = cm_fail(err, CM_ERR_ARG, "sequence: column '%s' twice", given.item[i]);
        else if (col < 0)
            st = cm_schema_no_column(s, "sequence", given.item[i], err);
        else if (!numeric(cm_schema_dtype(s, (size_t)col)))
            st = cm_fail(err, CM_ERR_ARG, "sequence: column '%s' is %s, not a number",
                         given.item[i], cm_schema_dtype(s, (size_t)col) == CM_CAT
                                            ? "a category" : "a time");
        else
            put_name(out, given.item[i]);
    }
    if (!st && !c->sequence) {
        cm_features_plan *plan = NULL;
        for (size_t i = 0; !st && i < cm_recipe_nsteps(s); i++)
            if (!strcmp(cm_recipe_op(s, i), "features")) {
                cm_features_plan_free(plan);
                if (!(plan = cm_features_plan_new(cm_recipe_params_c(s, i), err)))
                    st = err->status;
            }
        long target = -1;
        for (size_t i = 0; i < cm_schema_ncols(s); i++)
            if (c->target ? !strcmp(cm_schema_name(s, i), c->target)
                          : cm_schema_role(s, i) == CM_ROLE_TARGET)
                target = (long)i;
        /* no target: cm_train_choose says so */
        if (!st && target >= 0)
            put_name(out, cm_schema_name(s, (size_t)target));
        for (size_t i = 0; !st && target >= 0 && i < cm_schema_ncols(s); i++) {
            const char *name = cm_schema_name(s, i);
            int use = c->features ? cm_list_find(&inputs, name) >= 0
                                  : cm_schema_role(s, i) == CM_ROLE_FEATURE;
            if (use && (long)i != target && numeric(cm_schema_dtype(s, i)) &&
                !(plan && cm_features_plan_derives(plan, name)) && !is_flag(s, b, i))
                put_name(out, name);
        }
        cm_features_plan_free(plan);
    }
    cm_list_free(&given);
    cm_list_free(&inputs);
    cm_buf_u8(out, 0);
    if (!st && out->oom)
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    return st;
}

/* Rows the builder hands on, onto the end of w->rows. */
static cm_status keep_rows(void *ctx, cm_batch *b, cm_error *err)
{
    cm_train_win *w = ctx;
    return append(cm_features_schema(w->feat), &w->rows, b, err);
}

/* The step as a span the features step reads: seconds, or months of the
 * calendar (a year is 12 of them, whose days differ). */
static void step_span(cm_step step, char *buf, size_t n)
{
    if (step.unit == CM_STEP_MONTH)
        snprintf(buf, n, "%lldmo", (long long)step.n);
    else
        snprintf(buf, n, "%llds",
                 (long long)(step.unit == CM_STEP_DAY ? step.n * 86400 : step.n));
}

cm_status cm_train_win_build(cm_train_win *w, cm_rowreader *s, cm_train_cfg *c, cm_error *err)
{
    const cm_schema *in = cm_reader_schema(s->r);
    cm_batch *all = NULL;
    size_t n = 0;
    char why[160], span[40], text[32];
    cm_buf cols = {0};
    cm_kv *set = NULL;
    if (s->time_col < 0)
        return cm_fail(err, CM_ERR_ARG, "window: a sequence model needs a time column "
                       "(cm-clean --time)");
    cm_status st = hold(s->r, &all, &n, err);
    if (!st && n == 0)
        st = cm_fail(err, CM_ERR_DATA, "no rows to learn from");
    /* the step, from every row, as the first pass would tell it */
    s->in = all ? cm_batch_ccols(all) : (cm_ccols){0};
    for (size_t i = 0; !st && i < n; i++)
        st = cm_rowreader_watch(s, i, err);
    cm_step step;
    if (!st && cm_steps_decide(&s->steps, &step, why, sizeof why))
        st = cm_fail(err, CM_ERR_DATA, "window: the rows have no regular step (%s)", why);
    int64_t W = 0;
    if (!st)
        st = cm_steps_of("window", c->window, step, CM_SEQ_MAX_WINDOW, &W, err);
    /* the step's tally starts again for the first pass, which counts it */
    s->steps = (cm_steps){0};
    step_span(step, span, sizeof span);
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; !st && i < n; i++)
        if (s->in.valid[s->time_col][i]) {
            int64_t t = ((const int64_t *)s->in.values[s->time_col])[i];
            lo = t < lo ? t : lo, hi = t > hi ? t : hi;
        }
    cm_step_format(text, sizeof text, step);
    if (!st && cm_step_add(s->tz, lo, step, W) > hi) {
        char a[40], b[40];
        cm_fmt_time_tz(a, sizeof a, lo, s->tz);
        cm_fmt_time_tz(b, sizeof b, hi, s->tz);
        st = cm_fail(err, CM_ERR_DATA, "window: %lld steps of %s reach further back than "
                     "the data goes (%s to %s)", (long long)W, text, a, b);
    }
    if (!st)
        st = choose_columns(c, in, all, &cols, err);
    /* COL,COL,...:W:SPAN, as cm-features --sequence takes it */
    char *spec = NULL;
    size_t speclen = cols.len + 64;
    if (!st && (!(set = cm_kv_new()) || !(spec = malloc(speclen))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st)
        snprintf(spec, speclen, "%s:%lld:%s", (const char *)cols.data, (long long)W, span);
    if (!st) st = cm_kv_set(set, "sequence", spec, err);
    if (!st) st = cm_kv_set(set, "time-features", "none", err);
    if (!st) st = cm_kv_set(set, "keep-incomplete", "yes", err);
    if (!st && s->series_col >= 0)
        st = cm_kv_set(set, "by", cm_schema_name(in, (size_t)s->series_col), err);
    if (!st && !(w->feat = cm_features_new(in, set, err)))
        st = err->status;
    if (!st && all)
        st = cm_features_push(w->feat, all, keep_rows, w, err);
    if (!st)
        st = cm_features_finish(w->feat, keep_rows, w, err);
    if (!st) {
        const cm_schema *out = cm_features_schema(w->feat);
        char first[CM_MAX_NAME + 40];
        w->channels = 1;
        for (const char *p = spec; *p && *p != ':'; p++)
            w->channels += *p == ',';
        size_t clen = strcspn(spec, ",:");
        snprintf(first, sizeof first, "seq_%.*s_%lld", (int)clen, spec, (long long)W);
        long at = cm_schema_find(out, first);
        if (at < 0) /* the builder made it: never */
            st = cm_fail(err, CM_ERR_DATA, "window: no column %s", first);
        w->first = (size_t)at;
        w->window = (size_t)W;
        w->step = step;
        w->spec = spec;
        spec = NULL;
    }
    free(spec);
    cm_kv_free(set);
    cm_buf_free(&cols);
    cm_batch_free(all);
    return st;
}

cm_schema *cm_train_win_schema(const cm_train_win *w, cm_error *err)
{
    cm_schema *s = cm_schema_clone(cm_features_schema(w->feat));
    if (!s) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    /* the windows' own step merged into the stream's features step, or
     * standing alone where the stream had none: one features step, which
     * a model replays as one */
    cm_recipe_drop_last(s);
    long feat = -1;
    for (size_t i = 0; i < cm_recipe_nsteps(s); i++)
        if (!strcmp(cm_recipe_op(s, i), "features"))
            feat = (long)i;
    size_t at = (size_t)feat;
    const char *by = cm_kv_get(cm_recipe_params_c(cm_features_schema(w->feat),
                                                  cm_recipe_nsteps(s)), "by");
    cm_status st = feat < 0 ? cm_recipe_add(s, "features", &at, err) : CM_OK;
    cm_kv *p = st ? NULL : cm_recipe_params(s, at);
    if (!st && feat < 0)
        st = cm_kv_set(p, "time-features", "none", err);
    /* the series the windows kept apart must be the features step's, or
     * its lags and the windows would disagree on what a series is */
    if (!st && by && feat < 0)
        st = cm_kv_set(p, "by", by, err);
    else if (!st && by && !cm_kv_get(p, "by"))
        st = cm_fail(err, CM_ERR_ARG, "window: the series are told apart by '%s', which the "
                     "stream's features step does not do (cm-features --by %s)", by, by);
    if (!st)
        st = cm_kv_set(p, "sequence", w->spec, err);
    if (st) {
        cm_schema_free(s);
        return NULL;
    }
    return s;
}
