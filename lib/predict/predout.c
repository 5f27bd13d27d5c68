/* predout.c - what becomes of predictions: rows of text (the time, the
 * chosen id columns, the forecast, the actual value) or, for --eval,
 * the error metrics against the actual values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "predict/cm_predict.h"

struct cm_pred_writer {
    FILE *out;
    cm_text_format f;
    const cm_tz *tz;
    char *target, *pred_name, *time_name;
    cm_list ids;
    long time_col, target_col, *id_col;
    int started, has_actual;
};

void cm_pred_writer_free(cm_pred_writer *w)
{
    if (!w)
        return;
    cm_list_free(&w->ids);
    free(w->id_col);
    free(w->target);
    free(w->pred_name);
    free(w->time_name);
    free(w);
}

cm_pred_writer *cm_pred_writer_new(FILE *out, const cm_model *m, const cm_tz *tz,
                                   cm_text_format f, const char *ids, cm_error *err)
{
    cm_pred_writer *w = calloc(1, sizeof *w);
    const char *t = cm_model_target(m);
    const cm_schema *s = cm_model_schema(m);
    if (w) {
        w->out = out;
        w->f = f;
        w->tz = tz;
        w->target = cm_strdup(t);
        w->pred_name = malloc(strlen(t) + 6);
    }
    int ok = w && w->target && w->pred_name &&
             (!ids || !*ids || !cm_list_split(&w->ids, ids, NULL)) &&
             (w->id_col = calloc(w->ids.n + 1, sizeof *w->id_col));
    for (size_t c = 0; ok && c < cm_schema_ncols(s); c++)
        if (cm_schema_role(s, c) == CM_ROLE_TIME && cm_schema_dtype(s, c) == CM_TIME)
            ok = (w->time_name = cm_strdup(cm_schema_name(s, c))) != NULL;
    if (!ok) {
        cm_pred_writer_free(w);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    sprintf(w->pred_name, "%s_pred", t);
    return w;
}

static void header(cm_pred_writer *w)
{
    w->started = 1;
    if (w->f == CM_TEXT_JSON)
        return;
    int first = 1;
    if (w->time_col >= 0)
        cm_text_name(w->out, w->f, w->time_name, first), first = 0;
    for (size_t i = 0; i < w->ids.n; i++)
        cm_text_name(w->out, w->f, w->ids.item[i], first), first = 0;
    cm_text_name(w->out, w->f, w->pred_name, first);
    if (w->has_actual)
        cm_text_name(w->out, w->f, w->target, 0);
    putc('\n', w->out);
}

/* The columns are found in the first results' schema. */
static cm_status start(cm_pred_writer *w, const cm_pred_batch *p, cm_error *err)
{
    w->time_col = w->time_name ? cm_schema_find(p->schema, w->time_name) : -1;
    w->target_col = p->has_actual ? cm_schema_find(p->schema, w->target) : -1;
    w->has_actual = w->target_col >= 0;
    for (size_t i = 0; i < w->ids.n; i++)
        if ((w->id_col[i] = cm_schema_find(p->schema, w->ids.item[i])) < 0)
            return cm_schema_no_column(p->schema, "--id", w->ids.item[i], err);
    header(w);
    return CM_OK;
}

/* A value of the rows, or a missing one (empty; null in JSON). */
static void cell(cm_pred_writer *w, const cm_pred_batch *p, long c, size_t i,
                 const char *label, int first)
{
    cm_text_cell(w->out, w->f, label, first);
    size_t r = p->at[i];
    if (c >= 0 && r != SIZE_MAX && cm_batch_valid_c(p->b, (size_t)c)[r])
        cm_text_value(w->out, p->schema, p->b, (size_t)c, r, w->f, w->tz);
    else if (w->f == CM_TEXT_JSON)
        fputs("null", w->out);
}

cm_status cm_pred_write(void *ctx, const cm_pred_batch *p, cm_error *err)
{
    cm_pred_writer *w = ctx;
    if (!w->started && start(w, p, err))
        return err->status;
    for (size_t i = 0; i < p->n; i++) {
        int first = 1;
        if (w->f == CM_TEXT_JSON)
            putc('{', w->out);
        if (w->time_col >= 0)
            cell(w, p, w->time_col, i, w->time_name, first), first = 0;
        for (size_t k = 0; k < w->ids.n; k++)
            cell(w, p, w->id_col[k], i, w->ids.item[k], first), first = 0;
        cm_text_cell(w->out, w->f, w->pred_name, first);
        cm_text_number(w->out, w->f, p->pred[i], p->ok[i]);
        if (w->has_actual)
            cell(w, p, w->target_col, i, w->target, 0);
        fputs(w->f == CM_TEXT_JSON ? "}\n" : "\n", w->out);
    }
    return CM_OK;
}

