/*
 * cm_train.h - fitting models: the rows of a stream into a model, once
 * (cm_train) or many times on parts of rows held in memory (cm_dataset,
 * for cross-validation).
 */
#ifndef CM_TRAIN_H
#define CM_TRAIN_H

#include "model/cm_model.h"

/* What cm_train reports after each epoch. */
typedef struct cm_epoch {
    int epoch, epochs;         /* from 1 */
    double train_loss, valid_loss; /* valid_loss NAN without validation */
    double samples_per_s, eta_s;
    int best;                  /* this epoch is the best so far */
} cm_epoch;

/*
 * Trains on the rows of r.  Settings (cm-train makes them from its options):
 *   model linear|mlp   target COL   features COL,...   l2 X (linear)
 *   layers 64,64   activation relu|tanh|sigmoid|gelu   dropout P
 *   loss mse|mae|huber   huber-delta X   optimizer sgd|momentum|adam
 *   lr momentum beta1 beta2 eps weight-decay   schedule constant|step|cosine
 *   step-size N gamma X   batch N   epochs N   seed N   valid FRAC
 *   patience N   skip-missing yes|no   created UNIX-SECONDS   argv TEXT
 * on_epoch, when not NULL, is called after every epoch.
 */
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
/* A hash of the rows and the names of the target and inputs. */
uint64_t cm_dataset_fingerprint(const cm_dataset *ds);
/* A model fitted as cm_train would on rows[0..n) in that order (every
 * row when rows is NULL): the scaling from those rows only, the last
 * fraction valid of them held out.  On picked rows the model gets no
 * metadata or metrics (score it with cm_dataset_score). */
cm_model *cm_dataset_fit(const cm_dataset *ds, const cm_kv *settings, const size_t *rows,
                         size_t n, void (*on_epoch)(void *ctx, const cm_epoch *e),
                         void *ctx, cm_error *err);
/* MAE, RMSE, MAPE and R² of m on rows[0..n) (NAN where undefined). */
cm_status cm_dataset_score(const cm_model *m, const cm_dataset *ds, const size_t *rows,
                           size_t n, double v[4], cm_error *err);
#endif
