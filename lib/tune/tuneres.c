/* tuneres.c - the results file of a search: one tab-separated line per
 * finished trial, written and flushed as it finishes, so that `tail -f`
 * follows it and a crash loses only the trials in flight.  Each line
 * carries the fingerprints of its data and of its search, so a resumed
 * run or a merge of shards can refuse lines that answer another question.
 *
 *   trial  PARAM...  M_fold1 ... M_foldK  M_mean  M_std  seconds  data  setup  fixed  error
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tune/cm_tune.h"

/* Text as one TSV field: tabs and line ends would split it. */
static void put_field(FILE *f, const char *s)
{
    for (; s && *s; s++)
        putc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static void put_num(FILE *f, double v)
{
    char buf[40];
    cm_fmt_f64(buf, sizeof buf, v);
    fputs(buf, f);
}

void cm_results_header(FILE *f, const cm_space *s, size_t k, const char *metric)
{
    fputs("trial", f);
    for (size_t j = 0; j < cm_space_params(s); j++)
        fprintf(f, "\t%s", cm_space_key(s, j));
    for (size_t i = 0; i < k; i++)
        fprintf(f, "\t%s_fold%zu", metric, i + 1);
    fprintf(f, "\t%s_mean\t%s_std\tseconds\tdata\tsetup\tfixed\terror\n", metric, metric);
}

void cm_results_line(FILE *f, const cm_space *s, const cm_trial_result *r,
                     const char *data, const char *setup, const char *fixed)
{
    fprintf(f, "%zu", r->trial + 1);
    for (size_t j = 0; j < cm_space_params(s); j++) {
        putc('\t', f);
        put_field(f, cm_space_value(s, r->trial, j));
    }
    for (size_t i = 0; i < r->nfolds; i++) {
        putc('\t', f);
        put_num(f, r->scores[i]);
    }
    putc('\t', f);
    put_num(f, r->mean);
    putc('\t', f);
    put_num(f, r->std);
    fprintf(f, "\t%.3f\t%s\t%s\t", r->seconds, data, setup);
    put_field(f, fixed);
    putc('\t', f);
    put_field(f, r->error);
    putc('\n', f);
}

/* ---- reading them back ----------------------------------------------------- */

typedef struct line {
    char **field;
    size_t trial;
    double mean, std;
} line;

struct cm_results {
    char **col;
    size_t ncol, nparams, nlines;
    line *l;
    char *data, *setup;
    char metric[16];
};

static void free_fields(char **f, size_t n)
{
    for (size_t i = 0; f && i < n; i++)
        free(f[i]);
    free(f);
}

void cm_results_free(cm_results *r)
{
    if (!r)
        return;
    free_fields(r->col, r->ncol);
    for (size_t i = 0; i < r->nlines; i++)
        free_fields(r->l[i].field, r->ncol);
    free(r->l);
    free(r);
}

/* A line split on tabs; NULL when out of memory. */
static char **split(const char *s, size_t *n)
{
    size_t k = 1;
    for (const char *p = s; *p; p++)
        k += *p == '\t';
    char **f = calloc(k, sizeof *f);
    for (size_t i = 0; f && i < k; i++) {
        size_t len = strcspn(s, "\t");
        if (!(f[i] = malloc(len + 1))) {
            free_fields(f, i);
            return NULL;
        }
        memcpy(f[i], s, len);
        f[i][len] = '\0';
        s += len + (s[len] == '\t');
    }
    *n = k;
    return f;
}

static long column(const cm_results *r, const char *suffix_or_name, int suffix)
{
    size_t n = strlen(suffix_or_name);
    for (size_t i = 0; i < r->ncol; i++) {
        size_t m = strlen(r->col[i]);
        if (suffix ? m > n && !strcmp(r->col[i] + m - n, suffix_or_name)
                   : !strcmp(r->col[i], suffix_or_name))
            return (long)i;
    }
    return -1;
}

static cm_status read_file(cm_results *r, FILE *f, const char *name, cm_error *err)
{
    char *buf = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    cm_status st = CM_OK;
    while (!st && (got = getline(&buf, &cap, f)) >= 0) {
        lineno++;
        if (got == 0 || buf[got - 1] != '\n')
            break; /* cut short by a crash: the trial is run again */
        buf[got - 1] = '\0';
        size_t n;
        char **fields = split(buf, &n);
        if (!fields) {
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
            break;
        }
        if (lineno == 1) {
            int same = !r->col || n == r->ncol;
            for (size_t i = 0; same && r->col && i < n; i++)
                same = !strcmp(fields[i], r->col[i]);
            if (!same) {
                free_fields(fields, n);
                st = cm_fail(err, CM_ERR_DATA, "%s: other columns than the other results "
                             "(another search?)", name);
            } else if (r->col) {
                free_fields(fields, n);
            } else {
                r->col = fields;
                r->ncol = n;
                if (column(r, "trial", 0) != 0 || column(r, "_mean", 1) < 0 ||
                    column(r, "data", 0) < 0 || column(r, "setup", 0) < 0 ||
                    column(r, "fixed", 0) < 0)
                    st = cm_fail(err, CM_ERR_DATA, "%s: not a cm-tune results file", name);
            }
            continue;
        }
        if (n != r->ncol) {
            free_fields(fields, n);
            st = cm_fail(err, CM_ERR_DATA, "%s:%zu: %zu fields where the header has %zu",
                         name, lineno, n, r->ncol);
            break;
        }
        line *l = realloc(r->l, (r->nlines + 1) * sizeof *l);
        if (!l) {
            free_fields(fields, n);
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
            break;
        }
        r->l = l;
        line *x = &r->l[r->nlines++];
        x->field = fields;
        x->trial = strtoull(fields[0], NULL, 10);
        if (column(r, "_std", 1) < 0) {
            st = cm_fail(err, CM_ERR_DATA, "%s: not a cm-tune results file", name);
            break;
        }
        x->mean = strtod(fields[column(r, "_mean", 1)], NULL);
        x->std = strtod(fields[column(r, "_std", 1)], NULL);
    }
    free(buf);
    if (!st && ferror(f))
        st = cm_fail_sys(err, errno, "%s: read failed", name);
    if (!st && !r->col)
        st = cm_fail(err, CM_ERR_DATA, "%s: empty, not a results file", name);
    return st;
}

cm_results *cm_results_read(FILE **files, const char *const *names, size_t n, cm_error *err)
{
    cm_results *r = calloc(1, sizeof *r);
    cm_status st = r ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < n; i++) {
        st = read_file(r, files[i], names[i], err);
    }
    if (!st) {
        const char *mc = r->col[column(r, "_mean", 1)];
        snprintf(r->metric, sizeof r->metric, "%.*s", (int)(strlen(mc) - 5), mc);
        long fold1 = column(r, "_fold1", 1);
        r->nparams = fold1 > 0 ? (size_t)fold1 - 1 : 0;
        long dc = column(r, "data", 0), sc = column(r, "setup", 0);
        for (size_t i = 0; !st && i < r->nlines; i++) {
            const char *d = r->l[i].field[dc], *s = r->l[i].field[sc];
            if (!r->data) {
                r->data = r->l[i].field[dc];
                r->setup = r->l[i].field[sc];
            } else if (strcmp(d, r->data) || strcmp(s, r->setup)) {
                st = cm_fail(err, CM_ERR_DATA, "trial %zu: results of other data or of "
                             "another search (data %s, setup %s; %s and %s before)",
                             r->l[i].trial, d, s, r->data, r->setup);
            }
        }
    }
    if (st) {
        cm_results_free(r);
        return NULL;
    }
    return r;
}

