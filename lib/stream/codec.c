/* codec.c - message payloads of the cm stream (layouts in cm-tensor(5)).
 * Decoders trust nothing: every count is checked against what is left of
 * the payload before it is used, and a payload must be used up exactly. */
#include <stdlib.h>
#include <string.h>

#include "stream/codec.h"

/* ---- schema and recipe ---------------------------------------------------- */

void cm_encode_kv(cm_buf *out, const cm_kv *kv)
{
    cm_buf_u32(out, (uint32_t)cm_kv_count(kv));
    for (size_t i = 0; i < cm_kv_count(kv); i++) {
        cm_buf_str(out, cm_kv_key(kv, i), strlen(cm_kv_key(kv, i)));
        cm_buf_str(out, cm_kv_value(kv, i), strlen(cm_kv_value(kv, i)));
    }
}

void cm_encode_schema(cm_buf *out, const cm_schema *s)
{
    cm_encode_kv(out, cm_schema_meta_c(s));
    cm_buf_u32(out, (uint32_t)cm_schema_ncols(s));
    for (size_t c = 0; c < cm_schema_ncols(s); c++) {
        const char *name = cm_schema_name(s, c);
        cm_buf_str(out, name, strlen(name));
        cm_buf_u8(out, (uint8_t)cm_schema_dtype(s, c));
        cm_buf_u8(out, (uint8_t)cm_schema_role(s, c));
        cm_buf_u16(out, 0);
        cm_encode_kv(out, cm_schema_col_meta_c(s, c));
    }
}

void cm_encode_recipe(cm_buf *out, const cm_schema *s)
{
    cm_buf_u32(out, (uint32_t)cm_recipe_nsteps(s));
    for (size_t i = 0; i < cm_recipe_nsteps(s); i++) {
        const char *op = cm_recipe_op(s, i);
        cm_buf_str(out, op, strlen(op));
        cm_encode_kv(out, cm_recipe_params_c(s, i));
    }
}

static cm_status corrupt(cm_error *err, const char *file, const char *what)
{
    return cm_fail(err, CM_ERR_CORRUPT, "corrupt %s: bad %s message", file, what);
}

/* Reads a key/value list; strings must be valid UTF-8 (cm_kv_set checks). */
cm_status cm_decode_kv(cm_cursor *c, cm_kv *kv, const char *file, const char *what,
                       cm_error *err)
{
    uint32_t n = cm_cur_u32(c);
    for (uint32_t i = 0; i < n && !c->bad; i++) {
        char *k = cm_cur_str(c, CM_MAX_NAME, NULL);
        char *v = k ? cm_cur_str(c, CM_MAX_NAME, NULL) : NULL;
        cm_status st = CM_OK;
        if (!c->bad && (!k || !v))
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
        else if (!c->bad && (cm_kv_get(kv, k) || cm_kv_set(kv, k, v, NULL)))
            st = corrupt(err, file, what); /* duplicate key or not UTF-8 */
        free(k);
        free(v);
        if (st)
            return st;
    }
    return c->bad ? corrupt(err, file, what) : CM_OK;
}

cm_status cm_decode_schema(const uint8_t *p, size_t n, cm_schema *s, const char *file,
                           cm_error *err)
{
    cm_cursor c = {p, p + n, 0};
    cm_status st = cm_decode_kv(&c, cm_schema_meta(s), file, "schema", err);
    if (st)
        return st;
    uint32_t ncols = cm_cur_u32(&c);
    if (ncols > CM_MAX_COLUMNS)
        return cm_fail(err, CM_ERR_CORRUPT,
                       "corrupt %s: %u columns (at most %u)", file, ncols,
                       (unsigned)CM_MAX_COLUMNS);
    for (uint32_t i = 0; i < ncols && !c.bad; i++) {
        char *name = cm_cur_str(&c, CM_MAX_NAME, NULL);
        uint8_t type = cm_cur_u8(&c), role = cm_cur_u8(&c);
        uint16_t reserved = cm_cur_u16(&c);
        if (c.bad || reserved) {
            free(name);
            return corrupt(err, file, "schema");
        }
        if (!name)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        size_t col;
        st = cm_schema_add(s, name, (cm_dtype)type, (cm_role)role, &col, err);
        free(name);
        if (st == CM_ERR_NOMEM)
            return st;
        if (st)
            return corrupt(err, file, "schema");
        if ((st = cm_decode_kv(&c, cm_schema_col_meta(s, col), file, "schema", err)))
            return st;
    }
    return c.bad || c.p != c.end ? corrupt(err, file, "schema") : CM_OK;
}

