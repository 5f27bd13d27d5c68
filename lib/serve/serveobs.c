/* serveobs.c - the live history over HTTP, without the socket: rows
 * posted to /observations read by the model's clean step (the very
 * replay a forecast makes of them) and placed in their series; the
 * series held, listed and dropped.  serve.c routes here. */
#include <stdlib.h>
#include <string.h>

#include "serve/live.h"

/* Tallies of one POST. */
typedef struct tally {
    size_t accepted, late, duplicate, full;
    int peek_failed; /* a reader that failed is not pooled again */
    json_t *rejected;
} tally;

static void reject(tally *t, size_t i, const char *msg, const char *field)
{
    json_t *e = json_object();
    json_object_set_new(e, "index", json_integer((json_int_t)i));
    json_object_set_new(e, "error", json_string(msg));
    if (field && *field)
        json_object_set_new(e, "field", json_string(field));
    json_array_append_new(t->rejected, e);
}

/* Row i: its fields read, then peeked at by the forecaster (its time and
 * series) and placed; *mark the journal's mark when it changed it. */
static int observe_one(cm_live *l, cm_forecaster *fc, const cm_predictor *p, json_t *obj,
                       size_t i, tally *t, uint64_t *mark, cm_error *err)
{
    char msg[700] = "", field[CM_MAX_NAME + 1] = "", series[1024];
    if (!json_is_object(obj)) {
        reject(t, i, "not an object of fields", NULL);
        return 0;
    }
    cm_json_fields jf;
    if (cm_json_fields_init(&jf, json_object_size(obj))) {
        cm_json_fields_free(&jf);
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    int64_t tm;
    const char *const *vals = NULL;
    cm_error e;
    cm_error_clear(&e);
    if (cm_json_fields_read(obj, p, &jf, msg, sizeof msg, field, sizeof field) == 0 &&
        cm_forecast_peek(fc, jf.names, jf.values, jf.n, &tm, series, sizeof series, &vals,
                         &e)) {
        snprintf(msg, sizeof msg, "%s%s%s", e.column[0] ? e.column : "",
                 e.column[0] ? ": " : "", e.msg);
        snprintf(field, sizeof field, "%s", e.column);
        t->peek_failed = 1;
    }
    if (*msg) {
        cm_json_fields_free(&jf);
        reject(t, i, msg, field);
        return 0;
    }
    live_fate fate;
    uint64_t m = 0;
    cm_status st = cm_live_add(l, series, tm, vals, &fate, &m, err);
    cm_json_fields_free(&jf);
    if (st)
        return st;
    if (m > *mark)
        *mark = m;
    char when[48];
    cm_fmt_time_tz(when, sizeof when, tm, cm_predictor_tz(p));
    switch (fate) {
    case LIVE_LATE: t->late++; /* fall through */
    case LIVE_NEW: t->accepted++; break;
    case LIVE_REPLACED: t->accepted++; t->duplicate++; break;
    case LIVE_DROPPED: t->duplicate++; break;
    case LIVE_REPEAT:
        snprintf(msg, sizeof msg, "the time %s is held%s%.200s%s already, and the model's recipe "
                 "keeps both rows of a time (cm-clean --dedupe first|last would choose)", when,
                 *series ? " in series '" : "", series, *series ? "'" : "");
        reject(t, i, msg, NULL);
        break;
    case LIVE_TOO_OLD:
        snprintf(msg, sizeof msg, "%s is before the history kept%s%.200s%s (--keep)", when,
                 *series ? " of series '" : "", series, *series ? "'" : "");
        reject(t, i, msg, NULL);
        break;
    case LIVE_FULL:
        t->full++;
        snprintf(msg, sizeof msg, "series '%.200s' is new, and the server holds as many as "
                 "--max-series allows", series);
        reject(t, i, msg, NULL);
        break;
    }
    return 0;
}

void cm_serve_observe(cm_served *s, json_t *in, size_t max_batch, int *code, json_t **out)
{
    cm_live *l = cm_served_live(s);
    size_t n = json_is_array(in) ? json_array_size(in) : 1;
    *code = 400;
    if (!json_is_array(in) && !json_is_object(in)) {
        *out = cm_serve_error("the body is neither an object of fields nor an array of them",
                              NULL);
        return;
    }
    if (n > max_batch) {
        char msg[100];
        snprintf(msg, sizeof msg, "a batch of %zu rows: at most %zu", n, max_batch);
        *code = 413;
        *out = cm_serve_error(msg, NULL);
        return;
    }
    char why[700];
    if (cm_live_cannot(l, why, sizeof why)) {
        *out = cm_serve_error(why, NULL);
        return;
    }
    cm_error err;
    cm_error_clear(&err);
    cm_forecast_opts o = {.horizon = 1};
    cm_pooled *k = cm_served_take(s, &o, &err);
    cm_forecaster *fc = k ? cm_pooled_forecaster(k) : NULL;
    const cm_predictor *p = k ? cm_pooled_predictor(k) : NULL;
    tally t = {0, 0, 0, 0, 0, json_array()};
    uint64_t mark = 0;
    cm_status st = fc ? CM_OK : err.status;
    for (size_t i = 0; !st && i < n; i++)
        st = observe_one(l, fc, p, json_is_array(in) ? json_array_get(in, i) : in, i, &t,
                         &mark, &err);
    cm_live_rejected(l, json_array_size(t.rejected));
    /* what was taken before a failure is kept: say so, and make it durable */
    if (cm_live_commit(l, mark, st ? &(cm_error){0} : &err) && !st)
        st = err.status;
    cm_served_put(s, k, !t.peek_failed);
    if (st) {
        json_decref(t.rejected);
        *code = 500;
        *out = cm_serve_error(err.msg, NULL);
        return;
    }
    *code = t.full ? 429 : t.accepted + t.duplicate || !n ? 200 : 400;
    *out = json_object();
    json_object_set_new(*out, "accepted", json_integer((json_int_t)t.accepted));
    json_object_set_new(*out, "late", json_integer((json_int_t)t.late));
    json_object_set_new(*out, "duplicate", json_integer((json_int_t)t.duplicate));
    json_object_set_new(*out, "rejected", t.rejected);
    if (t.full)
        json_object_set_new(*out, "error", json_string("--max-series: no room for a new "
                                                       "series"));
}

/* ---- series --------------------------------------------------------------------------- */

void cm_serve_series(cm_served *s, int *code, json_t **out)
{
    cm_live *l = cm_served_live(s);
    cm_error err;
    cm_error_clear(&err);
    char **names = NULL;
    long n = cm_live_names(l, &names);
    const cm_predictor *p = cm_served_info(s);
    cm_status st = n < 0 ? CM_ERR_NOMEM : CM_OK;
    json_t *arr = json_array();
    for (long i = 0; !st && i < n; i++) {
        live_copy c;
        if (cm_live_copy(l, names[i], &c, &err) != 1)
            continue; /* dropped meanwhile */
        json_t *o = json_object();
        char t0[48], t1[48];
        cm_fmt_time_tz(t0, sizeof t0, c.t[0], cm_predictor_tz(p));
        cm_fmt_time_tz(t1, sizeof t1, c.t[c.n - 1], cm_predictor_tz(p));
        int64_t missing = cm_live_missing(l, &c);
        json_object_set_new(o, "series", *names[i] ? json_string(names[i]) : json_null());
        json_object_set_new(o, "rows", json_integer((json_int_t)c.n));
        json_object_set_new(o, "first", json_string(t0));
        json_object_set_new(o, "last", json_string(t1));
        json_object_set_new(o, "forecast", json_boolean(!missing));
        if (missing)
            json_object_set_new(o, "missing_steps", json_integer(missing));
        json_array_append_new(arr, o);
        live_copy_free(&c);
    }
    for (long i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (st) {
        json_decref(arr);
        *code = 500;
        *out = cm_serve_error("out of memory", NULL);
        return;
    }
    *code = 200;
    *out = json_object();
    json_object_set_new(*out, "series", arr);
}

void cm_serve_drop(cm_served *s, const char *series, int *code, json_t **out)
{
    cm_live *l = cm_served_live(s);
    cm_error err;
    cm_error_clear(&err);
    uint64_t mark = 0;
    int got = cm_live_drop(l, series, &mark, &err);
    if (got > 0 && cm_live_commit(l, mark, &err))
        got = -1;
    if (got < 0) {
        *code = 500;
        *out = cm_serve_error(err.msg, NULL);
    } else if (!got) {
        *code = 404;
        *out = cm_serve_error("no such series", "series");
    } else {
        *code = 200;
        *out = json_object();
        json_object_set_new(*out, "dropped", *series ? json_string(series) : json_null());
    }
}
