/* live.c - the live history of a model: the rows sensors post, each
 * series' in time order, trimmed to the look-back of the model's
 * forecasts (or --keep), and journaled.  Rows are kept as the raw fields
 * they came as: a forecast replays them through the model's recipe like
 * any history, so it equals cm-predict --horizon on the same rows.
 *
 * Locks: the table of series is read-locked by every ingest and copy and
 * write-locked only to add or drop a series or to rewrite the journal; each
 * series has its own mutex, so rows for different series never wait for
 * each other, and a copy sees a whole prefix of a series' rows. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "serve/live.h"

typedef struct live_row {
    int64_t t;
    char *vals; /* nf strings, each NUL-terminated */
    size_t len;
} live_row;

typedef struct live_series {
    pthread_mutex_t lock;
    char *name;
    live_row *rows;
    size_t n, cap;
} live_series;

struct cm_live {
    atomic_long refs;
    const char **fields;
    size_t nf;
    uint8_t *sig; /* the JR_FIELDS payload: "name\0kind\0" each */
    size_t nsig;
    cm_dedupe dedupe;
    int64_t keep;  /* seconds behind a series' last time */
    int64_t need;  /* the steps of history a forecast needs */
    cm_step step;
    size_t max_series;
    int sync_every;
    char *cannot; /* why this model's forecasts cannot use a history */
    pthread_rwlock_t table;
    live_series **ser; /* by name */
    size_t nser, cap;
    cm_journal *j;
    atomic_ullong accepted, late, duplicate, rejected;
};

void live_copy_free(live_copy *c)
{
    free(c->t);
    free(c->vals);
    free(c->text);
    memset(c, 0, sizeof *c);
}

/* ---- series ------------------------------------------------------------------------ */

/* The place of name in the table: found (1) or where it would go (0). */
static int find(const cm_live *l, const char *name, size_t *at)
{
    size_t lo = 0, hi = l->nser;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->ser[mid]->name, name);
        if (!c) {
            *at = mid;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return 0;
}

static void series_free(live_series *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->rows[i].vals);
    free(s->rows);
    free(s->name);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* The series at place at leaves the table (under its write lock). */
static void unlink_series(cm_live *l, size_t at)
{
    series_free(l->ser[at]);
    memmove(l->ser + at, l->ser + at + 1, (l->nser - at - 1) * sizeof *l->ser);
    l->nser--;
}

/* Room in the table for one more series; 0 out of memory. */
static int room(cm_live *l)
{
    cm_error e;
    size_t cap = cm_cap_for(l->cap, l->nser, 16);
    if (l->nser < l->cap)
        return 1;
    if (cm_resize(&l->ser, l->cap, cap, sizeof *l->ser, &e))
        return 0;
    l->cap = cap;
    return 1;
}

/* The series of name, made (under the write lock) when new; NULL with
 * *full set past --max-series (when limit), or out of memory.  Returns
 * with the table read-locked. */
static live_series *series(cm_live *l, const char *name, int limit, int *full)
{
    size_t at;
    *full = 0;
    pthread_rwlock_rdlock(&l->table);
    if (find(l, name, &at))
        return l->ser[at];
    pthread_rwlock_unlock(&l->table);
    pthread_rwlock_wrlock(&l->table);
    live_series *s = NULL;
    if (find(l, name, &at)) { /* another request made it meanwhile */
        s = l->ser[at];
    } else if (limit && l->max_series && l->nser >= l->max_series) {
        *full = 1;
    } else if (room(l) && (s = calloc(1, sizeof *s)) && (s->name = cm_strdup(name))) {
        pthread_mutex_init(&s->lock, NULL);
        memmove(l->ser + at + 1, l->ser + at, (l->nser - at) * sizeof *l->ser);
        l->ser[at] = s;
        l->nser++;
    } else if (s) {
        free(s);
        s = NULL;
    }
    pthread_rwlock_unlock(&l->table);
    pthread_rwlock_rdlock(&l->table);
    /* a drop between the two locks: look again */
    return s && find(l, name, &at) ? l->ser[at] : NULL;
}

/* ---- rows ---------------------------------------------------------------------------- */

