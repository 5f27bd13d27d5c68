/*
 * trainer.h - inside cm_train: the settings (trainset.c); the rows of a
 * stream, read once or a chunk at a time (trainrows.c); the design
 * matrix and the scaling fitted on training rows (trainsrc.c); a trainer
 * per model kind (trainlin.c, trainmlp.c, traingbdt.c); metrics and metadata
 * (trainmeta.c); and the whole, fit to model (train.c, dataset.c).
 */
#ifndef CM_TRAINER_H
#define CM_TRAINER_H

#include "common/common.h"
#include "features/cm_features.h"
#include "model/cm_model.h"
#include "nn/cm_nn.h"
#include "train/cm_train.h"

typedef struct cm_train_cfg {
    const cm_kind *kind;
    int epochs, batch, patience, step_size, skip_missing;
    int trees, depth, max_bin;                   /* gbdt */
    double eta, subsample, colsample, min_child_weight;
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
    const char *valid_from; /* the held-out rows are those at or after it */
    const char *horizon;    /* a direct model of that many steps, or a span */
    const char *window, *sequence; /* a sequence model's window (steps or a span) */
    cm_seqnet seq;          /* its network's kind and sizes (no window or inputs yet) */
    size_t seq_first;       /* the column of the window's first input */
} cm_train_cfg;

/* Reads the settings, with their defaults; unknown keys are errors. */
cm_status cm_train_cfg_read(const cm_kv *s, cm_train_cfg *c, cm_error *err);
void cm_train_cfg_free(cm_train_cfg *c);

/* ---- rows (trainrows.c) ------------------------------------------------------ */

/* Rows in memory: the numeric inputs, category codes and targets of
 * each: its own, and for a direct model those ahead of it (nout). */
typedef struct cm_rowset {
    size_t n, cap, nnum, ncat, nout;
    double *num;      /* n x nnum */
    uint32_t *cat;    /* n x ncat, codes of the stream */
    double *y;        /* n x nout */
    int64_t *t;       /* each row's time, for cross-validation with a gap */
    uint32_t *key;    /* kept for a direct model: its series' code + 1, or 0 */
} cm_rowset;

/* A sequence model's windows (trainwin.c): every row of the stream
 * held, with its window derived by the features step's sequence. */
typedef struct cm_train_win {
    cm_features *feat;  /* the builder of the windows, its schema the rows' */
    cm_batch *rows;     /* every row of the stream, its window beside it */
    char *spec;         /* the sequence setting: COL,...:W:SPAN */
    size_t window, channels, first; /* first: seq_COL_W's column */
    cm_step step;
} cm_train_win;
/* The most steps a window has. */
#define CM_SEQ_MAX_WINDOW 10000

/* Where reading a stream stands: the rows of the current pass, and what
 * the first pass counted. */
typedef struct cm_rowreader {
    cm_reader *r;
    const cm_schema *schema; /* of the rows read: r's, or the windows' */
    cm_train_win win;   /* a sequence model's: the rows come from win.rows */
    uint64_t no_window; /* rows left out for want of a whole window */
    const cm_train_cfg *c;
    const cm_encoder *e;
    long target, time_col;
    const long *cols;
    cm_batch *b;        /* the batch in hand, its columns, and its next row */
    cm_ccols in;
    size_t bi;
    int done;           /* the end marker was read */
    uint64_t line;      /* stream rows read in this pass, for messages */
    size_t taken;       /* rows kept in this pass */
    int first;          /* counted on the first pass only: */
    uint64_t skipped;
    int64_t tmin, tmax;
    int have_time;
    /* with valid-from, set before the first pass: its instant; counted
     * then: the rows kept at or after it, and the first of them */
    int has_from;
    int64_t from;
    size_t nfrom;
    uint64_t from_line;
    int64_t from_t;
    /* the step of the series, told on the first pass from every row's
     * time: the series by the key of the features step (or an id column),
     * each one's last time */
    long series_col;
    char lost_series[104]; /* the features step's key, not in the stream */
    cm_tz *tz;
    int64_t *last_t;
    size_t nlast;
    cm_steps steps;
    size_t no_ahead;    /* direct: rows left out without the targets ahead */
} cm_rowreader;