cm_status cm_decode_recipe(const uint8_t *p, size_t n, cm_schema *s, const char *file,
                           cm_error *err)
{
    cm_cursor c = {p, p + n, 0};
    uint32_t nsteps = cm_cur_u32(&c);
    for (uint32_t i = 0; i < nsteps && !c.bad; i++) {
        char *op = cm_cur_str(&c, CM_MAX_NAME, NULL);
        if (c.bad)
            break;
        if (!op)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        size_t step;
        cm_status st = cm_recipe_add(s, op, &step, NULL);
        free(op);
        if (st)
            return corrupt(err, file, "recipe");
        if ((st = cm_decode_kv(&c, cm_recipe_params(s, step), file, "recipe", err)))
            return st;
    }
    return c.bad || c.p != c.end ? corrupt(err, file, "recipe") : CM_OK;
}

/* ---- dictionary deltas ---------------------------------------------------- */

void cm_encode_dict(cm_buf *out, const cm_schema *s, size_t col, uint32_t first)
{
    const cm_dict *d = cm_schema_dict_c(s, col);
    uint32_t size = cm_dict_size(d);
    cm_buf_u32(out, (uint32_t)col);
    cm_buf_u32(out, first);
    cm_buf_u32(out, size - first);
    for (uint32_t code = first; code < size; code++) {
        size_t len;
        const char *str = cm_dict_string(d, code, &len);
        cm_buf_str(out, str, len);
    }
}

cm_status cm_decode_dict(const uint8_t *p, size_t n, cm_schema *s, const char *file,
                         cm_error *err)
{
    cm_cursor c = {p, p + n, 0};
    uint32_t col = cm_cur_u32(&c), first = cm_cur_u32(&c),
             count = cm_cur_u32(&c);
    if (c.bad || col >= cm_schema_ncols(s) || cm_schema_dtype(s, col) != CM_CAT)
        return corrupt(err, file, "dictionary");
    cm_dict *d = cm_schema_dict(s, col);
    /* Deltas must continue exactly where the last one ended: a lost or
     * repeated delta would silently shift every later category. */
    if (first != cm_dict_size(d) || count > CM_MAX_DICT - first)
        return corrupt(err, file, "dictionary");
    for (uint32_t i = 0; i < count; i++) {
        uint32_t len = cm_cur_u32(&c);
        const uint8_t *str = len <= CM_MAX_NAME ? cm_cur_bytes(&c, len) : NULL;
        uint32_t code;
        if (!str)
            return corrupt(err, file, "dictionary");
        cm_status st = cm_dict_intern(d, (const char *)str, len, &code, err);
        if (st == CM_ERR_NOMEM)
            return st;
        if (st || code != first + i) /* invalid, or a repeated category */
            return corrupt(err, file, "dictionary");
    }
    return c.p != c.end ? corrupt(err, file, "dictionary") : CM_OK;
}

/* ---- batches -------------------------------------------------------------- */

/* Byte planes group the similar high bytes of nearby numbers, which deflate
 * then finds as long runs (the HDF5/Blosc shuffle filter). */
static void shuffle(uint8_t *dst, const uint8_t *src, size_t n, size_t w)
{
    for (size_t k = 0; k < w; k++) {
        uint8_t *plane = dst + k * n;
        for (size_t i = 0; i < n; i++)
            plane[i] = src[i * w + k];
    }
}

static void unshuffle(uint8_t *dst, const uint8_t *src, size_t n, size_t w)
{
    for (size_t k = 0; k < w; k++) {
        const uint8_t *plane = src + k * n;
        for (size_t i = 0; i < n; i++)
            dst[i * w + k] = plane[i];
    }
}

