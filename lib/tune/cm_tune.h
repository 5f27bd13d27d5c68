/*
 * cm_tune.h - cross-validated search over cm-train's settings: the trials
 * (a grid or random draws), the folds, the runs on worker processes, and
 * the results file that grows a line per trial.
 */
#ifndef CM_TUNE_H
#define CM_TUNE_H

#include "train/cm_train.h"

/* The trials: a grid ("lr=0.1,0.01 layers=32|64,64": every combination,
 * values split on '|' when one is there, else on ','; the last setting
 * changes fastest) or, with random, ndraws draws (ranges LOW:HIGH,
 * LOW:HIGH:log, whole numbers for whole ends, or choices) from seed. */
typedef struct cm_space cm_space;
cm_space *cm_space_new(const char *grid, const char *random, size_t ndraws, uint64_t seed,
                       cm_error *err);
void cm_space_free(cm_space *s);
size_t cm_space_trials(const cm_space *s);
size_t cm_space_params(const cm_space *s);
const char *cm_space_key(const cm_space *s, size_t j);
const char *cm_space_value(const cm_space *s, size_t trial, size_t j);
/* fixed plus trial i's values, into out (empty before). */
cm_status cm_space_settings(const cm_space *s, size_t i, const cm_kv *fixed, cm_kv *out,
                            cm_error *err);
/* Every trial's settings read as cm-train reads them: the first bad one
 * is named before any work starts. */
cm_status cm_space_check(const cm_space *s, const cm_kv *fixed, cm_error *err);

/* Folds of n rows: forward chaining when time (k + 1 blocks; with gap
 * seconds, training rows end that long before the block, by times),
 * otherwise shuffled with seed.  Rows are in stream order in each part. */
typedef struct cm_folds cm_folds;
cm_folds *cm_folds_new(size_t n, size_t k, int time, const int64_t *times, int64_t gap,
                       uint64_t seed, cm_error *err);
void cm_folds_free(cm_folds *f);
size_t cm_folds_count(const cm_folds *f);
void cm_folds_get(const cm_folds *f, size_t i, const size_t **train, size_t *ntrain,
                  const size_t **valid, size_t *nvalid);

/* One trial done: its score on each fold (NAN where a fit failed). */
typedef struct cm_trial_result {
    size_t trial, nfolds;
    const double *scores;
    double mean, std, seconds;
    const char *error; /* why a fold failed, or NULL */
} cm_trial_result;
typedef cm_status (*cm_trial_fn)(void *ctx, const cm_trial_result *r, cm_error *err);

typedef struct cm_tune_job {
    const cm_dataset *ds;
    const cm_space *space;
    const cm_kv *fixed;      /* the settings every trial shares */
    const cm_folds *folds;
    cm_metric metric;        /* what the folds are scored by */
    const size_t *trials;    /* the trials to run, in this order */
    size_t ntrials;
    int jobs;                /* worker processes; 1 runs in the caller */
    /* with horizon (steps, or a span of them): folds scored by backtests
     * of that many steps (cm_tune_backtest) over history, the stream the
     * data were read from, as bytes */
    const char *horizon;
    void *history;
    size_t nhistory;
    const char *history_name;
} cm_tune_job;
/* Runs every (trial, fold), each fit on one thread; fn gets each trial
 * as its last fold finishes. */
cm_status cm_tune_run(const cm_tune_job *job, cm_trial_fn fn, void *ctx, cm_error *err);

/* A fold's model m scored by a backtest of job->horizon steps from every
 * origin from the step before first whose window ends by last (the
 * fold's validation block): v as cm_dataset_score's, pooled over every
 * step (r2 NAN). */
cm_status cm_tune_backtest(const cm_tune_job *job, const cm_model *m, int64_t first,
                           int64_t last, double v[4], cm_error *err);

/* The results file (tab-separated, a header line, a line per trial). */
void cm_results_header(FILE *f, const cm_space *s, size_t k, const char *metric);
void cm_results_line(FILE *f, const cm_space *s, const cm_trial_result *r,
                     const char *data, const char *setup, const char *fixed);
/* Reads results files (shards of one search): the same columns, data and
 * setup throughout, or an error; a last line cut short is left out. */
typedef struct cm_results cm_results;
cm_results *cm_results_read(FILE **files, const char *const *names, size_t n,
                            cm_error *err);
void cm_results_free(cm_results *r);
size_t cm_results_count(const cm_results *r);
const char *cm_results_metric(const cm_results *r); /* "rmse", ... */
const char *cm_results_data(const cm_results *r);  /* NULL without lines */
const char *cm_results_setup(const cm_results *r);
size_t cm_results_params(const cm_results *r);
const char *cm_results_key(const cm_results *r, size_t j);
const char *cm_results_value(const cm_results *r, size_t line, size_t j);
size_t cm_results_trial(const cm_results *r, size_t line);
double cm_results_mean(const cm_results *r, size_t line);
double cm_results_std(const cm_results *r, size_t line);
const char *cm_results_fixed(const cm_results *r, size_t line);
long cm_results_best(const cm_results *r, int higher_better);
int cm_results_has(const cm_results *r, const cm_space *s, size_t trial);

#endif