void cm_rowset_free(cm_rowset *d);
/* What the first pass kept of the stream's series, freed. */
void cm_rowreader_release(cm_rowreader *s);
cm_status cm_rowset_grow(cm_rowset *d, size_t cap, cm_error *err);
/* The target and the inputs of stream s by c: the encoder's names and
 * kinds (nothing fitted), and the stream column of each input. */
cm_status cm_train_choose(const cm_train_cfg *c, const cm_schema *s, long *target,
                          long **cols, cm_encoder *e, cm_error *err);
/* Rows into d until it holds limit or the stream ends. */
cm_status cm_rowreader_take(cm_rowreader *s, cm_rowset *d, size_t limit, cm_error *err);
/* What telling the step took (series, zone), freed: for a fresh start. */
void cm_rowreader_release_step(cm_rowreader *s);
/* Row i of the batch in hand (s->in) into the tally of the step. */
cm_status cm_rowreader_watch(cm_rowreader *s, size_t i, cm_error *err);
/* The rows of s->r held in w with their windows by c (its window and
 * sequence), the step told from them (s's time column, series and zone
 * set); c gets the window's size. */
cm_status cm_train_win_build(cm_train_win *w, cm_rowreader *s, cm_train_cfg *c,
                             cm_error *err);
void cm_train_win_free(cm_train_win *w);
/* The model's schema: the rows', its recipe's features step deriving the
 * windows as well. */
cm_schema *cm_train_win_schema(const cm_train_win *w, cm_error *err);
/* Back to the start of the stream for another pass. */
cm_status cm_rowreader_restart(cm_rowreader *s, cm_error *err);
/* How messages name valid-from: "valid-from '2011-12-01'
 * (2011-12-01T00:00:00Z)", as given and as the instant it is. */
void cm_rowreader_from_label(const cm_rowreader *s, char *buf, size_t n);

/* ---- the source of training rows (trainsrc.c) ---------------------------------- */

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

/* The rows behind a cm_source: all in memory, or (stream) read again
 * from the stream a bounded chunk at a time for every pass. */
typedef struct cm_train_rows {
    cm_rowreader s;
    cm_rowset d;
    const cm_encoder *e;
    const size_t *idx;  /* in memory: row i is d's row idx[i] (NULL: i) */
    float *x, *y;       /* the design of d, once the scaling is fitted */
    double *yr;         /* with idx: the targets as read, in that order */
    size_t chunk;       /* most rows at a time; all of them in memory */
    size_t ntrain, nvalid;
    int memory, part;
    size_t pos;         /* rows of the part handed out; SIZE_MAX when idle */
} cm_train_rows;

/* The first pass over the stream (every row counted and checked; in
 * memory, every row kept), the rows left ready for a fit. */
cm_status cm_rows_read(cm_train_rows *src, cm_reader *r, cm_train_cfg *c, cm_encoder *e,
                       long **cols, cm_error *err);
/* trainahead.c: for a direct model (c->horizon), after the first pass: the horizon in
 * steps, and each row's targets ahead of it, k steps after its time in
 * its series for k < horizon; rows without them all left out (their count
 * into *dropped). */
cm_status cm_rows_ahead(cm_train_rows *src, size_t *dropped, cm_error *err);
/* Streaming: the chunk size from the byte budget, in whole batches. */
cm_status cm_rows_size_chunks(cm_train_rows *src, const cm_schema *s, uint64_t budget,
                              size_t batch, cm_error *err);
/* Scaling from the training rows only: means and population deviations
 * (a constant column is divided by 1), slots for the categories. */
cm_status cm_rows_fit_scaling(cm_train_rows *src, cm_encoder *e, cm_error *err);
/* Rows [from, from + n) of d (through idx) into design rows x, scaled
 * targets y, and the targets as read (yr, when not NULL). */
void cm_rows_design(const cm_encoder *e, const cm_rowset *d, const size_t *idx,
                    size_t from, size_t n, float *x, float *y, double *yr);
/* A copy of the schema of the rows read, for their model: every
 * category; a sequence model's recipe deriving its windows. */
