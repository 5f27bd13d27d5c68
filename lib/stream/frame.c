/* frame.c - messages on the wire: length-checked before allocation,
 * CRC-checked after decompression, compressed with zlib or, when built
 * with CM_LIBDEFLATE, libdeflate (same zlib format, faster). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST /* next_in is const: we never write to input */
#include <zlib.h>
#ifdef CM_LIBDEFLATE
#include <libdeflate.h>
#endif

#include "stream/frame.h"

const uint8_t cm_magic_stream[CM_MAGIC_LEN] = {0x89, 'C', 'M', 'T',
                                               0x0D, 0x0A, 0x1A, 0x0A};
const uint8_t cm_magic_model[CM_MAGIC_LEN] = {0x89, 'C', 'M', 'M',
                                              0x0D, 0x0A, 0x1A, 0x0A};
const uint8_t cm_magic_journal[CM_MAGIC_LEN] = {0x89, 'C', 'M', 'J',
                                                0x0D, 0x0A, 0x1A, 0x0A};

struct cm_frame {
    int level;
    const char *what;  /* "stream" or "model file", for messages */
    cm_buf raw, stored;
    uint64_t last_stored;
#ifdef CM_LIBDEFLATE
    struct libdeflate_compressor *lc;
    struct libdeflate_decompressor *ld;
#else
    z_stream zs, zi;
    int zs_ready, zi_ready;
#endif
};

/* What a file of this magic is called in messages. */
static const char *noun(const uint8_t *magic)
{
    return !memcmp(magic, cm_magic_model, CM_MAGIC_LEN)     ? "model file"
         : !memcmp(magic, cm_magic_journal, CM_MAGIC_LEN) ? "journal"
                                                          : "stream";
}

cm_frame *cm_frame_new(int level, const uint8_t *magic)
{
    cm_frame *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->level = level < 0 ? 0 : level > 9 ? 9 : level;
    f->what = noun(magic);
    return f;
}

void cm_frame_free(cm_frame *f)
{
    if (!f)
        return;
    cm_buf_free(&f->raw);
    cm_buf_free(&f->stored);
#ifdef CM_LIBDEFLATE
    if (f->lc)
        libdeflate_free_compressor(f->lc);
    if (f->ld)
        libdeflate_free_decompressor(f->ld);
#else
    if (f->zs_ready)
        deflateEnd(&f->zs);
    if (f->zi_ready)
        inflateEnd(&f->zi);
#endif
    free(f);
}

uint64_t cm_frame_stored(const cm_frame *f)
{
    return f->last_stored;
}

/* CRC-32 as zlib defines it; libdeflate's is the same function, faster. */
static uint32_t crc(uint32_t c, const void *p, size_t n)
{
    if (n == 0) /* zlib's crc32 returns 0 for a NULL buffer */
        return c;
#ifdef CM_LIBDEFLATE
    return libdeflate_crc32(c, p, n);
#else
    return (uint32_t)crc32(c, p, (uInt)n);
#endif
}

/* ---- compression backends ------------------------------------------------ */

/* Deflates in into f->stored; 0 ok, -1 out of memory. */
static int compress_payload(cm_frame *f, const uint8_t *in, size_t len)
{
    f->stored.len = 0;
#ifdef CM_LIBDEFLATE
    if (!f->lc && !(f->lc = libdeflate_alloc_compressor(f->level)))
        return -1;
    size_t bound = libdeflate_zlib_compress_bound(f->lc, len);
    if (!cm_buf_grow(&f->stored, bound))
        return -1;
    size_t n = libdeflate_zlib_compress(f->lc, in, len, f->stored.data, bound);
    if (n == 0)
        return -1;
    f->stored.len = n;
    return 0;
#else
    if (!f->zs_ready) {
        if (deflateInit(&f->zs, f->level) != Z_OK)
            return -1;
        f->zs_ready = 1;
    } else if (deflateReset(&f->zs) != Z_OK) {
        return -1;
    }
    size_t bound = deflateBound(&f->zs, (uLong)len);
    if (!cm_buf_grow(&f->stored, bound))
        return -1;
    f->zs.next_in = in;
    f->zs.avail_in = (uInt)len;
    f->zs.next_out = f->stored.data;
    f->zs.avail_out = (uInt)bound;
    if (deflate(&f->zs, Z_FINISH) != Z_STREAM_END)
        return -1;
    f->stored.len = bound - f->zs.avail_out;
    return 0;
#endif
}

