/* fcout.c - what becomes of forecasts: rows of text (the time, the id
 * columns, the step, the forecast; a backtest's origin and actual value
 * too), and a backtest's scores by step ahead. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forecast/forecast.h"

/* ---- rows of text ------------------------------------------------------------------- */

struct cm_fc_writer {
    FILE *out;
    cm_text_format f;
    const cm_tz *tz;
    char *pred_name, *target;
    cm_list ids;
    long *id_col, time_col;
    int origins, started;
};

void cm_fc_writer_free(cm_fc_writer *w)
{
    if (!w)
        return;
    cm_list_free(&w->ids);
    free(w->id_col);
    free(w->pred_name);
    free(w->target);
    free(w);
}

cm_fc_writer *cm_fc_writer_new(FILE *out, const cm_model *m, const cm_tz *tz,
                               cm_text_format f, const char *ids, int origins, cm_error *err)
{
    cm_fc_writer *w = calloc(1, sizeof *w);
    const char *t = cm_model_target(m);
    int ok = w && (w->target = cm_strdup(t)) && (w->pred_name = malloc(strlen(t) + 6)) &&
             (!ids || !*ids || !cm_list_split(&w->ids, ids, NULL)) &&
             (w->id_col = calloc(w->ids.n + 1, sizeof *w->id_col));
    if (!ok) {
        cm_fc_writer_free(w);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    sprintf(w->pred_name, "%s_pred", t);
    w->out = out;
    w->f = f;
    w->tz = tz;
    w->origins = origins;
    w->time_col = -1;
    return w;
}

static void header(cm_fc_writer *w, const char *time)
{
    w->started = 1;
    if (w->f == CM_TEXT_JSON)
        return;
    int first = 1;
    if (w->origins)
        cm_text_name(w->out, w->f, "origin", first), first = 0;
    cm_text_name(w->out, w->f, time, first);
    for (size_t i = 0; i < w->ids.n; i++)
        cm_text_name(w->out, w->f, w->ids.item[i], 0);
    cm_text_name(w->out, w->f, "step", 0);
    cm_text_name(w->out, w->f, w->pred_name, 0);
    if (w->origins)
        cm_text_name(w->out, w->f, w->target, 0);
    putc('\n', w->out);
}

static cm_status start(cm_fc_writer *w, const cm_fc_batch *b, cm_error *err)
{
    for (size_t c = 0; c < cm_schema_ncols(b->schema); c++)
        if (cm_schema_role(b->schema, c) == CM_ROLE_TIME &&
            cm_schema_dtype(b->schema, c) == CM_TIME)
            w->time_col = (long)c;
    for (size_t i = 0; i < w->ids.n; i++)
        if ((w->id_col[i] = cm_schema_find(b->schema, w->ids.item[i])) < 0)
            return cm_schema_no_column(b->schema, "--id", w->ids.item[i], err);
    header(w, w->time_col >= 0 ? cm_schema_name(b->schema, (size_t)w->time_col) : "time");
    return CM_OK;
}

static void time_cell(cm_fc_writer *w, int64_t t)
{
    char buf[48];
    size_t n = cm_fmt_time_tz(buf, sizeof buf, t, w->tz);
    cm_text_string(w->out, buf, n, w->f == CM_TEXT_JSON ? CM_TEXT_JSON : CM_TEXT_CSV);
}

cm_status cm_fc_write(void *ctx, const cm_fc_batch *b, cm_error *err)
{
    cm_fc_writer *w = ctx;
    if (!w->started && start(w, b, err))
        return err->status;
    const char *time = w->time_col >= 0 ? cm_schema_name(b->schema, (size_t)w->time_col)
                                        : "time";
    for (size_t i = 0; i < b->n; i++) {
        int first = 1;
        if (w->f == CM_TEXT_JSON)
            putc('{', w->out);
        if (w->origins) {
            cm_text_cell(w->out, w->f, "origin", first);
            time_cell(w, b->origin[i]);
            first = 0;
        }
        cm_text_cell(w->out, w->f, time, first);
        time_cell(w, ((const int64_t *)cm_batch_values_c(b->rows, (size_t)w->time_col))[i]);
        for (size_t k = 0; k < w->ids.n; k++) {
            size_t c = (size_t)w->id_col[k];
            cm_text_cell(w->out, w->f, w->ids.item[k], 0);
            if (cm_batch_valid_c(b->rows, c)[i])
                cm_text_value(w->out, b->schema, b->rows, c, i, w->f, w->tz);
            else if (w->f == CM_TEXT_JSON)
                fputs("null", w->out);
        }
        cm_text_cell(w->out, w->f, "step", 0);
        fprintf(w->out, "%lld", (long long)b->step[i]);
        cm_text_cell(w->out, w->f, w->pred_name, 0);
        cm_text_number(w->out, w->f, b->pred[i], b->ok[i]);
        if (w->origins) {
            cm_text_cell(w->out, w->f, w->target, 0);
            cm_text_number(w->out, w->f, b->actual[i], b->has_actual[i]);
        }
        fputs(w->f == CM_TEXT_JSON ? "}\n" : "\n", w->out);
    }
    return CM_OK;
}

void cm_fc_writer_finish(cm_fc_writer *w)
{
    if (!w->started)
        header(w, "time");
}

/* ---- scores ---------------------------------------------------------------------------- */

typedef struct sums {
    uint64_t n, nape;
    double ae, se, ape;
} sums;

struct cm_fc_score {
    int64_t horizon;
    sums *step; /* [0]: all steps; [k]: step k */
};

cm_fc_score *cm_fc_score_new(int64_t horizon)
{
    cm_fc_score *s = calloc(1, sizeof *s);
    if (s && !(s->step = calloc((size_t)horizon + 1, sizeof *s->step))) {
        free(s);
        return NULL;
    }
    if (s)
        s->horizon = horizon;
    return s;
}

void cm_fc_score_free(cm_fc_score *s)
{
    if (s)
        free(s->step);
    free(s);
}

static void add(sums *s, double e, double y)
{
    s->n++;
    s->ae += fabs(e);
    s->se += e * e;
    if (y != 0) {
        s->ape += fabs(e / y);
        s->nape++;
    }
}

cm_status cm_fc_score_add(void *ctx, const cm_fc_batch *b, cm_error *err)
{
    cm_fc_score *s = ctx;
    (void)err;
    for (size_t i = 0; i < b->n; i++) {
        if (!b->ok[i] || !b->has_actual[i] || b->step[i] < 1 || b->step[i] > s->horizon)
            continue;
        double e = b->pred[i] - b->actual[i];
        add(&s->step[b->step[i]], e, b->actual[i]);
        add(&s->step[0], e, b->actual[i]);
    }
    return CM_OK;
}

/* n, MAE, RMSE, MAPE of one line; NAN where undefined. */
static void metrics(const sums *s, double v[3])
{
    double n = (double)s->n;
    v[0] = s->n ? s->ae / n : NAN;
    v[1] = s->n ? sqrt(s->se / n) : NAN;
    v[2] = s->nape ? 100 * s->ape / (double)s->nape : NAN;
}

uint64_t cm_fc_score_get(const cm_fc_score *s, int64_t k, double v[3])
{
    const sums *x = &s->step[k >= 0 && k <= s->horizon ? k : 0];
    metrics(x, v);
    return x->n;
}

void cm_fc_score_write(const cm_fc_score *s, FILE *out, cm_text_format f, const char *future)
{
    static const char *const keys[] = {"mae", "rmse", "mape"};
    char buf[40];
    if (f == CM_TEXT_JSON) {
        cm_json j = {.out = out};
        cm_json_begin(&j, '{');
        cm_json_key(&j, "future");
        cm_json_str(&j, future);
        cm_json_key(&j, "steps");
        cm_json_begin(&j, '[');
        for (int64_t k = 0; k <= s->horizon; k++) {
            const sums *x = &s->step[k == s->horizon ? 0 : k + 1];
            double v[3];
            metrics(x, v);
            cm_json_begin(&j, '{');
            cm_json_key(&j, "step");
            if (k == s->horizon)
                cm_json_str(&j, "all");
            else
                cm_json_u64(&j, (uint64_t)k + 1);
            cm_json_key(&j, "n");
            cm_json_u64(&j, x->n);
            for (int m = 0; m < 3; m++) {
                cm_json_key(&j, keys[m]);
                cm_json_f64(&j, v[m]);
            }
            cm_json_end(&j, '}');
        }
        cm_json_end(&j, ']');
        cm_json_end(&j, '}');
        fputc('\n', out);
        return;
    }
    char d = f == CM_TEXT_TSV ? '\t' : ',';
    fprintf(out, "# future covariates: %s\n", future);
    fprintf(out, "step%cn%cmae%crmse%cmape\n", d, d, d, d);
    for (int64_t k = 1; k <= s->horizon + 1; k++) {
        const sums *x = &s->step[k > s->horizon ? 0 : k];
        double v[3];
        metrics(x, v);
        if (k > s->horizon)
            fprintf(out, "all");
        else
            fprintf(out, "%lld", (long long)k);
        fprintf(out, "%c%llu", d, (unsigned long long)x->n);
        for (int m = 0; m < 3; m++) {
            cm_fmt_f64(buf, sizeof buf, v[m]);
            fprintf(out, "%c%s", d, buf);
        }
        fputc('\n', out);
    }
}
