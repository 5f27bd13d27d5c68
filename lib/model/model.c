/* model.c - a trained model at work: its parts, forecasts for rows, and
 * describing itself. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "model/model.h"

void cm_model_free(cm_model *m)
{
    if (!m)
        return;
    cm_encoder_release(&m->enc);
    cm_schema_free(m->schema);
    cm_kv_free(m->meta);
    if (m->kind && m->net)
        m->kind->free(m->net);
    free(m);
}

cm_model *cm_model_new(cm_schema *schema, cm_encoder *enc, const cm_kind *k, void *net,
                       cm_error *err)
{
    cm_model *m = calloc(1, sizeof *m);
    if (m) {
        m->enc = *enc;
        *enc = (cm_encoder){0};
        m->schema = schema;
        m->kind = k;
        m->net = net;
        m->major = MODEL_MAJOR_OF(m->enc.nout, k);
        m->minor = MODEL_MINOR_OF(m->enc.nout, k);
        m->enc.raw = k->raw;
    }
    if (!m || !(m->meta = cm_kv_new())) {
        if (!m) {
            cm_encoder_release(enc);
            cm_schema_free(schema);
            if (k && net)
                k->free(net);
        }
        cm_model_free(m);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return m;
}

const cm_kv *cm_model_meta(const cm_model *m) { return m->meta; }
cm_kv *cm_model_meta_edit(cm_model *m) { return m->meta; }
const cm_schema *cm_model_schema(const cm_model *m) { return m->schema; }
const char *cm_model_target(const cm_model *m) { return m->enc.target; }
size_t cm_model_ninputs(const cm_model *m) { return m->enc.nf; }
const char *cm_model_input(const cm_model *m, size_t i) { return m->enc.f[i].name; }
const cm_encoder *cm_model_encoder(const cm_model *m) { return &m->enc; }
const cm_kind *cm_model_kind(const cm_model *m) { return m->kind; }

size_t cm_model_window(const cm_model *m, size_t *channels)
{
    const cm_seqnet *n = m->kind->seq ? m->net : NULL;
    *channels = n ? n->channels : 0;
    return n ? n->window : 0;
}
const void *cm_model_net(const cm_model *m) { return m->net; }

int cm_model_needs(const cm_model *m, const char *name)
{
    for (size_t i = 0; i < m->enc.nf; i++)
        if (!strcmp(m->enc.f[i].name, name))
            return 1;
    return 0;
}

size_t cm_model_categories(const cm_model *m, const char *name)
{
    for (size_t i = 0; i < m->enc.nf; i++)
        if (m->enc.f[i].cat && !strcmp(m->enc.f[i].name, name))
            return m->enc.f[i].ncats;
    return 0;
}

long cm_model_input_index(const cm_model *m, const char *name)
{
    for (size_t i = 0; i < m->enc.nf; i++)
        if (!strcmp(m->enc.f[i].name, name))
            return (long)i;
    return -1;
}

int cm_model_seen(const cm_model *m, size_t k, double *lo, double *hi)
{
    const cm_feature *f = &m->enc.f[k];
    *lo = f->lo;
    *hi = f->hi;
    return !f->cat && f->lo <= f->hi;
}

cm_status cm_model_far(const cm_model *m, const cm_schema *s, const cm_batch *b,
                       size_t *far, cm_error *err)
{
    size_t n = cm_batch_nrows(b);
    long *cols = malloc((m->enc.nf + 1) * sizeof *cols);
    if (!cols)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    cm_status st = cm_encoder_bind(&m->enc, s, cols, err);
    for (size_t i = 0; i < n; i++)
        far[i] = 0;
    for (size_t k = 0; !st && k < m->enc.nf; k++) {
        const cm_feature *f = &m->enc.f[k];
        if (f->cat || !(f->lo <= f->hi))
            continue;
        double span = f->hi - f->lo, lo = f->lo - span, hi = f->hi + span;
        size_t c = (size_t)cols[k];
        const uint8_t *ok = cm_batch_valid_c(b, c);
        const void *v = cm_batch_values_c(b, c);
        cm_dtype t = cm_schema_dtype(s, c);
        for (size_t i = 0; i < n; i++) {
            if (far[i] || !ok[i])
                continue;
            double x = cm_cell_f64(v, t, i);
            if (x < lo || x > hi)
                far[i] = k + 1;
        }
    }
    free(cols);
    return st;
}

/* ---- forecasts ------------------------------------------------------------- */

