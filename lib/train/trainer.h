/*
 * trainer.h - the parts of cm_train: its settings (trainset.c), the MLP's
 * descent (trainmlp.c) and the rest, data to metrics (train.c).
 */
#ifndef CM_TRAINER_H
#define CM_TRAINER_H

#include "model/model.h"
#include "train/cm_train.h"

typedef struct cm_train_cfg {
    int kind, epochs, batch, patience, step_size, skip_missing;
    size_t *layers, nlayers;
    cm_act act;
    cm_loss_kind loss;
    cm_optim opt;
    cm_sched_kind sched;
    float lr, gamma, dropout, huber;
    double l2, valid;
    uint64_t seed, buffer; /* buffer: bytes of rows held at once, with stream */
    int stream;
    int threads; /* for large matrix products; results do not depend on it */
    const char *target, *features;
} cm_train_cfg;

/* Reads the settings, with their defaults; unknown keys are errors. */
cm_status cm_train_cfg_read(const cm_kv *s, cm_train_cfg *c, cm_error *err);

/* Rows for training, a chunk at a time: design rows x (standardized and
 * one-hot), standardized targets y and the targets as read. */
typedef struct cm_chunk {
    const float *x, *y;
    const double *yraw;
    size_t n;  /* 0: the part is done; the next call starts it again */
    int whole; /* this chunk is the whole part */
} cm_chunk;

/* next gives the chunks of part 0 (the training rows) or part 1 (the
 * held-out rows, in time order), always in the same order. */
typedef struct cm_source {
    cm_status (*next)(void *ctx, int part, cm_chunk *out, cm_error *err);
    void *ctx;
} cm_source;

/* Fits the layers of m (sizes set, weights not) on ntrain rows and
 * validates on nvalid; the best epoch's weights stay. */
cm_status cm_train_mlp(cm_model *m, const cm_train_cfg *c, const cm_source *src,
                       size_t ntrain, size_t nvalid,
                       void (*on_epoch)(void *, const cm_epoch *), void *ctx,
                       int *epochs_run, int *best_epoch, cm_error *err);

#endif
