/* buf.c - growable byte buffers and bounds-checked cursors, little-endian
 * field by field so no struct layout or host byte order reaches a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

void cm_buf_free(cm_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

size_t cm_cap_for(size_t cap, size_t i, size_t first)
{
    size_t n = cap ? cap : first;
    while (n <= i && n <= SIZE_MAX / 2)
        n *= 2;
    return n;
}

cm_status cm_resize(void *pp, size_t n, size_t cap, size_t size, cm_error *err)
{
    void *p;
    memcpy(&p, pp, sizeof p); /* pp is a T **, not a void ** */
    void *q = size && cap > SIZE_MAX / size ? NULL : realloc(p, cap * size);
    if (!q)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (cap > n)
        memset((char *)q + n * size, 0, (cap - n) * size);
    memcpy(pp, &q, sizeof q);
    return CM_OK;
}

uint8_t *cm_buf_grow(cm_buf *b, size_t n)
{
    if (b->oom)
        return NULL;
    if (n > SIZE_MAX / 2 - b->len) {
        b->oom = 1;
        return NULL;
    }
    if (b->len + n > b->cap || !b->data) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p) {
            b->oom = 1;
            return NULL;
        }
        b->data = p;
        b->cap = cap;
    }
    uint8_t *at = b->data + b->len;
    b->len += n;
    return at;
}

void cm_buf_put(cm_buf *b, const void *p, size_t n)
{
    uint8_t *at = cm_buf_grow(b, n);
    if (at && n)
        memcpy(at, p, n);
}

void cm_buf_u8(cm_buf *b, uint8_t v)
{
    cm_buf_put(b, &v, 1);
}

void cm_buf_u16(cm_buf *b, uint16_t v)
{
    uint8_t p[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    cm_buf_put(b, p, 2);
}

void cm_buf_u32(cm_buf *b, uint32_t v)
{
    uint8_t p[4];
    cm_le32(p, v);
    cm_buf_put(b, p, 4);
}

void cm_buf_u64(cm_buf *b, uint64_t v)
{
    cm_buf_u32(b, (uint32_t)v);
    cm_buf_u32(b, (uint32_t)(v >> 32));
}

void cm_buf_str(cm_buf *b, const char *s, size_t n)
{
    cm_buf_u32(b, (uint32_t)n);
    cm_buf_put(b, s, n);
}

void cm_buf_pad8(cm_buf *b)
{
    size_t pad = (8 - b->len % 8) % 8;
    uint8_t *at = cm_buf_grow(b, pad);
    if (at)
        memset(at, 0, pad);
}

const uint8_t *cm_cur_bytes(cm_cursor *c, size_t n)
{
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = 1;
        return NULL;
    }
    const uint8_t *at = c->p;
    c->p += n;
    return at;
}

uint8_t cm_cur_u8(cm_cursor *c)
{
    const uint8_t *p = cm_cur_bytes(c, 1);
    return p ? p[0] : 0;
}

uint16_t cm_cur_u16(cm_cursor *c)
{
    const uint8_t *p = cm_cur_bytes(c, 2);
    return p ? cm_rd16(p) : 0;
}

uint32_t cm_cur_u32(cm_cursor *c)
{
    const uint8_t *p = cm_cur_bytes(c, 4);
    return p ? cm_rd32(p) : 0;
}

uint64_t cm_cur_u64(cm_cursor *c)
{
    const uint8_t *p = cm_cur_bytes(c, 8);
    return p ? cm_rd64(p) : 0;
}

void cm_cur_align8(cm_cursor *c, const uint8_t *base)
{
    size_t off = (size_t)(c->p - base);
    const uint8_t *pad = cm_cur_bytes(c, (8 - off % 8) % 8);
    /* Padding must be zero so that every stream has one encoding. */
    for (size_t i = 0; pad && i < (8 - off % 8) % 8; i++)
        if (pad[i])
            c->bad = 1;
}

char *cm_cur_str(cm_cursor *c, size_t max, size_t *len)
{
    uint32_t n = cm_cur_u32(c);
    if (n > max) {
        c->bad = 1;
        return NULL;
    }
    const uint8_t *p = cm_cur_bytes(c, n);
    if (!p)
        return NULL;
    /* A NUL would silently cut the string short once it is a C string. */
    if (memchr(p, 0, n)) {
        c->bad = 1;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    memcpy(s, p, n);
    s[n] = '\0';
    if (len)
        *len = n;
    return s;
}

size_t cm_utf8_char(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned c = s[0];
    size_t k;
    uint32_t cp, min;
    if (n == 0 || c == 0)
        return 0;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        k = 1; cp = c & 0x1F; min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        k = 2; cp = c & 0x0F; min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        k = 3; cp = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (n <= k)
        return 0;
    for (size_t j = 1; j <= k; j++) {
        if ((s[j] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[j] & 0x3F);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k + 1;
}

int cm_utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0, k; i < n; i += k)
        if (!(k = cm_utf8_char(s + i, n - i)))
            return 0;
    return 1;
}

void cm_quote_text(char *dst, size_t dstn, const char *s, size_t n, size_t max)
{
    size_t o = 0, i = 0;
    while (i < n && i < max) {
        size_t k = cm_utf8_char(s + i, n - i);
        unsigned char c = (unsigned char)s[i];
        if (k == 0 || c < 0x20 || c == 0x7f) {
            if (o + 5 > dstn)
                break;
            o += (size_t)snprintf(dst + o, dstn - o, "\\x%02X", c);
            i++;
            continue;
        }
        if (i + k > max || o + k + 1 > dstn)
            break;
        memcpy(dst + o, s + i, k);
        o += k;
        i += k;
    }
    if (i < n && o + 4 <= dstn) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o < dstn ? o : dstn - 1] = '\0';
}

char *cm_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *cm_strdup(const char *s)
{
    return cm_strndup(s, strlen(s));
}
