/*
 * cm_predict.h - forecasts from a model: its recipe replayed on raw rows
 * (CSV, a row of fields) or on a stream at any stage, the results in
 * input order as text, or scored against the actual values.
 */
#ifndef CM_PREDICT_H
#define CM_PREDICT_H

#include "clean/cm_clean.h"
#include "features/cm_features.h"
#include "model/cm_model.h"

/*
 * Raw CSV goes through every step of the recipe (cleaning, then features,
 * by the same code as cm-clean and cm-features); a cm stream through the
 * steps it lacks.  Every input row gets one result, in input order: rows
 * that cannot be forecast (a missing input, lags without history, no
 * time) get none, with the reason counted.
 */
typedef struct cm_predictor cm_predictor;

/* Results for consecutive input rows. */
typedef struct cm_pred_batch {
    size_t n;
    const cm_schema *schema; /* of b: the rows as the model read them */
    const cm_batch *b;
    const size_t *at;        /* result i is row at[i] of b; SIZE_MAX for a
                                record cleaning left out */
    const double *pred;
    const uint8_t *ok;       /* 0: no forecast */
    const size_t *why;       /* without one: the missing input, or SIZE_MAX */
    int has_actual;          /* b has the target, as the input gave it */
    const uint8_t *left;     /* at SIZE_MAX: why cleaning left it out, a
                                cm_clean_drop */
    const size_t *far;       /* 0, or 1 + the first input far outside what
                                training saw (cm_model_far) */
} cm_pred_batch;
typedef cm_status (*cm_pred_fn)(void *ctx, const cm_pred_batch *p, cm_error *err);

typedef struct cm_pred_stats {
    uint64_t rows, predicted;
    /* records cleaning left out, by cm_clean_drop (those missing a model
     * input count as missing it, below), and the first column blamed */
    uint64_t left[CM_CLEAN_BAD + 1];
    char left_col[CM_CLEAN_BAD + 1][64];
    uint64_t unseen;    /* categories the model never saw (unseen slot) */
    uint64_t far;       /* rows with an input far outside what training saw */
    size_t far_input;   /* the first such row's: 1 + its index */
    uint64_t not_finite; /* forecasts that overflowed: none given */
    uint64_t *missing;  /* per input: rows without a forecast for lack of it */
} cm_pred_stats;

cm_predictor *cm_predictor_new(const cm_model *m, cm_error *err);
void cm_predictor_free(cm_predictor *p);
/* CSV in; lenient lets any raw column be absent (its values missing),
 * otherwise only those the model can do without (the target, say). */
cm_status cm_predict_csv(cm_predictor *p, FILE *in, const char *name, int lenient,
                         cm_pred_fn fn, void *ctx, cm_error *err);
cm_status cm_predict_stream(cm_predictor *p, cm_reader *r, cm_pred_fn fn, void *ctx,
                            cm_error *err);
/* One row of raw fields by name, as text (as in the training CSV), and
 * derived inputs (a lag, say) given as numbers by their names; the
 * fields the row lacks are missing.  A name given twice or unknown is
 * CM_ERR_ARG; a bad value CM_ERR_DATA with err->column naming it. */
cm_status cm_predict_fields(cm_predictor *p, const char *const *names,
                            const char *const *values, size_t n, cm_pred_fn fn,
                            void *ctx, cm_error *err);
/* Why a row has no forecast. */
typedef enum cm_pred_why {
    CM_PRED_OK = 0,
    CM_PRED_MISSING = 1,   /* inputs missing (or not finite) */
    CM_PRED_NO_TIME = 2,   /* the row has no time */
    CM_PRED_NOT_FINITE = 3 /* the forecast overflowed: inputs far beyond training */
} cm_pred_why;

typedef struct cm_pred_one {
    double pred;
    cm_pred_why why;
    char missing[256];     /* CM_PRED_MISSING: the inputs, comma-separated */
    const char *field;     /* the field to blame: the first missing input,
                              or the first field of the time */
    /* A forecast made all the same but doubtful: a category training never
     * saw (its unseen slot), an input far outside what it saw.  ndoubt
     * counts them, the first CM_PRED_DOUBTS are told, each "FIELD: why". */
    size_t ndoubt;
    char doubt[3][320];
} cm_pred_one;
#define CM_PRED_DOUBTS 3
/* cm_predict_fields for one forecast. */
cm_status cm_predict_row(cm_predictor *p, const char *const *names,
                         const char *const *values, size_t n, cm_pred_one *out,
                         cm_error *err);
