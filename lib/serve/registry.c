/* registry.c - the models a server holds, by name, each swapped for a new
 * version atomically on reload.  A request takes a reference to the
 * version it started with and finishes on it, however many reloads
 * happen meanwhile; the last reference frees an old version.  A file
 * that does not load leaves the old version serving. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.h"
#include "serve/live.h"

/* Idle objects of one kind, each built once and used by one request at a
 * time, taken and given back under the registry's lock. */
typedef struct idle {
    void **v;
    size_t n, cap;
} idle;

static void *idle_take(idle *x)
{
    return x->n ? x->v[--x->n] : NULL;
}

/* 1 when p is kept, 0 when no room could be had for it. */
static int idle_keep(idle *x, void *p)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 8;
        void **v = realloc(x->v, cap * sizeof *v);
        if (!v)
            return 0;
        x->v = v;
        x->cap = cap;
    }
    x->v[x->n++] = p;
    return 1;
}

struct cm_served {
    cm_model *m;
    char *name;
    uint64_t version;      /* 1 for the first load, +1 each reload */
    struct timespec mtime; /* of the file when it was read */
    long refs;             /* under the registry's lock */
    /* idle predictors, so a request does not build one (and read the
     * time zone file) each time */
    idle predictors;
    cm_predictor *info;    /* read only: what the model asks of a row */
    /* idle forecasters (each with the predictor it borrows), so that an
     * observation or a forecast does not prepare one */
    idle pool;
    cm_live *live;         /* its history: shared with the versions before
                              it while they read the same raw fields */
    pthread_mutex_t *lock; /* the registry's */
};

typedef struct entry {
    char *name, *path;
    cm_served *cur;
    struct timespec tried; /* mtime of the file last read, loaded or not */
} entry;

struct cm_registry {
    pthread_mutex_t lock;
    cm_live_opts live;
    entry *e;
    size_t n;
    uint64_t reloads, failures;
};

struct cm_pooled {
    cm_predictor *p;
    cm_forecaster *fc;
};

static void pooled_free(cm_pooled *k)
{
    if (!k)
        return;
    cm_forecaster_free(k->fc);
    cm_predictor_free(k->p);
    free(k);
}

static void served_free(cm_served *s)
{
    for (size_t i = 0; i < s->predictors.n; i++)
        cm_predictor_free(s->predictors.v[i]);
    for (size_t i = 0; i < s->pool.n; i++)
        pooled_free(s->pool.v[i]);
    free(s->pool.v);
    free(s->predictors.v);
    cm_predictor_free(s->info);
    cm_live_release(s->live);
    cm_model_free(s->m);
    free(s->name);
    free(s);
}

void cm_registry_free(cm_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        if (r->e[i].cur)
            served_free(r->e[i].cur);
        free(r->e[i].name);
        free(r->e[i].path);
    }
    free(r->e);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

cm_registry *cm_registry_new(const cm_live_opts *live)
{
    cm_registry *r = calloc(1, sizeof *r);
    if (r && pthread_mutex_init(&r->lock, NULL)) {
        free(r);
        return NULL;
    }
    if (r && live)
        r->live = *live;
    return r;
}

/* The history of version s: the one before it when s reads the same raw
 * fields, else a new one (its journal read, a note for what was cut). */
static cm_status attach(cm_registry *r, cm_served *s, const cm_served *old, cm_error *err)
{
    char why[200], note[600];
    if (old && cm_live_fits(old->live, s->info, why, sizeof why)) {
        cm_live_hold(old->live);
        s->live = old->live;
        return CM_OK;
    }
    if (!(s->live = cm_live_open(s->name, s->info, &r->live, note, sizeof note, err)))
        return err->status;
    if (old && r->live.note) {
        char msg[900];
        snprintf(msg, sizeof msg, "a fresh history: %s%s%s", why, *note ? "; " : "", note);
        r->live.note(r->live.note_ctx, s->name, msg);
    } else if (*note && r->live.note) {
        r->live.note(r->live.note_ctx, s->name, note);
    }
    return CM_OK;
}

/* The file as a new version, or NULL with err set. */
static cm_served *load(cm_registry *r, const entry *e, uint64_t version, cm_error *err)
{
    FILE *f = fopen(e->path, "rb");
    if (!f) {
        cm_fail_sys(err, errno, "%s: cannot open", e->path);
        return NULL;
    }
    struct stat st;
    cm_served *s = calloc(1, sizeof *s);
    if (!s || !(s->name = cm_strndup(e->name, strlen(e->name)))) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
    } else if (fstat(fileno(f), &st)) {
        cm_fail_sys(err, errno, "%s: cannot stat", e->path);
    } else if ((s->m = cm_model_load(f, err)) && (s->info = cm_predictor_new(s->m, err))) {
        s->mtime = st.st_mtim;
        s->version = version;
        s->refs = 1; /* the registry's own */
        s->lock = &r->lock;
    } else {
        /* the model's own messages do not know the file's name */
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        snprintf(err->msg, sizeof err->msg, "%.200s: %.300s", e->path, msg);
    }
    fclose(f);
    if (s && s->info && attach(r, s, e->cur, err)) {
        served_free(s);
        return NULL;
    }
    if (s && !s->info) {
        served_free(s);
        return NULL;
    }
    return s;
}

