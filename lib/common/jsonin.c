/* jsonin.c - JSON text into a tree of values (RFC 8259), for documents
 * cm reads but did not write.  Recursive descent with a depth cap;
 * numbers through cm_parse_num, so they read the same under any locale
 * and round correctly (a float written shortest reads back exactly). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define MAX_DEPTH 64

typedef struct parser {
    const char *p, *end, *start;
    cm_error *err;
} parser;

static int fail(parser *ps, const char *what)
{
    cm_fail(ps->err, CM_ERR_CORRUPT, "JSON: %s at byte %zu", what,
            (size_t)(ps->p - ps->start));
    return -1;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
                               *ps->p == '\r'))
        ps->p++;
}

static int hex4(parser *ps, unsigned *out)
{
    if (ps->end - ps->p < 4)
        return fail(ps, "a short \\u escape");
    *out = 0;
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                   : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (unsigned)((c | 0x20) - 'a' + 10)
                   : 16;
        if (d == 16)
            return fail(ps, "a bad \\u escape");
        *out = *out << 4 | d;
    }
    return 0;
}

static void put_utf8(cm_buf *b, unsigned u)
{
    if (u < 0x80) {
        cm_buf_u8(b, (uint8_t)u);
    } else if (u < 0x800) {
        cm_buf_u8(b, (uint8_t)(0xC0 | u >> 6));
        cm_buf_u8(b, (uint8_t)(0x80 | (u & 0x3F)));
    } else if (u < 0x10000) {
        cm_buf_u8(b, (uint8_t)(0xE0 | u >> 12));
        cm_buf_u8(b, (uint8_t)(0x80 | (u >> 6 & 0x3F)));
        cm_buf_u8(b, (uint8_t)(0x80 | (u & 0x3F)));
    } else {
        cm_buf_u8(b, (uint8_t)(0xF0 | u >> 18));
        cm_buf_u8(b, (uint8_t)(0x80 | (u >> 12 & 0x3F)));
        cm_buf_u8(b, (uint8_t)(0x80 | (u >> 6 & 0x3F)));
        cm_buf_u8(b, (uint8_t)(0x80 | (u & 0x3F)));
    }
}

/* A string after its opening quote, into a new NUL-terminated copy. */
static char *string(parser *ps)
{
    cm_buf b = {0};
    for (;;) {
        if (ps->p >= ps->end) {
            fail(ps, "an unterminated string");
            break;
        }
        unsigned char c = (unsigned char)*ps->p++;
        if (c == '"') {
            cm_buf_u8(&b, 0);
            if (b.oom) {
                cm_fail(ps->err, CM_ERR_NOMEM, "out of memory");
                break;
            }
            return (char *)b.data;
        }
        if (c < 0x20) {
            ps->p--;
            fail(ps, "a control character in a string");
            break;
        }
        if (c != '\\') {
            cm_buf_u8(&b, c);
            continue;
        }
        if (ps->p >= ps->end) {
            fail(ps, "an unterminated string");
            break;
        }
        char e = *ps->p++;
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t", *k = strchr(from, e);
        if (e && k) {
            cm_buf_u8(&b, (uint8_t)to[k - from]);
            continue;
        }
        unsigned u, lo;
        if (e != 'u' || hex4(ps, &u))
            break;
        if (u >= 0xD800 && u < 0xDC00) { /* a surrogate pair, or U+FFFD */
            if (ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
                ps->p += 2;
                if (hex4(ps, &lo))
                    break;
                u = lo >= 0xDC00 && lo < 0xE000 ? 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                                                : 0xFFFD;
            } else {
                u = 0xFFFD;
            }
        } else if (u >= 0xDC00 && u < 0xE000) {
            u = 0xFFFD;
        }
        put_utf8(&b, u);
    }
    cm_buf_free(&b);
    return NULL;
}

static int number(parser *ps, double *out)
{
    const char *s = ps->p, *q = s;
    if (q < ps->end && *q == '-')
        q++;
    const char *digits = q;
    while (q < ps->end && *q >= '0' && *q <= '9')
        q++;
    if (q == digits || (*digits == '0' && q - digits > 1))
        return fail(ps, "a bad number");
    if (q < ps->end && *q == '.') {
        const char *f = ++q;
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
        if (q == f)
            return fail(ps, "a bad number");
    }
    if (q < ps->end && (*q | 0x20) == 'e') {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-'))
            q++;
        const char *x = q;
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
        if (q == x)
            return fail(ps, "a bad number");
    }
    if (cm_parse_num(s, (size_t)(q - s), '.', out))
        return fail(ps, "a number too long");
    ps->p = q;
    return 0;
}

