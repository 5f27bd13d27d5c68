/* predorder.c - results back in input order.  A replay's cleaning may
 * sort the rows, merge repeated times and leave rows out, so results
 * come by record number, not in turn: the one due next goes out at once
 * (the common case costs nothing), one that comes early waits in a
 * window of slots, its row copied aside, until those before it are out. */
#include <stdlib.h>
#include <string.h>

#include "predict/predictor.h"

/* What waits for its turn: a forecast and its row, or a record left out. */
struct cm_pslot {
    uint8_t state; /* 0 empty, S_ROW, S_LEFT */
    uint8_t ok, left;
    double pred;
    size_t why, far, row; /* row: in hold, or SIZE_MAX */
};
enum { S_ROW = 1, S_LEFT = 2 };

void cm_order_free(cm_predictor *p)
{
    free(p->win);
    free(p->from_clean);
    p->from_clean = NULL;
    cm_batch_free(p->hold);
    free(p->pred), free(p->ok), free(p->left), free(p->why), free(p->at), free(p->far);
    p->win = NULL;
    p->hold = NULL;
    p->pred = NULL, p->ok = p->left = NULL, p->why = p->at = p->far = NULL;
    p->wcap = p->nwait = p->nhold = p->n = p->cap = 0;
    p->src = NULL;
}

void cm_order_start(cm_predictor *p, long rec_col)
{
    p->rec_col = rec_col;
    p->next = p->seq = 1;
}

/* Room for one more result in the hand-over being assembled. */
static cm_status out_room(cm_predictor *p, cm_error *err)
{
    if (p->n < p->cap)
        return CM_OK;
    size_t cap = cm_cap_for(p->cap, p->n, 256);
    if (cm_resize(&p->pred, p->cap, cap, sizeof *p->pred, err) ||
        cm_resize(&p->ok, p->cap, cap, 1, err) || cm_resize(&p->left, p->cap, cap, 1, err) ||
        cm_resize(&p->why, p->cap, cap, sizeof *p->why, err) ||
        cm_resize(&p->at, p->cap, cap, sizeof *p->at, err) ||
        cm_resize(&p->far, p->cap, cap, sizeof *p->far, err))
        return CM_ERR_NOMEM;
    p->cap = cap;
    return CM_OK;
}

/* The results assembled so far, to the caller. */
static cm_status hand_over(cm_predictor *p, int end, cm_error *err)
{
    cm_pred_batch out = {p->n, p->rows_schema, p->src, p->at, p->pred, p->ok, p->why,
                         p->has_actual, p->left, p->far};
    /* at the end of a run without rows, an empty batch still tells the
     * caller the columns */
    int call = p->n || (end && p->st.rows == 0);
    p->st.rows += p->n;
    p->n = 0;
    p->src = NULL;
    return call ? p->fn(p->ctx, &out, err) : CM_OK;
}

/* A record cleaning left out for a missing value: as missing the model
 * input it is, or for the column, the first one named. */
static void count_left(cm_predictor *p, int left, const char *col)
{
    cm_pred_stats *s = &p->st;
    long k = left == CM_CLEAN_MISSING && col ? cm_model_input_index(p->m, col) : -1;
    if (k >= 0) {
        s->missing[k]++;
        return;
    }
    s->left[left]++;
    if (!s->left_col[left][0] && col)
        snprintf(s->left_col[left], sizeof s->left_col[left], "%s", col);
}

/* One result out: row of src (NULL for a record left out without one). */
static cm_status put(cm_predictor *p, const cm_batch *src, size_t row, double pred, int ok,
                     size_t why, size_t far, int left, cm_error *err)
{
    /* one hand-over reads one batch */
    if (src && p->src && src != p->src && hand_over(p, 0, err))
        return err->status;
    if (out_room(p, err))
        return err->status;
    if (src)
        p->src = src;
    size_t k = p->n++;
    p->pred[k] = pred;
    p->ok[k] = (uint8_t)ok;
    p->why[k] = why;
    p->at[k] = src ? row : SIZE_MAX;
    p->left[k] = (uint8_t)left;
    p->far[k] = far;
    p->next++;
    if (left)
        return CM_OK; /* counted when it was left out */
    if (ok)
        p->st.predicted++;
    else if (why != SIZE_MAX)
        p->st.missing[why]++;
    return CM_OK;
}

static struct cm_pslot *slot(cm_predictor *p, uint64_t rec)
{
    return &p->win[rec & (p->wcap - 1)];
}

/* The results that waited for the ones now out. */
static cm_status drain(cm_predictor *p, cm_error *err)
{
    while (p->nwait && slot(p, p->next)->state) {
        struct cm_pslot s = *slot(p, p->next);
        slot(p, p->next)->state = 0;
        p->nwait--;
        if (put(p, s.row != SIZE_MAX ? p->hold : NULL, s.row, s.pred, s.ok, s.why, s.far,
                s.state == S_LEFT ? s.left : 0, err))
            return err->status;
    }
    return CM_OK;
}

/* A slot for record rec, which comes before its turn; the window grows
 * (a power of two, each slot where rec & mask puts it). */
static struct cm_pslot *twice(uint64_t rec, cm_error *err)
{
    cm_fail(err, CM_ERR_DATA, "record %llu given twice", (unsigned long long)rec);
    return NULL;
}

