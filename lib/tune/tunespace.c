/* tunespace.c - what cm-tune searches: a grid (every combination of the
 * listed values) or N random draws from ranges and choices, as a list of
 * trials in a fixed order, each checked by cm-train's own settings reader
 * before any work starts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tune/cm_tune.h"

/* One searched setting: its values (grid, choices) or its range. */
typedef struct param {
    char *key;
    char **values;
    size_t nvalues;
    int range, log, whole; /* range: lo:hi[:log]; whole: integer ends */
    double lo, hi;
} param;

struct cm_space {
    param *p;
    size_t np;
    size_t ntrials;
    char ***trial; /* trial[i][j]: value of param j in trial i */
};

void cm_space_free(cm_space *s)
{
    if (!s)
        return;
    for (size_t j = 0; j < s->np; j++) {
        free(s->p[j].key);
        for (size_t k = 0; k < s->p[j].nvalues; k++)
            free(s->p[j].values[k]);
        free(s->p[j].values);
    }
    for (size_t i = 0; s->trial && i < s->ntrials; i++) {
        for (size_t j = 0; s->trial[i] && j < s->np; j++)
            free(s->trial[i][j]);
        free(s->trial[i]);
    }
    free(s->trial);
    free(s->p);
    free(s);
}


/* Settings that choose the data or the machine, not the model, are
 * not searched. */
static int searchable(const char *k)
{
    const char *part;
    const cm_setting *s = cm_settings_find(&cm_train_settings, k, &part);
    return !s || !(s->flags & CM_SET_FIXED);
}

/* "lr=0.1,0.01" or "layers=32|64,64": values split on '|' when there is
 * one (a layer list has commas of its own), on ',' otherwise. */
static cm_status parse_param(param *p, const char *item, size_t n, int random,
                             cm_error *err)
{
    const char *eq = memchr(item, '=', n);
    if (!eq || eq == item || eq + 1 == item + n)
        return cm_fail(err, CM_ERR_ARG, "'%.*s' is not NAME=VALUES", (int)n, item);
    if (!(p->key = cm_strndup(item, (size_t)(eq - item))))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!searchable(p->key))
        return cm_fail(err, CM_ERR_ARG, "%s: not a setting to search (it chooses the data or "
                       "the machine, not the model)",
                       p->key);
    const char *v = eq + 1, *end = item + n;
    size_t vn = (size_t)(end - v);
    if (random && memchr(v, ':', vn)) {
        char buf[128], *e1, *e2;
        snprintf(buf, sizeof buf, "%.*s", (int)vn, v);
        p->range = 1;
        p->lo = strtod(buf, &e1);
        p->hi = *e1 == ':' ? strtod(e1 + 1, &e2) : 0;
        p->log = *e1 == ':' && !strcmp(e2, ":log");
        if (*e1 != ':' || (*e2 && !p->log) || !(p->lo < p->hi) || (p->log && p->lo <= 0))
            return cm_fail(err, CM_ERR_ARG, "%s: '%s' is not a range LOW:HIGH or "
                           "LOW:HIGH:log with LOW < HIGH", p->key, buf);
        p->whole = p->lo == floor(p->lo) && p->hi == floor(p->hi) && !strchr(buf, '.') &&
                   !strchr(buf, 'e');
        return CM_OK;
    }
    char sep = memchr(v, '|', vn) ? '|' : ',';
    for (const char *q = v; q <= end;) {
        const char *stop = memchr(q, sep, (size_t)(end - q));
        if (!stop)
            stop = end;
        if (stop == q)
            return cm_fail(err, CM_ERR_ARG, "%s: an empty value", p->key);
        char **vals = realloc(p->values, (p->nvalues + 1) * sizeof *vals);
        if (!vals)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        p->values = vals;
        if (!(vals[p->nvalues] = cm_strndup(q, (size_t)(stop - q))))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        p->nvalues++;
        q = stop + 1;
    }
    return CM_OK;
}

static cm_status parse_spec(cm_space *s, const char *spec, int random, cm_error *err)
{
    for (const char *q = spec; *q;) {
        q += strspn(q, " \t\n");
        size_t n = strcspn(q, " \t\n");
        if (!n)
            break;
        param *p = realloc(s->p, (s->np + 1) * sizeof *p);
        if (!p)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        s->p = p;
        memset(&s->p[s->np], 0, sizeof *s->p);
        s->np++;
        cm_status st = parse_param(&s->p[s->np - 1], q, n, random, err);
        if (st)
            return st;
        for (size_t j = 0; j + 1 < s->np; j++)
            if (!strcmp(s->p[j].key, s->p[s->np - 1].key))
                return cm_fail(err, CM_ERR_ARG, "%s: searched twice", s->p[j].key);
        q += n;
    }
    if (s->np == 0)
        return cm_fail(err, CM_ERR_ARG, "an empty search: give NAME=VALUES,...");
    return CM_OK;
}

