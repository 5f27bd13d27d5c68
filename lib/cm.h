/*
 * cm.h - the public interface of libcm, the core library of the cm toolchain.
 *
 * Everything a cm binary does goes through this header.  The library never
 * prints and never exits: every fallible call returns a cm_status (or NULL)
 * and fills a caller-owned cm_error with a one-line message.  Handles are
 * opaque; every *_free accepts NULL.
 */
#ifndef CM_H
#define CM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CM_VERSION_MAJOR 0
#define CM_VERSION_MINOR 1
#define CM_VERSION_PATCH 0
#define CM_VERSION_STRING "0.1.0"

const char *cm_version_string(void);

/* ---- errors -------------------------------------------------------------- */

/* Values are pinned: they may be compared against across versions. */
typedef enum cm_status {
    CM_OK = 0,
    CM_ERR_NOMEM = 1,     /* allocation failed */
    CM_ERR_IO = 2,        /* read or write failed (errno in cm_error.sys) */
    CM_ERR_CORRUPT = 3,   /* bytes that cannot be what the format says */
    CM_ERR_TRUNCATED = 4, /* input ended before the stream's end marker */
    CM_ERR_VERSION = 5,   /* a format version this build cannot read */
    CM_ERR_LIMIT = 6,     /* a length over one of the caps below */
    CM_ERR_ARG = 7,       /* the caller passed something invalid */
    CM_ERR_DATA = 8,      /* well-formed input with unusable content */
    CM_ERR_NOTCMT = 9     /* the input is not a cm stream at all */
} cm_status;

typedef struct cm_error {
    cm_status status;
    int sys;              /* errno for CM_ERR_IO, else 0 */
    uint64_t line;        /* 1-based input line when known, else 0 */
    char column[128];     /* column name when known, else "" */
    char msg[512];        /* one line, no trailing newline, no prefix */
} cm_error;

/* Static text for a status; never NULL. */
const char *cm_strerror(cm_status status);
/* Clears err (status CM_OK, empty message). */
void cm_error_clear(cm_error *err);

/* ---- format limits ------------------------------------------------------- */

/* A reader refuses any length over these before allocating for it. */
#define CM_MAX_MESSAGE   (256u << 20) /* bytes of one decoded message */
#define CM_MAX_COLUMNS   65536u
#define CM_MAX_NAME      4096u        /* bytes of a name, key or value */
#define CM_MAX_BATCH_ROWS (1u << 20)
#define CM_MAX_DICT      (1u << 26)   /* categories in one column */
#define CM_DEFAULT_BATCH_ROWS 65536u
#define CM_MAX_TIME 1000000000000000LL /* seconds either side of 1970 */

/* ---- key/value lists: metadata and recipe parameters --------------------- */

typedef struct cm_kv cm_kv;

cm_kv *cm_kv_new(void);
void cm_kv_free(cm_kv *kv);
size_t cm_kv_count(const cm_kv *kv);
const char *cm_kv_key(const cm_kv *kv, size_t i);
const char *cm_kv_value(const cm_kv *kv, size_t i);
/* Value for key, or NULL when absent. */
const char *cm_kv_get(const cm_kv *kv, const char *key);
/* Sets key (replacing an earlier value, keeping its position). */
cm_status cm_kv_set(cm_kv *kv, const char *key, const char *value, cm_error *err);

/* ---- categorical dictionaries -------------------------------------------- */

/* Append-only: a string keeps its code for the whole stream. */
typedef struct cm_dict cm_dict;

uint32_t cm_dict_size(const cm_dict *d);
/* The string of a code (NUL-terminated; *len gets its length if len != NULL). */
const char *cm_dict_string(const cm_dict *d, uint32_t code, size_t *len);
/* Code of s, adding it when new. */
cm_status cm_dict_intern(cm_dict *d, const char *s, size_t len, uint32_t *code,
                         cm_error *err);
/* Code of s if present: 1 found, 0 absent. */
int cm_dict_find(const cm_dict *d, const char *s, size_t len, uint32_t *code);

/* ---- schema: columns, stream metadata and the recipe --------------------- */

typedef enum cm_dtype {
    CM_F32 = 1,
    CM_F64 = 2,
    CM_I64 = 3,
    CM_TIME = 4, /* int64 seconds since 1970-01-01T00:00:00Z */
    CM_CAT = 5   /* uint32 code into the column's dictionary */
} cm_dtype;

