/*
 * cm_features.h - features: calendar parts, lags, rolling windows, differences.
 */
#ifndef CM_FEATURES_H
#define CM_FEATURES_H

#include "stream/cm_stream.h"

/* ---- features: calendar parts, lags, rolling windows, differences ------- */

/*
 * Settings, as cm-features makes them from its options; with the input's
 * recipe plus them as the "features" step, a model can derive the same
 * columns from raw rows.
 *   target COL          time-features hour,minute,dow,dom,month,doy,week,
 *                       year,weekend | none (default hour,dow,month,doy,weekend)
 *   cyclic yes|no       sin/cos pairs of the periodic parts
 *   holidays DATE,...   local dates that are holidays (is_holiday)
 *   holiday-col COL     a category naming holidays; holiday-none VALUE is
 *                       the "not a holiday" value (default None)
 *   lag.N  COL:SPAN,... rolling.N COL:STAT,...:SPAN    diff.N COL:SPAN,...
 *                       SPAN is a duration (1h, 7d) or a number of rows;
 *                       STAT is mean, std, min, max, sum or count
 *   by COL              series: lags and windows stay within a series
 *   min-count N         fewest values a window needs (default 1)
 *   keep-incomplete yes|no   keep rows whose derived values are missing
 *   drop COL,...        keep COL,...       max-history ROWS per series
 */
typedef struct cm_features cm_features;


cm_features *cm_features_new(const cm_schema *in, const cm_kv *settings,
                             cm_error *err);
void cm_features_free(cm_features *f);
/* The output schema; its recipe is the input's plus this step. */
const cm_schema *cm_features_schema(const cm_features *f);
/* Derives the features of b's rows (b read under the input schema, whose
 * dictionaries may have grown); full output batches go to emit. */
cm_status cm_features_push(cm_features *f, const cm_batch *b, cm_batch_fn emit,
                           void *ctx, cm_error *err);
/* Hands on the rows still held. */
cm_status cm_features_finish(cm_features *f, cm_batch_fn emit, void *ctx,
                             cm_error *err);
/* Rows in, rows out, rows dropped for a missing derived value (by column). */
void cm_features_report(const cm_features *f, FILE *out);

#endif
