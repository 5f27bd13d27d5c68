/* cleanrow.c - one CSV record to one typed row: numbers, categories,
 * times through their zone, missing markers and ranges. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clean/clean.h"
#include "clean/expr.h"

/* ---- one record to one typed row ------------------------------------------- */

static cm_status bad_value(cm_error *err, const incol *col, const char *v,
                           size_t n, const char *why)
{
    char q[200];
    cm_quote_text(q, sizeof q, v, n, 40);
    snprintf(err->column, sizeof err->column, "%s", col->name);
    return cm_fail(err, CM_ERR_DATA, "'%s' %s", q, why);
}

static cm_status out_of_range(cm_error *err, const incol *col, double x)
{
    char v[32], lo[32], hi[32];
    cm_fmt_f64(v, sizeof v, x);
    cm_fmt_f64(lo, sizeof lo, col->lo);
    cm_fmt_f64(hi, sizeof hi, col->hi);
    snprintf(err->column, sizeof err->column, "%s", col->name);
    return cm_fail(err, CM_ERR_DATA, "%s is outside the range %s:%s that training used", v, lo,
                   hi);
}

static void trim(const char **s, size_t *n)
{
    while (*n && **s == ' ')
        (*s)++, (*n)--;
    while (*n && (*s)[*n - 1] == ' ')
        (*n)--;
}

static cm_status put_num(cm_clean *c, const incol *col, const cm_cols *b, size_t row,
                         const char *v, size_t n, cm_error *err)
{
    double x;
    uint8_t *ok = &b->valid[col->out][row];
    *ok = 0;
    if (cm_parse_num(v, n, c->p->decimal, &x)) {
        if (cm_clean_is_na(c, v, n))
            return CM_OK;
        return bad_value(err, col, v, n, "is not a number");
    }
    for (size_t i = 0; i < c->p->nna_num; i++)
        if (x == c->p->na_num[i])
            return CM_OK;
    if (isnan(x)) /* "nan", a default marker, parses as one */
        return CM_OK;
    if (c->o.strict && !isfinite(x))
        return bad_value(err, col, v, n, "is not a finite number");
    if (col->has_range && !(x >= col->lo && x <= col->hi)) {
        c->st.out_of_range[col->out]++;
        return c->o.strict ? out_of_range(err, col, x) : CM_OK;
    }
    ((double *)b->values[col->out])[row] = x;
    *ok = 1;
    return CM_OK;
}

static cm_status put_cat(cm_clean *c, const incol *col, const cm_cols *b, size_t row,
                         const char *v, size_t n, cm_error *err)
{
    uint8_t *ok = &b->valid[col->out][row];
    *ok = 0;
    if (cm_clean_is_na(c, v, n))
        return CM_OK;
    char low[CM_MAX_NAME];
    if (col->lower) {
        trim(&v, &n);
        if (n > sizeof low)
            return bad_value(err, col, v, n, "is longer than 4096 bytes");
        for (size_t i = 0; i < n; i++)
            low[i] = v[i] >= 'A' && v[i] <= 'Z' ? (char)(v[i] + 32) : v[i];
        v = low;
    }
    cm_error e;
    if (cm_dict_intern(cm_schema_dict(c->schema, (size_t)col->out), v, n,
                       &((uint32_t *)b->values[col->out])[row], &e)) {
        if (e.status == CM_ERR_NOMEM)
            return cm_fail(err, e.status, "out of memory");
        return bad_value(err, col, v, n,
                         e.detail == CM_DETAIL_UTF8 ? "is not valid UTF-8"
                         : e.detail == CM_DETAIL_TOO_LONG ? "is longer than 4096 bytes"
                                                          : "is one category too many");
    }
    *ok = 1;
    return CM_OK;
}

/* Wall-clock time to the UTC instant, through the zone when naive. */
static int64_t to_utc(cm_clean *c, const cm_walltime *w)
{
    if (w->has_offset)
        return w->wall - w->offset;
    int64_t t;
    cm_tz_fold f = cm_tz_to_utc(c->p->tz, w->wall, &t);
    c->st.tz_ambiguous += f == CM_TZ_AMBIGUOUS;
    c->st.tz_gap += f == CM_TZ_GAP;
    return t;
}