typedef enum cm_role {
    CM_ROLE_FEATURE = 0,
    CM_ROLE_TARGET = 1,
    CM_ROLE_TIME = 2,
    CM_ROLE_ID = 3,
    CM_ROLE_WEIGHT = 4
} cm_role;

const char *cm_dtype_name(cm_dtype t); /* "f32", ... or NULL if invalid */
const char *cm_role_name(cm_role r);   /* "feature", ... or NULL */
/* Parse a name back; 0 on success, -1 if unknown. */
int cm_dtype_parse(const char *s, cm_dtype *t);
int cm_role_parse(const char *s, cm_role *r);
/* Bytes one value of the dtype occupies in a batch. */
size_t cm_dtype_width(cm_dtype t);

typedef struct cm_schema cm_schema;

cm_schema *cm_schema_new(void);
void cm_schema_free(cm_schema *s);
/* Deep copy, dictionaries and recipe included; NULL when out of memory. */
cm_schema *cm_schema_clone(const cm_schema *s);

/* Appends a column; its index goes to *index if index != NULL. */
cm_status cm_schema_add(cm_schema *s, const char *name, cm_dtype type,
                        cm_role role, size_t *index, cm_error *err);
size_t cm_schema_ncols(const cm_schema *s);
const char *cm_schema_name(const cm_schema *s, size_t col);
cm_dtype cm_schema_dtype(const cm_schema *s, size_t col);
cm_role cm_schema_role(const cm_schema *s, size_t col);
void cm_schema_set_role(cm_schema *s, size_t col, cm_role role);
/* Index of the column with this name, or -1. */
long cm_schema_find(const cm_schema *s, const char *name);
/* Per-column metadata, e.g. "tz" on a time column. */
cm_kv *cm_schema_col_meta(cm_schema *s, size_t col);
const cm_kv *cm_schema_col_meta_c(const cm_schema *s, size_t col);
/* Dictionary of a CM_CAT column; NULL for other dtypes. */
cm_dict *cm_schema_dict(cm_schema *s, size_t col);
const cm_dict *cm_schema_dict_c(const cm_schema *s, size_t col);
/* Stream metadata: producer, source, time zone, ... */
cm_kv *cm_schema_meta(cm_schema *s);
const cm_kv *cm_schema_meta_c(const cm_schema *s);

/*
 * The recipe: the ordered deterministic steps that produced the data, each
 * an operation name with parameters.  Every stage appends its own steps so
 * a model can replay them on a raw row.
 */
size_t cm_recipe_nsteps(const cm_schema *s);
const char *cm_recipe_op(const cm_schema *s, size_t step);
cm_kv *cm_recipe_params(cm_schema *s, size_t step);
const cm_kv *cm_recipe_params_c(const cm_schema *s, size_t step);
/* Appends a step; its index goes to *step if step != NULL. */
cm_status cm_recipe_add(cm_schema *s, const char *op, size_t *step,
                        cm_error *err);

/* ---- batches: a block of rows, stored by column -------------------------- */

typedef struct cm_batch cm_batch;

cm_batch *cm_batch_new(const cm_schema *s, size_t capacity);
void cm_batch_free(cm_batch *b);
size_t cm_batch_capacity(const cm_batch *b);
size_t cm_batch_ncols(const cm_batch *b);
size_t cm_batch_nrows(const cm_batch *b);
/* Sets the row count (clamped to capacity); fill values and valid first. */
void cm_batch_set_nrows(cm_batch *b, size_t nrows);
/*
 * Raw column storage, capacity values long: float, double, int64_t (CM_I64
 * and CM_TIME) or uint32_t (CM_CAT) by dtype.  valid[row] is 1 when the
 * value is present, 0 when missing; a missing value's bytes are ignored.
 */
void *cm_batch_values(cm_batch *b, size_t col);
const void *cm_batch_values_c(const cm_batch *b, size_t col);
uint8_t *cm_batch_valid(cm_batch *b, size_t col);
const uint8_t *cm_batch_valid_c(const cm_batch *b, size_t col);

/* ---- stream writer ------------------------------------------------------- */

/* How batch columns are laid out before deflate (see cm-tensor(5)). */
typedef enum cm_layout {
    CM_LAYOUT_AUTO = 0,   /* times delta-coded, everything else plain */
    CM_LAYOUT_PLAIN = 1,  /* every column as it is */
    CM_LAYOUT_SHUFFLE = 2 /* byte planes; integers and times delta-coded */
} cm_layout;