/* The first row of s at or after t. */
static size_t lower(const live_series *s, int64_t t)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->rows[mid].t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Row (t, *vals) into s as the recipe's --dedupe says; the fate, or -1
 * out of memory.  A row kept takes *vals (malloc'd, len bytes), which is
 * then NULL: no copy of its own.  Rows older than the kept span go. */static int place(cm_live *l, live_series *s, int64_t t, char **vals, size_t len,
                 live_fate *fate)
{
    size_t at = lower(s, t);
    int held = at < s->n && s->rows[at].t == t;
    if (s->n && t < s->rows[s->n - 1].t - l->keep && !held) {
        *fate = LIVE_TOO_OLD;
        return 0;
    }
    if (held) {
        *fate = l->dedupe == CM_DEDUPE_LAST ? LIVE_REPLACED
              : l->dedupe == CM_DEDUPE_FIRST ? LIVE_DROPPED : LIVE_REPEAT;
        if (*fate != LIVE_REPLACED)
            return 0;
    } else {
        *fate = at < s->n ? LIVE_LATE : LIVE_NEW;
    }
    if (held) {
        free(s->rows[at].vals);
        s->rows[at] = (live_row){t, *vals, len};
        *vals = NULL;
        return 0;
    }
    if (s->n == s->cap) {
        cm_error e;
        size_t cap = cm_cap_for(s->cap, s->n, 64);
        if (cm_resize(&s->rows, s->cap, cap, sizeof *s->rows, &e))
            return -1;
        s->cap = cap;
    }
    memmove(s->rows + at + 1, s->rows + at, (s->n - at) * sizeof *s->rows);
    s->rows[at] = (live_row){t, *vals, len};
    *vals = NULL;
    s->n++;
    /* the span kept ends at the last row */
    size_t old = 0;
    while (old < s->n && s->rows[old].t < s->rows[s->n - 1].t - l->keep)
        free(s->rows[old++].vals);
    if (old) {
        memmove(s->rows, s->rows + old, (s->n - old) * sizeof *s->rows);
        s->n -= old;
    }
    return 0;
}

/* A JR_ROW record: time, series, then the fields' bytes as held. */
static void encode_row(cm_buf *b, int64_t t, const char *series, const char *vals, size_t len)
{
    b->len = 0;
    cm_buf_u64(b, (uint64_t)t);
    cm_buf_str(b, series, strlen(series));
    cm_buf_str(b, vals, len);
}

/* The fields of a row, one after another, each with its NUL. */
static char *pack(const cm_live *l, const char *const *vals, size_t *len)
{
    size_t n = 0;
    for (size_t i = 0; i < l->nf; i++)
        n += strlen(vals[i]) + 1;
    char *p = malloc(n ? n : 1), *w = p;
    for (size_t i = 0; p && i < l->nf; i++) {
        size_t k = strlen(vals[i]) + 1;
        memcpy(w, vals[i], k);
        w += k;
    }
    *len = n;
    return p;
}

static void count(cm_live *l, live_fate f)
{
    switch (f) {
    case LIVE_NEW: atomic_fetch_add(&l->accepted, 1); break;
    case LIVE_LATE:
        atomic_fetch_add(&l->accepted, 1);
        atomic_fetch_add(&l->late, 1);
        break;
    case LIVE_REPLACED:
        atomic_fetch_add(&l->accepted, 1);
        atomic_fetch_add(&l->duplicate, 1);
        break;
    case LIVE_DROPPED: atomic_fetch_add(&l->duplicate, 1); break;
    default: break; /* refused: the caller counts those with the rest */
    }
}

cm_status cm_live_add(cm_live *l, const char *series_name, int64_t t, const char *const *vals,
                      live_fate *fate, uint64_t *mark, cm_error *err)
{
    size_t len;
    char *packed = pack(l, vals, &len);
    if (!packed)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    int full;
    live_series *s = series(l, series_name, 1, &full);
    cm_status st = CM_OK;
    if (!s) {
        *fate = LIVE_FULL;
        st = full ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    } else {
        pthread_mutex_lock(&s->lock);
        /* the row's bytes, read for the journal while the lock keeps the
         * row (place may have taken packed) */
        const char *bytes = packed;
        if (place(l, s, t, &packed, len, fate))
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
        /* journaled under the series' lock: the journal's order of a
         * series' rows is the order they were placed in */
        if (!st && l->j && (*fate == LIVE_NEW || *fate == LIVE_LATE || *fate == LIVE_REPLACED)) {
            cm_buf b = {0};
            encode_row(&b, t, series_name, bytes, len);
            st = b.oom ? cm_fail(err, CM_ERR_NOMEM, "out of memory")
                       : cm_journal_append(l->j, JR_ROW, b.data, b.len, mark, err);
            cm_buf_free(&b);
        }
        pthread_mutex_unlock(&s->lock);
    }
    pthread_rwlock_unlock(&l->table);
    free(packed);
    if (!st)
        count(l, *fate);
    return st;
}

cm_status cm_live_commit(cm_live *l, uint64_t mark, cm_error *err)
{
    return l->j && mark ? cm_journal_commit(l->j, mark, l->sync_every, err) : CM_OK;
}

void cm_live_rejected(cm_live *l, uint64_t n)
{
    atomic_fetch_add(&l->rejected, n);
}

int cm_live_drop(cm_live *l, const char *name, uint64_t *mark, cm_error *err)
{
    size_t at;
    pthread_rwlock_wrlock(&l->table);
    int found = find(l, name, &at);
    cm_status st = CM_OK;
    if (found) {
        unlink_series(l, at);
        if (l->j) {
            cm_buf b = {0};
            cm_buf_str(&b, name, strlen(name));
            st = b.oom ? cm_fail(err, CM_ERR_NOMEM, "out of memory")
                       : cm_journal_append(l->j, JR_DROP, b.data, b.len, mark, err);
            cm_buf_free(&b);
        }
    }
    pthread_rwlock_unlock(&l->table);
    return st ? -1 : found;
}

int cm_live_copy(cm_live *l, const char *name, live_copy *c, cm_error *err)
{
    size_t at;
    memset(c, 0, sizeof *c);
    c->nf = l->nf;
    pthread_rwlock_rdlock(&l->table);
    if (!find(l, name, &at)) {
        pthread_rwlock_unlock(&l->table);
        return 0;
    }
    live_series *s = l->ser[at];
    pthread_mutex_lock(&s->lock);
    size_t bytes = 0;
    for (size_t i = 0; i < s->n; i++)
        bytes += s->rows[i].len;
    c->n = s->n;
    c->t = malloc((s->n + 1) * sizeof *c->t);
    c->vals = malloc((s->n * l->nf + 1) * sizeof *c->vals);
    c->text = malloc(bytes + 1);
    if (c->t && c->vals && c->text) {
        char *w = c->text;
        for (size_t i = 0; i < s->n; i++) {
            c->t[i] = s->rows[i].t;
            memcpy(w, s->rows[i].vals, s->rows[i].len);
            for (size_t k = 0; k < l->nf; k++) {
                c->vals[i * l->nf + k] = w;
                w += strlen(w) + 1;
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
    pthread_rwlock_unlock(&l->table);
    if (!c->t || !c->vals || !c->text) {
        live_copy_free(c);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return -1;
    }
    return 1;
}

long cm_live_names(cm_live *l, char ***names)
{
    pthread_rwlock_rdlock(&l->table);
    size_t n = l->nser;
    char **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++)
        if (!(v[i] = cm_strdup(l->ser[i]->name))) {
            while (i--)
                free(v[i]);
            free(v);
            v = NULL;
        }
    pthread_rwlock_unlock(&l->table);
    *names = v;
    return v ? (long)n : -1;
}

void cm_live_counts(cm_live *l, live_counts *c)
{
    c->accepted = atomic_load(&l->accepted);
    c->late = atomic_load(&l->late);
    c->duplicate = atomic_load(&l->duplicate);
    c->rejected = atomic_load(&l->rejected);
    pthread_rwlock_rdlock(&l->table);
    c->series = l->nser;
    pthread_rwlock_unlock(&l->table);
    c->journal_bytes = l->j ? cm_journal_bytes(l->j) : 0;
}

void cm_live_fsyncs(cm_live *l, uint64_t *hist, double *sum)
{
    if (l->j)
        cm_journal_fsyncs(l->j, hist, sum);
}

/* ---- the journal ------------------------------------------------------------------- */

/* A record replayed: placed as when it was first posted. */
static cm_status replay(void *ctx, uint32_t type, const uint8_t *rec, size_t len,
                        cm_error *err)
{
    cm_live *l = ctx;
    cm_cursor c = {rec, rec + len, 0};
    if (type == JR_DROP) {
        char *name = cm_cur_str(&c, CM_MAX_NAME * 4, NULL);
        if (name) {
            size_t at;
            if (find(l, name, &at))
                unlink_series(l, at);
            free(name);
        }
        return c.bad || !name ? cm_fail(err, CM_ERR_CORRUPT, "a bad record") : CM_OK;
    }
    if (type != JR_ROW)
        return cm_fail(err, CM_ERR_CORRUPT, "a record of unknown type %u", type);
    int64_t t = (int64_t)cm_cur_u64(&c);
    char *name = cm_cur_str(&c, CM_MAX_NAME * 4, NULL);
    uint32_t vlen = name ? cm_cur_u32(&c) : 0;
    const char *vals = name ? (const char *)cm_cur_bytes(&c, vlen) : NULL;
    char *own = NULL;
    /* the copies read nf strings: exactly nf NULs, the last at the end */
    size_t nuls = 0;
    for (uint32_t i = 0; vals && i < vlen; i++)
        nuls += !vals[i];
    cm_status st = CM_OK;
    if (c.bad || (name && (!vals || nuls != l->nf || (vlen && vals[vlen - 1])))) {
        st = cm_fail(err, CM_ERR_CORRUPT, "a bad record");
    } else if (!name || !(own = malloc(vlen ? vlen : 1))) {
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    } else {
        memcpy(own, vals, vlen);
        int full;
        /* what was acknowledged stays, even past a lower --max-series */
        live_series *s = series(l, name, 0, &full);
        live_fate fate;
        if (s && place(l, s, t, &own, vlen, &fate))
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
        pthread_rwlock_unlock(&l->table);
    }
    free(own);
    free(name);
    return st;
}

static cm_status rewrite(void *ctx, cm_journal *out, cm_error *err)
{
    cm_live *l = ctx;
    cm_buf b = {0};
    uint64_t mark;
    cm_status st = CM_OK;
    for (size_t k = 0; !st && k < l->nser; k++)
        for (size_t i = 0; !st && i < l->ser[k]->n; i++) {
            const live_row *r = &l->ser[k]->rows[i];
            encode_row(&b, r->t, l->ser[k]->name, r->vals, r->len);
            st = b.oom ? cm_fail(err, CM_ERR_NOMEM, "out of memory")
                       : cm_journal_append(out, JR_ROW, b.data, b.len, &mark, err);
        }
    cm_buf_free(&b);
    return st;
}

void cm_live_tick(cm_live *l, char *note, size_t noten)
{
    note[0] = '\0';
    if (!l->j)
        return;
    if (!l->sync_every)
        cm_journal_sync(l->j);
    if (!cm_journal_wants_compaction(l->j))
        return;
    cm_error err;
    cm_error_clear(&err);
    pthread_rwlock_wrlock(&l->table);
    if (cm_journal_compact(l->j, rewrite, l, &err))
        snprintf(note, noten, "the journal could not be rewritten: %s", err.msg);
    pthread_rwlock_unlock(&l->table);
}

/* ---- a model's history ------------------------------------------------------------- */

/* The raw fields of p's clean step as a JR_FIELDS payload. */
static int signature(cm_predictor *p, cm_buf *b, size_t *nf)
{
    const cm_clean_plan *plan = cm_predictor_clean_plan(p);
    const char *name, *kind;
    *nf = 0;
    while (plan && cm_clean_plan_field(plan, *nf, &name, &kind)) {
        cm_buf_put(b, name, strlen(name) + 1);
        cm_buf_put(b, kind, strlen(kind) + 1);
        ++*nf;
    }
    return b->oom ? -1 : 0;
}

/* How far back a forecast of p looks: the steps it needs of a series'
 * history (at least 1) and a step's seconds into l; into *secs that
 * span, or --keep's when longer.  *model set when the fault is the
 * model's (it cannot forecast), not --keep's. */
static cm_status look_back(cm_live *l, cm_predictor *p, const char *keep, int64_t *secs,
                           int *model, cm_error *err)
{
    *model = 1;
    cm_forecast_opts o = {.horizon = 1};
    cm_forecaster *fc = cm_forecaster_new(p, &o, err);
    int64_t span;
    uint64_t rows;
    cm_step step;
    int64_t need;
    cm_status st = fc ? cm_forecast_reach(fc, &span, &rows, &need, err) : err->status;
    if (!st)
        st = cm_forecast_step(fc, &step, err);
    cm_forecaster_free(fc);
    if (st)
        return st;
    /* a step's length at its longest (a day of summer time's end, a
     * month of 31 days): the span kept is never short */
    int64_t each = cm_step_longest(step);
    *secs = span > 0 ? span : 0;
    if ((int64_t)rows * each > *secs)
        *secs = (int64_t)rows * each;
    l->step = step;
    l->need = need;
    int64_t k;
    *model = 0;
    if (keep) {
        if (cm_steps_of("--keep", keep, step, CM_STEPS_MAX, &k, err))
            return err->status;
        if (k * each > *secs)
            *secs = k * each;
    }
    return CM_OK;
}

cm_live *cm_live_open(const char *name, cm_predictor *p, const cm_live_opts *o, char *note,
                      size_t noten, cm_error *err)
{
    note[0] = '\0';
    cm_live *l = calloc(1, sizeof *l);
    cm_buf sig = {0};
    if (!l || signature(p, &sig, &l->nf) || !(l->fields = calloc(l->nf + 1, sizeof *l->fields))) {
        cm_buf_free(&sig);
        free(l);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    l->sig = sig.data;
    l->nsig = sig.len;
    atomic_init(&l->refs, 1);
    pthread_rwlock_init(&l->table, NULL);
    const char *w = (const char *)l->sig;
    for (size_t i = 0; i < l->nf; i++) {
        l->fields[i] = w;
        w += strlen(w) + 1;
        w += strlen(w) + 1;
    }
    l->dedupe = cm_clean_plan_dedupe(cm_predictor_clean_plan(p));
    l->max_series = o->max_series;
    l->sync_every = o->sync_every;
    int model;
    if (look_back(l, p, o->keep, &l->keep, &model, err)) {
        if (!model || !(l->cannot = cm_strdup(err->msg))) {
            cm_live_release(l);
            return NULL;
        }
        cm_error_clear(err);
    }
    if (o->state) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.journal", o->state, name);
        if (!(l->j = cm_journal_open(path, l->sig, l->nsig, replay, l, note, noten, err))) {
            cm_live_release(l);
            return NULL;
        }
    }
    return l;
}

void cm_live_hold(cm_live *l)
{
    atomic_fetch_add(&l->refs, 1);
}

void cm_live_release(cm_live *l)
{
    if (!l || atomic_fetch_sub(&l->refs, 1) != 1)
        return;
    cm_journal_free(l->j);
    for (size_t i = 0; i < l->nser; i++)
        series_free(l->ser[i]);
    free(l->ser);
    pthread_rwlock_destroy(&l->table);
    free(l->fields);
    free(l->cannot);
    free(l->sig);
    free(l);
}

int cm_live_fits(cm_live *l, cm_predictor *p, char *why, size_t whyn)
{
    cm_buf sig = {0};
    size_t nf;
    int same = !signature(p, &sig, &nf) && sig.len == l->nsig && !memcmp(sig.data, l->sig, sig.len);
    cm_buf_free(&sig);
    if (!same) {
        snprintf(why, whyn, "the new version reads other raw fields");
        return 0;
    }
    cm_error err;
    cm_error_clear(&err);
    /* the newest version's rules from now on; the history kept grows to
     * its look-back, and never shrinks */
    int64_t secs;
    int model;
    pthread_rwlock_wrlock(&l->table);
    l->dedupe = cm_clean_plan_dedupe(cm_predictor_clean_plan(p));
    free(l->cannot);
    l->cannot = NULL;
    if (look_back(l, p, NULL, &secs, &model, &err))
        l->cannot = cm_strdup(err.msg);
    else if (secs > l->keep)
        l->keep = secs;
    pthread_rwlock_unlock(&l->table);
    return 1;
}

int cm_live_cannot(cm_live *l, char *why, size_t n)
{
    pthread_rwlock_rdlock(&l->table);
    int cannot = l->cannot != NULL;
    if (cannot)
        snprintf(why, n, "no forecast of this model can use a history: %s", l->cannot);
    pthread_rwlock_unlock(&l->table);
    return cannot;
}

int64_t cm_live_need(cm_live *l)
{
    pthread_rwlock_rdlock(&l->table);
    int64_t need = l->need;
    pthread_rwlock_unlock(&l->table);
    return need;
}

int64_t cm_live_missing(cm_live *l, const live_copy *c)
{
    pthread_rwlock_rdlock(&l->table);
    int64_t need = l->need;
    cm_step step = l->step;
    pthread_rwlock_unlock(&l->table);
    int64_t have = c->n ? cm_step_between(step, c->t[0], c->t[c->n - 1]) + 1 : 0;
    return have >= need ? 0 : need - have;
}

const char *const *cm_live_fields(const cm_live *l)
{
    return l->fields;
}
