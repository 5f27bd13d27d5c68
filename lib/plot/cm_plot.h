/*
 * cm_plot.h - pictures of cm's own outputs: a gnuplot script, with its
 * data inline, for a forecast (cm-predict --horizon, and the history it
 * continues), backtest scores or forecasts (cm-predict --backtest,
 * --forecasts), a training history (cm-train --history), a search
 * (cm-tune's results) or predictions against actuals (cm-predict).  The
 * caller runs gnuplot on it; cm-plot(1).
 */
#ifndef CM_PLOT_H
#define CM_PLOT_H

#include "stream/cm_stream.h"

typedef enum cm_plot_kind {
    CM_PLOT_FORECAST,
    CM_PLOT_BACKTEST,
    CM_PLOT_HISTORY,
    CM_PLOT_TUNE,
    CM_PLOT_PREDICT
} cm_plot_kind;

typedef struct cm_plot_opts {
    cm_plot_kind kind;
    const char *terminal; /* gnuplot's, with its size: "pngcairo size 1000,600" */
    const char *output;   /* the file gnuplot writes, or NULL: its standard output */
    const char *title;    /* instead of the one made from the data */
    const char *series;   /* forecast: the one series to draw, by its id */
    int text;             /* a text terminal: no colours or fonts to ask for */
} cm_plot_opts;

typedef struct cm_plot cm_plot;

cm_plot *cm_plot_new(const cm_plot_opts *o, cm_error *err);
void cm_plot_free(cm_plot *p);
/* A table that cm printed, read from in (name for messages); label names
 * it in the legend (NULL: the name less its directory and extension).
 * Several only for backtest scores, one line of each a model.  A table
 * of another kind is CM_ERR_DATA with what it looks like. */
cm_status cm_plot_add(cm_plot *p, FILE *in, const char *name, const char *label,
                      cm_error *err);
/* forecast: the actual values of the history, from a cm stream or a CSV
 * that cm-clean reads as it is. */
cm_status cm_plot_history(cm_plot *p, FILE *in, const char *name, cm_error *err);
/* The whole script, its data inline. */
cm_status cm_plot_script(cm_plot *p, FILE *out, cm_error *err);

#endif