typedef struct cm_writer_opts {
    int level;        /* deflate level 0-9; -1 means CM_ZLEVEL or the default */
    cm_layout layout; /* for benchmarks; readers take any */
    int background;   /* 1: compress and write on a thread of the writer's */
} cm_writer_opts;

#define CM_DEFAULT_LEVEL 1

typedef struct cm_writer cm_writer;

/*
 * Writes the stream header, schema and recipe to out.  The schema is
 * borrowed and must outlive the writer; dictionary entries added to it
 * later are sent as deltas before the batch that first uses them.
 */
cm_writer *cm_writer_new(FILE *out, const cm_schema *s, const cm_writer_opts *opts,
                         cm_error *err);
cm_status cm_writer_write(cm_writer *w, const cm_batch *b, cm_error *err);
/* Writes the end marker and flushes; the stream is incomplete without it. */
cm_status cm_writer_finish(cm_writer *w, cm_error *err);
void cm_writer_free(cm_writer *w);
/* Deflate level from the CM_ZLEVEL environment variable, or the default. */
cm_status cm_level_from_env(int *level, cm_error *err);

/* ---- stream reader ------------------------------------------------------- */

typedef struct cm_reader cm_reader;

typedef struct cm_stream_stats {
    uint64_t rows;
    uint64_t batches;
    uint64_t raw_bytes;    /* decoded bytes of the messages after the recipe */
    uint64_t stored_bytes; /* the same messages as stored, headers included */
    uint8_t major, minor;  /* format version of the stream */
} cm_stream_stats;

/* Reads and checks the header, schema and recipe. */
cm_reader *cm_reader_new(FILE *in, cm_error *err);
void cm_reader_free(cm_reader *r);
/* The stream's schema; its dictionaries grow as batches are read. */
const cm_schema *cm_reader_schema(const cm_reader *r);
/*
 * Next batch: 1 and *out set (owned by the reader, which reuses it on the
 * next call; the caller may change it in place), 0 at a verified end
 * marker, or -1 with err set.
 */
int cm_reader_next(cm_reader *r, cm_batch **out, cm_error *err);
/*
 * Starts again from the beginning of the stream, which must be seekable
 * (CM_ERR_ARG for a pipe).  The schema is read anew: a pointer from
 * cm_reader_schema does not survive this call.
 */
cm_status cm_reader_rewind(cm_reader *r, cm_error *err);
void cm_reader_stats(const cm_reader *r, cm_stream_stats *st);

/* ---- text rendering, locale-independent ---------------------------------- */

/* Shortest text that reads back to exactly v ("nan", "inf", "-inf" too). */
size_t cm_fmt_f64(char *buf, size_t n, double v);
size_t cm_fmt_f32(char *buf, size_t n, float v);
/* ISO 8601 UTC, "2026-11-28T08:00:00Z". */
size_t cm_fmt_time(char *buf, size_t n, int64_t t);
/* ISO 8601 local time in tz with its offset, "2026-11-28T09:00:00+01:00"
 * ("Z" where the offset is 0; tz NULL is UTC). */
struct cm_tz;
size_t cm_fmt_time_tz(char *buf, size_t n, int64_t t, const struct cm_tz *tz);

/* ---- reading numbers and times from text --------------------------------- */

/*
 * A decimal number: optional spaces, sign, digits with an optional fraction
 * after `decimal` ('.' or ','), optional exponent, optional spaces; or inf,
 * infinity, nan in any case.  Correctly rounded.  0 ok, -1 not a number.
 * The cm binaries never call setlocale(), so the rare inputs handed on to
 * strtod() (more than 19 digits, huge exponents) are read in the C locale.
 */
int cm_parse_num(const char *s, size_t n, char decimal, double *out);
/* 1 when s is a number that a person would also call one: no leading zero
 * before another digit ("007", "00.5"), which marks codes and IDs. */
int cm_num_plain(const char *s, size_t n, char decimal);

/* "90s", "15m", "2h", "7d", "1w" (a bare number is seconds) -> seconds;
 * 0 ok, -1 not a duration. */