/* Inflates exactly out_len bytes from in; 0 ok, -1 corrupt, -2 no memory. */
static int decompress_payload(cm_frame *f, const uint8_t *in, size_t in_len,
                              uint8_t *out, size_t out_len)
{
#ifdef CM_LIBDEFLATE
    if (!f->ld && !(f->ld = libdeflate_alloc_decompressor()))
        return -2;
    size_t in_used, got;
    enum libdeflate_result r = libdeflate_zlib_decompress_ex(
        f->ld, in, in_len, out, out_len, &in_used, &got);
    return r == LIBDEFLATE_SUCCESS && got == out_len && in_used == in_len ? 0
                                                                           : -1;
#else
    if (!f->zi_ready) {
        int r = inflateInit(&f->zi);
        if (r != Z_OK)
            return r == Z_MEM_ERROR ? -2 : -1;
        f->zi_ready = 1;
    } else if (inflateReset(&f->zi) != Z_OK) {
        return -1;
    }
    f->zi.next_in = in;
    f->zi.avail_in = (uInt)in_len;
    f->zi.next_out = out;
    f->zi.avail_out = (uInt)out_len;
    /* One call with all input and exactly the room announced: anything but
     * Z_STREAM_END with both buffers used up is a damaged payload (a
     * Z_BUF_ERROR here must not be retried, or a truncated stream loops). */
    int r = inflate(&f->zi, Z_FINISH);
    if (r == Z_MEM_ERROR)
        return -2;
    return r == Z_STREAM_END && f->zi.avail_in == 0 && f->zi.avail_out == 0
               ? 0 : -1;
#endif
}

/* ---- file header ---------------------------------------------------------- */

cm_status cm_frame_write_header(FILE *out, const uint8_t *magic, uint8_t major,
                                uint8_t minor, cm_error *err)
{
    uint8_t h[CM_FILE_HEADER] = {0};
    memcpy(h, magic, CM_MAGIC_LEN);
    h[8] = major;
    h[9] = minor;
    /* bytes 10-11: flags, none defined yet, zero */
    cm_le32(h + 12, crc(0, h, 12));
    if (fwrite(h, 1, sizeof h, out) != sizeof h)
        return cm_fail_sys(err, errno, "write failed");
    return CM_OK;
}

static size_t read_full(FILE *in, void *p, size_t n)
{
    return fread(p, 1, n, in);
}

static cm_status foreign(cm_error *err, const uint8_t *h, size_t n,
                         const uint8_t *magic)
{
    int model = !memcmp(magic, cm_magic_model, CM_MAGIC_LEN);
    const char *want = model ? "a cm model file" : "a cm stream";
    if (n == 0)
        return cm_fail(err, CM_ERR_NOTCMT, "empty input, not %s", want);
    if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
        return cm_fail(err, CM_ERR_NOTCMT,
                       "input is gzip data, not %s (decompress it with zcat "
                       "first)", want);
    if (n >= 4 && !memcmp(h, cm_magic_model, 4))
        return cm_fail_as(err, CM_ERR_NOTCMT, CM_DETAIL_MODEL,
                          "input is a cm model file, not a cm stream");
    if (n >= 4 && !memcmp(h, cm_magic_stream, 4))
        return cm_fail(err, CM_ERR_NOTCMT,
                       "input is a cm stream, not a cm model file");
    size_t text = 0;
    for (size_t i = 0; i < n; i++)
        text += h[i] == '\t' || h[i] == '\n' || h[i] == '\r' ||
                (h[i] >= 0x20 && h[i] < 0x7f) || h[i] >= 0x80; /* UTF-8, BOM */
    if (text == n)
        return cm_fail(err, CM_ERR_NOTCMT,
                       "input looks like text (CSV?), not %s%s", want,
                       model ? "" : "; convert it with cm-clean");
    return cm_fail(err, CM_ERR_NOTCMT, "not %s (bad magic number)", want);
}

