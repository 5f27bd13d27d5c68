/* servefc.c - POST /v1/models/NAME/forecast: the history and the future
 * rows of a request, in the raw field form /predict takes, through the
 * forecaster cm-predict --horizon runs, so that the server and the
 * terminal give the same numbers to the last bit. */
#include <stdlib.h>
#include <string.h>

#include "serve/live.h"

/* The results, one object a forecast, into an array. */
typedef struct collect {
    json_t *arr;
    const cm_model *m;
    const cm_tz *tz;
    const char *by; /* the series' column, named in each object */
} collect;

static cm_status add(void *ctx, const cm_fc_batch *b, cm_error *err)
{
    collect *c = ctx;
    (void)err;
    long tc = -1, bc = c->by ? cm_schema_find(b->schema, c->by) : -1;
    for (size_t k = 0; k < cm_schema_ncols(b->schema); k++)
        if (cm_schema_role(b->schema, k) == CM_ROLE_TIME && cm_schema_dtype(b->schema, k) == CM_TIME)
            tc = (long)k;
    for (size_t i = 0; i < b->n; i++) {
        json_t *o = json_object();
        char t[48];
        cm_fmt_time_tz(t, sizeof t, ((const int64_t *)cm_batch_values_c(b->rows, (size_t)tc))[i],
                       c->tz);
        json_object_set_new(o, "time", json_string(t));
        if (bc >= 0 && cm_batch_valid_c(b->rows, (size_t)bc)[i]) {
            size_t len;
            const char *s = cm_dict_string(cm_schema_dict_c(b->schema, (size_t)bc),
                                           ((const uint32_t *)cm_batch_values_c(
                                               b->rows, (size_t)bc))[i], &len);
            json_object_set_new(o, c->by, json_stringn(s, len));
        }
        json_object_set_new(o, "step", json_integer(b->step[i]));
        json_object_set_new(o, "prediction", b->ok[i] ? json_real(b->pred[i]) : json_null());
        if (!b->ok[i] && b->why[i] != SIZE_MAX)
            json_object_set_new(o, "missing", json_string(cm_model_input(c->m, b->why[i])));
        json_array_append_new(c->arr, o);
    }
    return CM_OK;
}

/* The rows of one array of the body into the forecaster; 0, or -1 with
 * the message and the field to blame. */
static int rows(cm_forecaster *fc, const cm_predictor *p, json_t *arr, int history,
                char *msg, size_t msgn, char *field, size_t fieldn)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *obj = json_array_get(arr, i);
        cm_json_fields jf;
        cm_error err;
        cm_error_clear(&err);
        if (!json_is_object(obj)) {
            snprintf(msg, msgn, "%s[%zu]: not an object of fields", history ? "history" : "future", i);
            return -1;
        }
        int bad = cm_json_fields_init(&jf, json_object_size(obj))
                      ? (snprintf(msg, msgn, "out of memory"), -1)
                      : cm_json_fields_read(obj, p, &jf, msg, msgn, field, fieldn);
        if (!bad && cm_forecast_fields(fc, history, jf.names, jf.values, jf.n, &err)) {
            snprintf(msg, msgn, "%s[%zu]: %s%s%s", history ? "history" : "future", i,
                     err.column[0] ? err.column : "", err.column[0] ? ": " : "", err.msg);
            snprintf(field, fieldn, "%s", err.column);
            bad = -1;
        }
        cm_json_fields_free(&jf);
        if (bad)
            return -1;
    }
    return 0;
}

/* The rows of one held series into the forecaster; 0, or the status
 * (409: too short) with the message. */
static int held_series(cm_live *l, cm_forecaster *fc, const char *name, char *msg,
                       size_t msgn)
{
    live_copy c;
    cm_error err;
    cm_error_clear(&err);
    int got = cm_live_copy(l, name, &c, &err);
    if (got <= 0) {
        snprintf(msg, msgn, "%s", got ? err.msg : "no such series");
        return got ? 500 : 404;
    }
    int64_t missing = cm_live_missing(l, &c), need = cm_live_need(l);
    int code = 0;
    if (missing) {
        snprintf(msg, msgn, "%s%s%s: %lld steps of history missing (%lld needed)",
                 *name ? "series '" : "the history", name, *name ? "'" : "",
                 (long long)missing, (long long)need);
        code = 409;
    }
    const char *const *names = cm_live_fields(l);
    for (size_t i = 0; !code && i < c.n; i++)
        if (cm_forecast_fields(fc, 1, names, c.vals + i * c.nf, c.nf, &err)) {
            snprintf(msg, msgn, "%s", err.msg);
            code = err.status == CM_ERR_NOMEM ? 500 : 400;
        }
    live_copy_free(&c);
    return code;
}