size_t cm_model_scratch(const cm_model *m, size_t batch)
{
    size_t n = m->kind->scratch(m->net, batch);
    return n ? n : 1;
}

void cm_model_forward(const cm_model *m, size_t batch, const float *x, double *y,
                      float *scratch)
{
    m->kind->forward(m->net, batch, x, y, scratch);
    for (size_t i = 0; i < batch * m->enc.nout; i++)
        y[i] = y[i] * m->enc.tsd + m->enc.tmean;
}

/* Rows encoded at once, their forward pass one product per layer: a
 * row's forecast has the same bits however many share the pass (each
 * output sums over its inputs in one order). */
#define CHUNK 64

size_t cm_model_horizon(const cm_model *m)
{
    return m->enc.nout;
}

/* A run of rows [lo, hi) of a batch, and what predicting them gave. */
typedef struct part {
    const cm_model *m;
    const cm_schema *s;
    const cm_batch *b;
    double *pred;
    int all;
    uint8_t *ok;
    size_t *why;
    uint64_t unseen;
    size_t lo, hi;
    cm_status st;
    cm_error err;
} part;

/* Every output of each row of the part into pred[i * nout ..] (all), or
 * the first. */
static cm_status predict_part(part *pt)
{
    const cm_model *m = pt->m;
    const cm_schema *s = pt->s;
    double *pred = pt->pred;
    uint8_t *ok = pt->ok;
    size_t *why = pt->why;
    uint64_t *unseen = &pt->unseen;
    cm_error *err = &pt->err;
    int all = pt->all;
    size_t n = pt->hi, w = m->enc.width ? m->enc.width : 1, nf = m->enc.nf + 1;
    size_t nout = m->enc.nout, keep = all ? nout : 1;
    /* room for no more rows than the part has: a forecast predicts one
     * row a step, and a sequence network's scratch for a whole chunk is
     * megabytes, which malloc maps and the kernel zeroes at every call */
    size_t chunk = pt->hi - pt->lo < CHUNK ? pt->hi - pt->lo : CHUNK;
    double *num = malloc(nf * sizeof *num), *y = malloc((chunk * nout + 1) * sizeof *y);
    uint32_t *cat = malloc(nf * sizeof *cat);
    float *x = malloc((chunk * w + 1) * sizeof *x);
    float *scratch = malloc((cm_model_scratch(m, chunk) + 1) * sizeof *scratch);
    size_t rows[CHUNK], k = 0;
    cm_enc_bind bd;
    cm_status st = cm_enc_bind_init(&bd, &m->enc, s, pt->hi - pt->lo, err);
    if (!st && !(num && cat && x && scratch && y))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    const cm_ccols in = cm_batch_ccols(pt->b);
    for (size_t i = pt->lo; !st && i < n; i++) {
        size_t which;
        ok[i] = cm_encoder_row(&m->enc, m->schema, s, &bd, &in, i, num, cat, x + k * w,
                               &which, unseen) == 0;
        for (size_t o = 0; o < keep; o++)
            pred[i * keep + o] = 0;
        if (why)
            why[i] = ok[i] ? SIZE_MAX : which;
        if (ok[i])
            rows[k++] = i;
        if (k == chunk || (k && i + 1 == n)) {
            cm_model_forward(m, k, x, y, scratch);
            for (size_t r = 0; r < k; r++)
                for (size_t o = 0; o < keep; o++)
                    pred[rows[r] * keep + o] = y[r * nout + o];
            k = 0;
        }
    }
    cm_enc_bind_release(&bd, &m->enc);
    free(num);
    free(y);
    free(cat);
    free(x);
    free(scratch);
    return st;
}

static void *run_part(void *arg)
{
    part *pt = arg;
    pt->st = predict_part(pt);
    return NULL;
}

/* The least work for a thread, in multiply-adds (about 0.2 ms): below
 * it, starting one costs more than it saves. */
#define PART_WORK 1000000
#define MAX_PARTS 16

/* The rows split among the model's threads, each run of rows whole to
 * one: a row's forecast is the same whichever thread makes it. */