static cm_status add_trial(cm_space *s, size_t i, cm_error *err)
{
    if (!(s->trial[i] = calloc(s->np, sizeof **s->trial)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    return CM_OK;
}

/* A drawn number, printed so that it reads back to itself. */
static char *draw(const param *p, cm_rng *rng)
{
    char buf[40];
    double u = cm_rng_unit(rng);
    if (p->nvalues) {
        size_t k = (size_t)cm_rng_below(rng, p->nvalues);
        return cm_strndup(p->values[k], strlen(p->values[k]));
    }
    double x = p->log ? exp(log(p->lo) + u * (log(p->hi) - log(p->lo)))
                      : p->lo + u * (p->hi - p->lo);
    if (p->whole && p->log) /* log-uniform, then the nearest whole number */
        snprintf(buf, sizeof buf, "%.0f", fmin(p->hi, fmax(p->lo, floor(x + 0.5))));
    else if (p->whole)
        snprintf(buf, sizeof buf, "%.0f", fmin(p->hi, floor(p->lo + u * (p->hi - p->lo + 1))));
    else
        cm_fmt_f64(buf, sizeof buf, x);
    return cm_strndup(buf, strlen(buf));
}

cm_space *cm_space_new(const char *grid, const char *random, size_t ndraws, uint64_t seed,
                       cm_error *err)
{
    cm_space *s = calloc(1, sizeof *s);
    cm_status st = s ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st && !!grid == !!random)
        st = cm_fail(err, CM_ERR_ARG, "give either a grid or a random search");
    if (!st)
        st = parse_spec(s, grid ? grid : random, !grid, err);
    if (!st && grid) {
        double n = 1;
        for (size_t j = 0; j < s->np; j++)
            n *= (double)s->p[j].nvalues;
        if (n > 1e6)
            st = cm_fail(err, CM_ERR_ARG, "a grid of %.0f trials is too many (at most "
                         "a million)", n);
        s->ntrials = (size_t)n;
    } else if (!st) {
        if (ndraws == 0 || ndraws > 1000000)
            st = cm_fail(err, CM_ERR_ARG, "random: from 1 to a million trials");
        s->ntrials = ndraws;
    }
    if (!st && !(s->trial = calloc(s->ntrials, sizeof *s->trial)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    cm_rng rng;
    cm_rng_seed(&rng, seed);
    /* The grid in odometer order, the last setting changing fastest. */
    for (size_t i = 0; !st && i < s->ntrials; i++) {
        st = add_trial(s, i, err);
        for (size_t j = s->np, rest = i; !st && j-- > 0;) {
            const param *p = &s->p[j];
            char *v;
            if (grid) {
                v = cm_strndup(p->values[rest % p->nvalues], strlen(p->values[rest % p->nvalues]));
                rest /= p->nvalues;
            } else {
                v = NULL;
            }
            s->trial[i][j] = v;
            if (grid && !v)
                st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
        }
        for (size_t j = 0; !st && !grid && j < s->np; j++)
            if (!(s->trial[i][j] = draw(&s->p[j], &rng)))
                st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    if (st) {
        cm_space_free(s);
        return NULL;
    }
    return s;
}

size_t cm_space_trials(const cm_space *s) { return s->ntrials; }
size_t cm_space_params(const cm_space *s) { return s->np; }
const char *cm_space_key(const cm_space *s, size_t j) { return s->p[j].key; }
const char *cm_space_value(const cm_space *s, size_t i, size_t j) { return s->trial[i][j]; }

cm_status cm_space_settings(const cm_space *s, size_t i, const cm_kv *fixed, cm_kv *out,
                            cm_error *err)
{
    cm_status st = cm_kv_copy(out, fixed, err);
    for (size_t j = 0; !st && j < s->np; j++)
        st = cm_kv_set(out, s->p[j].key, s->trial[i][j], err);
    return st;
}

cm_status cm_space_check(const cm_space *s, const cm_kv *fixed, cm_error *err)
{
    cm_kv *set = cm_kv_new();
    cm_status st = set ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < s->ntrials; i++) {
        cm_kv_clear(set);
        st = cm_space_settings(s, i, fixed, set, err);
        if (!st && (st = cm_train_check(set, err))) {
            /* name the trial, so the grid can be mended */
            char msg[sizeof err->msg], who[256] = "";
            snprintf(msg, sizeof msg, "%s", err->msg);
            size_t k = 0;
            for (size_t j = 0; j < s->np && k < sizeof who; j++)
                k += (size_t)snprintf(who + k, sizeof who - k, "%s%s=%s", j ? " " : "",
                                      s->p[j].key, s->trial[i][j]);
            cm_fail(err, st, "trial %zu (%s): %s", i + 1, who, msg);
        }
    }
    cm_kv_free(set);
    return st;
}
