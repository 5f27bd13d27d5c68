/* serve.c - models as an HTTP service (libmicrohttpd, JSON by jansson).
 * A request body of raw fields goes through cm_predict_fields, the very
 * replay cm-predict uses; this file only speaks HTTP and JSON, counts
 * for /metrics and keeps the limits that stop a client from holding the
 * server: body and batch size, header size, connections, time. */
#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "serve/live.h"

static const char *const ep_name[NEP] = {"predict", "forecast", "observations", "series",
                                         "models",  "model",    "healthz",      "metrics",
                                         "other"};
enum { NCODES = 12 };
static const int codes[NCODES] = {200, 400, 401, 403, 404, 405, 409, 413, 429, 500, 501, 503};
const double cm_serve_bucket[CM_SERVE_NBUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                   0.025, 0.05, 0.1, 0.25, 1};

struct cm_server {
    struct MHD_Daemon *d;
    cm_registry *reg;
    cm_serve_opts o;
    atomic_ullong count[NEP][NCODES];
    atomic_ullong hist[CM_SERVE_NBUCKETS + 1];
    atomic_ullong fc_hist[CM_SERVE_NBUCKETS + 1], fc_sum_us; /* forecasts alone */
    atomic_ullong lat_sum_us, active;
    cm_cutter *cut;
};

/* One request: its body as it arrives. */
typedef struct req {
    char *body;
    size_t len, cap;
    int too_big;
    struct timespec t0;
    int ep, code;
    int bad_token; /* a bearer token, not the server's */
    int close;     /* the connection ends with this answer */
} req;

/* The methods of each endpoint (HEAD with GET). */
static const char *const allowed[NEP] = {"POST", "GET, POST", "POST", "GET, DELETE", "GET",
                                         "GET",  "GET",       "GET",  "GET"};

static int method_allowed(int ep, const char *method)
{
    const char *m = !strcmp(method, "HEAD") ? "GET" : method;
    size_t n = strlen(m);
    if (!n)
        return 0;
    for (const char *a = allowed[ep]; (a = strstr(a, m)); a += n)
        if ((a == allowed[ep] || a[-1] == ' ') && (a[n] == ',' || !a[n]))
            return 1;
    return 0;
}

/* ---- responses ---------------------------------------------------------------- */

static enum MHD_Result send_text(struct MHD_Connection *c, req *q, int code,
                                 const char *type, char *text)
{
    q->code = code;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text,
                                                             MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    if (code == 405)
        MHD_add_response_header(r, "Allow", allowed[q->ep]);
    /* RFC 6750: no error code for a request without a token */
    if (code == 401)
        MHD_add_response_header(r, "WWW-Authenticate",
                                q->bad_token ? "Bearer error=\"invalid_token\"" : "Bearer");
    if (q->close)
        MHD_add_response_header(r, "Connection", "close");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)code, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_json(struct MHD_Connection *c, req *q, int code, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(j);
    if (!text)
        return send_text(c, q, 500, "application/json",
                         cm_strndup("{\"error\":\"out of memory\"}", 25));
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (line) {
        line[n] = '\n';
        line[n + 1] = '\0';
        text = line;
    }
    return send_text(c, q, code, "application/json", text);
}

static enum MHD_Result send_error(struct MHD_Connection *c, req *q, int code,
                                  const char *msg, const char *field)
{
    json_t *j = json_object();
    json_object_set_new(j, "error", json_string(msg));
    if (field)
        json_object_set_new(j, "field", json_string(field));
    return send_json(c, q, code, j);
}

/* ---- predictions and forecasts ------------------------------------------------ */

/* GET .../forecast?horizon=H[&series=ID][&future=last]: the body a POST
 * for the history held would have. */