static void delta_encode(int64_t *v, size_t n)
{
    /* Unsigned arithmetic: differences wrap instead of overflowing. */
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t cur = (uint64_t)v[i];
        v[i] = (int64_t)(cur - prev);
        prev = cur;
    }
}

static void delta_decode(int64_t *v, size_t n)
{
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += (uint64_t)v[i];
        v[i] = (int64_t)acc;
    }
}

size_t cm_batch_bytes(const cm_schema *s, size_t nrows)
{
    size_t n = 8;
    for (size_t c = 0; c < cm_schema_ncols(s); c++)
        n += 8 + ((nrows + 7) / 8 + 7) / 8 * 8 +
             (nrows * cm_dtype_width(cm_schema_dtype(s, c)) + 7) / 8 * 8;
    return n;
}

cm_status cm_encode_batch(cm_buf *out, cm_buf *scratch, const cm_schema *s,
                          const cm_batch *b, size_t first, size_t nrows,
                          cm_layout layout, cm_error *err)
{
    size_t ncols = cm_schema_ncols(s);
    cm_buf_u32(out, (uint32_t)nrows);
    cm_buf_u32(out, (uint32_t)ncols);
    for (size_t c = 0; c < ncols; c++) {
        cm_dtype t = cm_schema_dtype(s, c);
        size_t w = cm_dtype_width(t);
        const uint8_t *valid = cm_batch_valid_c(b, c) + first;
        size_t present = 0;
        for (size_t i = 0; i < nrows; i++)
            present += valid[i] != 0;
        int is_int = t == CM_I64 || t == CM_TIME;
        uint8_t enc = layout == CM_LAYOUT_PLAIN ? CM_ENC_PLAIN
                    : layout == CM_LAYOUT_SHUFFLE ? (is_int ? CM_ENC_DELTA : CM_ENC_SHUFFLE)
                    : t == CM_TIME ? CM_ENC_DELTA : CM_ENC_PLAIN;
        cm_buf_u8(out, enc);
        cm_buf_u8(out, present < nrows);
        cm_buf_u16(out, 0);
        cm_buf_u32(out, 0);
        if (present < nrows) {
            uint8_t *bits = cm_buf_grow(out, (nrows + 7) / 8);
            if (bits) {
                memset(bits, 0, (nrows + 7) / 8);
                for (size_t i = 0; i < nrows; i++)
                    if (valid[i])
                        bits[i / 8] |= (uint8_t)(1u << (i % 8));
            }
            cm_buf_pad8(out);
        }
        /* Missing values are written as zero bytes, so one batch has one
         * encoding whatever its buffer held. */
        scratch->len = 0;
        uint8_t *v = cm_buf_grow(scratch, nrows * w);
        if (!v)
            break;
        memcpy(v, (const uint8_t *)cm_batch_values_c(b, c) + first * w, nrows * w);
        for (size_t i = 0; i < nrows && present < nrows; i++)
            if (!valid[i])
                memset(v + i * w, 0, w);
        if (t == CM_CAT) {
            uint32_t size = cm_dict_size(cm_schema_dict_c(s, c));
            for (size_t i = 0; i < nrows; i++) {
                uint32_t code;
                memcpy(&code, v + i * 4, 4);
                if (valid[i] && code >= size)
                    return cm_fail(err, CM_ERR_DATA,
                                   "column '%s': category code %u not in its "
                                   "dictionary", cm_schema_name(s, c), code);
            }
        }
        if (enc == CM_ENC_DELTA)
            delta_encode((int64_t *)(void *)v, nrows);
        uint8_t *dst = cm_buf_grow(out, nrows * w);
        if (!dst)
            break;
        /* The layout is little-endian; this library only builds on
         * little-endian hosts (checked at compile time in reader.c). */
        if (enc == CM_ENC_PLAIN)
            memcpy(dst, v, nrows * w);
        else
            shuffle(dst, v, nrows, w);
        cm_buf_pad8(out);
    }
    if (out->oom || scratch->oom)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    return CM_OK;
}

