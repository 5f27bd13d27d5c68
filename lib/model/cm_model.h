/*
 * cm_model.h - a trained model: the encoder that turns a row of its
 * training stream into an input vector, a network of some kind that maps
 * that vector to a forecast, and what it knows of itself (the stream's
 * schema, dictionaries and recipe; metadata and metrics).  Files are
 * cm-model(5).  The second half of this header is for trainers: the
 * encoder's fitted parts, the kinds of network, and building a model.
 */
#ifndef CM_MODEL_H
#define CM_MODEL_H

#include "stream/cm_stream.h"

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
/* Everything but the weights, as text; its "metadata:" part alone (the
 * training ranges left to the inputs they belong to). */
void cm_model_describe(const cm_model *m, FILE *out);
void cm_model_describe_meta(const cm_model *m, FILE *out);
/* Whether a metadata key is listed as such (the training ranges are
 * shown with their inputs instead). */
int cm_model_meta_listed(const char *key);
/* The index of input name, or -1. */
long cm_model_input_index(const cm_model *m, const char *name);
/* Forecasts for the rows of b, read under schema s (columns matched by
 * name, categories by their strings): pred[i] and ok[i] (0 when an input
 * is missing or not finite; why[i], when why is not NULL, is then the
 * index of the first such input, as cm_model_input numbers them).
 * *unseen, when not NULL, counts unknown categories. */
cm_status cm_model_predict(const cm_model *m, const cm_schema *s,
                           const cm_batch *b, double *pred, uint8_t *ok,
                           size_t *why, uint64_t *unseen, cm_error *err);
/* Threads for cm_model_predict of a batch of thousands of rows (the
 * default 1): the forecasts are the same for any number.  Set it before
 * the model is shared between threads. */
void cm_model_set_threads(cm_model *m, int threads);
/* The steps a model forecasts at once: 1, or a direct model's horizon H,
 * whose outputs are the target at the row's time and the H - 1 steps
 * after it (cm_model_predict gives the first). */
size_t cm_model_horizon(const cm_model *m);
/* The same as cm_model_predict with every output: pred[i * H + k] the
 * forecast k steps after row i's time. */
cm_status cm_model_predict_ahead(const cm_model *m, const cm_schema *s, const cm_batch *b,
                                 double *pred, uint8_t *ok, size_t *why, uint64_t *unseen,
                                 cm_error *err);
/* A sequence model's window: its steps (0 for a model of another kind),
 * and the values of each step into *channels; its first steps x channels
 * inputs are the window, oldest step first. */
size_t cm_model_window(const cm_model *m, size_t *channels);
/* The model's inputs: their number, the name of input i, and whether
 * name is one of them. */
size_t cm_model_ninputs(const cm_model *m);
const char *cm_model_input(const cm_model *m, size_t i);
int cm_model_needs(const cm_model *m, const char *name);
/* The categories the model learned for input name (0: none, or not a
 * category input); codes from 0 in the model schema's dictionary. */
size_t cm_model_categories(const cm_model *m, const char *name);
/* Numeric inputs far outside what training saw: beyond its least or
 * greatest value by more than the span between them.  For each row of b
 * (read under s), far[i] is 0, or 1 + the first such input's index. */
cm_status cm_model_far(const cm_model *m, const cm_schema *s, const cm_batch *b,
                       size_t *far, cm_error *err);
/* XGBoost's own JSON model of a gbdt model's trees, the inputs' values
 * named as cm_encoder_slot_name names them, to out; CM_ERR_DATA for a
 * model of another kind. */
cm_status cm_model_export_xgboost(const cm_model *m, FILE *out, cm_error *err);
/* Input k's least and greatest training value; 0 when not known. */
int cm_model_seen(const cm_model *m, size_t k, double *lo, double *hi);

/* ---- for trainers ------------------------------------------------------------ */

/* One input: a numeric column, standardized, or a category column, one-hot
 * over its training categories plus an "unseen" slot. */
typedef struct cm_feature {
    char *name;
    int cat;
    double mean, sd;   /* numeric: x' = (x - mean) / sd */
    double lo, hi;     /* numeric: the least and greatest value training saw
                          (NAN in a model of cm 0.1 that did not record them) */
    uint32_t ncats;    /* cat: slots 0..ncats-1, then ncats for unseen */
    size_t offset;     /* first element in the input vector */
    size_t col;        /* its column in the model's (training) schema */
} cm_feature;

typedef struct cm_encoder {
    cm_feature *f;
    size_t nf, width;
    char *target;
    double tmean, tsd; /* the target is standardized too */
    size_t nout;       /* outputs: 1, or a direct model's steps ahead, the
                          target at the row's time and each step after it */
    int raw;           /* numbers unscaled (mean 0, sd 1) and missing inputs
                          taken as NaN: a kind of model (trees) that
                          handles both itself (cm_kind.raw) */
} cm_encoder;

/* A missing category code, with raw: every slot of its one-hot NaN. */
#define CM_CODE_MISSING UINT32_MAX

/* The one function that makes input vectors, for training rows and for
 * rows to forecast alike: x (width floats) from the row's numbers, in the
 * order of the numeric inputs, and its category codes of the model
 * schema's dictionaries, in the order of the category inputs (a code at
 * or past an input's ncats is unseen). */
void cm_encoder_encode(const cm_encoder *e, const double *num, const uint32_t *cat,
                       float *x);
/* The name of value (slot) j of the input vector: a number's column,
 * "COL=VALUE" for a category's slot, "COL=(unseen)" for its last; s the
 * model's schema.  Returns the length snprintf would. */