static int value(parser *ps, cm_jv *v, int depth);
static void release(cm_jv *v);

/* Entries of an array or object after its opening bracket. */
static int entries(parser *ps, cm_jv *v, int depth, char close)
{
    size_t cap = 0;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 0;
    }
    for (;;) {
        if (v->n == cap) {
            size_t ncap = cap ? 2 * cap : 8;
            if (cm_resize(&v->item, cap, ncap, sizeof *v->item, ps->err) ||
                (close == '}' && cm_resize(&v->key, cap, ncap, sizeof *v->key, ps->err)))
                return -1;
            cap = ncap;
        }
        skip_ws(ps);
        if (close == '}') {
            if (ps->p >= ps->end || *ps->p != '"')
                return fail(ps, "a member without a name");
            ps->p++;
            if (!(v->key[v->n] = string(ps)))
                return -1;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(v->key[v->n]);
                return fail(ps, "no ':' after a member's name");
            }
            ps->p++;
        }
        if (value(ps, &v->item[v->n], depth + 1)) { /* what it made so far freed */
            release(&v->item[v->n]);
            if (close == '}')
                free(v->key[v->n]);
            return -1;
        }
        v->n++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return 0;
        }
        return fail(ps, close == '}' ? "no ',' or '}' after a member" : "no ',' or ']' after a value");
    }
}

static int word(parser *ps, const char *w)
{
    size_t k = strlen(w);
    if ((size_t)(ps->end - ps->p) < k || memcmp(ps->p, w, k))
        return fail(ps, "an unexpected character");
    ps->p += k;
    return 0;
}

static int value(parser *ps, cm_jv *v, int depth)
{
    *v = (cm_jv){0};
    if (depth > MAX_DEPTH)
        return fail(ps, "nesting too deep");
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, "an unexpected end");
    switch (*ps->p) {
    case '{':
    case '[':
        v->type = *ps->p == '{' ? CM_J_OBJ : CM_J_ARR;
        ps->p++;
        return entries(ps, v, depth, v->type == CM_J_OBJ ? '}' : ']');
    case '"':
        ps->p++;
        v->type = CM_J_STR;
        return (v->str = string(ps)) ? 0 : -1;
    case 't':
        v->type = CM_J_BOOL;
        v->num = 1;
        return word(ps, "true");
    case 'f':
        v->type = CM_J_BOOL;
        return word(ps, "false");
    case 'n':
        return word(ps, "null");
    default:
        if (*ps->p != '-' && (*ps->p < '0' || *ps->p > '9'))
            return fail(ps, "an unexpected character");
        v->type = CM_J_NUM;
        return number(ps, &v->num);
    }
}

static void release(cm_jv *v)
{
    for (size_t i = 0; i < v->n; i++) {
        release(&v->item[i]);
        if (v->key)
            free(v->key[i]);
    }
    free(v->item);
    free(v->key);
    free(v->str);
}

void cm_jv_free(cm_jv *v)
{
    if (v)
        release(v);
    free(v);
}

cm_jv *cm_jv_parse(const char *text, size_t n, cm_error *err)
{
    parser ps = {text, text + n, text, err};
    cm_jv *v = calloc(1, sizeof *v);
    if (!v) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    int st = value(&ps, v, 0);
    if (!st) {
        skip_ws(&ps);
        if (ps.p != ps.end)
            st = fail(&ps, "text after the value");
    }
    if (st) {
        cm_jv_free(v);
        return NULL;
    }
    return v;
}

const cm_jv *cm_jv_get(const cm_jv *v, const char *key)
{
    for (size_t i = 0; v && v->type == CM_J_OBJ && i < v->n; i++)
        if (!strcmp(v->key[i], key))
            return &v->item[i];
    return NULL;
}

const cm_jv *cm_jv_path(const cm_jv *v, ...)
{
    va_list ap;
    va_start(ap, v);
    for (const char *k; v && (k = va_arg(ap, const char *));)
        v = cm_jv_get(v, k);
    va_end(ap);
    return v;
}