size_t cm_results_count(const cm_results *r) { return r->nlines; }
const char *cm_results_metric(const cm_results *r) { return r->metric; }
const char *cm_results_data(const cm_results *r) { return r->data; }
const char *cm_results_setup(const cm_results *r) { return r->setup; }
size_t cm_results_params(const cm_results *r) { return r->nparams; }
const char *cm_results_key(const cm_results *r, size_t j) { return r->col[1 + j]; }
const char *cm_results_value(const cm_results *r, size_t i, size_t j)
{
    return r->l[i].field[1 + j];
}
size_t cm_results_trial(const cm_results *r, size_t i) { return r->l[i].trial; }
double cm_results_mean(const cm_results *r, size_t i) { return r->l[i].mean; }
double cm_results_std(const cm_results *r, size_t i) { return r->l[i].std; }
const char *cm_results_fixed(const cm_results *r, size_t i)
{
    return r->l[i].field[column(r, "fixed", 0)];
}

/* The best line: lowest mean (highest for R²), ties to the lower trial
 * number, so that shards merged pick what one run would; -1 if none. */
long cm_results_best(const cm_results *r, int higher_better)
{
    long best = -1;
    for (size_t i = 0; i < r->nlines; i++) {
        double m = r->l[i].mean;
        if (isnan(m))
            continue;
        if (best < 0)
            best = (long)i;
        double b = r->l[best].mean;
        if ((higher_better ? m > b : m < b) ||
            (m == b && r->l[i].trial < r->l[best].trial))
            best = (long)i;
    }
    return best;
}

/* Whether trial i of s has a line already: its number (random draws may
 * repeat values) and its values. */
int cm_results_has(const cm_results *r, const cm_space *s, size_t i)
{
    if (!r || r->nparams != cm_space_params(s))
        return 0;
    for (size_t l = 0; l < r->nlines; l++) {
        int same = r->l[l].trial == i + 1;
        for (size_t j = 0; same && j < r->nparams; j++)
            same = !strcmp(r->l[l].field[1 + j], cm_space_value(s, i, j));
        if (same)
            return 1;
    }
    return 0;
}
