/*
 * cm_common.h - the bottom of libcm: version, status codes and the error
 * record, format limits, key/value lists, numbers read and printed the
 * same under every locale, durations and sizes, atomic output files.
 */
#ifndef CM_COMMON_H
#define CM_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* ---- text rendering, locale-independent ---------------------------------- */

/* Shortest text that reads back to exactly v ("nan", "inf", "-inf" too). */
size_t cm_fmt_f64(char *buf, size_t n, double v);
size_t cm_fmt_f32(char *buf, size_t n, float v);

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
