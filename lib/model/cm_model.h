/*
 * cm_model.h - a trained model: what it needs of a row, its forward pass,
 * its file (cm-model(5)) and its description.
 */
#ifndef CM_MODEL_H
#define CM_MODEL_H

#include "stream/cm_stream.h"

/*
 * A model maps a row of its training stream to a forecast of the target.
 * It carries everything for that: the stream's schema, dictionaries and
 * recipe, the fitted scaling and category slots, the weights.  Files are
 * written with cm_model_save (format in cm-model(5)).
 */
typedef struct cm_model cm_model;

void cm_model_free(cm_model *m);
cm_status cm_model_save(const cm_model *m, FILE *out, cm_error *err);
/* Reads and checks a whole model file; CM_ERR_NOTCMT for other files. */
cm_model *cm_model_load(FILE *in, cm_error *err);
/* Metadata: kind, hyperparameters, training rows and time range, the
 * validation metrics (valid_mae, valid_rmse, valid_mape, valid_r2), ... */
const cm_kv *cm_model_meta(const cm_model *m);
/* The schema of the training stream, recipe and dictionaries included. */
const cm_schema *cm_model_schema(const cm_model *m);
const char *cm_model_target(const cm_model *m);
/* Everything but the weights, as text. */
void cm_model_describe(const cm_model *m, FILE *out);
/* Forecasts for the rows of b, read under schema s (columns matched by
 * name, categories by their strings): pred[i] and ok[i] (0 when an input
 * is missing or not finite; why[i], when why is not NULL, is then the
 * index of the first such input, as cm_model_input numbers them).
 * *unseen, when not NULL, counts unknown categories. */
cm_status cm_model_predict(const cm_model *m, const cm_schema *s,
                           const cm_batch *b, double *pred, uint8_t *ok,
                           size_t *why, uint64_t *unseen, cm_error *err);
/* The model's inputs: their number, the name of input i, and whether
 * name is one of them. */
size_t cm_model_ninputs(const cm_model *m);
const char *cm_model_input(const cm_model *m, size_t i);
int cm_model_needs(const cm_model *m, const char *name);

#endif