int cm_parse_duration(const char *s, int64_t *seconds);
/* "512K", "256M", "2G" (a bare number is bytes) -> bytes; 0 ok, -1 bad. */
int cm_parse_size(const char *s, uint64_t *bytes);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t cm_days_from_civil(int64_t y, unsigned m, unsigned d);
void cm_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* The calendar of an instant in a zone (UTC when tz is NULL). */
typedef struct cm_timeparts {
    int64_t year;
    int month, dom, hour, minute, second;
    int dow;          /* Monday 0 .. Sunday 6 */
    int doy;          /* 1 .. 366 */
    int week;         /* ISO 8601 week, 1 .. 53 */
    int month_days;   /* days in this month */
    int year_days;    /* 365 or 366 */
    int year_weeks;   /* ISO weeks in this ISO year, 52 or 53 */
    int64_t day;      /* local days since 1970-01-01 */
} cm_timeparts;

struct cm_tz;
void cm_time_parts(const struct cm_tz *tz, int64_t t, cm_timeparts *p);

/* A time read from text: wall-clock seconds counted as if the wall clock
 * were UTC, and the UTC offset when the text carried one. */
typedef struct cm_walltime {
    int64_t wall;
    int has_offset;
    int32_t offset; /* seconds east of UTC */
} cm_walltime;

typedef enum cm_time_kind {
    CM_TIME_NONE = 0,
    CM_TIME_ISO = 1,   /* 2026-11-28, 2026-11-28T08:00[:00][.5][Z|+01:00], with
                          a space for the T, an hour of one digit, or / */
    CM_TIME_US = 2,    /* 11/28/2026 [8:00[:00] [AM|PM]] */
    CM_TIME_YEAR = 3,  /* 2026: January 1st */
    CM_TIME_EPOCH = 4  /* seconds since 1970: an integer of 9 to 12 digits */
} cm_time_kind;

/* Reads a time in any of the forms above, fractions of a second dropped;
 * returns the form found, CM_TIME_NONE when none fits. */
cm_time_kind cm_parse_time(const char *s, size_t n, cm_walltime *out);

/* strptime-like formats, read the same under every locale:
 * %Y %m %d %e %H %I %M %S %p %y %b %j %z %F %T %s %% and literal text;
 * a space matches any run of spaces. */
typedef struct cm_timefmt cm_timefmt;
cm_timefmt *cm_timefmt_new(const char *fmt, cm_error *err);
void cm_timefmt_free(cm_timefmt *f);
/* 0 ok, -1 when s does not match. */
int cm_timefmt_parse(const cm_timefmt *f, const char *s, size_t n,
                     cm_walltime *out);

/* ---- cleaning: raw CSV to a typed stream --------------------------------- */

/*
 * Settings are key/value pairs; cm-clean makes them from its options and
 * the same pairs, with every inferred type filled in, become the "clean"
 * step of the recipe, so a model can clean a raw row exactly the same way.
 *   delimiter  , ; tab | (the word "tab" too) or auto     decimal  . or ,
 *   header     yes|no          sample  rows used to infer types (1000)
 *   type.COL   num|cat|time|skip        time  COL[,COL...]
 *   time-format  strptime-like         tz    IANA zone of naive times (UTC)
 *   na         extra missing markers, comma-separated
 *   missing    drop|keep|ffill|interpolate    missing.COL  the same, per column
 *   max-gap    seconds a fill may bridge      range.COL  MIN:MAX
 *   lower      COL,... or all     columns  COL,... to keep     drop  COL,...
 *   sort       yes|no     sort-memory  bytes    dedupe  first|last   key  COL
 *   bad-rows   fail|skip   tmpdir  directory for sort runs
 *   replay     yes: a model replaying the recipe: no sorting, no dedupe,
 *              no row dropped but for a missing time, bad rows fail;
 *              columns the recipe types but the input lacks are empty if
 *              skipped or listed in absent-ok COL,..., otherwise an error
 */
typedef struct cm_clean cm_clean;

cm_clean *cm_clean_new(const cm_kv *settings, cm_error *err);
void cm_clean_free(cm_clean *c);
/*
 * Reads CSV from in and writes the cleaned stream to out.  name is the
 * input's name for the stream metadata; errors carry the line and column.
 */
cm_status cm_clean_run(cm_clean *c, FILE *in, const char *name, FILE *out,
                       const cm_writer_opts *wo, cm_error *err);
/* The same, handing each batch of cleaned rows to emit instead; the
 * schema they are read under is cm_clean_out_schema's, set before the
 * first batch (dictionaries growing). */