static int parse_one_time(cm_clean *c, const char *v, size_t n, int any,
                          cm_walltime *w)
{
    if (c->p->tfmt)
        return cm_timefmt_parse(c->p->tfmt, v, n, w);
    cm_time_kind k = cm_parse_time(v, n, w);
    return k == CM_TIME_ISO || k == CM_TIME_US || (any && k != CM_TIME_NONE) ? 0 : -1;
}

/* The time of a row from its time columns: 0 ok, 1 missing, or an error. */
static cm_status row_time(cm_clean *c, const rowctx *r, int64_t *t, int *missing,
                          cm_error *err)
{
    size_t nt = c->time.n;
    const incol *first = &c->cols[c->time_idx[0]];
    *missing = 0;
    cm_walltime w;
    if (nt == 1) {
        size_t j = c->time_idx[0];
        if (cm_clean_is_na(c, r->f[j], r->len[j]))
            return *missing = 1, CM_OK;
        if (parse_one_time(c, r->f[j], r->len[j], 1, &w))
            return bad_value(err, first, r->f[j], r->len[j], "is not a time");
        *t = to_utc(c, &w);
        return CM_OK;
    }
    /* Several columns: numbers are year, month, day, hour, minute, second;
     * text is joined with spaces and read as one time. */
    char joined[512];
    size_t jn = 0;
    long part[6] = {0, 1, 1, 0, 0, 0};
    int numeric = !c->p->tfmt && nt <= 6;
    for (size_t i = 0; i < nt; i++) {
        size_t j = c->time_idx[i];
        const char *v = r->f[j];
        size_t n = r->len[j];
        double x;
        if (cm_clean_is_na(c, v, n))
            return *missing = 1, CM_OK;
        if (numeric && (cm_parse_num(v, n, '.', &x) || x != floor(x) ||
                        fabs(x) > 1e9))
            numeric = 0;
        else if (numeric)
            part[i] = (long)x;
        if (jn + n + 1 >= sizeof joined)
            return bad_value(err, &c->cols[j], v, n, "is too long for a time");
        if (i)
            joined[jn++] = ' ';
        memcpy(joined + jn, v, n);
        jn += n;
    }
    joined[jn] = '\0';
    if (numeric) {
        if (part[1] < 1 || part[1] > 12 || part[2] < 1 || part[2] > 31 ||
            part[3] < 0 || part[3] > 23 || part[4] < 0 || part[4] > 59 ||
            part[5] < 0 || part[5] > 59)
            return bad_value(err, first, joined, jn, "is not a valid date and time");
        int64_t days = cm_days_from_civil(part[0], (unsigned)part[1], (unsigned)part[2]);
        int64_t y;
        unsigned mo, d;
        cm_civil_from_days(days, &y, &mo, &d);
        if (d != (unsigned)part[2]) /* 31 February */
            return bad_value(err, first, joined, jn, "is not a valid date and time");
        w.wall = days * 86400 + part[3] * 3600 + part[4] * 60 + part[5];
        w.has_offset = 0;
    } else if (parse_one_time(c, joined, jn, 0, &w)) {
        return bad_value(err, first, joined, jn, "is not a time");
    }
    *t = to_utc(c, &w);
    return CM_OK;
}

static void fill_constant(cm_clean *c, const cm_cols *b, long o, size_t row)
{
    int p = o >= 0 ? c->out_policy[o] : POLICY_DROP;
    if ((p == POLICY_ZERO || p == POLICY_VALUE) && !b->valid[o][row]) {
        size_t w = cm_dtype_width(cm_schema_dtype(c->schema, (size_t)o));
        memcpy((uint8_t *)b->values[o] + row * w, c->out_const[o], w);
        b->valid[o][row] = 1;
        c->st.filled[o]++;
    }
}