static cm_status predict(const cm_model *m, const cm_schema *s, const cm_batch *b,
                         double *pred, int all, uint8_t *ok, size_t *why, uint64_t *unseen,
                         cm_error *err)
{
    size_t n = cm_batch_nrows(b), parts = m->threads > 1 ? (size_t)m->threads : 1;
    size_t work = n * (m->kind->cost(m->net) + m->enc.nf); /* the encoding too */
    parts = parts < work / PART_WORK ? parts : work / PART_WORK;
    parts = parts < MAX_PARTS ? parts : MAX_PARTS;
    parts = parts ? parts : 1;
    part p[MAX_PARTS];
    pthread_t tid[MAX_PARTS];
    int started[MAX_PARTS] = {0};
    for (size_t t = 0; t < parts; t++)
        p[t] = (part){m, s, b, pred, all, ok, why, 0, n * t / parts, n * (t + 1) / parts,
                      CM_OK, {0}};
    /* a thread that cannot start leaves its rows to this one */
    for (size_t t = 1; t < parts; t++)
        if (!(started[t] = pthread_create(&tid[t], NULL, run_part, &p[t]) == 0))
            run_part(&p[t]);
    run_part(&p[0]);
    cm_status st = CM_OK;
    for (size_t t = 0; t < parts; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        if (unseen)
            *unseen += p[t].unseen;
        if (!st && p[t].st) {
            st = p[t].st;
            *err = p[t].err;
        }
    }
    return st;
}

void cm_model_set_threads(cm_model *m, int threads)
{
    m->threads = threads > 0 ? threads : 1;
}

cm_status cm_model_predict(const cm_model *m, const cm_schema *s, const cm_batch *b,
                           double *pred, uint8_t *ok, size_t *why, uint64_t *unseen,
                           cm_error *err)
{
    return predict(m, s, b, pred, 0, ok, why, unseen, err);
}

cm_status cm_model_predict_ahead(const cm_model *m, const cm_schema *s, const cm_batch *b,
                                 double *pred, uint8_t *ok, size_t *why, uint64_t *unseen,
                                 cm_error *err)
{
    return predict(m, s, b, pred, 1, ok, why, unseen, err);
}

/* ---- describing ---------------------------------------------------------------- */

int cm_model_meta_listed(const char *key)
{
    return strncmp(key, "seen.", 5) != 0; /* shown with each input */
}

void cm_model_describe_meta(const cm_model *m, FILE *out)
{
    fputs("metadata:\n", out);
    for (size_t i = 0; i < cm_kv_count(m->meta); i++)
        if (cm_model_meta_listed(cm_kv_key(m->meta, i)))
            fprintf(out, "  %s=%s\n", cm_kv_key(m->meta, i), cm_kv_value(m->meta, i));
}

void cm_model_describe(const cm_model *m, FILE *out)
{
    fprintf(out, "format: cmm %u.%u\nkind: %s\n", (unsigned)m->major, (unsigned)m->minor,
            m->kind->name);
    m->kind->describe(m->net, m, out);
    char a[32], b[32];
    cm_fmt_f64(a, sizeof a, m->enc.tmean);
    cm_fmt_f64(b, sizeof b, m->enc.tsd);
    if (m->enc.raw) /* trees: nothing scaled, missing inputs taken */
        fprintf(out, "target: %s (not scaled)\n", m->enc.target);
    else
        fprintf(out, "target: %s (mean %s, sd %s)\n", m->enc.target, a, b);
    fprintf(out, "inputs: %zu columns, %zu values\n", m->enc.nf, m->enc.width);
    for (size_t i = 0; i < m->enc.nf; i++) {
        const cm_feature *f = &m->enc.f[i];
        if (f->cat) {
            fprintf(out, "  %s: category, %u known + unseen\n", f->name, f->ncats);
        } else {
            cm_fmt_f64(a, sizeof a, f->mean);
            cm_fmt_f64(b, sizeof b, f->sd);
            if (m->enc.raw)
                fprintf(out, "  %s: number", f->name);
            else
                fprintf(out, "  %s: number, mean %s, sd %s", f->name, a, b);
            if (f->lo <= f->hi) {
                cm_fmt_f64(a, sizeof a, f->lo);
                cm_fmt_f64(b, sizeof b, f->hi);
                fprintf(out, ", seen %s to %s", a, b);
            }
            fputc('\n', out);
        }
    }
    cm_model_describe_meta(m, out);
    const cm_schema *s = m->schema;
    fprintf(out, "recipe: %zu steps\n", cm_recipe_nsteps(s));
    for (size_t i = 0; i < cm_recipe_nsteps(s); i++) {
        const cm_kv *p = cm_recipe_params_c(s, i);
        fprintf(out, "  %zu %s\n", i + 1, cm_recipe_op(s, i));
        for (size_t k = 0; k < cm_kv_count(p); k++)
            fprintf(out, "    %s=%s\n", cm_kv_key(p, k), cm_kv_value(p, k));
    }
}