static struct cm_pslot *wait_slot(cm_predictor *p, uint64_t rec, cm_error *err)
{
    if (rec < p->next)
        return twice(rec, err);
    if (rec - p->next >= p->wcap) {
        size_t cap = cm_cap_for(p->wcap, (size_t)(rec - p->next), 64);
        struct cm_pslot *w = calloc(cap, sizeof *w);
        if (!w) {
            cm_fail(err, CM_ERR_NOMEM, "out of memory");
            return NULL;
        }
        for (size_t i = 0; i < p->wcap; i++)
            if (p->win[i].state) {
                /* the record of slot i: the one in [next, next + wcap) there */
                uint64_t r = p->next + ((i - p->next) & (p->wcap - 1));
                w[r & (cap - 1)] = p->win[i];
            }
        free(p->win);
        p->win = w;
        p->wcap = cap;
    }
    struct cm_pslot *s = slot(p, rec);
    if (s->state)
        return twice(rec, err);
    p->nwait++;
    return s;
}

/* A row of hold for a result that must wait. */
static cm_status hold_row(cm_predictor *p, size_t *row, cm_error *err)
{
    size_t cap = p->hold ? cm_batch_capacity(p->hold) : 0;
    if (p->nhold == cap) {
        cm_batch *h = cm_batch_new(p->rows_schema, cm_cap_for(cap, p->nhold, 1024));
        if (!h)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        for (size_t r = 0; r < p->nhold; r++)
            cm_batch_copy_row(p->rows_schema, h, r, p->hold, r);
        cm_batch_free(p->hold);
        p->hold = h;
        cm_batch_set_nrows(h, cm_batch_capacity(h));
    }
    *row = p->nhold++;
    return CM_OK;
}

/* Row i of b, a batch of the rows the model reads, set aside. */
static cm_status keep_row(cm_predictor *p, const cm_batch *b, size_t i, size_t *row,
                          cm_error *err)
{
    if (hold_row(p, row, err))
        return err->status;
    cm_batch_copy_row(p->rows_schema, p->hold, *row, b, i);
    return CM_OK;
}

/* Row i of b, a cleaned row that never became one the model reads: its
 * columns of the same names (the time, ids, the actual value) set aside,
 * the derived ones missing. */
static cm_status keep_clean_row(cm_predictor *p, const cm_batch *b, size_t i, size_t *row,
                                cm_error *err)
{
    if (hold_row(p, row, err))
        return err->status;
    for (size_t c = 0; c < cm_schema_ncols(p->rows_schema); c++) {
        long from = p->from_clean ? p->from_clean[c] : -1;
        uint8_t ok = from >= 0 && cm_batch_valid_c(b, (size_t)from)[i];
        cm_batch_valid(p->hold, c)[*row] = ok;
        if (ok) {
            size_t w = cm_dtype_width(cm_schema_dtype(p->rows_schema, c));
            memcpy((uint8_t *)cm_batch_values(p->hold, c) + *row * w,
                   (const uint8_t *)cm_batch_values_c(b, (size_t)from) + i * w, w);
        }
    }
    return CM_OK;
}

cm_status cm_order_rows(cm_predictor *p, const cm_batch *b, const double *pred,
                        const uint8_t *ok, const size_t *why, const size_t *far,
                        cm_error *err)
{
    size_t n = cm_batch_nrows(b);
    const int64_t *rec = p->rec_col >= 0 ? cm_batch_values_c(b, (size_t)p->rec_col) : NULL;
    cm_status st = drain(p, err);
    for (size_t i = 0; !st && i < n; i++) {
        uint64_t r = rec ? (uint64_t)rec[i] : p->seq++;
        if (r == p->next) {
            st = put(p, b, i, pred[i], ok[i], why[i], far[i], 0, err);
            if (!st)
                st = drain(p, err);
            continue;
        }
        struct cm_pslot *s = wait_slot(p, r, err);
        size_t row = 0;
        if (!s || keep_row(p, b, i, &row, err))
            return err->status;
        *s = (struct cm_pslot){S_ROW, ok[i], 0, pred[i], why[i], far[i], row};
    }
    /* b is the caller's only until it returns */
    if (!st && p->src == b)
        st = hand_over(p, 0, err);
    if (!st && !p->nwait && !p->n)
        p->nhold = 0;
    return st;
}

void cm_order_left(cm_predictor *p, const cm_clean_left *l)
{
    size_t row = SIZE_MAX;
    struct cm_pslot *s = p->late.status ? NULL : wait_slot(p, l->record, &p->late);
    if (!s || (l->b && p->rows_schema && keep_clean_row(p, l->b, l->i, &row, &p->late)))
        return;
    *s = (struct cm_pslot){S_LEFT, 0, (uint8_t)l->why, 0, SIZE_MAX, 0, row};
    count_left(p, l->why, l->column);
}

cm_status cm_order_finish(cm_predictor *p, cm_error *err)
{
    if (p->late.status) {
        *err = p->late;
        return err->status;
    }
    if (drain(p, err))
        return err->status;
    if (p->nwait)
        return cm_fail(err, CM_ERR_DATA, "%zu results never came out (a record skipped?)",
                       p->nwait);
    return hand_over(p, 1, err);
}
