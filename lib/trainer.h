/*
 * trainer.h - the parts of cm_train: its settings (trainset.c), the MLP's
 * descent (trainmlp.c) and the rest, data to metrics (train.c).
 */
#ifndef CM_TRAINER_H
#define CM_TRAINER_H

#include "model.h"

typedef struct cm_train_cfg {
    int kind, epochs, batch, patience, step_size, skip_missing;
    size_t *layers, nlayers;
    cm_act act;
    cm_loss_kind loss;
    cm_optim opt;
    cm_sched_kind sched;
    float lr, gamma, dropout, huber;
    double l2, valid;
    uint64_t seed;
    const char *target, *features;
} cm_train_cfg;

/* Reads the settings, with their defaults; unknown keys are errors. */
cm_status cm_train_cfg_read(const cm_kv *s, cm_train_cfg *c, cm_error *err);

/* Fits the layers of m (sizes set, weights not) on x, y: the first ntrain
 * rows train, the next nvalid validate; the best epoch's weights stay. */
cm_status cm_train_mlp(cm_model *m, const cm_train_cfg *c, const float *x,
                       const float *y, size_t ntrain, size_t nvalid,
                       void (*on_epoch)(void *, const cm_epoch *), void *ctx,
                       int *epochs_run, int *best_epoch, cm_error *err);

#endif
