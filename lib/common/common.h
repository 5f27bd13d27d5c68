/*
 * common.h - helpers every module of libcm shares and no program sees:
 * failing with a message, growable byte buffers and bounds-checked
 * cursors, seeded random numbers, UTF-8.  Never installed.
 */
#ifndef CM_COMMON_INTERNAL_H
#define CM_COMMON_INTERNAL_H

#include "common/cm_common.h"

#if defined(__GNUC__)
#define CM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CM_PRINTF(f, a)
#endif

/* Fills err (when non-NULL) and returns status, so callers can
 * `return cm_fail(err, CM_ERR_DATA, "...")`. */
cm_status cm_fail(cm_error *err, cm_status status, const char *fmt, ...)
    CM_PRINTF(3, 4);
/* The same with a detail for callers that decide by it. */
cm_status cm_fail_as(cm_error *err, cm_status status, cm_detail detail, const char *fmt,
                     ...) CM_PRINTF(4, 5);
/* CM_ERR_ARG: "WHAT: no column 'NAME' (the columns are 'a', 'b', ...)",
 * the n columns named by name_at(ctx, i), but for a stage's own (a name
 * starting with a control character, as CM_CLEAN_RECORD does). */
cm_status cm_fail_no_column(cm_error *err, const char *what, const char *name,
                            const char *(*name_at)(const void *ctx, size_t i),
                            const void *ctx, size_t n);
/* Same for an errno-carrying I/O failure: msg gets ": strerror(errno)". */
cm_status cm_fail_sys(cm_error *err, int errnum, const char *fmt, ...)
    CM_PRINTF(3, 4);

/* ---- growable byte buffer with little-endian encoders -------------------- */

typedef struct cm_buf {
    uint8_t *data;
    size_t len, cap;
    int oom;          /* sticky: an append failed; checked once at the end */
} cm_buf;

void cm_buf_free(cm_buf *b);
/* n bytes of s and a NUL, in new memory; NULL when out of memory. */
char *cm_strndup(const char *s, size_t n);
/* All of s, the same way. */
char *cm_strdup(const char *s);
/* Arrays that grow by doubling.  cm_cap_for: cap doubled (from first,
 * when 0) until index i fits.  cm_resize: the array *pp (a T **) of size-
 * byte elements from n to cap elements, the new ones zeroed; out of
 * memory, *pp is kept as it was and CM_ERR_NOMEM returned. */
size_t cm_cap_for(size_t cap, size_t i, size_t first);
cm_status cm_resize(void *pp, size_t n, size_t cap, size_t size, cm_error *err);
/* Makes room for n more bytes; returns a pointer to them or NULL (oom set). */
uint8_t *cm_buf_grow(cm_buf *b, size_t n);
/* The same, with the common case (room enough) inlined for hot loops. */
static inline uint8_t *cm_buf_take(cm_buf *b, size_t n)
{
    if (b->data && b->cap - b->len >= n) {
        uint8_t *p = b->data + b->len;
        b->len += n;
        return p;
    }
    return cm_buf_grow(b, n);
}
void cm_buf_put(cm_buf *b, const void *p, size_t n);
void cm_buf_u8(cm_buf *b, uint8_t v);
void cm_buf_u16(cm_buf *b, uint16_t v);
void cm_buf_u32(cm_buf *b, uint32_t v);
void cm_buf_u64(cm_buf *b, uint64_t v);
void cm_buf_str(cm_buf *b, const char *s, size_t n); /* u32 length + bytes */
void cm_buf_pad8(cm_buf *b);                         /* zero bytes to 8 */

static inline void cm_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint16_t cm_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t cm_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}
static inline uint64_t cm_rd64(const uint8_t *p)
{
    return (uint64_t)cm_rd32(p) | (uint64_t)cm_rd32(p + 4) << 32;
}

/* Bounds-checked decoding of a payload; any overrun marks it bad. */
typedef struct cm_cursor {
    const uint8_t *p, *end;
    int bad;
} cm_cursor;

uint8_t cm_cur_u8(cm_cursor *c);
uint16_t cm_cur_u16(cm_cursor *c);
uint32_t cm_cur_u32(cm_cursor *c);
uint64_t cm_cur_u64(cm_cursor *c);
const uint8_t *cm_cur_bytes(cm_cursor *c, size_t n);
void cm_cur_align8(cm_cursor *c, const uint8_t *base);
/* A u32-prefixed string of at most max bytes, copied NUL-terminated into a
 * fresh allocation; NULL with c->bad set on overrun, NULL alone on oom. */
