/*
 * model.h - a trained model: how it reads a row of its training stream
 * (the encoder), what it computes (a ridge regression or an MLP), and what
 * it knows about itself (metadata, metrics, the schema and recipe of its
 * training data).  model.c predicts and describes, modelio.c saves and
 * loads (cm-model(5)), train.c fits.
 */
#ifndef CM_MODEL_INTERNAL_H
#define CM_MODEL_INTERNAL_H

#include "common/common.h"
#include "stream/stream.h"
#include "model/cm_model.h"
#include "nn/nn.h"

enum { CM_MODEL_LINEAR = 1, CM_MODEL_MLP = 2 };

/* One input of the model: a numeric column, standardized, or a category
 * column, one-hot over its training categories plus an "unseen" slot. */
typedef struct cm_feature {
    char *name;
    int cat;
    double mean, sd;   /* numeric: x' = (x - mean) / sd */
    uint32_t ncats;    /* cat: slots 0..ncats-1, then ncats for unseen */
    size_t offset;     /* first element in the input vector */
    size_t col;        /* its column in the model's (training) schema */
} cm_feature;

typedef struct cm_encoder {
    cm_feature *f;
    size_t nf, width;
    char *target;
    double tmean, tsd; /* the target is standardized too */
} cm_encoder;

struct cm_model {
    int kind;
    cm_encoder enc;
    cm_schema *schema; /* of the training stream: recipe and dictionaries */
    cm_kv meta;        /* hyperparameters, metrics, provenance */
    /* the network: layer i maps size[i] to size[i + 1] */
    size_t nlayers;
    size_t *size;
    float **W, **b;
    cm_act act;
    /* ridge: double coefficients and intercept, in standardized units */
    double *coef, intercept;
};

/* Column of each feature in schema s (by name), categories checked; the
 * message names the first missing feature. */
cm_status cm_encoder_bind(const cm_encoder *e, const cm_schema *s, long *cols,
                          cm_error *err);
/* Row i of b into x (width floats).  0 ok; -1 when a feature is missing
 * (*which gets its index).  *unseen counts categories the model never saw.
 * model_dicts are the training schema's dictionaries. */
int cm_encoder_row(const cm_encoder *e, const cm_schema *model_schema,
                   const cm_schema *s, const long *cols, const cm_batch *b,
                   size_t i, float *x, size_t *which, uint64_t *unseen);
void cm_encoder_release(cm_encoder *e);

/* The model's output for the encoded inputs x (batch rows of width), in
 * the target's own units; hidden scratch holds the widest layer twice per
 * row. */
void cm_model_forward(const cm_model *m, size_t batch, const float *x,
                      double *y, float *scratch);
size_t cm_model_scratch(const cm_model *m, size_t batch);

#endif