/* The history held: of one series, or of every one with enough of it
 * (one dropped meanwhile left out). */
static int held(cm_served *s, cm_forecaster *fc, json_t *series, char *msg, size_t msgn)
{
    cm_live *l = cm_served_live(s);
    if (cm_live_cannot(l, msg, msgn))
        return 400;
    if (series)
        return held_series(l, fc, json_string_value(series), msg, msgn);
    char **names;
    long n = cm_live_names(l, &names);
    if (n < 0) {
        snprintf(msg, msgn, "out of memory");
        return 500;
    }
    int code = 0, some = 0;
    for (long i = 0; i < n; i++) {
        int c = code && code != 409 ? 0 : held_series(l, fc, names[i], msg, msgn);
        if (c == 404)
            continue;
        some |= !c;
        if (c && (!code || code == 409))
            code = c;
    }
    for (long i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (!n) {
        snprintf(msg, msgn, "no history held: post rows to /observations first");
        return 409;
    }
    return some && code == 409 ? 0 : code;
}

void cm_serve_forecast(cm_served *s, json_t *body, size_t max_horizon, json_t **out, int *code)
{
    char msg[700] = "", field[CM_MAX_NAME + 1] = "";
    json_t *hist = json_object_get(body, "history"), *fut = json_object_get(body, "future");
    json_t *h = json_object_get(body, "horizon"), *fill = json_object_get(body, "future_fill");
    json_t *series = json_object_get(body, "series");
    *code = 400;
    if (!json_is_object(body) || (hist && !json_is_array(hist))) {
        *out = cm_serve_error("the body is an object with \"history\": an array of rows (or "
                              "none, for the history held)", "history");
        return;
    }
    if (series && (hist || !json_is_string(series))) {
        *out = cm_serve_error(hist ? "series: only of the history held, without \"history\""
                                   : "series: a string", "series");
        return;
    }
    if (!json_is_integer(h) || json_integer_value(h) < 1) {
        *out = cm_serve_error("horizon: a whole number of steps, from 1", "horizon");
        return;
    }
    if ((size_t)json_integer_value(h) > max_horizon) {
        snprintf(msg, sizeof msg, "horizon: %lld steps; at most %zu",
                 (long long)json_integer_value(h), max_horizon);
        *code = 413;
        *out = cm_serve_error(msg, "horizon");
        return;
    }
    if ((fut && !json_is_array(fut)) || (fill && !(json_is_string(fill) &&
                                                  !strcmp(json_string_value(fill), "last")))) {
        *out = cm_serve_error(fut && !json_is_array(fut) ? "future: an array of rows"
                                                : "future_fill: \"last\" or nothing",
                     fut && !json_is_array(fut) ? "future" : "future_fill");
        return;
    }
    cm_error err;
    cm_error_clear(&err);
    cm_forecast_opts o = {.horizon = json_integer_value(h),
                          .future = fill ? CM_FUTURE_LAST : CM_FUTURE_ROWS};
    cm_pooled *k = cm_served_take(s, &o, &err);
    cm_forecaster *fc = k ? cm_pooled_forecaster(k) : NULL;
    const cm_predictor *p = k ? cm_pooled_predictor(k) : NULL;
    const cm_features_plan *plan = p ? cm_predictor_features_plan(p) : NULL;
    collect c = {json_array(), cm_served_model(s), p ? cm_predictor_tz(p) : NULL,
                 plan ? cm_features_plan_by(plan) : NULL};
    int bad = !fc;
    if (bad)
        snprintf(msg, sizeof msg, "%s", err.msg);
    if (!bad && !hist) {
        int hc = held(s, fc, series, msg, sizeof msg);
        if (hc) {
            bad = 1;
            *code = hc;
            if (hc == 404)
                snprintf(field, sizeof field, "series");
        }
    }
    if (!bad)
        bad = (hist && rows(fc, p, hist, 1, msg, sizeof msg, field, sizeof field)) ||
              (fut && rows(fc, p, fut, 0, msg, sizeof msg, field, sizeof field));
    if (!bad && cm_forecast_fields_run(fc, add, &c, &err)) {
        int fu = err.detail == CM_DETAIL_FUTURE; /* the future rows' fault */
        snprintf(msg, sizeof msg, "%s%s", fu ? "future: " : "", err.msg);
        if (fu && !*field)
            snprintf(field, sizeof field, "future");
        bad = 1;
    }
    cm_served_put(s, k, !bad);
    if (bad) {
        json_decref(c.arr);
        *out = cm_serve_error(msg, field);
        return;
    }
    *code = 200;
    *out = json_object();
    json_object_set_new(*out, "forecast", c.arr);
}
