/* servepost.c - what a POST to a model answers, without the socket: the
 * body's JSON parsed, each object of raw fields through cm_predict_row
 * (/predict) or the request through the forecaster (/forecast, in
 * servefc.c), the answer's status and JSON.  serve.c sends it; the fuzz
 * target calls it directly.  Also the paths the server knows. */
#include <stdlib.h>
#include <string.h>

#include "serve/serve.h"

int cm_serve_path(const char *url, char *name)
{
    static const char prefix[] = "/v1/models/";
    size_t np = sizeof prefix - 1;
    name[0] = '\0';
    if (!strcmp(url, "/healthz"))
        return EP_HEALTH;
    if (!strcmp(url, "/metrics"))
        return EP_METRICS;
    if (!strcmp(url, "/v1/models"))
        return EP_MODELS;
    if (strncmp(url, prefix, np) || strlen(url + np) > CM_MAX_NAME)
        return EP_OTHER;
    const char *rest = url + np, *slash = strchr(rest, '/');
    size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
    if (!len)
        return EP_OTHER;
    snprintf(name, CM_MAX_NAME + 1, "%.*s", (int)len, rest);
    return !slash ? EP_MODEL : !strcmp(slash, "/predict") ? EP_PREDICT
         : !strcmp(slash, "/forecast") ? EP_FORECAST
         : !strcmp(slash, "/observations") ? EP_OBSERVE
         : !strcmp(slash, "/series") ? EP_SERIES : EP_OTHER;
}

json_t *cm_serve_error(const char *msg, const char *field)
{
    json_t *e = json_object();
    json_object_set_new(e, "error", json_string(msg));
    if (field && *field)
        json_object_set_new(e, "field", json_string(field));
    return e;
}

/* One object of raw fields to a forecast, or an error object naming the
 * field; 1 when forecast. */
static int predict_one(cm_served *s, json_t *obj, json_t **out)
{
    char err_msg[700] = "", field[CM_MAX_NAME + 1] = "";
    cm_json_fields jf;
    cm_error err;
    cm_error_clear(&err);
    cm_predictor *p = cm_served_predictor(s, &err);
    if (!p)
        snprintf(err_msg, sizeof err_msg, "%s", err.msg);
    if (cm_json_fields_init(&jf, json_object_size(obj)))
        snprintf(err_msg, sizeof err_msg, "out of memory");
    if (!err_msg[0])
        cm_json_fields_read(obj, p, &jf, err_msg, sizeof err_msg, field, sizeof field);
    const char **names = jf.names, **values = jf.values;
    size_t k = jf.n;
    cm_pred_one r = {0};
    if (!err_msg[0] && cm_predict_row(p, names, values, k, &r, &err)) {
        snprintf(err_msg, sizeof err_msg, "%s%s%s", err.column[0] ? err.column : "",
                 err.column[0] ? ": " : "", err.msg);
        /* a bad value or an unknown field names its column */
        if (err.column[0])
            snprintf(field, sizeof field, "%s", err.column);
    } else if (!err_msg[0] && r.why != CM_PRED_OK) {
        if (r.why == CM_PRED_NOT_FINITE)
            snprintf(err_msg, sizeof err_msg, "the forecast is not a finite number");
        else
            snprintf(err_msg, sizeof err_msg, "missing inputs: %s",
                     r.why == CM_PRED_NO_TIME ? "the time" : r.missing);
        /* the first input missing; for a row without its time, the first
         * field that makes the time */
        if (r.field)
            snprintf(field, sizeof field, "%s", r.field);
    }
    if (p)
        cm_served_give_back(s, p);
    cm_json_fields_free(&jf);
    if (!err_msg[0]) {
        *out = json_real(r.pred);
        return 1;
    }
    json_t *e = json_object();
    json_object_set_new(e, "error", json_string(err_msg));
    if (field[0])
        json_object_set_new(e, "field", json_string(field));
    *out = e;
    return 0;
}

/* /predict: an object of fields, or an array of them (one answer each,
 * in order, a bad one's error in its place). */
static void predict(cm_served *s, json_t *in, size_t max_batch, int *code, json_t **out)
{
    if (json_is_object(in)) {
        json_t *one;
        *code = predict_one(s, in, &one) ? 200 : 400;
        if (*code == 200) {
            *out = json_object();
            json_object_set_new(*out, "prediction", one);
        } else {
            *out = one;
        }
        return;
    }
    if (!json_is_array(in)) {
        *code = 400;
        *out = cm_serve_error("the body is neither an object of fields nor an array of them",
                              NULL);
        return;
    }
    size_t n = json_array_size(in);
    if (n > max_batch) {
        char msg[100];
        snprintf(msg, sizeof msg, "a batch of %zu rows: at most %zu", n, max_batch);
        *code = 413;
        *out = cm_serve_error(msg, NULL);
        return;
    }
    json_t *arr = json_array(), *one;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(in, i);
        if (json_is_object(item))
            predict_one(s, item, &one);
        else
            one = cm_serve_error("not an object of fields", NULL);
        json_array_append_new(arr, one);
    }
    *code = 200;
    *out = json_object();
    json_object_set_new(*out, "predictions", arr);
}

void cm_serve_post(cm_served *s, int ep, const char *body, size_t len, size_t max_batch,
                   size_t max_horizon, int *code, json_t **out)
{
    json_error_t je;
    json_t *in = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!in) {
        char msg[300];
        snprintf(msg, sizeof msg, "bad JSON: %s (line %d, column %d)", je.text, je.line,
                 je.column);
        *code = 400;
        *out = cm_serve_error(msg, NULL);
    } else if (ep == EP_FORECAST) {
        cm_serve_forecast(s, in, max_horizon, out, code);
    } else if (ep == EP_OBSERVE) {
        cm_serve_observe(s, in, max_batch, code, out);
    } else {
        predict(s, in, max_batch, code, out);
    }
    json_decref(in);
}