typedef cm_status (*cm_batch_fn)(void *ctx, cm_batch *b, cm_error *err);
cm_status cm_clean_each(cm_clean *c, FILE *in, const char *name, cm_batch_fn emit,
                        void *ctx, cm_error *err);
const cm_schema *cm_clean_out_schema(const cm_clean *c);
/* Calls fn(ctx, row) for each record (counted from 1) left out for lack of
 * a time; with the setting replay yes it is the only one left out. */
void cm_clean_on_drop(cm_clean *c, void (*fn)(void *ctx, uint64_t row), void *ctx);
/* What the run did, as indented text lines or as one JSON object. */
void cm_clean_report(const cm_clean *c, FILE *out, int json);
/* Calls fn(ctx, rows read so far) every 65536 rows, for progress display. */
void cm_clean_on_progress(cm_clean *c, void (*fn)(void *ctx, uint64_t rows),
                          void *ctx);

/* ---- features: calendar parts, lags, rolling windows, differences ------- */

/*
 * Settings, as cm-features makes them from its options; with the input's
 * recipe plus them as the "features" step, a model can derive the same
 * columns from raw rows.
 *   target COL          time-features hour,minute,dow,dom,month,doy,week,
 *                       year,weekend | none (default hour,dow,month,doy,weekend)
 *   cyclic yes|no       sin/cos pairs of the periodic parts
 *   holidays DATE,...   local dates that are holidays (is_holiday)
 *   holiday-col COL     a category naming holidays; holiday-none VALUE is
 *                       the "not a holiday" value (default None)
 *   lag.N  COL:SPAN,... rolling.N COL:STAT,...:SPAN    diff.N COL:SPAN,...
 *                       SPAN is a duration (1h, 7d) or a number of rows;
 *                       STAT is mean, std, min, max, sum or count
 *   by COL              series: lags and windows stay within a series
 *   min-count N         fewest values a window needs (default 1)
 *   keep-incomplete yes|no   keep rows whose derived values are missing
 *   drop COL,...        keep COL,...       max-history ROWS per series
 */
typedef struct cm_features cm_features;


cm_features *cm_features_new(const cm_schema *in, const cm_kv *settings,
                             cm_error *err);
void cm_features_free(cm_features *f);
/* The output schema; its recipe is the input's plus this step. */
const cm_schema *cm_features_schema(const cm_features *f);
/* Derives the features of b's rows (b read under the input schema, whose
 * dictionaries may have grown); full output batches go to emit. */
cm_status cm_features_push(cm_features *f, const cm_batch *b, cm_batch_fn emit,
                           void *ctx, cm_error *err);
/* Hands on the rows still held. */
cm_status cm_features_finish(cm_features *f, cm_batch_fn emit, void *ctx,
                             cm_error *err);
/* Rows in, rows out, rows dropped for a missing derived value (by column). */
void cm_features_report(const cm_features *f, FILE *out);

/* ---- models: training, saving, loading, predicting ----------------------- */

/*
 * A model maps a row of its training stream to a forecast of the target.
 * It carries everything for that: the stream's schema, dictionaries and
 * recipe, the fitted scaling and category slots, the weights.  Files are
 * written with cm_model_save (format in cm-model(5)).
 */
typedef struct cm_model cm_model;

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

/* ---- tuning: cross-validated search over cm-train settings -------------- */

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
    int metric;              /* 0 MAE, 1 RMSE, 2 MAPE, 3 R² */
    const size_t *trials;    /* the trials to run, in this order */
    size_t ntrials;
    int jobs;                /* worker processes; 1 runs in the caller */
} cm_tune_job;
/* Runs every (trial, fold), each fit on one thread; fn gets each trial
 * as its last fold finishes. */
cm_status cm_tune_run(const cm_tune_job *job, cm_trial_fn fn, void *ctx, cm_error *err);

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

/* ---- time zones ---------------------------------------------------------- */

/*
 * IANA time zones read from the system's TZif files (TZDIR, else
 * /usr/share/zoneinfo), including the POSIX TZ rule at their end for times
 * after the last listed transition.  No process-wide state (TZ, tzset) is
 * touched, so zones can be used from several threads at once.
 */
typedef struct cm_tz cm_tz;

/* "UTC", "Europe/Berlin", ...; a name with ".." or a leading '/' is refused. */
cm_tz *cm_tz_load(const char *name, cm_error *err);
void cm_tz_free(cm_tz *tz);
const char *cm_tz_name(const cm_tz *tz);
/* Seconds to add to the UTC instant t to get local wall-clock time. */
int32_t cm_tz_offset(const cm_tz *tz, int64_t t);