static json_t *forecast_query(struct MHD_Connection *c, char *msg, size_t n,
                              const char **field)
{
    const char *h = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "horizon");
    const char *ser = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "series");
    const char *fut = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "future");
    char *end = NULL;
    long long hv = h ? strtoll(h, &end, 10) : 0;
    if (!h || !*h || *end || hv < 1) {
        snprintf(msg, n, "horizon=H: a whole number of steps, from 1");
        *field = "horizon";
        return NULL;
    }
    if (fut && strcmp(fut, "last")) {
        snprintf(msg, n, "future=last or nothing (future rows come in a POST's body)");
        *field = "future";
        return NULL;
    }
    json_t *j = json_object();
    json_object_set_new(j, "horizon", json_integer(hv));
    if (ser)
        json_object_set_new(j, "series", json_string(ser));
    if (fut)
        json_object_set_new(j, "future_fill", json_string("last"));
    return j;
}

static json_t *detail(const cm_served *s);

/* A request to model name: 404 without it, else the endpoint's answer. */
static enum MHD_Result on_model(cm_server *sv, struct MHD_Connection *c, req *q,
                                const char *name, const char *method)
{
    cm_served *s = cm_registry_get(sv->reg, name);
    if (!s)
        return send_error(c, q, 404, "no such model", NULL);
    json_t *out = NULL;
    int code = 200;
    char msg[200];
    if (q->ep == EP_MODEL) {
        out = detail(s);
    } else if (q->ep == EP_SERIES && !strcmp(method, "DELETE")) {
        const char *ser = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "series");
        cm_serve_drop(s, ser ? ser : "", &code, &out);
    } else if (q->ep == EP_SERIES) {
        cm_serve_series(s, &code, &out);
    } else if (q->ep == EP_FORECAST && strcmp(method, "POST")) {
        const char *field = NULL;
        json_t *body = forecast_query(c, msg, sizeof msg, &field);
        if (body)
            cm_serve_forecast(s, body, sv->o.max_horizon, &out, &code);
        else
            code = 400, out = cm_serve_error(msg, field);
        json_decref(body);
    } else {
        cm_serve_post(s, q->ep, q->body, q->len, sv->o.max_batch, sv->o.max_horizon, &code,
                      &out);
    }
    cm_served_release(s);
    return send_json(c, q, code, out);
}

/* ---- descriptions ---------------------------------------------------------------- */

static json_t *summary(const cm_served *s)
{
    const cm_model *m = cm_served_model(s);
    const cm_kv *meta = cm_model_meta(m);
    json_t *j = json_object();
    json_object_set_new(j, "name", json_string(cm_served_name(s)));
    json_object_set_new(j, "target", json_string(cm_model_target(m)));
    json_object_set_new(j, "version", json_integer((json_int_t)cm_served_version(s)));
    const char *created = cm_kv_get(meta, "created");
    json_object_set_new(j, "trained_at", created ? json_string(created) : json_null());
    return j;
}

static json_t *detail(const cm_served *s)
{
    const cm_model *m = cm_served_model(s);
    json_t *j = summary(s), *fields = json_array(), *derived = json_array(), *meta = json_object();
    cm_model_field f;
    const cm_predictor *p = cm_served_info(s);
    for (size_t i = 0; cm_predictor_field(p, i, &f); i++) {
        json_t *x = json_object();
        json_object_set_new(x, "name", json_string(f.name));
        json_object_set_new(x, "type", json_string(f.type));
        if (f.ncats) {
            json_t *cats = json_array();
            for (size_t k = 0; k < f.ncats; k++) {
                size_t len;
                const char *str = cm_model_field_category(&f, k, &len);
                json_array_append_new(cats, json_stringn(str, len));
            }
            json_object_set_new(x, "categories", cats);
        }
        long k = cm_model_input_index(m, f.name);
        double lo, hi;
        if (k >= 0 && cm_model_seen(m, (size_t)k, &lo, &hi))
            json_object_set_new(x, "seen", json_pack("[f, f]", lo, hi));
        json_array_append_new(fields, x);
    }
    for (size_t i = 0; i < cm_model_ninputs(m); i++)
        if (cm_predictor_derives(p, cm_model_input(m, i)))
            json_array_append_new(derived, json_string(cm_model_input(m, i)));
    const cm_kv *k = cm_model_meta(m);
    for (size_t i = 0; i < cm_kv_count(k); i++)
        if (cm_model_meta_listed(cm_kv_key(k, i)))
            json_object_set_new(meta, cm_kv_key(k, i), json_string(cm_kv_value(k, i)));
    json_object_set_new(j, "fields", fields);
    json_object_set_new(j, "derived_inputs", derived);
    json_object_set_new(j, "metadata", meta);
    return j;
}

