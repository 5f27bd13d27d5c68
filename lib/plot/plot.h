/*
 * plot.h - inside the plot module: tables of text (table.c), the script's
 * common parts (script.c), and a writer per kind of picture (plotfc.c:
 * forecasts and backtest forecasts; plotscore.c: backtest scores,
 * histories, searches and predictions).
 */
#ifndef CM_PLOT_INTERNAL_H
#define CM_PLOT_INTERNAL_H

#include <errno.h>
#include <stdio.h>

#include "common/common.h"
#include "plot/cm_plot.h"
#include "time/cm_time.h"

/* A table as cm printed it: the header's names, every cell as text. */
typedef struct plot_table {
    char **name;
    size_t ncols, nrows;
    char **cell; /* nrows x ncols */
    char sep;
    char comment[160]; /* the first comment line, before the header */
} plot_table;

plot_table *plot_table_read(FILE *in, const char *name, cm_error *err);
void plot_table_free(plot_table *t);
long plot_col(const plot_table *t, const char *name);
const char *plot_cell(const plot_table *t, size_t row, size_t col);
/* A cell as a number, or a time as wall-clock seconds in its own zone;
 * -1 when empty or not one. */
int plot_num(const plot_table *t, size_t row, size_t col, double *v);
int plot_time(const plot_table *t, size_t row, size_t col, int64_t *wall);

/* What a table looks like: one of the kinds, or none. */
typedef enum plot_shape {
    SHAPE_NONE,
    SHAPE_FORECAST,    /* time, ids, step, T_pred */
    SHAPE_SCORES,      /* step, n, mae, rmse, mape */
    SHAPE_FAN,         /* origin, time, ids, step, T_pred, T */
    SHAPE_HISTORY,     /* epoch, train_loss, valid_loss, ... */
    SHAPE_TUNE,        /* trial, params..., M_fold1..., M_mean, M_std, ... */
    SHAPE_PREDICT      /* [time, ids,] T_pred, T */
} plot_shape;
plot_shape plot_shape_of(const plot_table *t);
const char *plot_shape_name(plot_shape s);
/* The column of the forecasts, T_pred, and so the target T; -1 if none. */
long plot_pred_col(const plot_table *t);

/* One table added, with its legend's label. */
typedef struct plot_input {
    plot_table *t;
    char *label;
    plot_shape shape;
} plot_input;

/* A value at a time (wall-clock seconds), and their order by time. */
typedef struct plot_point {
    int64_t t;
    double v;
} plot_point;
int plot_by_time(const void *a, const void *b);

/* Actual values over time, by series (the history of a forecast), in
 * time order once read. */
typedef struct plot_series {
    char *id;            /* the ids joined by '/', "" for a single series */
    plot_point *pt;
    size_t n, cap;
} plot_series;

struct cm_plot {
    cm_plot_opts o;
    plot_input *in;
    size_t nin;
    plot_series *hist;
    size_t nhist;
    char target[CM_MAX_NAME + 1];
};

/* ---- the script (script.c) ----------------------------------------------- */

/* 'text' as gnuplot reads a single-quoted string. */
void plot_quote(FILE *out, const char *text);
/* The terminal, output and the common looks, and the title (the caller's,
 * else this one). */
void plot_begin(const cm_plot *p, FILE *out, const char *title);
/* A time axis x over [lo, hi] wall-clock seconds: ticks for its span
 * (short ones in text, where characters are few). */
void plot_time_axis(const cm_plot *p, FILE *out, int64_t lo, int64_t hi);
/* A number as gnuplot reads it. */
void plot_value(FILE *out, double v);
/* Where a series' points lie, for the series picked and its label. */
plot_series *plot_series_get(cm_plot *p, const char *id, cm_error *err);

cm_status plot_forecast(cm_plot *p, FILE *out, cm_error *err);
cm_status plot_fan(cm_plot *p, FILE *out, cm_error *err);
cm_status plot_scores(cm_plot *p, FILE *out, cm_error *err);
cm_status plot_history_of_training(cm_plot *p, FILE *out, cm_error *err);
cm_status plot_tune(cm_plot *p, FILE *out, cm_error *err);
cm_status plot_predict(cm_plot *p, FILE *out, cm_error *err);

#endif