char *cm_cur_str(cm_cursor *c, size_t max, size_t *len);

/* ---- comma-separated lists ------------------------------------------------ */

typedef struct cm_list {
    char **item;
    size_t n;
} cm_list;

/* Splits text at commas; empty items are kept ("" is a missing marker). */
cm_status cm_list_split(cm_list *l, const char *text, cm_error *err);
void cm_list_free(cm_list *l);
/* Index of s in l, or -1. */
long cm_list_find(const cm_list *l, const char *s);

/* ---- rows by series and time (rowkey.c) ---------------------------------- */

/* A row by its series, its time and its place: sorted by cm_rowkey_cmp,
 * each series' rows in time order, rows of one time in their order. */
typedef struct cm_rowkey {
    uint64_t series;
    int64_t t;
    size_t row;
} cm_rowkey;
int cm_rowkey_cmp(const void *a, const void *b);

/* ---- JSON out ---------------------------------------------------------------- */

/* A string escaped (invalid UTF-8 as U+FFFD), quotes included. */
void cm_json_string(FILE *out, const char *s, size_t n);
/* Values in objects and arrays, commas put where they go: open with
 * cm_json_begin(j, '{'), name each value with cm_json_key, close with
 * cm_json_end(j, '}').  Start from cm_json j = {out}. */
typedef struct cm_json {
    FILE *out;
    int depth, key;
    unsigned char first[16];
} cm_json;
void cm_json_begin(cm_json *j, char open);
void cm_json_end(cm_json *j, char close);
void cm_json_key(cm_json *j, const char *key);
void cm_json_str(cm_json *j, const char *s); /* NULL: null */
void cm_json_u64(cm_json *j, uint64_t v);
/* The shortest text; NaN as null, infinities as the strings "inf", "-inf". */
void cm_json_f64(cm_json *j, double v);

/* ---- JSON in (jsonin.c) --------------------------------------------------------- */

/* A parsed JSON value: a tree of them, read whole.  For documents cm
 * reads but did not write (XGBoost's model); depth and size are capped,
 * so hostile text costs bounded memory and stack. */
typedef enum cm_jtype { CM_J_NULL, CM_J_BOOL, CM_J_NUM, CM_J_STR, CM_J_ARR, CM_J_OBJ } cm_jtype;
typedef struct cm_jv cm_jv;
struct cm_jv {
    cm_jtype type;
    double num;   /* a number, or a bool as 0/1 */
    char *str;    /* a string (NUL-terminated, UTF-8) */
    size_t n;     /* an array's or object's entries */
    cm_jv *item;  /* ... its values */
    char **key;   /* ... and an object's keys */
};
/* The value of text[0..n) (one value, then only white space); NULL with
 * CM_ERR_CORRUPT and where it went wrong. */
cm_jv *cm_jv_parse(const char *text, size_t n, cm_error *err);
void cm_jv_free(cm_jv *v);
/* An object's member by key, or NULL (also when v is NULL or no object). */
const cm_jv *cm_jv_get(const cm_jv *v, const char *key);
/* A path of keys through nested objects: cm_jv_path(v, "a", "b", NULL). */
const cm_jv *cm_jv_path(const cm_jv *v, ...);

/* ---- seeded random numbers: xoshiro256** seeded through splitmix64 ------ */

typedef struct cm_rng {
    uint64_t s[4];
} cm_rng;

void cm_rng_seed(cm_rng *r, uint64_t seed);
uint64_t cm_rng_next(cm_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double cm_rng_unit(cm_rng *r);
/* Uniform in [0, n) without modulo bias. */
uint64_t cm_rng_below(cm_rng *r, uint64_t n);

/* Valid UTF-8 without NUL bytes; names and categories must be. */
int cm_utf8_valid(const char *s, size_t n);
/* Length of the valid UTF-8 character at s (1-4), or 0 if none starts
 * there. */
size_t cm_utf8_char(const char *s, size_t n);
/* Input text fit for a one-line message: at most max bytes of s, cut
 * between characters, "..." when cut, control and invalid bytes as \xNN. */
void cm_quote_text(char *dst, size_t dstn, const char *s, size_t n, size_t max);

#endif