static enum MHD_Result models(cm_server *sv, struct MHD_Connection *c, req *q)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < cm_registry_count(sv->reg); i++) {
        cm_served *s = cm_registry_at(sv->reg, i);
        json_array_append_new(arr, summary(s));
        cm_served_release(s);
    }
    json_t *j = json_object();
    json_object_set_new(j, "models", arr);
    return send_json(c, q, 200, j);
}

/* A histogram of cm_serve_bucket's bounds, from counts per bucket. */
static void histogram(FILE *f, const char *name, const char *help, const uint64_t *count,
                      double sum)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    unsigned long long cum = 0;
    for (int b = 0; b <= CM_SERVE_NBUCKETS; b++) {
        cum += count[b];
        if (b < CM_SERVE_NBUCKETS)
            fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, cm_serve_bucket[b], cum);
        else
            fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name, cum);
    }
    fprintf(f, "%s_sum %.6f\n%s_count %llu\n", name, sum, name, cum);
}

/* A histogram from the server's atomic counts per bucket. */
static void histogram_of(FILE *f, const char *name, const char *help, atomic_ullong *count,
                         atomic_ullong *sum_us)
{
    uint64_t c[CM_SERVE_NBUCKETS + 1];
    for (int b = 0; b <= CM_SERVE_NBUCKETS; b++)
        c[b] = atomic_load(&count[b]);
    histogram(f, name, help, c, (double)atomic_load(sum_us) * 1e-6);
}

/* A gauge of every model, v[i] the i-th's. */
static void per_model(FILE *f, cm_server *sv, const char *name, const char *help,
                      const uint64_t *v)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    for (size_t i = 0; i < cm_registry_count(sv->reg); i++) {
        cm_served *s = cm_registry_at(sv->reg, i);
        fprintf(f, "%s{model=\"%s\"} %llu\n", name, cm_served_name(s), (unsigned long long)v[i]);
        cm_served_release(s);
    }
}

/* The live histories (rows by outcome, series, journal bytes, the
 * journals' fsyncs) and the models' versions; 0, or -1 out of memory. */
static int model_metrics(cm_server *sv, FILE *f)
{
    static const char *const outcome[] = {"accepted", "late", "duplicate", "rejected"};
    size_t n = cm_registry_count(sv->reg);
    live_counts *lc = calloc(n + 1, sizeof *lc);
    uint64_t *series = calloc(n + 1, sizeof *series), *bytes = calloc(n + 1, sizeof *bytes),
             *version = calloc(n + 1, sizeof *version);
    uint64_t fs[CM_SERVE_NBUCKETS + 1] = {0};
    double fs_sum = 0;
    int ok = lc && series && bytes && version;
    for (size_t i = 0; ok && i < n; i++) {
        cm_served *s = cm_registry_at(sv->reg, i);
        cm_live_counts(cm_served_live(s), &lc[i]);
        cm_live_fsyncs(cm_served_live(s), fs, &fs_sum);
        series[i] = lc[i].series;
        bytes[i] = lc[i].journal_bytes;
        version[i] = cm_served_version(s);
        fputs(i ? "" : "# HELP cm_observations_total Rows posted to /observations, by what "
                       "became of them.\n# TYPE cm_observations_total counter\n", f);
        const uint64_t v[] = {lc[i].accepted, lc[i].late, lc[i].duplicate, lc[i].rejected};
        for (int k = 0; k < 4; k++)
            fprintf(f, "cm_observations_total{model=\"%s\",outcome=\"%s\"} %llu\n",
                    cm_served_name(s), outcome[k], (unsigned long long)v[k]);
        cm_served_release(s);
    }
    if (ok) {
        per_model(f, sv, "cm_series_held", "Series whose history the server holds.", series);
        per_model(f, sv, "cm_journal_bytes", "Size of each model's journal (--state).", bytes);
        histogram(f, "cm_journal_fsync_seconds", "Time of each fsync of a journal.", fs,
                  fs_sum);
        per_model(f, sv, "cm_model_version",
                  "Version of each model loaded (1, then +1 a reload).", version);
    }
    free(lc), free(series), free(bytes), free(version);
    return ok ? 0 : -1;
}