cm_status cm_registry_add(cm_registry *r, const char *name, const char *path, cm_error *err)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->e[i].name, name))
            return cm_fail(err, CM_ERR_ARG, "model '%s' given twice", name);
    entry *e = realloc(r->e, (r->n + 1) * sizeof *e);
    if (!e)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    r->e = e;
    entry *x = &r->e[r->n];
    *x = (entry){cm_strndup(name, strlen(name)), cm_strndup(path, strlen(path)), NULL,
                 {0, 0}};
    if (!x->name || !x->path) {
        free(x->name);
        free(x->path);
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    if (!(x->cur = load(r, x, 1, err))) {
        free(x->name);
        free(x->path);
        return err->status;
    }
    x->tried = x->cur->mtime;
    r->n++;
    return CM_OK;
}

size_t cm_registry_count(const cm_registry *r) { return r->n; }

cm_served *cm_registry_get(cm_registry *r, const char *name)
{
    cm_served *s = NULL;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n && !s; i++)
        if (!strcmp(r->e[i].name, name)) {
            s = r->e[i].cur;
            s->refs++;
        }
    pthread_mutex_unlock(&r->lock);
    return s;
}

cm_served *cm_registry_at(cm_registry *r, size_t i)
{
    pthread_mutex_lock(&r->lock);
    cm_served *s = r->e[i].cur;
    s->refs++;
    pthread_mutex_unlock(&r->lock);
    return s;
}

void cm_served_release(cm_served *s)
{
    if (!s)
        return;
    pthread_mutex_lock(s->lock);
    long left = --s->refs;
    pthread_mutex_unlock(s->lock);
    if (left == 0)
        served_free(s);
}

const cm_model *cm_served_model(const cm_served *s) { return s->m; }
const cm_predictor *cm_served_info(const cm_served *s) { return s->info; }
const char *cm_served_name(const cm_served *s) { return s->name; }
uint64_t cm_served_version(const cm_served *s) { return s->version; }

cm_predictor *cm_served_predictor(cm_served *s, cm_error *err)
{
    pthread_mutex_lock(s->lock);
    cm_predictor *p = idle_take(&s->predictors);
    pthread_mutex_unlock(s->lock);
    return p ? p : cm_predictor_new(s->m, err);
}

void cm_served_give_back(cm_served *s, cm_predictor *p)
{
    pthread_mutex_lock(s->lock);
    int kept = idle_keep(&s->predictors, p);
    pthread_mutex_unlock(s->lock);
    if (!kept)
        cm_predictor_free(p);
}

cm_pooled *cm_served_take(cm_served *s, const cm_forecast_opts *o, cm_error *err)
{
    pthread_mutex_lock(s->lock);
    cm_pooled *k = idle_take(&s->pool);
    pthread_mutex_unlock(s->lock);
    if (k && cm_forecaster_reset(k->fc, o, err)) {
        pooled_free(k);
        return NULL;
    }
    if (k)
        return k;
    if (!(k = calloc(1, sizeof *k))) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (!(k->p = cm_predictor_new(s->m, err)) || !(k->fc = cm_forecaster_new(k->p, o, err))) {
        pooled_free(k);
        return NULL;
    }
    return k;
}

cm_forecaster *cm_pooled_forecaster(cm_pooled *k)
{
    return k->fc;
}

const cm_predictor *cm_pooled_predictor(const cm_pooled *k)
{
    return k->p;
}

void cm_served_put(cm_served *s, cm_pooled *k, int intact)
{
    if (!k)
        return;
    pthread_mutex_lock(s->lock);
    int kept = intact && idle_keep(&s->pool, k);
    pthread_mutex_unlock(s->lock);
    if (!kept)
        pooled_free(k);
}

/* Reloads every model (only those whose file changed, with changed_only):
 * a new version swapped in, or the old one kept with report() told why. */
void cm_registry_reload(cm_registry *r, int changed_only,
                        void (*report)(void *ctx, const char *name, const cm_error *err),
                        void *ctx)
{
    for (size_t i = 0; i < r->n; i++) {
        entry *e = &r->e[i];
        /* a broken or missing file is refused once, not at every look:
         * a missing one is remembered as the time -1 */
        struct stat st;
        struct timespec now = {-1, 0};
        if (!stat(e->path, &st))
            now = st.st_mtim;
        if (changed_only && now.tv_sec == e->tried.tv_sec && now.tv_nsec == e->tried.tv_nsec)
            continue;
        e->tried = now;
        cm_error err;
        cm_error_clear(&err);
        /* only the loader touches e->cur outside the lock: one reloader */
        cm_served *s = load(r, e, e->cur->version + 1, &err);
        pthread_mutex_lock(&r->lock);
        r->reloads++;
        cm_served *old = NULL;
        if (s) {
            old = e->cur;
            e->cur = s;
        } else {
            r->failures++;
        }
        pthread_mutex_unlock(&r->lock);
        if (!s && report)
            report(ctx, e->name, &err);
        else if (report)
            report(ctx, e->name, NULL);
        cm_served_release(old); /* freed when its last request ends */
    }
}

void cm_registry_counts(cm_registry *r, uint64_t *reloads, uint64_t *failures)
{
    pthread_mutex_lock(&r->lock);
    *reloads = r->reloads;
    *failures = r->failures;
    pthread_mutex_unlock(&r->lock);
}

void cm_registry_tick(cm_registry *r)
{
    for (size_t i = 0; i < r->n; i++) {
        cm_served *s = cm_registry_at(r, i);
        char note[700];
        cm_live_tick(s->live, note, sizeof note);
        if (*note && r->live.note)
            r->live.note(r->live.note_ctx, s->name, note);
        cm_served_release(s);
    }
}

cm_live *cm_served_live(const cm_served *s)
{
    return s->live;
}