cm_status cm_frame_read_header(FILE *in, const uint8_t *magic, uint8_t lo, uint8_t hi,
                               uint8_t *major, uint8_t *minor, cm_error *err)
{
    const char *what = noun(magic);
    uint8_t h[CM_FILE_HEADER];
    size_t n = read_full(in, h, sizeof h);
    if (ferror(in))
        return cm_fail_sys(err, errno, "read failed");
    if (n < CM_MAGIC_LEN || memcmp(h, magic, CM_MAGIC_LEN) != 0) {
        /* Eight bytes that start like our magic but stop short are a
         * truncated stream, not a foreign file. */
        if (n > 0 && n < CM_MAGIC_LEN && memcmp(h, magic, n) == 0)
            return cm_fail(err, CM_ERR_TRUNCATED,
                           "truncated %s (%zu bytes, header incomplete)", what, n);
        return foreign(err, h, n, magic);
    }
    if (n < sizeof h)
        return cm_fail(err, CM_ERR_TRUNCATED,
                       "truncated %s (header incomplete)", what);
    uint8_t maj = h[8], min = h[9];
    int intact = cm_rd32(h + 12) == crc(0, h, 12);
    if (maj < lo || maj > hi) {
        char reads[40];
        if (lo == hi)
            snprintf(reads, sizeof reads, "version %u.x", lo);
        else
            snprintf(reads, sizeof reads, "versions %u.x to %u.x", lo, hi);
        return cm_fail(err, CM_ERR_VERSION,
                       "format version %u.%u%s, this build reads %s (cm %s)", maj, min,
                       intact ? "" : " (or a damaged header)", reads, CM_VERSION_STRING);
    }
    if (!intact)
        return cm_fail(err, CM_ERR_CORRUPT, "corrupt %s: header CRC mismatch", what);
    if (cm_rd16(h + 10) != 0)
        return cm_fail(err, CM_ERR_CORRUPT,
                       "corrupt %s: reserved header flags are set", what);
    if (major)
        *major = maj;
    if (minor)
        *minor = min;
    return CM_OK;
}

/* ---- messages ------------------------------------------------------------- */

cm_status cm_frame_write(cm_frame *f, FILE *out, uint32_t type,
                         const uint8_t *raw, size_t len, cm_error *err)
{
    if (len > CM_MAX_MESSAGE)
        return cm_fail(err, CM_ERR_LIMIT, "message of %zu bytes (at most %u)",
                       len, (unsigned)CM_MAX_MESSAGE);
    const uint8_t *body = raw;
    size_t body_len = len;
    uint32_t flags = 0;
    if (f->level > 0 && len > 0) {
        if (compress_payload(f, raw, len))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory compressing");
        /* Incompressible payloads are kept as they are: never pay to grow. */
        if (f->stored.len < len) {
            body = f->stored.data;
            body_len = f->stored.len;
            flags = CM_MSG_DEFLATE;
        }
    }
    uint8_t h[CM_MSG_HEADER];
    cm_le32(h, type);
    cm_le32(h + 4, flags);
    cm_le32(h + 8, (uint32_t)len);
    cm_le32(h + 12, (uint32_t)body_len);
    /* The CRC covers the header too, so no header bit can flip unnoticed. */
    cm_le32(h + 16, crc(crc(0, h, 16), raw, len));
    if (fwrite(h, 1, sizeof h, out) != sizeof h ||
        fwrite(body, 1, body_len, out) != body_len)
        return cm_fail_sys(err, errno, "write failed");
    f->last_stored = sizeof h + body_len;
    return CM_OK;
}