cm_status cm_decode_batch(const uint8_t *p, size_t n, const cm_schema *s,
                          cm_batch **bp, cm_error *err)
{
    cm_cursor c = {p, p + n, 0};
    uint32_t nrows = cm_cur_u32(&c), ncols = cm_cur_u32(&c);
    if (c.bad || ncols != cm_schema_ncols(s))
        return corrupt(err, "stream", "batch");
    if (nrows > CM_MAX_BATCH_ROWS)
        return cm_fail(err, CM_ERR_CORRUPT,
                       "corrupt stream: batch of %u rows (at most %u)", nrows,
                       (unsigned)CM_MAX_BATCH_ROWS);
    /* Values take their room even without bitmaps: a payload too short for
     * its claimed rows is refused before the batch is allocated. */
    size_t least = 8;
    for (size_t col = 0; col < ncols; col++)
        least += 8 + ((size_t)nrows * cm_dtype_width(cm_schema_dtype(s, col)) + 7) / 8 * 8;
    if (least > n)
        return corrupt(err, "stream", "batch");
    if (!*bp || cm_batch_capacity(*bp) < nrows) {
        cm_batch_free(*bp);
        if (!(*bp = cm_batch_new(s, nrows)))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    cm_batch *b = *bp;
    for (size_t col = 0; col < ncols; col++) {
        cm_dtype t = cm_schema_dtype(s, col);
        size_t w = cm_dtype_width(t);
        uint8_t enc = cm_cur_u8(&c), has_bits = cm_cur_u8(&c);
        uint16_t r16 = cm_cur_u16(&c);
        uint32_t r32 = cm_cur_u32(&c);
        int is_int = t == CM_I64 || t == CM_TIME;
        if (c.bad || r16 || r32 || has_bits > 1 || enc > CM_ENC_DELTA ||
            (enc == CM_ENC_DELTA && !is_int))
            return corrupt(err, "stream", "batch");
        uint8_t *valid = cm_batch_valid(b, col);
        if (has_bits) {
            const uint8_t *bits = cm_cur_bytes(&c, ((size_t)nrows + 7) / 8);
            /* Bits past the last row must be zero (one encoding per batch). */
            if (!bits || (nrows % 8 && bits[nrows / 8] >> (nrows % 8)))
                return corrupt(err, "stream", "batch");
            for (size_t i = 0; i < nrows; i++)
                valid[i] = (bits[i / 8] >> (i % 8)) & 1;
            cm_cur_align8(&c, p);
        } else {
            memset(valid, 1, nrows);
        }
        const uint8_t *src = cm_cur_bytes(&c, (size_t)nrows * w);
        if (!src)
            return corrupt(err, "stream", "batch");
        uint8_t *dst = cm_batch_values(b, col);
        if (enc == CM_ENC_PLAIN)
            memcpy(dst, src, (size_t)nrows * w);
        else
            unshuffle(dst, src, nrows, w);
        if (enc == CM_ENC_DELTA)
            delta_decode((int64_t *)(void *)dst, nrows);
        cm_cur_align8(&c, p);
        /* Times within about 30 million years: arithmetic on them (a
         * time minus a span) then never overflows. */
        for (size_t i = 0; t == CM_TIME && i < nrows; i++) {
            int64_t v = ((const int64_t *)(void *)dst)[i];
            if (valid[i] && (v > CM_MAX_TIME || v < -CM_MAX_TIME))
                return cm_fail(err, CM_ERR_CORRUPT, "corrupt stream: column '%s': "
                               "a time out of range", cm_schema_name(s, col));
        }
        if (t == CM_CAT) {
            uint32_t size = cm_dict_size(cm_schema_dict_c(s, col));
            const uint32_t *codes = (const uint32_t *)(void *)dst;
            for (size_t i = 0; i < nrows; i++)
                if (valid[i] && codes[i] >= size)
                    return cm_fail(err, CM_ERR_CORRUPT,
                                   "corrupt stream: column '%s': category "
                                   "code %u was never defined",
                                   cm_schema_name(s, col), codes[i]);
        }
        for (size_t i = 0; i < nrows; i++)
            if (!valid[i])
                memset(dst + i * w, 0, w);
    }
    if (c.bad || c.p != c.end)
        return corrupt(err, "stream", "batch");
    cm_batch_set_nrows(b, nrows);
    return CM_OK;
}
