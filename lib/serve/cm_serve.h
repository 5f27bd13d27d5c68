/*
 * cm_serve.h - libcmserve: models behind HTTP (libmicrohttpd, jansson),
 * the one part of cm outside libcm.  A registry of models reloaded while
 * requests finish on the old version; a server routing requests to them.
 */
#ifndef CM_SERVE_H
#define CM_SERVE_H

#include "forecast/cm_forecast.h"
#include "predict/cm_predict.h"

/* The live history each model keeps of the rows posted to its
 * /observations: how long, how many series, and whether on disk. */
typedef struct cm_live_opts {
    const char *state; /* directory of the journals (NULL: in memory only) */
    int sync_every;    /* fsync before each answer; else cm_registry_tick's */
    const char *keep;  /* steps ("168") or a span ("7d") kept behind a
                          series' last time, at least the look-back (NULL:
                          the look-back) */
    size_t max_series; /* per model (0: no limit) */
    /* what befell a history: a journal's torn tail cut, a fresh history
     * for a model that reads other fields now */
    void (*note)(void *ctx, const char *model, const char *msg);
    void *note_ctx;
} cm_live_opts;

/* Models by name, each reloaded into a new version while requests finish
 * on the old one (reference counts); a file that does not load leaves
 * the old version serving. */
typedef struct cm_registry cm_registry;
typedef struct cm_served cm_served;
cm_registry *cm_registry_new(const cm_live_opts *live);
void cm_registry_free(cm_registry *r);
cm_status cm_registry_add(cm_registry *r, const char *name, const char *path, cm_error *err);
size_t cm_registry_count(const cm_registry *r);
/* A reference to the current version (NULL: no such model); release it. */
cm_served *cm_registry_get(cm_registry *r, const char *name);
cm_served *cm_registry_at(cm_registry *r, size_t i);
void cm_served_release(cm_served *s);
const cm_model *cm_served_model(const cm_served *s);
/* A predictor only to ask what the model needs (cm_predictor_field). */
const cm_predictor *cm_served_info(const cm_served *s);
const char *cm_served_name(const cm_served *s);
uint64_t cm_served_version(const cm_served *s);
/* A predictor for this version, from its pool; give it back after use. */
cm_predictor *cm_served_predictor(cm_served *s, cm_error *err);
void cm_served_give_back(cm_served *s, cm_predictor *p);
/* Every model again (changed_only: those whose file's mtime changed);
 * report gets each model's name and NULL, or why it was refused. */
void cm_registry_reload(cm_registry *r, int changed_only,
                        void (*report)(void *ctx, const char *name, const cm_error *err),
                        void *ctx);
void cm_registry_counts(cm_registry *r, uint64_t *reloads, uint64_t *failures);
/* Once a second: the live histories' periodic work (cm_live_tick). */
void cm_registry_tick(cm_registry *r);

typedef struct cm_serve_opts {
    const char *bind;        /* IPv4 address, 127.0.0.1 by default */
    unsigned threads;        /* worker threads */
    size_t max_body, max_batch, max_header, max_horizon;
    unsigned max_connections, timeout; /* timeout in seconds, per connection */
    /* required as "Authorization: Bearer TOKEN" (NULL: none); 401 "a bearer
     * token is needed" without one, "the bearer token is wrong" with another */
    const char *token;
    /* a second token, for POST .../observations alone (403 elsewhere):
     * a sensor's, which cannot read forecasts or models */
    const char *ingest_token;
    /* an access log line per request, when not NULL */
    void (*log)(void *ctx, const char *endpoint, int code, double seconds);
    void *log_ctx;
} cm_serve_opts;
typedef struct cm_server cm_server;
/* Listens on *port (0: any; the port taken is written back). */
cm_server *cm_server_start(cm_registry *reg, const cm_serve_opts *o, unsigned *port,
                           cm_error *err);
/* Stops taking connections, lets the requests in flight finish, ends. */
void cm_server_stop(cm_server *s);

#endif
