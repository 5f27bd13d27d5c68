/*
 * serve.h - inside libcmserve: a JSON object of raw fields as the names
 * and values a replay takes (fields.c), a POST's answer without the
 * socket (servepost.c) and the forecast endpoint (servefc.c), which
 * serve.c routes to.
 */
#ifndef CM_SERVE_INTERNAL_H
#define CM_SERVE_INTERNAL_H

#include <jansson.h>

#include "common/common.h"
#include "serve/cm_serve.h"

/* The fields of obj, by name, as text: strings as they are, numbers as
 * the training CSV wrote them (its decimal mark for a raw field), null
 * as missing (left out).  names and values hold json_object_size(obj)
 * entries, text 32 bytes for each; *n gets their number.  0, or -1 with
 * the message and the field to blame in msg and field. */
typedef struct cm_json_fields {
    const char **names, **values;
    char *text;
    size_t n;
} cm_json_fields;
int cm_json_fields_read(json_t *obj, const cm_predictor *p, cm_json_fields *f, char *msg,
                        size_t msgn, char *field, size_t fieldn);
/* Room for the fields of an object of n members; 0, or -1 out of memory. */
int cm_json_fields_init(cm_json_fields *f, size_t n);
void cm_json_fields_free(cm_json_fields *f);

/* The upper bounds, in seconds, of the latency histograms of /metrics
 * (then +Inf). */
enum { CM_SERVE_NBUCKETS = 10 };
extern const double cm_serve_bucket[CM_SERVE_NBUCKETS];

/* The endpoints, and the one of a path (NAME into name, CM_MAX_NAME + 1
 * bytes, for the paths of a model). */
enum { EP_PREDICT, EP_FORECAST, EP_OBSERVE, EP_SERIES, EP_MODELS, EP_MODEL, EP_HEALTH,
       EP_METRICS, EP_OTHER, NEP };
int cm_serve_path(const char *url, char *name);
/* {"error": msg, "field": field}, the field left out when NULL or "". */
json_t *cm_serve_error(const char *msg, const char *field);
/* The answer to a POST of body to model s at ep (EP_PREDICT or
 * EP_FORECAST): its status (200, 400, 413) and JSON, for serve.c to send
 * and the fuzz target to check (servepost.c). */
void cm_serve_post(cm_served *s, int ep, const char *body, size_t len, size_t max_batch,
                   size_t max_horizon, int *code, json_t **out);

/* POST /v1/models/NAME/forecast: {"history": [rows], "future": [rows],
 * "horizon": H, "future_fill": "last"}; without "history", the history
 * held (of "series", or of every series with enough of it: GET's query
 * in this form).  The response and its status (200, 400, 404, 409, 413)
 * into *out and *code. */
void cm_serve_forecast(cm_served *s, json_t *body, size_t max_horizon, json_t **out,
                       int *code);

/* POST /v1/models/NAME/observations: a row of raw fields, or an array of
 * them, into the history held (serveobs.c): {"accepted", "late",
 * "duplicate", "rejected": [{index, error, field}]}, 200 (400 when no row
 * was taken, 413 over max_batch, 429 a new series past --max-series). */
void cm_serve_observe(cm_served *s, json_t *in, size_t max_batch, int *code, json_t **out);
/* GET /v1/models/NAME/series: each series held, its rows, first and last
 * time and whether it can be forecast; DELETE ...?series=ID drops one. */
void cm_serve_series(cm_served *s, int *code, json_t **out);
void cm_serve_drop(cm_served *s, const char *series, int *code, json_t **out);

/* Deadlines of connections (servecut.c): each request must be in, body
 * and all, within timeout seconds of its connection opening or of the
 * previous answer; the socket of one that is not is shut down. */
typedef struct cm_cutter cm_cutter;
typedef struct cm_cut_conn cm_cut_conn;
cm_cutter *cm_cutter_new(unsigned timeout); /* NULL: no memory or thread */
void cm_cutter_free(cm_cutter *c);
/* A connection opened on fd, waiting for its first request (NULL: out of
 * memory, and no deadline for it). */
cm_cut_conn *cm_cutter_add(cm_cutter *c, int fd);
void cm_cutter_remove(cm_cutter *c, cm_cut_conn *k); /* before fd closes */
/* waiting 1: a request is awaited from now; 0: it is in, being answered. */
void cm_cutter_arm(cm_cutter *c, cm_cut_conn *k, int waiting);
unsigned long long cm_cutter_cuts(cm_cutter *c);

#endif
