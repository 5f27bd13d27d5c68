/*
 * cm_stream.h - the cm stream (cm-tensor(5)): dictionaries, the schema and
 * its recipe, batches of rows stored by column, the writer and the reader,
 * and rows rendered as CSV, TSV or JSON lines.
 */
#ifndef CM_STREAM_H
#define CM_STREAM_H

#include <string.h>

#include "time/cm_time.h"

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
/* Bytes one value of the dtype occupies in a batch (inline: the loops
 * that copy rows a cell at a time ask it for each). */
static inline size_t cm_dtype_width(cm_dtype t)
{
    switch (t) {
    case CM_F32: case CM_CAT: return 4;
    case CM_F64: case CM_I64: case CM_TIME: return 8;
    }
    return 0;
}
/* Value i of a column of numbers (f32, f64 or i64) as a double. */
static inline double cm_cell_f64(const void *col, cm_dtype t, size_t i)
{
    switch (t) {
    case CM_F32: return ((const float *)col)[i];
    case CM_F64: return ((const double *)col)[i];
    default: return (double)((const int64_t *)col)[i];
    }
}
/* Value si of column src into value di of column dst, of width w (4 or
 * 8): two fixed sizes, so each copy is one move and not a call to memcpy,
 * for the loops that copy a row a cell at a time. */
static inline void cm_cell_copy(void *dst, size_t di, const void *src, size_t si, size_t w)
{
    if (w == 8)
        memcpy((uint64_t *)dst + di, (const uint64_t *)src + si, 8);
    else
        memcpy((uint32_t *)dst + di, (const uint32_t *)src + si, 4);
}

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
/* CM_ERR_ARG for a setting (what) naming a column s lacks, the columns
 * it has listed: "by: no column 'x' (the columns are 'a', 'b')". */
cm_status cm_schema_no_column(const cm_schema *s, const char *what, const char *name,
                              cm_error *err);
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
/* Takes the last step away (a step merged into an earlier one). */
void cm_recipe_drop_last(cm_schema *s);

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
/* The columns of a batch at once, for loops over its rows: values[col]
 * and valid[col] as cm_batch_values and cm_batch_valid give them. */
typedef struct cm_cols {
    size_t nrows, ncols;
    void *const *values;
    uint8_t *const *valid;
} cm_cols;
typedef struct cm_ccols {
    size_t nrows, ncols;
    const void *const *values;
    const uint8_t *const *valid;
} cm_ccols;
cm_cols cm_batch_cols(cm_batch *b);
cm_ccols cm_batch_ccols(const cm_batch *b);
/* Row si of src into row di of dst, both batches of schema s. */
void cm_batch_copy_row(const cm_schema *s, cm_batch *dst, size_t di,
                       const cm_batch *src, size_t si);

/* Where a stage hands its rows: a batch it owns, which the callee may
 * change in place but not keep. */
typedef cm_status (*cm_batch_fn)(void *ctx, cm_batch *b, cm_error *err);

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

/* What an input holds, told by its first byte, which is put back. */
typedef enum cm_input_kind {
    CM_INPUT_EMPTY = 0,
    CM_INPUT_CM = 1,    /* a cm stream or model file */
    CM_INPUT_OTHER = 2  /* text (CSV), gzip, anything else */
} cm_input_kind;
cm_input_kind cm_input_peek(FILE *in);

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
/* Rows written a cell at a time: a header cell (name; none in JSON is
 * the caller's to skip), the start of a cell (in JSON its key), a number
 * or a missing one (empty; null in JSON).  first: the line's first cell,
 * no separator before it. */
void cm_text_name(FILE *out, cm_text_format f, const char *name, int first);
void cm_text_cell(FILE *out, cm_text_format f, const char *name, int first);
void cm_text_number(FILE *out, cm_text_format f, double v, int present);
/* One string, quoted or escaped for the format, and one present value of
 * column c (times in tz, UTC when NULL). */
void cm_text_string(FILE *out, const char *s, size_t n, cm_text_format f);
void cm_text_value(FILE *out, const cm_schema *s, const cm_batch *b, size_t c,
                   size_t row, cm_text_format f, const cm_tz *tz);

/* ---- NumPy (npyout.c) --------------------------------------------------- */

/* A stream's rows as NumPy's .npy (the number columns, one float64
 * matrix) or .npz (each column an array: float64, datetime64[s], int32
 * codes and NAME_categories strings); missing values NaN, NaT, -1.  Rows
 * wait in temporary files, so memory stays bounded. */
typedef struct cm_npy cm_npy;
cm_npy *cm_npy_new(const cm_schema *s, int npz, cm_error *err);
cm_status cm_npy_add(cm_npy *w, const cm_schema *s, const cm_batch *b, cm_error *err);
/* The file, to out (which may be a pipe); s the stream's final schema. */
cm_status cm_npy_finish(cm_npy *w, const cm_schema *s, FILE *out, cm_error *err);
void cm_npy_free(cm_npy *w);

#endif