typedef enum cm_tz_fold {
    CM_TZ_UNIQUE = 0,    /* the local time exists exactly once */
    CM_TZ_AMBIGUOUS = 1, /* twice (clocks set back): the earlier is chosen */
    CM_TZ_GAP = 2        /* never (clocks set forward): shifted forward by
                            the gap, as the clock a person reads would */
} cm_tz_fold;

/* Converts local wall-clock seconds (counted as if the wall clock were UTC)
 * to the UTC instant *utc, saying which case applied. */
cm_tz_fold cm_tz_to_utc(const cm_tz *tz, int64_t local, int64_t *utc);

/* ---- rows as text: CSV, TSV, JSON lines --------------------------------- */

typedef enum cm_text_format {
    CM_TEXT_CSV = 0, /* RFC 4180 quoting, missing as empty */
    CM_TEXT_TSV = 1, /* tab, CR, LF, backslash escaped as \t \r \n \\ */
    CM_TEXT_JSON = 2 /* one object per line, missing as null */
} cm_text_format;

/* "csv", "tsv", "json" -> format; 0 ok, -1 unknown. */
int cm_text_format_parse(const char *s, cm_text_format *f);
/* The header line (none for JSON). */
void cm_text_header(FILE *out, const cm_schema *s, cm_text_format f);
/* Rows [first, first + count) of b, one line each; times as ISO 8601 UTC,
 * categories as their strings.  Check ferror(out) afterwards. */
void cm_text_rows(FILE *out, const cm_schema *s, const cm_batch *b,
                  size_t first, size_t count, cm_text_format f);

/* ---- predicting: the model's recipe replayed on new rows ------------------ */

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
                                row cleaning left out (no time) */
    const double *pred;
    const uint8_t *ok;       /* 0: no forecast */
    const size_t *why;       /* without one: the missing input, or SIZE_MAX */
    int has_actual;          /* b has the target, as the input gave it */
} cm_pred_batch;
typedef cm_status (*cm_pred_fn)(void *ctx, const cm_pred_batch *p, cm_error *err);

