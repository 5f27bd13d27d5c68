/*
 * cm_train.h - fitting models: the rows of a stream into a model, once
 * (cm_train) or many times on parts of rows held in memory (cm_dataset,
 * for cross-validation).
 */
#ifndef CM_TRAIN_H
#define CM_TRAIN_H

#include "model/cm_model.h"

/* Every setting of a fit: model, target, l2, layers, activation, dropout,
 * loss, huber-delta, optimizer, lr, momentum, beta1, beta2, eps,
 * weight-decay, schedule, step-size, gamma, batch, epochs, seed, valid,
 * valid-from, patience, features, skip-missing, stream, buffer-size,
 * threads, and argv and created for the metadata (see cm-train(1)). */
extern const cm_settings cm_train_settings;
/* A flag of cm_train_settings beyond those of cm_setting: a setting of
 * a whole stream's fit (cm_train) that a fit on picked rows (a fold of
 * cm_dataset_fit) cannot keep, so not an option of cm-tune (valid-from:
 * a fold's rows are not the stream's). */
#define CM_TRAIN_SET_WHOLE (1u << 16)
/* And a setting cm-tune has an option of its own for (horizon: cm-tune
 * --horizon scores trials by forecasts of that many steps, and --direct
 * makes their models direct ones). */
#define CM_TRAIN_SET_TUNE_OWN (1u << 17)

/* What cm_train reports after each epoch. */
typedef struct cm_epoch {
    int epoch, epochs;         /* from 1 */
    double train_loss, valid_loss; /* valid_loss NAN without validation */
    double samples_per_s, eta_s;
    int best;                  /* this epoch is the best so far */
} cm_epoch;

/* Checks settings as cm_train reads them, before any row: CM_ERR_ARG
 * naming the first bad one. */
cm_status cm_train_check(const cm_kv *settings, cm_error *err);
/* Trains on the rows of r by the settings; on_epoch, when not NULL, is
 * called after every epoch. */
cm_model *cm_train(cm_reader *r, const cm_kv *settings,
                   void (*on_epoch)(void *ctx, const cm_epoch *e), void *ctx,
                   cm_error *err);
/*
 * Rows held in memory to fit many models on parts of them, as cm-tune's
 * cross-validation does: the settings target, features and skip-missing
 * choose the rows when loading; each fit takes every other setting.
 */
typedef struct cm_dataset cm_dataset;
cm_dataset *cm_dataset_load(cm_reader *r, const cm_kv *settings, cm_error *err);
void cm_dataset_free(cm_dataset *ds);
size_t cm_dataset_rows(const cm_dataset *ds);
/* Each row's time (INT64_MIN when missing), or NULL without a time column. */
const int64_t *cm_dataset_times(const cm_dataset *ds);
/* The step between the times of the rows' series, as cm_train records
 * it: 0, or -1 and what was found instead into why. */
int cm_dataset_step(const cm_dataset *ds, cm_step *step, char *why, size_t n);
/* A hash of the rows and the names of the target and inputs. */
uint64_t cm_dataset_fingerprint(const cm_dataset *ds);
/* A model fitted as cm_train would on rows[0..n) in that order (every
 * row when rows is NULL): the scaling from those rows only, the last
 * fraction valid of them held out.  On picked rows the model gets no
 * metadata or metrics (score it with cm_dataset_score). */
cm_model *cm_dataset_fit(const cm_dataset *ds, const cm_kv *settings, const size_t *rows,
                         size_t n, void (*on_epoch)(void *ctx, const cm_epoch *e),
                         void *ctx, cm_error *err);
/* The scores of a fit, in the order of cm_dataset_score's v. */
typedef enum cm_metric {
    CM_METRIC_MAE = 0,
    CM_METRIC_RMSE = 1,
    CM_METRIC_MAPE = 2,  /* in percent, over the non-zero actual values */
    CM_METRIC_R2 = 3
} cm_metric;
/* v[CM_METRIC_*] of m on rows[0..n) (NAN where undefined). */
cm_status cm_dataset_score(const cm_model *m, const cm_dataset *ds, const size_t *rows,
                           size_t n, double v[4], cm_error *err);
#endif