int cm_encoder_slot_name(const cm_encoder *e, const cm_schema *s, size_t j, char *buf,
                         size_t n);
void cm_encoder_release(cm_encoder *e);
cm_status cm_encoder_copy(cm_encoder *to, const cm_encoder *from, cm_error *err);

/* What a model kind's network does, and how it goes to a file: each kind
 * is one of these (kinds.c lists them). */
typedef struct cm_tensor_out cm_tensor_out;
typedef struct cm_tensor_in cm_tensor_in;
typedef struct cm_kind {
    const char *name; /* the "kind" of the metadata */
    /* standardized outputs y[batch * nout] for the encoded rows x */
    void (*forward)(const void *net, size_t batch, const float *x, double *y,
                    float *scratch);
    size_t (*scratch)(const void *net, size_t batch);
    cm_status (*save)(const void *net, cm_tensor_out *out, cm_error *err);
    /* the network of width inputs and nout outputs from the file, meta
     * its metadata */
    void *(*load)(cm_tensor_in *in, const cm_kv *meta, size_t width, size_t nout,
                  cm_error *err);
    /* what the network is, beyond the inputs and metadata; m its model */
    void (*describe)(const void *net, const cm_model *m, FILE *out);
    void (*free)(void *net);
    int raw; /* takes inputs unscaled, and missing ones (cm_encoder.raw) */
    /* the work of one row's forward pass, in multiply-adds (or steps
     * down a tree): whether rows are worth a thread */
    size_t (*cost)(const void *net);
    int seq; /* a sequence network: its inputs begin with a window */
} cm_kind;

/* The kind named so, or NULL. */
const cm_kind *cm_kind_find(const char *name);
extern const cm_kind cm_kind_linear, cm_kind_mlp, cm_kind_gbdt, cm_kind_gru, cm_kind_lstm,
    cm_kind_cnn;

/* Boosted regression trees (the gbdt kind), in flat arrays of nodes: tree
 * t's are [start[t], start[t + 1]), its root first.  A node with feature
 * -1 is a leaf worth leaf[i]; any other sends x[feature] < thr to left,
 * a greater or equal value to right and a missing one (NaN) to left when
 * dleft, else to right.  Children come after their parent, so every walk
 * ends.  The forecast is base plus each tree's leaf, summed in float32 in
 * tree order: XGBoost's own arithmetic, and so its numbers. */
typedef struct cm_forest {
    size_t ntrees, nnodes, width;
    int32_t *start, *feature, *left, *right; /* children: indices into the arrays */
    uint8_t *dleft;
    float *thr, *leaf, *gain; /* gain: the split's loss reduction (0 at a leaf) */
    float *hess, *weight;     /* XGBoost's sum of hessians and weight of each node,
                                 kept for the export alone */
    float base;
    /* XGBoost's JSON model with an empty list of trees ("trees":[]): its
     * learner, objective and names, for the export */
    char *xgb;
    size_t xgb_len;
    /* made by cm_forest_ready from the arrays above: the nodes as the
     * walk reads them, and each tree's depth */
    struct cm_fnode *walk;
    uint8_t *depth;
} cm_forest;
/* Checks a forest built from its arrays (every node a leaf, or a split of
 * an input below width with both children later in its tree; a default
 * way of 0 or 1; the trees one after another) and readies it for walking:
 * CM_ERR_CORRUPT when it is not one. */
cm_status cm_forest_ready(cm_forest *f, cm_error *err);
/* Where a forest's trees go in its XGBoost JSON, once, between the brackets. */
#define CM_XGB_TREES "\"trees\":[]"
void cm_forest_free(cm_forest *f);

/* Tensors of a model file, a kind's save and load: float32 (type 1),
 * float64 (type 2), int32 (3) or bytes (4); d1 0 for a vector of d0. */
enum { CM_TENSOR_F32 = 1, CM_TENSOR_F64 = 2, CM_TENSOR_I32 = 3, CM_TENSOR_U8 = 4 };
cm_status cm_tensor_write(cm_tensor_out *o, const char *name, int type, size_t d0,
                          size_t d1, const void *data, cm_error *err);
/* The next tensor, which must have this name, type and shape: its values
 * (all finite) copied into *data, allocated. */
cm_status cm_tensor_read(cm_tensor_in *in, const char *name, int type, size_t d0,
                         size_t d1, void **data, cm_error *err);
/* The same for a vector of any length, which goes to *d0. */
cm_status cm_tensor_read_vec(cm_tensor_in *in, const char *name, int type, size_t *d0,
                             void **data, cm_error *err);

/* A model from its parts, all taken over (freed with it, or at once when
 * this fails): a copy of the training schema, the fitted encoder (its
 * contents moved) and the network of kind k; no metadata yet. */
cm_model *cm_model_new(cm_schema *schema, cm_encoder *enc, const cm_kind *k, void *net,
                       cm_error *err);
/* The metadata, for the trainer to fill. */
cm_kv *cm_model_meta_edit(cm_model *m);
const cm_encoder *cm_model_encoder(const cm_model *m);
const cm_kind *cm_model_kind(const cm_model *m);
const void *cm_model_net(const cm_model *m);
/* The model's forecasts, in the target's units, for encoded rows:
 * y[r * nout + o], nout the encoder's. */
void cm_model_forward(const cm_model *m, size_t batch, const float *x, double *y,
                      float *scratch);
size_t cm_model_scratch(const cm_model *m, size_t batch);

#endif
