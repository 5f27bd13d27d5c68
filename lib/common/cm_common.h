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

/* What exactly went wrong, where a caller decides by it (the status
 * alone says what kind of thing): never decide by the message's text. */
typedef enum cm_detail {
    CM_DETAIL_NONE = 0,
    CM_DETAIL_UTF8 = 1,      /* text that is not valid UTF-8 */
    CM_DETAIL_TOO_LONG = 2,  /* a name or value over CM_MAX_NAME bytes */
    CM_DETAIL_TOO_MANY = 3,  /* one category or column too many */
    CM_DETAIL_NO_TIME = 4,   /* a row without its time */
    CM_DETAIL_MODEL = 5,     /* a model file where a stream was wanted */
    CM_DETAIL_FUTURE = 6     /* in the future rows of a forecast, not its history */
} cm_detail;

typedef struct cm_error {
    cm_status status;
    cm_detail detail;     /* CM_DETAIL_NONE unless a caller needs more */
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
/* Sets key to v as its shortest text. */
cm_status cm_kv_set_num(cm_kv *kv, const char *key, double v, cm_error *err);
/* Every entry of src set in dst, in src's order. */
cm_status cm_kv_copy(cm_kv *dst, const cm_kv *src, cm_error *err);
/* Empties kv (it stays usable). */
void cm_kv_clear(cm_kv *kv);

/* ---- settings: declared once per stage ------------------------------------ */

/*
 * Each stage (cleaning, features, training; a program for its own
 * options) declares every setting once, in a table of these.  From the
 * table come the command line (getopt_long's options and --help, built
 * by the programs), the checking and normalizing of values, the typed
 * struct a stage works from (cm_settings_read), and what a recipe step
 * or a model's metadata records (CM_SET_RECORD).  Settings travel as
 * key/value text between them: on disk in recipes, between programs.
 */
typedef enum cm_set_type {
    CM_SET_FLAG = 1,  /* on the command line without an argument: yes or no */
    CM_SET_TEXT,      /* any text (a check may narrow it) */
    CM_SET_COUNT,     /* a whole number from lo to hi (hi 0: no limit) */
    CM_SET_NUM,       /* a number from lo to hi */
    CM_SET_CHOICE,    /* one of `choices`, '|'-separated */
    CM_SET_DURATION,  /* 90s 15m 2h 7d 1w, kept as seconds */
    CM_SET_SIZE       /* 512K 256M 2G, kept as bytes */
} cm_set_type;

enum {
    CM_SET_PER_COLUMN = 1u << 0, /* COL=VALUE, repeatable, kept as NAME.COL */
    CM_SET_OR_COLUMN = 1u << 1,  /* VALUE for all, or COL=VALUE as above */
    CM_SET_REPEAT = 1u << 2,     /* repeatable, kept as NAME.1, NAME.2, ... */
    CM_SET_HIDDEN = 1u << 3,     /* no option: set by the programs themselves */
    CM_SET_RECORD = 1u << 4,     /* recorded in the recipe step or metadata */
    CM_SET_FIXED = 1u << 5,      /* chooses the data or the machine: cm-tune
                                    does not search it */
    CM_SET_MACHINE = 1u << 6     /* how it runs, not what it computes: not an
                                    option of cm-tune's trials */
};

typedef struct cm_setting {
    const char *name;     /* the key, and the long option */
    char short_opt;       /* or 0 */
    cm_set_type type;
    unsigned flags;
    const char *arg;      /* its argument in --help: "N", "COL=TYPE" */
    const char *dflt;     /* the default as text; NULL: none */
    double lo, hi;        /* CM_SET_COUNT, CM_SET_NUM */
    const char *choices;  /* CM_SET_CHOICE */
    const char *help;     /* what it does; lines after the first after \n */
    const char *section;  /* --help starts a group of options here */
    const char *option;   /* the long option when it differs from name */
    const char *flag;     /* CM_SET_FLAG: the value the option sets ("yes") */
    const char *alias;    /* a second long option for the same setting */
    /* A narrower check of the text (0 when it is good), and what it wants
     * for the message: "a list of widths such as 64,64". */
    int (*check)(const char *value);
    const char *want;
    size_t offset;        /* where cm_settings_read puts it, or CM_SET_NOWHERE */
} cm_setting;

#define CM_SET_NOWHERE ((size_t)-1)
/* offsetof(T, f), checked at compile time to be a field of type U:
 * FLAG and CHOICE int, TEXT const char *, COUNT and DURATION int64_t,
 * NUM double, SIZE uint64_t. */
#define CM_SET_AT(T, f, U)                                                     \
    (offsetof(T, f) + 0 * sizeof(struct {                                      \
         int cm_set_type_check_ : _Generic(((T *)0)->f, U: 1, default: -1);    \
     }))

typedef struct cm_settings {
    const cm_setting *set;
    size_t n;
} cm_settings;

/* The declaration a key belongs to ("type.temp" to "type", "lag.2" to
 * "lag"), and its column or number part (NULL for a plain key). */
const cm_setting *cm_settings_find(const cm_settings *t, const char *key,
                                   const char **part);
/* Checks value against s: CM_OK with its normal form in norm (seconds
 * for a duration, bytes for a size, "yes" or "no" for a flag), or
 * CM_ERR_ARG with "LABEL: 'value' is not WANT". */
cm_status cm_setting_check(const cm_setting *s, const char *label, const char *value,
                           char *norm, size_t n, cm_error *err);
/* What s wants, as in its messages: "a whole number from 1 to 64". */
void cm_setting_want(const cm_setting *s, char *buf, size_t n);
/* Every key of kv known and its value good, then each setting (or its
 * default) into the struct at out.  Text is borrowed from kv. */
cm_status cm_settings_read(const cm_settings *t, const cm_kv *kv, void *out,
                           cm_error *err);

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
 * removes it.  Whatever was at path before is untouched until commit.  The
 * temporary file has no name until commit where the system allows
 * (O_TMPFILE), so a SIGKILL leaves nothing; a named one (.NAME.XXXXXX) a
 * day old is a killed run's, and the next open for path removes it.
 */
typedef struct cm_atomic cm_atomic;

cm_atomic *cm_atomic_open(const char *path, cm_error *err);
FILE *cm_atomic_file(cm_atomic *a);
/* The temporary file's path, for a signal handler to unlink: NULL when
 * written in place or when the file has no name to remove. */
const char *cm_atomic_temp_path(const cm_atomic *a);
cm_status cm_atomic_commit(cm_atomic *a, cm_error *err); /* frees a */
/* A file made, renamed or moved in path's directory is there after a
 * power cut only once the directory is synced: best effort. */
void cm_sync_dir_of(const char *path);
void cm_atomic_abort(cm_atomic *a);                       /* frees a; NULL ok */
#endif