typedef struct cm_pred_stats {
    uint64_t rows, predicted;
    uint64_t no_time;   /* rows left out by cleaning */
    uint64_t unseen;    /* categories the model never saw (unseen slot) */
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
/* cm_predict_fields for one forecast: 1 with *pred; 0 without one, the
 * missing inputs named in missing (empty when the forecast is not
 * finite); -1 with err set. */
int cm_predict_row(cm_predictor *p, const char *const *names, const char *const *values,
                   size_t n, double *pred, char *missing, size_t mn, cm_error *err);
/* Gives a derived input a number instead of deriving it, for the next
 * run (cm_predict_fields sets its own). */
cm_status cm_predictor_fix(cm_predictor *p, const char *name, const char *value,
                           cm_error *err);
/* The names of the inputs result i lacks, comma-separated, into buf. */
size_t cm_pred_missing(const cm_model *m, const cm_pred_batch *p, size_t i, char *buf,
                       size_t n);
/* What a row must give: the raw fields with their types and categories,
 * the inputs derived from them, and the model's metadata, as text. */
void cm_model_describe_inputs(const cm_model *m, FILE *out);
/* The zone of the training input's times (NULL: UTC). */
const struct cm_tz *cm_predictor_tz(const cm_predictor *p);
/* Counts of the last run. */
const cm_pred_stats *cm_predictor_stats(const cm_predictor *p);

/* Results as text: a header line (not for JSON), then for each input row
 * its time in tz, the columns named in ids (comma-separated, or NULL),
 * <target>_pred and, when the input has it, the target; missing values
 * empty (null in JSON).  cm_pred_write is a cm_pred_fn. */
typedef struct cm_pred_writer cm_pred_writer;
cm_pred_writer *cm_pred_writer_new(FILE *out, const cm_model *m, const struct cm_tz *tz,
                                   cm_text_format f, const char *ids, cm_error *err);
cm_status cm_pred_write(void *w, const cm_pred_batch *p, cm_error *err);
/* The header line, if no results came to write one. */
void cm_pred_writer_finish(cm_pred_writer *w);
void cm_pred_writer_free(cm_pred_writer *w);

/* Forecasts against the actual target: set target, zero the rest, pass
 * cm_eval_add as the cm_pred_fn.  Rows without a forecast or an actual
 * value are skipped (counted). */
typedef struct cm_eval {
    const char *target;
    uint64_t rows, skipped, nape;
    double ae, se, ape, mean, m2;
} cm_eval;
cm_status cm_eval_add(void *e, const cm_pred_batch *p, cm_error *err);
/* NAN where undefined: no rows; MAPE with no non-zero actual value; R²
 * with constant actual values. */
void cm_eval_metrics(const cm_eval *e, double *mae, double *rmse, double *mape, double *r2);

/* A raw field of the training input: name, "number", "category" or
 * "time", and for a category the ncats the model learned. */
typedef struct cm_model_field {
    const char *name, *type;
    size_t ncats;
    const cm_dict *dict;
} cm_model_field;
/* Field i (from 0) into out; 0 past the last. */
int cm_model_field_at(const cm_model *m, size_t i, cm_model_field *out);
const char *cm_model_field_category(const cm_model_field *f, size_t k, size_t *len);
int cm_model_is_field(const cm_model *m, const char *name);
/* The decimal mark of the training CSV's numbers, '.' or ','. */
char cm_model_decimal(const cm_model *m);

/* ---- serving: models behind HTTP (serve.c, registry.c) --------------------- */

/* Models by name, each reloaded into a new version while requests finish
 * on the old one (reference counts); a file that does not load leaves
 * the old version serving. */
typedef struct cm_registry cm_registry;
typedef struct cm_served cm_served;
cm_registry *cm_registry_new(void);
void cm_registry_free(cm_registry *r);
cm_status cm_registry_add(cm_registry *r, const char *name, const char *path, cm_error *err);
size_t cm_registry_count(const cm_registry *r);
/* A reference to the current version (NULL: no such model); release it. */
cm_served *cm_registry_get(cm_registry *r, const char *name);
cm_served *cm_registry_at(cm_registry *r, size_t i);
void cm_served_release(cm_served *s);
const cm_model *cm_served_model(const cm_served *s);
const char *cm_served_name(const cm_served *s);
uint64_t cm_served_version(const cm_served *s);
/* A predictor for this version, from its pool; give it back after use. */
cm_predictor *cm_served_predictor(cm_served *s, cm_error *err);
void cm_served_give_back(cm_served *s, cm_predictor *p);
/* Every model again (changed_only: those whose file's mtime changed);
 * report gets each model's name and NULL, or why it was refused. */
void cm_registry_reload(cm_registry *r, int changed_only,
                        void (*report)(void *ctx, const char *name, const cm_error *err),
                        void *ctx);
void cm_registry_counts(cm_registry *r, uint64_t *reloads, uint64_t *failures);

typedef struct cm_serve_opts {
    const char *bind;        /* IPv4 address, 127.0.0.1 by default */
    unsigned threads;        /* worker threads */
    size_t max_body, max_batch, max_header;
    unsigned max_connections, timeout; /* timeout in seconds, per connection */
    const char *token;       /* required as "Authorization: Bearer" (NULL: none) */
    /* an access log line per request, when not NULL */
    void (*log)(void *ctx, const char *endpoint, int code, double seconds);
    void *log_ctx;
} cm_serve_opts;
typedef struct cm_server cm_server;
/* Listens on *port (0: any; the port taken is written back). */
cm_server *cm_server_start(cm_registry *reg, const cm_serve_opts *o, unsigned *port,
                           cm_error *err);
/* Stops taking connections, lets the requests in flight finish, ends. */
void cm_server_stop(cm_server *s);

/* ---- atomic output files ------------------------------------------------- */

/*
 * Output that appears under its final name only when complete: data go to a
 * temporary file beside path, commit fsyncs and renames it over path, abort
 * removes it.  Whatever was at path before is untouched until commit.
 */
typedef struct cm_atomic cm_atomic;

cm_atomic *cm_atomic_open(const char *path, cm_error *err);
FILE *cm_atomic_file(cm_atomic *a);
/* The temporary file's path (NULL when written in place), for a signal
 * handler to unlink. */
const char *cm_atomic_temp_path(const cm_atomic *a);
cm_status cm_atomic_commit(cm_atomic *a, cm_error *err); /* frees a */
void cm_atomic_abort(cm_atomic *a);                       /* frees a; NULL ok */

#endif
