/*
 * cm_forecast.h - forecasts of the next H steps of each series from its
 * recent history, and backtests that forecast from many origins in a
 * history and score each step ahead.
 *
 * Recursively: at step k, the lags, windows and differences of the target
 * are derived from the history and the forecasts of steps 1..k-1 (the
 * features step's own code, on a look-back per window), calendar parts
 * from the future time, and the other inputs (covariates such as the
 * weather) are the future rows' own, or the last ones carried forward.
 * Every window of a run advances one step at a time, all of them through
 * one batched forward pass of the model.
 */
#ifndef CM_FORECAST_H
#define CM_FORECAST_H

#include "predict/cm_predict.h"

/* Where covariates at future times come from. */
typedef enum cm_future {
    CM_FUTURE_ROWS = 0, /* rows given for those times: a future file, or in a
                           backtest the history's own rows (an oracle) */
    CM_FUTURE_LAST = 1  /* the last row at or before the origin, carried */
} cm_future;

/* How interior gaps of a history are filled before forecasting. */
typedef enum cm_gapfill { CM_GAPS_KEEP = 0, CM_GAPS_LINEAR = 1, CM_GAPS_LAST = 2 } cm_gapfill;

typedef struct cm_forecast_opts {
    int64_t horizon;        /* steps, from 1 */
    cm_step step;           /* unit 0: the model's */
    int has_origin;         /* forecast from origin, not each series' last time */
    int64_t origin;
    cm_future future;
    cm_gapfill gaps;
    int64_t max_fill;       /* the most steps one gap is filled with (0: 2^20) */
    /* a backtest: origins every `every` steps (0: horizon), from `from`
     * (has_from) or the last `windows` that fit (0: as many as fit) */
    int backtest;
    int64_t every, windows;
    int has_from;
    int64_t from;
    int has_until;          /* a backtest's windows end at or before until */
    int64_t until;
    int no_rows;            /* results without their rows (scores alone) */
} cm_forecast_opts;

typedef struct cm_forecaster cm_forecaster;

/* A forecaster of the model p replays (borrowed; it must outlive it). */
cm_forecaster *cm_forecaster_new(cm_predictor *p, const cm_forecast_opts *o, cm_error *err);
void cm_forecaster_free(cm_forecaster *fc);
/* Ready for another forecast from rows of fields (cm_forecast_fields),
 * under options o: its rows and results forgotten, the model's clean step
 * and schema kept, so that a server need not prepare them again.  Its
 * answers are a new forecaster's. */
cm_status cm_forecaster_reset(cm_forecaster *fc, const cm_forecast_opts *o, cm_error *err);
/* The step forecasts take: the option's, or the model's; CM_ERR_ARG
 * saying why when neither is known. */
cm_status cm_forecast_step(const cm_forecaster *fc, cm_step *out, cm_error *err);

/* Results, in order of series (first seen) and step; a backtest's by
 * origin, then series, then step. */
typedef struct cm_fc_batch {
    size_t n;
    const cm_schema *schema; /* of rows */
    const cm_batch *rows;    /* result i: the row of its time as the model
                                read it (time, ids, covariates), row i;
                                NULL under no_rows */
    const int64_t *step, *origin;
    const double *pred, *actual;
    const uint8_t *ok, *has_actual;
    const size_t *why;       /* without a forecast: the missing input */
} cm_fc_batch;
typedef cm_status (*cm_fc_fn)(void *ctx, const cm_fc_batch *b, cm_error *err);

/* The future covariates, rows at future times as in the training CSV (or
 * a cm stream from cm-clean): read before the history. */
cm_status cm_forecast_future(cm_forecaster *fc, FILE *in, const char *name, cm_error *err);
/* Forecasts (a backtest with o->backtest) from a history: raw CSV, or a
 * cm stream of any stage. */
cm_status cm_forecast_run(cm_forecaster *fc, FILE *in, const char *name, cm_fc_fn fn,
                          void *ctx, cm_error *err);
/* The same from rows of fields by name, as a cm-serve request gives them:
 * history then future rows, each one given with add (history 1). */
cm_status cm_forecast_fields(cm_forecaster *fc, int history, const char *const *names,
                             const char *const *values, size_t n, cm_error *err);
cm_status cm_forecast_fields_run(cm_forecaster *fc, cm_fc_fn fn, void *ctx, cm_error *err);
/* One such row read as cm_forecast_fields would read it, and kept nowhere:
 * its time, and its series (the value of the features step's --by, ""
 * without one or when missing) into series, seriesn bytes; *fields its
 * values in the order of the clean step's fields ("" for one not given),
 * valid until the next call. */
cm_status cm_forecast_peek(cm_forecaster *fc, const char *const *names,
                           const char *const *values, size_t n, int64_t *t, char *series,
                           size_t seriesn, const char *const **fields, cm_error *err);
/* How far back from its origin a forecast looks (cm_features_reach): span
 * seconds (-1: not by time; months at their longest) and rows (0: none),
 * and so the steps of a series' history it needs (at least 1). */
cm_status cm_forecast_reach(cm_forecaster *fc, int64_t *span, uint64_t *rows, int64_t *need,
                            cm_error *err);

/* What a run did: forecasts made, empty ones by reason, gaps filled. */
typedef struct cm_fc_stats {
    uint64_t windows, slots, predicted, series, filled;
    uint64_t no_future;      /* steps without a future row for their covariates */
    uint64_t *missing;       /* per model input: slots without it */
} cm_fc_stats;
const cm_fc_stats *cm_forecast_stats(const cm_forecaster *fc);

/* ---- scores of a backtest ---------------------------------------------------- */

/* Per step ahead (1..horizon) and over all: n, MAE, RMSE, MAPE; add with
 * cm_fc_score_add as a cm_fc_fn. */
typedef struct cm_fc_score cm_fc_score;
cm_fc_score *cm_fc_score_new(int64_t horizon);
void cm_fc_score_free(cm_fc_score *s);
cm_status cm_fc_score_add(void *s, const cm_fc_batch *b, cm_error *err);
/* The table: step,n,mae,rmse,mape then "all" (csv, tsv), or one JSON
 * object; future says where the covariates came from. */
void cm_fc_score_write(const cm_fc_score *s, FILE *out, cm_text_format f, const char *future);
/* The forecasts scored at step k (0: all steps), and their MAE, RMSE and
 * MAPE into v (NAN where undefined). */
uint64_t cm_fc_score_get(const cm_fc_score *s, int64_t k, double v[3]);

/* ---- results as text ----------------------------------------------------------- */

/* time, the columns of ids, step, <target>_pred; with origins (a
 * backtest's --forecasts), origin first and the actual value last. */
typedef struct cm_fc_writer cm_fc_writer;
cm_fc_writer *cm_fc_writer_new(FILE *out, const cm_model *m, const cm_tz *tz,
                               cm_text_format f, const char *ids, int origins,
                               cm_error *err);
cm_status cm_fc_write(void *w, const cm_fc_batch *b, cm_error *err);
void cm_fc_writer_finish(cm_fc_writer *w);
void cm_fc_writer_free(cm_fc_writer *w);

#endif
