/*
 * predictor.h - inside the predict module: a predictor replays its
 * model's recipe (predict.c: CSV and streams; predfields.c: a row of
 * fields) and turns the rows into results in input order.
 */
#ifndef CM_PREDICTOR_H
#define CM_PREDICTOR_H

#include "clean/cm_clean.h"
#include "common/common.h"
#include "features/cm_features.h"
#include "predict/cm_predict.h"

struct cm_predictor {
    const cm_model *m;
    /* the model's recipe, compiled once: NULL for a step it lacks */
    cm_clean_plan *clean;
    cm_features_plan *feat;
    cm_features_plan *winplan;  /* a sequence model's windows alone */
    cm_kv *fixed;               /* derived inputs given by name */
    int lenient;                /* any raw column may be absent */
    /* one run */
    cm_clean *cleaner;
    cm_features *builder;
    const cm_schema *rows_schema; /* of the rows the model sees */
    cm_pred_fn fn;
    void *ctx;
    int has_actual;
    cm_error late;              /* a failure where none could be returned, told
                                   by the next call that can (status 0: none) */
    cm_pred_stats st;
    /* the model's results for one batch of rows */
    double *tpred;
    uint8_t *tok;
    size_t *twhy, *tfar, tcap;
    /* results in input order (predorder.c) */
    long rec_col;               /* the rows' record numbers, or -1: rows in turn */
    uint64_t next, seq;         /* the record due out next; the next in turn */
    struct cm_pslot *win;       /* records that came early, at rec & (wcap - 1) */
    size_t wcap, nwait;
    cm_batch *hold;             /* their rows */
    size_t nhold;
    long *from_clean;           /* per row column: the cleaned one of its name */
    const cm_batch *src;        /* the results of one hand-over, rows of src */
    double *pred;
    uint8_t *ok, *left;
    size_t *why, *at, *far, n, cap;
    /* cm_predict_fields: a cleaner prepared once, and its one-row batch */
    cm_clean *prep;
    cm_features *pfeat;         /* reset for each row; NULL without the step */
    cm_batch *row;
    const char **fnames, **fvals;
    size_t *flens, nfields;
};

/* predict.c, for predfields.c: a run's start and end, the features
 * builder for rows of schema in (batch_rows 0: the default), the rows
 * the model reads, a record left out, and what is left at the end. */
void cm_predictor_start_run(cm_predictor *p, cm_pred_fn fn, void *ctx);
void cm_predictor_end_run(cm_predictor *p);
cm_status cm_predictor_features(cm_predictor *p, const cm_schema *in, size_t batch_rows,
                                cm_features **out, cm_error *err);
void cm_predictor_rows_from(cm_predictor *p, const cm_schema *rows, int lacks_target);
cm_status cm_predictor_on_rows(void *ctx, cm_batch *b, cm_error *err);
void cm_predictor_on_drop(void *ctx, const cm_clean_left *l);
cm_status cm_predictor_finish(cm_predictor *p, cm_error *err);

/* predorder.c: results by record number (the rec_col of the rows, or
 * their turn when -1) back in input order, to p->fn. */
void cm_order_start(cm_predictor *p, long rec_col);
cm_status cm_order_rows(cm_predictor *p, const cm_batch *b, const double *pred,
                        const uint8_t *ok, const size_t *why, const size_t *far,
                        cm_error *err);
void cm_order_left(cm_predictor *p, const cm_clean_left *l);
cm_status cm_order_finish(cm_predictor *p, cm_error *err);
void cm_order_free(cm_predictor *p);
/* The clean step's options for a replay of a file (rows numbered, to be
 * put back in input order) or, by_hand, of a row of fields (its values
 * held to the training ranges). */
cm_clean_opts cm_predictor_clean_opts(cm_predictor *p, size_t batch_rows, int by_hand);

#endif