/* Drops what cm_predict_fields prepared (a cleaner, a builder). */
void cm_predict_forget(cm_predictor *p);
/* Gives a derived input a number instead of deriving it, for the next
 * run (cm_predict_fields sets its own). */
cm_status cm_predictor_fix(cm_predictor *p, const char *name, const char *value,
                           cm_error *err);
/* The names of the inputs result i lacks, comma-separated, into buf:
 * whole names, and how many more did not fit. */
size_t cm_pred_missing(const cm_model *m, const cm_pred_batch *p, size_t i, char *buf,
                       size_t n);
/* What a row must give: the raw fields with their types and categories,
 * the inputs derived from them, and the model's metadata, as text. */
void cm_predictor_describe(const cm_predictor *p, FILE *out);
/* The zone of the training input's times (NULL: UTC). */
const cm_tz *cm_predictor_tz(const cm_predictor *p);
/* Counts of the last run. */
const cm_pred_stats *cm_predictor_stats(const cm_predictor *p);

/* Results as text: a header line (not for JSON), then for each input row
 * its time in tz, the columns named in ids (comma-separated, or NULL),
 * <target>_pred and, when the input has it, the target; missing values
 * empty (null in JSON).  cm_pred_write is a cm_pred_fn. */
typedef struct cm_pred_writer cm_pred_writer;
cm_pred_writer *cm_pred_writer_new(FILE *out, const cm_model *m, const cm_tz *tz,
                                   cm_text_format f, const char *ids, cm_error *err);
cm_status cm_pred_write(void *w, const cm_pred_batch *p, cm_error *err);
/* The header line, if no results came to write one. */
void cm_pred_writer_finish(cm_pred_writer *w);
void cm_pred_writer_free(cm_pred_writer *w);

/* Forecasts against the actual target: set target, zero the rest, pass
 * cm_eval_add as the cm_pred_fn.  Rows without a forecast or an actual
 * value are skipped (counted).  With has_from (cm_eval_from) only the
 * rows whose time is at or after from are scored: those before it are
 * counted in before, and a row without a time is skipped. */
typedef struct cm_eval {
    const char *target;
    uint64_t rows, skipped, nape;
    double ae, se, ape, mean, m2;
    int has_from;
    int64_t from;     /* UTC seconds */
    uint64_t before;
} cm_eval;
/* Scores from time on: ISO 8601, a naive time local to tz (UTC when
 * NULL), as cm_predictor_tz gives the training data's zone; CM_ERR_ARG
 * when it is not such a time. */
cm_status cm_eval_from(cm_eval *e, const char *time, const cm_tz *tz, cm_error *err);
cm_status cm_eval_add(void *e, const cm_pred_batch *p, cm_error *err);
/* NAN where undefined: no rows; MAPE with no non-zero actual value; R²
 * with constant actual values. */
void cm_eval_metrics(const cm_eval *e, double *mae, double *rmse, double *mape, double *r2);
/* rows=, mae=, rmse=, mape=, r2= lines (csv, tsv) or one JSON object. */
void cm_eval_write(FILE *out, const cm_eval *e, cm_text_format f);

/* A raw field of the training input: name, "number", "category" or
 * "time", and for a category the ncats the model learned. */
typedef struct cm_model_field {
    const char *name, *type;
    size_t ncats;
    const cm_dict *dict;
} cm_model_field;
/* Field i (from 0) into out; 0 past the last. */
int cm_predictor_field(const cm_predictor *p, size_t i, cm_model_field *out);
const char *cm_model_field_category(const cm_model_field *f, size_t k, size_t *len);
int cm_predictor_is_field(const cm_predictor *p, const char *name);
/* Whether input name of the model is derived by the recipe (a lag, a
 * calendar part), not a raw field as it is. */
int cm_predictor_derives(const cm_predictor *p, const char *name);
/* The decimal mark of the training CSV's numbers, '.' or ','. */
char cm_predictor_decimal(const cm_predictor *p);

/* ---- for forecasting (lib/forecast) ------------------------------------------ */

const cm_model *cm_predictor_model(const cm_predictor *p);
/* The model's clean and features steps, compiled (NULL for one its recipe
 * lacks). */
const cm_clean_plan *cm_predictor_clean_plan(const cm_predictor *p);
const cm_features_plan *cm_predictor_features_plan(const cm_predictor *p);
/* A cleaner replaying the clean step, for a file (every row cleaned as
 * cm-predict cleans a CSV, none numbered) or, by_hand, for rows of fields
 * (cm_clean_prepare them); CM_ERR_ARG without a clean step. */
cm_clean *cm_predictor_cleaner(cm_predictor *p, int by_hand, cm_error *err);

#endif