cm_status cm_frame_read(cm_frame *f, FILE *in, uint32_t *type,
                        const uint8_t **raw, size_t *len, cm_error *err)
{
    uint8_t h[CM_MSG_HEADER];
    size_t n = read_full(in, h, sizeof h);
    if (n < sizeof h) {
        if (ferror(in))
            return cm_fail_sys(err, errno, "read failed");
        return cm_fail(err, CM_ERR_TRUNCATED,
                       "truncated %s (no end marker)", f->what);
    }
    uint32_t flags = cm_rd32(h + 4);
    uint32_t raw_len = cm_rd32(h + 8), stored_len = cm_rd32(h + 12);
    if (flags & ~CM_MSG_DEFLATE)
        return cm_fail(err, CM_ERR_CORRUPT,
                       "corrupt %s: unknown message flags 0x%x", f->what, flags);
    if (raw_len > CM_MAX_MESSAGE || stored_len > CM_MAX_MESSAGE)
        return cm_fail(err, CM_ERR_CORRUPT,
                       "corrupt %s: message length %u over the %u limit", f->what,
                       raw_len > stored_len ? raw_len : stored_len,
                       (unsigned)CM_MAX_MESSAGE);
    if (!(flags & CM_MSG_DEFLATE) && stored_len != raw_len)
        return cm_fail(err, CM_ERR_CORRUPT,
                       "corrupt %s: stored message length mismatch", f->what);
    f->stored.len = 0;
    f->raw.len = 0;
    /* Read in bounded steps so a forged length on a short input fails as
     * truncation instead of allocating the whole claim up front. */
    cm_buf *dst = (flags & CM_MSG_DEFLATE) ? &f->stored : &f->raw;
    if (!cm_buf_grow(dst, 0)) /* an empty payload still gets a buffer */
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t left = stored_len; left > 0;) {
        size_t step = left < (1u << 20) ? left : (1u << 20);
        uint8_t *p = cm_buf_grow(dst, step);
        if (!p)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        size_t got = read_full(in, p, step);
        if (got < step) {
            if (ferror(in))
                return cm_fail_sys(err, errno, "read failed");
            return cm_fail(err, CM_ERR_TRUNCATED,
                           "truncated %s (message cut short)", f->what);
        }
        left -= step;
    }
    if (flags & CM_MSG_DEFLATE) {
        if (!cm_buf_grow(&f->raw, raw_len))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        int r = decompress_payload(f, f->stored.data, stored_len, f->raw.data,
                                   raw_len);
        if (r == -2)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        if (r)
            return cm_fail(err, CM_ERR_CORRUPT,
                           "corrupt %s: compressed data is damaged", f->what);
    }
    if (crc(crc(0, h, 16), f->raw.data, raw_len) != cm_rd32(h + 16))
        return cm_fail(err, CM_ERR_CORRUPT, "corrupt %s: CRC mismatch", f->what);
    *type = cm_rd32(h);
    *raw = f->raw.data;
    *len = raw_len;
    f->last_stored = sizeof h + stored_len;
    return CM_OK;
}

cm_status cm_frame_expect(cm_frame *f, FILE *in, uint32_t want, const uint8_t **raw,
                          size_t *len, cm_error *err)
{
    uint32_t type;
    cm_status st = cm_frame_read(f, in, &type, raw, len, err);
    if (!st && type != want)
        st = cm_fail(err, CM_ERR_CORRUPT, "corrupt %s: message %u where %u was expected",
                     f->what, type, want);
    return st;
}

cm_input_kind cm_input_peek(FILE *in)
{
    int c = getc(in);
    if (c == EOF)
        return CM_INPUT_EMPTY;
    ungetc(c, in);
    /* The magic of streams and model files starts with a byte that no
     * text, in ASCII or UTF-8, starts with. */
    return c == cm_magic_stream[0] ? CM_INPUT_CM : CM_INPUT_OTHER;
}