static enum MHD_Result metrics(cm_server *sv, struct MHD_Connection *c, req *q)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return send_error(c, q, 500, "out of memory", NULL);
    fputs("# HELP cm_requests_total Requests by endpoint and status code.\n"
          "# TYPE cm_requests_total counter\n", f);
    for (int e = 0; e < NEP; e++)
        for (int k = 0; k < NCODES; k++) {
            unsigned long long v = atomic_load(&sv->count[e][k]);
            if (v)
                fprintf(f, "cm_requests_total{endpoint=\"%s\",code=\"%d\"} %llu\n",
                        ep_name[e], codes[k], v);
        }
    histogram_of(f, "cm_request_seconds", "Time from a request's arrival to its answer.",
                 sv->hist, &sv->lat_sum_us);
    histogram_of(f, "cm_forecast_seconds", "Time to answer a forecast request.", sv->fc_hist,
                 &sv->fc_sum_us);
    fprintf(f, "# HELP cm_connections_cut_total Connections shut whose request was not in "
               "within --timeout.\n# TYPE cm_connections_cut_total counter\n"
               "cm_connections_cut_total %llu\n", cm_cutter_cuts(sv->cut));
    uint64_t reloads, failures;
    cm_registry_counts(sv->reg, &reloads, &failures);
    fprintf(f, "# HELP cm_model_reloads_total Model files read again.\n"
               "# TYPE cm_model_reloads_total counter\ncm_model_reloads_total %llu\n"
               "# HELP cm_model_reload_failures_total Reloads refused (the old model kept).\n"
               "# TYPE cm_model_reload_failures_total counter\n"
               "cm_model_reload_failures_total %llu\n",
            (unsigned long long)reloads, (unsigned long long)failures);
    int bad = model_metrics(sv, f);
    if (fclose(f) || bad) {
        free(buf);
        return send_error(c, q, 500, "out of memory", NULL);
    }
    return send_text(c, q, 200, "text/plain; version=0.0.4", buf);
}

/* ---- routing ---------------------------------------------------------------------- */

/* Whether the token a request gives is the secret: equal lengths and
 * bytes, in a time that depends on the length of the token given alone,
 * neither on where the two differ nor on the secret's length (every byte
 * given is compared, with the secret's bytes over again, no branch taken
 * by a byte or by the secret's end). */
static int same_secret(const char *given, const char *secret)
{
    size_t ng = strlen(given), ns = strlen(secret);
    volatile unsigned char d = (unsigned char)(ng != ns);
    for (size_t i = 0; i < ng; i++)
        d |= (unsigned char)(given[i] ^ secret[ns ? i % ns : 0]);
    return d == 0;
}

