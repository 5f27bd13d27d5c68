/*
 * forecast.h - inside the forecast module: the rows a forecaster holds
 * (fcrows.c: every row in one schema of its own, each series' in time
 * order, the future's apart), the windows that advance together one step
 * at a time (fcwindow.c), forecasts and backtests (fcrun.c), and their
 * text and scores (fcout.c).
 */
#ifndef CM_FORECAST_INTERNAL_H
#define CM_FORECAST_INTERNAL_H

#include "common/common.h"
#include "forecast/cm_forecast.h"

/* Rows in one schema, growing: a batch and how many rows it holds. */
typedef struct fc_rows {
    cm_batch *b;
    size_t n;
} fc_rows;

/* A series: its rows in time order, as indices into a fc_rows. */
typedef struct fc_series {
    size_t *idx;
    size_t n, cap;
    size_t fut0, nfut; /* its rows in the future file: fidx[fut0, fut0 + nfut) */
} fc_series;

/* A source of rows (the history, the future file, a request's fields)
 * and how its columns map to the forecaster's schema, codes by string. */
typedef struct fc_source {
    const cm_schema *s;
    size_t n;         /* columns of fc->in */
    long *col;        /* per column of fc->in: the source's, or -1 */
    uint32_t **code;  /* per category column of fc->in: source code -> ours */
    size_t *ncode;
} fc_source;

/* One forecast in the making: a series from an origin, H steps. */
typedef struct fc_window {
    size_t series;
    int64_t origin;
    size_t pos, last;     /* its last row at or before the origin: in the
                             series, and in rows */
    cm_lookback *lb;      /* the look-back, the forecasts joining it */
} fc_window;

struct cm_forecaster {
    cm_predictor *p;
    const cm_model *m;
    cm_forecast_opts o;
    cm_step step;
    const cm_tz *tz;
    /* the rows as the model's features step reads them */
    cm_schema *in;
    cm_features *feat;        /* NULL: the recipe derives nothing */
    long time_col, target_col;
    fc_rows rows, fut;        /* the history; the future file's rows */
    size_t trim_at;           /* rows held when the history is next trimmed */
    fc_series *ser;
    size_t nser;              /* by cm_features_series */
    size_t *seen, nseen;      /* the series in the order first met */
    size_t *fidx, nfidx;      /* the future rows, by series then time */
    int have_future;
    size_t covariates;        /* inputs that future rows give */
    char label[96];           /* a series' name in a message */
    /* reading */
    cm_clean *cleaner;
    fc_source src;
    fc_rows raw;              /* the future file, before the history */
    cm_schema *raw_schema;
    cm_clean *fut_cleaner;
    cm_batch *fields;         /* cm_forecast_fields: the prepared record */
    cm_clean *prep;
    const char **fname;       /* the clean step's fields, in its order */
    const char **fval;        /* a record's values by field, and lengths */
    size_t *flen, nfield;
    /* a block of windows */
    fc_window *win;
    size_t nwin, wcap;
    cm_batch *stepin, *stepout;
    fc_rows res;              /* results, window by window (res.n: room for) */
    double *pred, *actual;
    uint8_t *ok, *has_actual;
    size_t *why;
    int64_t *steps, *origins;
    cm_fc_stats st;
};

/* fcrows.c */
cm_status fc_rows_add(const cm_schema *s, fc_rows *r, cm_error *err);
cm_status fc_adopt(cm_forecaster *fc, const cm_schema *s, cm_error *err);
cm_status fc_source_bind(cm_forecaster *fc, fc_source *src, const cm_schema *s,
                         cm_error *err);
void fc_source_free(fc_source *src);
cm_status fc_import(cm_forecaster *fc, fc_source *src, const cm_batch *b, size_t i,
                    cm_batch *to, size_t j, cm_error *err);
cm_status fc_history_batch(void *ctx, cm_batch *b, cm_error *err);
/* For a forecast from the end of the history (no origin, no backtest):
 * each series' rows before its look-back dropped, when enough rows have
 * come since the last time, or at the last. */
void fc_trim(cm_forecaster *fc, int last);
/* Row j of the history into its series (in time order, or an error). */
cm_status fc_join(cm_forecaster *fc, size_t j, cm_error *err);
cm_status fc_read_stream(cm_forecaster *fc, FILE *in, const char *name, cm_error *err);
/* The future rows by series and time; what is wrong with them is marked
 * CM_DETAIL_FUTURE, so the caller can name their source. */
cm_status fc_index_future(cm_forecaster *fc, cm_error *err);
int64_t fc_time(const cm_forecaster *fc, const cm_batch *b, size_t i);
/* " in series 'X'" for series k (the forecaster's buffer), or "". */
const char *fc_series_label(cm_forecaster *fc, size_t k);
/* The row of series k at time t in the history (or future, fut), or
 * SIZE_MAX. */
size_t fc_find(const cm_forecaster *fc, size_t k, int64_t t, int fut);

/* fcrun.c: a row at time t between rows a and b of the history, into row
 * i of to, as --fill-history fills a gap: a's categories, and numbers on
 * the line from a to b (linear) or a's (last). */
void fc_fill_row(cm_forecaster *fc, size_t a, size_t b, int64_t t, cm_batch *to, size_t i);

/* fcwindow.c */
cm_status fc_run_block(cm_forecaster *fc, cm_fc_fn fn, void *ctx, cm_error *err);
void fc_block_free(cm_forecaster *fc);

#endif