cm_schema *cm_rows_schema(const cm_train_rows *src, cm_error *err);
/* The cm_source of src. */
cm_source cm_rows_source(cm_train_rows *src);

/* ---- trainers ---------------------------------------------------------------- */

/* What a fit makes: the network, and its epochs. */
typedef struct cm_fit {
    void *net;
    int epochs_run, best_epoch;
} cm_fit;

/* The fitting of one kind of network, and what its metadata adds. */
typedef struct cm_trainer {
    const cm_kind *kind;
    /* s: the stream's schema, for the inputs' names */
    cm_status (*fit)(const cm_train_cfg *c, const cm_encoder *e, const cm_schema *s,
                     const cm_source *src, size_t ntrain, size_t nvalid,
                     void (*on_epoch)(void *, const cm_epoch *), void *ctx, cm_fit *out,
                     cm_error *err);
    cm_status (*meta)(const cm_fit *f, cm_kv *meta, cm_error *err);
} cm_trainer;
extern const cm_trainer cm_trainer_linear, cm_trainer_mlp, cm_trainer_gbdt, cm_trainer_gru,
    cm_trainer_lstm, cm_trainer_cnn;

/* A network trained by descent (trainsgd.c), for cm_sgd_fit's loop. */
typedef struct cm_sgd_net {
    void *self;
    size_t width, nout;
    /* The outputs of n rows of x (n at most the batch); with rng
     * (training) and dropout, a fresh dropout mask drawn from rng. */
    const float *(*forward)(void *self, size_t n, const float *x, float dropout, cm_rng *rng);
    /* After forward on the same rows: the weights' gradients of the loss
     * whose gradient at the outputs is dout. */
    void (*backward)(void *self, size_t n, const float *x, const float *dout);
    /* An optimizer step of every tensor, the k-th step of the fit. */
    void (*step)(void *self, const cm_optim *o, float lr, uint64_t k);
    /* The weights now are the best so far: into the model's network. */
    void (*keep)(void *self);
    /* Whether every weight is finite, checked after each epoch (NULL: the
     * loss tells, as any non-finite weight reaches it). */
    int (*finite)(void *self);
    /* backward, then step, in one (NULL: those two): a network that steps
     * each layer's weights as their gradient is made. */
    void (*learn)(void *self, size_t n, const float *x, const float *dout, const cm_optim *o,
                  float lr, uint64_t k);
} cm_sgd_net;
/* Epochs of mini-batches over src's training rows in an order drawn from
 * rng each epoch, validation after each, the best epoch kept by t->keep;
 * the epochs into out. */
cm_status cm_sgd_fit(const cm_train_cfg *c, const cm_encoder *enc, const cm_sgd_net *t,
                     cm_rng *rng, const cm_source *src, size_t ntrain, size_t nvalid,
                     void (*on_epoch)(void *, const cm_epoch *), void *ctx, cm_fit *out,
                     cm_error *err);
const cm_trainer *cm_trainer_of(const cm_kind *k);

/* A model fitted on n rows of src (picked by src->idx, or all): the
 * encoder's names and kinds fitted anew, the last c->valid of the rows
 * held out, schema (a copy, taken over) its schema; with describe the
 * metadata and metrics too. */
cm_model *cm_train_fit(const cm_kv *settings, const cm_train_cfg *c, cm_train_rows *src,
                       size_t n, const cm_encoder *names, cm_schema *schema,
                       void (*on_epoch)(void *, const cm_epoch *), void *ctx, int describe,
                       cm_error *err);

/* ---- metrics and metadata (trainmeta.c) ------------------------------------------ */

/* MAE, RMSE, MAPE and R² of m over part (n rows) of src, in the target's
 * units (NAN where undefined). */
cm_status cm_train_measure(const cm_model *m, const cm_source *src, int part, size_t n,
                           double v[4], cm_error *err);
/* Everything the metadata says of a fit: the settings recorded, what the
 * trainer adds, the rows, their time range, the metrics. */
cm_status cm_train_describe(cm_model *m, const cm_kv *settings, const cm_train_cfg *c,
                            const cm_fit *f, cm_train_rows *src, cm_error *err);

#endif