static enum MHD_Result route(cm_server *sv, struct MHD_Connection *c, req *q,
                             const char *url, const char *method)
{
    char name[CM_MAX_NAME + 1];
    q->ep = cm_serve_path(url, name);
    if (q->ep == EP_OTHER)
        return send_error(c, q, 404, "no such path", NULL);
    /* the token covers every endpoint but /healthz; the ingest token,
     * observations alone */
    if ((sv->o.token && q->ep != EP_HEALTH) || (sv->o.ingest_token && q->ep == EP_OBSERVE)) {
        const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_AUTHORIZATION);
        /* none, or not "Bearer TOKEN": one is needed; another token is
         * wrong, and nothing is said of the right one */
        if (!h || strncmp(h, "Bearer ", 7) || !h[7])
            return send_error(c, q, 401, "a bearer token is needed", NULL);
        int full = sv->o.token && same_secret(h + 7, sv->o.token);
        int ingest = !full && sv->o.ingest_token && same_secret(h + 7, sv->o.ingest_token);
        if (ingest && q->ep != EP_OBSERVE)
            return send_error(c, q, 403, "the ingest token posts observations only", NULL);
        if (!full && !ingest) {
            q->bad_token = 1;
            return send_error(c, q, 401, "the bearer token is wrong", NULL);
        }
    }
    if (!method_allowed(q->ep, method))
        return send_error(c, q, 405, "method not allowed", NULL);
    if (q->too_big)
        return send_error(c, q, 413, "the body is too large", NULL);
    switch (q->ep) {
    case EP_HEALTH: {
        int up = cm_registry_count(sv->reg) > 0;
        json_t *j = json_object();
        json_object_set_new(j, "status", json_string(up ? "ok" : "no models"));
        return send_json(c, q, up ? 200 : 503, j);
    }
    case EP_METRICS: return metrics(sv, c, q);
    case EP_MODELS: return models(sv, c, q);
    default: return on_model(sv, c, q, name, method);
    }
}

/* ---- connections ------------------------------------------------------------------ */

static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
                          enum MHD_ConnectionNotificationCode what)
{
    cm_server *sv = cls;
    if (what == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *ctx = ci ? cm_cutter_add(sv->cut, ci->connect_fd) : NULL;
    } else {
        cm_cutter_remove(sv->cut, *ctx);
        *ctx = NULL;
    }
}

static cm_cut_conn *cut_conn(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* How the body's end is told: by Content-Length or by chunks. */
typedef struct framing {
    int length, coding;
    const char *codings;
} framing;

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    framing *f = cls;
    (void)kind;
    if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH))
        f->length++;
    else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        f->coding++, f->codings = value;
    return MHD_YES;
}

/* A body whose end two readers could find in two places (two lengths, a
 * length and chunks) is how a request is smuggled past a proxy in front:
 * 400, as RFC 9112 6.3 has it, and the connection closed.  A coding
 * other than chunked cannot be read: 501.  0 when the framing is sound. */
static int bad_framing(struct MHD_Connection *c, const char **why)
{
    framing f = {0, 0, NULL};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
    if (f.length > 1)
        return *why = "more than one Content-Length", 400;
    if (f.length && f.coding)
        return *why = "both Content-Length and Transfer-Encoding", 400;
    if (f.coding > 1 || (f.coding && strcasecmp(f.codings, "chunked")))
        return *why = "a Transfer-Encoding other than chunked", 501;
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **state)
{
    cm_server *sv = cls;
    (void)version;
    req *q = *state;
    if (!q) { /* headers in: the body, if any, follows in later calls */
        if (!(q = calloc(1, sizeof *q)))
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &q->t0);
        q->ep = EP_OTHER;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > sv->o.max_body)
            q->too_big = 1;
        atomic_fetch_add(&sv->active, 1);
        *state = q;
        const char *why;
        int code = bad_framing(c, &why);
        if (!code)
            return MHD_YES;
        q->close = 1;
        cm_cutter_arm(sv->cut, cut_conn(c), 0);
        return send_error(c, q, code, why, NULL);
    }
    if (*upload_size) {
        if (!q->too_big && q->len + *upload_size <= sv->o.max_body) {
            if (q->len + *upload_size + 1 > q->cap) {
                size_t cap = (q->len + *upload_size + 1) * 2;
                char *b = realloc(q->body, cap);
                if (!b)
                    return MHD_NO;
                q->body = b;
                q->cap = cap;
            }
            memcpy(q->body + q->len, upload, *upload_size);
            q->len += *upload_size;
        } else {
            q->too_big = 1; /* read on and dropped: then 413 */
        }
        *upload_size = 0;
        return MHD_YES;
    }
    cm_cutter_arm(sv->cut, cut_conn(c), 0);
    return route(sv, c, q, url, method);
}