/* A column left out, read as a number for a derive. */
static cm_status dropped_num(cm_clean *c, const rowctx *r, size_t j, double *x, uint8_t *ok,
                             cm_error *err)
{
    const char *v = r->f[j];
    size_t n = r->len[j];
    *ok = 0;
    if (cm_clean_is_na(c, v, n))
        return CM_OK;
    if (cm_parse_num(v, n, c->p->decimal, x))
        return bad_value(err, &c->cols[j], v, n, "is not a number");
    for (size_t i = 0; i < c->p->nna_num; i++)
        if (*x == c->p->na_num[i])
            return CM_OK;
    *ok = !isnan(*x);
    return CM_OK;
}

/* The columns of --derive, in order: one may read those before it. */
static cm_status derive(cm_clean *c, const rowctx *r, const cm_cols *b, size_t row,
                        cm_error *err)
{
    for (size_t i = 0, v = 0; i < c->p->nderives; i++) {
        const cm_expr *e = c->p->derives[i].e;
        size_t n = cm_expr_nvars(e), o = (size_t)c->derive_out[i];
        for (size_t k = 0; k < n; k++, v++) {
            long col = c->derive_var[v];
            if (col < 0 && dropped_num(c, r, (size_t)(-1 - col), &c->dvals[k], &c->dok[k], err))
                return err->status;
            if (col < 0)
                continue;
            c->dvals[k] = ((const double *)b->values[col])[row];
            c->dok[k] = b->valid[col][row];
        }
        int ok;
        double x = cm_expr_eval(e, c->dvals, c->dok, &ok);
        ((double *)b->values[o])[row] = ok ? x : 0;
        b->valid[o][row] = (uint8_t)ok;
        fill_constant(c, b, (long)o, row);
    }
    return CM_OK;
}

/* Fills row `row` of b from a record; CM_OK, or CM_ERR_DATA for a bad row
 * (the row is then unusable), *drop set when its time is missing. */
cm_status cm_clean_convert(cm_clean *c, const rowctx *r, size_t nf, cm_batch *batch,
                           size_t row, int *drop, cm_error *err)
{
    *drop = 0;
    if (nf != c->ncols)
        return cm_fail(err, CM_ERR_DATA, "expected %zu fields, found %zu",
                       c->ncols, nf);
    const cm_cols cols = cm_batch_cols(batch), *b = &cols;
    for (size_t j = 0; j < c->ncols; j++) {
        const incol *col = &c->cols[j];
        const char *v = r->f[j];
        size_t n = r->len[j];
        cm_status st = CM_OK;
        if (col->out < 0 || col->time_part >= 0)
            continue;
        if (col->kind == K_NUM) {
            st = put_num(c, col, b, row, v, n, err);
        } else if (col->kind == K_CAT) {
            st = put_cat(c, col, b, row, v, n, err);
        } else { /* a time that is not the row's time */
            cm_walltime w;
            uint8_t *ok = &b->valid[col->out][row];
            *ok = !cm_clean_is_na(c, v, n);
            if (*ok && cm_parse_time(v, n, &w) == CM_TIME_NONE)
                st = bad_value(err, col, v, n, "is not a time");
            else if (*ok)
                ((int64_t *)b->values[col->out])[row] = to_utc(c, &w);
        }
        if (st)
            return st;
    }
    /* a constant for what is missing, whether empty, a marker or out of
     * range; then the derived columns, from the values as filled */
    for (size_t j = 0; j < c->ncols; j++)
        fill_constant(c, b, c->cols[j].out, row);
    if (c->p->nderives && derive(c, r, b, row, err))
        return err->status;
    if (c->time_out >= 0) {
        int64_t t = 0;
        int missing;
        cm_status st = row_time(c, r, &t, &missing, err);
        if (st)
            return st;
        b->valid[c->time_out][row] = (uint8_t)!missing;
        ((int64_t *)b->values[c->time_out])[row] = t;
        if (missing) {
            c->st.missing_time++;
            *drop = 1;
        }
    }
    return CM_OK;
}