void cm_pred_writer_finish(cm_pred_writer *w)
{
    if (!w->started) {
        w->time_col = w->time_name ? 0 : -1;
        header(w);
    }
}

/* ---- evaluation ------------------------------------------------------------- */

cm_status cm_eval_from(cm_eval *e, const char *time, const cm_tz *tz, cm_error *err)
{
    int64_t t;
    if (cm_time_instant(time, tz, &t))
        return cm_fail(err, CM_ERR_ARG, "from: '%.64s' is not an ISO 8601 time or date "
                       "such as 2011-12-01", time);
    e->has_from = 1;
    e->from = t;
    return CM_OK;
}

/* Sums for MAE, RMSE and MAPE; the deviation of the actual values about
 * their mean by Welford's update, so that R² needs one pass. */
cm_status cm_eval_add(void *ctx, const cm_pred_batch *p, cm_error *err)
{
    cm_eval *e = ctx;
    long c = p->has_actual ? cm_schema_find(p->schema, e->target) : -1;
    if (c < 0)
        return cm_fail(err, CM_ERR_DATA, "no column '%.64s' to evaluate against",
                       e->target);
    long tc = -1;
    for (size_t k = 0; e->has_from && k < cm_schema_ncols(p->schema); k++)
        if (cm_schema_role(p->schema, k) == CM_ROLE_TIME &&
            cm_schema_dtype(p->schema, k) == CM_TIME)
            tc = (long)k;
    if (e->has_from && tc < 0)
        return cm_fail(err, CM_ERR_DATA, "no time column to score the rows from a time on");
    const uint8_t *tok = tc >= 0 ? cm_batch_valid_c(p->b, (size_t)tc) : NULL;
    const int64_t *t = tc >= 0 ? cm_batch_values_c(p->b, (size_t)tc) : NULL;
    for (size_t i = 0; i < p->n; i++) {
        size_t r = p->at[i];
        /* before from: history for the lags of later rows, not scored */
        if (t && r != SIZE_MAX && tok[r] && t[r] < e->from) {
            e->before++;
            continue;
        }
        if (!p->ok[i] || r == SIZE_MAX || !cm_batch_valid_c(p->b, (size_t)c)[r] ||
            (t && !tok[r])) {
            e->skipped++;
            continue;
        }
        double y = cm_cell_f64(cm_batch_values_c(p->b, (size_t)c),
                               cm_schema_dtype(p->schema, (size_t)c), r), d = p->pred[i] - y;
        e->rows++;
        e->ae += fabs(d);
        e->se += d * d;
        if (y != 0) {
            e->ape += fabs(d / y);
            e->nape++;
        }
        double delta = y - e->mean;
        e->mean += delta / (double)e->rows;
        e->m2 += delta * (y - e->mean);
    }
    return CM_OK;
}

void cm_eval_metrics(const cm_eval *e, double *mae, double *rmse, double *mape, double *r2)
{
    double n = (double)e->rows;
    *mae = e->rows ? e->ae / n : NAN;
    *rmse = e->rows ? sqrt(e->se / n) : NAN;
    *mape = e->nape ? 100 * e->ape / (double)e->nape : NAN;
    *r2 = e->m2 > 0 ? 1 - e->se / e->m2 : NAN;
}

void cm_eval_write(FILE *out, const cm_eval *e, cm_text_format f)
{
    double v[4];
    cm_eval_metrics(e, &v[0], &v[1], &v[2], &v[3]);
    static const char *const keys[] = {"mae", "rmse", "mape", "r2"};
    if (f != CM_TEXT_JSON) {
        fprintf(out, "rows=%llu\n", (unsigned long long)e->rows);
        for (int i = 0; i < 4; i++) {
            char buf[40];
            cm_fmt_f64(buf, sizeof buf, v[i]);
            fprintf(out, "%s=%s\n", keys[i], buf);
        }
        return;
    }
    cm_json j = {.out = out};
    cm_json_begin(&j, '{');
    cm_json_key(&j, "rows");
    cm_json_u64(&j, e->rows);
    for (int i = 0; i < 4; i++) {
        cm_json_key(&j, keys[i]);
        cm_json_f64(&j, v[i]);
    }
    cm_json_end(&j, '}');
    fputc('\n', out);
}