static void on_done(void *cls, struct MHD_Connection *c, void **state,
                    enum MHD_RequestTerminationCode why)
{
    cm_server *sv = cls;
    req *q = *state;
    (void)why;
    cm_cutter_arm(sv->cut, cut_conn(c), 1); /* the next request's time begins */
    if (!q)
        return;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - q->t0.tv_sec) + (double)(t1.tv_nsec - q->t0.tv_nsec) * 1e-9;
    int k = 0;
    while (k < NCODES - 1 && codes[k] != q->code)
        k++;
    if (q->code) {
        atomic_fetch_add(&sv->count[q->ep][k], 1);
        int b = 0;
        while (b < CM_SERVE_NBUCKETS && secs > cm_serve_bucket[b])
            b++;
        atomic_fetch_add(&sv->hist[b], 1);
        atomic_fetch_add(&sv->lat_sum_us, (unsigned long long)(secs * 1e6));
        if (q->ep == EP_FORECAST) {
            atomic_fetch_add(&sv->fc_hist[b], 1);
            atomic_fetch_add(&sv->fc_sum_us, (unsigned long long)(secs * 1e6));
        }
    }
    if (sv->o.log) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        (void)ci;
        sv->o.log(sv->o.log_ctx, ep_name[q->ep], q->code, secs);
    }
    atomic_fetch_sub(&sv->active, 1);
    free(q->body);
    free(q);
    *state = NULL;
}

cm_server *cm_server_start(cm_registry *reg, const cm_serve_opts *o, unsigned *port,
                           cm_error *err)
{
    cm_server *sv = calloc(1, sizeof *sv);
    if (!sv) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    sv->reg = reg;
    sv->o = *o;
    if (!(sv->cut = cm_cutter_new(o->timeout))) {
        free(sv);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)*port);
    if (inet_pton(AF_INET, o->bind ? o->bind : "127.0.0.1", &addr.sin_addr) != 1) {
        cm_cutter_free(sv->cut);
        free(sv);
        cm_fail(err, CM_ERR_ARG, "bind: '%s' is not an IPv4 address", o->bind);
        return NULL;
    }
    sv->d = MHD_start_daemon(
        /* ITC: without it MHD_quiesce_daemon cannot close the listening
         * socket, and a draining server would take new connections */
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_USE_ITC,
        (uint16_t)*port, NULL, NULL, on_request, sv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads ? o->threads : 1),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)o->max_header,
        MHD_OPTION_NOTIFY_COMPLETED, on_done, sv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, sv,
        MHD_OPTION_END);
    if (!sv->d) {
        cm_cutter_free(sv->cut);
        free(sv);
        cm_fail(err, CM_ERR_IO, "cannot listen on %s port %u (in use?)",
                o->bind ? o->bind : "127.0.0.1", *port);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(sv->d, MHD_DAEMON_INFO_BIND_PORT);
    if (di)
        *port = di->port;
    return sv;
}

/* No new connections; the requests in flight finish; then the end. */
void cm_server_stop(cm_server *sv)
{
    if (!sv)
        return;
    MHD_socket s = MHD_quiesce_daemon(sv->d);
    if (s != MHD_INVALID_SOCKET)
        close(s);
    for (int i = 0; i < 3000 && atomic_load(&sv->active) > 0; i++) {
        struct timespec ms = {0, 10000000};
        nanosleep(&ms, NULL);
    }
    MHD_stop_daemon(sv->d);
    cm_cutter_free(sv->cut);
    free(sv);
}
