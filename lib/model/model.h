/*
 * model.h - inside the model module: what a model is made of (model.c
 * predicts with it and describes it, encoder.c makes its input vectors,
 * kinds.c holds its networks' kinds, modelio.c saves and loads it).
 */
#ifndef CM_MODEL_INTERNAL_H
#define CM_MODEL_INTERNAL_H

#include "common/common.h"
#include "model/cm_model.h"
#include "nn/cm_nn.h"

/* The versions of the model files written: 1.1 added the metadata keys
 * seen.NAME, a numeric input's training range (1.0 files still read).
 * A direct model, whose networks have an output per step of its horizon
 * (the metadata key horizon), changes the tensors' shapes: it is 2.0, and
 * a cm that reads only 1.x refuses it by its version.  A model of one
 * output stays 1.1. */
#define MODEL_MAJOR 1
#define MODEL_MINOR 1
#define MODEL_MAJOR_DIRECT 2
#define MODEL_MINOR_DIRECT 0
#define MODEL_MAX_HORIZON 100000
/* Trees (the gbdt kind, which takes raw inputs) brought a kind and
 * int32 and byte tensors a reader of 1.x or 2.x does not know: 3.0, so
 * that one refuses it by its version. */
#define MODEL_MAJOR_TREES 3
#define MODEL_MINOR_TREES 0

/* Sequence networks (gru, lstm, cnn: cm_kind.seq), whose inputs begin
 * with a window that the recipe's sequence setting derives: 4.0, one
 * output or a direct model's horizon (its metadata key, when there). */
#define MODEL_MAJOR_SEQ 4
#define MODEL_MINOR_SEQ 0

/* The version a model's file is written as. */
#define MODEL_MAJOR_OF(nout, k)                                                \
    ((k)->seq ? MODEL_MAJOR_SEQ : (nout) > 1 ? MODEL_MAJOR_DIRECT               \
     : (k)->raw ? MODEL_MAJOR_TREES : MODEL_MAJOR)
#define MODEL_MINOR_OF(nout, k)                                                \
    ((k)->seq ? MODEL_MINOR_SEQ : (nout) > 1 ? MODEL_MINOR_DIRECT               \
     : (k)->raw ? MODEL_MINOR_TREES : MODEL_MINOR)

struct cm_model {
    const cm_kind *kind;
    void *net;
    cm_encoder enc;
    cm_schema *schema; /* of the training stream: recipe and dictionaries */
    cm_kv *meta;       /* hyperparameters, metrics, provenance */
    uint8_t major, minor; /* of the file it was read from (or will be written as) */
    int threads;          /* for predicting many rows at once (0 or 1: this one) */
};

/* Column of each feature in schema s (by name), kinds checked; the
 * message names the first missing feature. */
cm_status cm_encoder_bind(const cm_encoder *e, const cm_schema *s, long *cols,
                          cm_error *err);
/* The inputs bound to a schema s for a run of rows: each one's column
 * and dtype, and for a category, a map from s's codes to the model's that
 * fills as codes are met (code + 1; 0 not yet looked up), so that a
 * string is looked up once a run and not once a row.  A dictionary much
 * larger than the run gets no map. */
typedef struct cm_enc_bind {
    long *cols;
    cm_dtype *dt;
    uint32_t **map;
    size_t *nmap;
} cm_enc_bind;
cm_status cm_enc_bind_init(cm_enc_bind *bd, const cm_encoder *e, const cm_schema *s,
                           size_t rows, cm_error *err);
void cm_enc_bind_release(cm_enc_bind *bd, const cm_encoder *e);
/* Row i of batch b (its columns), read under s as bound by bd, into x: 0,
 * or -1 when an input is missing or not finite (*which gets its index).
 * Categories are matched by their strings to the model schema's; *unseen
 * counts those it never saw.  num and cat are scratch of nf entries. */
int cm_encoder_row(const cm_encoder *e, const cm_schema *model_schema, const cm_schema *s,
                   const cm_enc_bind *bd, const cm_ccols *b, size_t i, double *num,
                   uint32_t *cat, float *x, size_t *which, uint64_t *unseen);

#endif
