/* test_stream.c - the cm stream round-trips every dtype and shape exactly,
 * and rejects every truncation and every flipped byte. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "cm.h"
#include "tap.h"

/* A schema with one column of every dtype. */
static cm_schema *all_types(void)
{
    cm_schema *s = cm_schema_new();
    cm_schema_add(s, "t", CM_TIME, CM_ROLE_TIME, NULL, NULL);
    cm_schema_add(s, "a", CM_F32, CM_ROLE_FEATURE, NULL, NULL);
    cm_schema_add(s, "b", CM_F64, CM_ROLE_FEATURE, NULL, NULL);
    cm_schema_add(s, "c", CM_I64, CM_ROLE_TARGET, NULL, NULL);
    cm_schema_add(s, "d", CM_CAT, CM_ROLE_ID, NULL, NULL);
    cm_kv_set(cm_schema_meta(s), "producer", "test", NULL);
    cm_kv_set(cm_schema_col_meta(s, 0), "tz", "Europe/Berlin", NULL);
    size_t st;
    cm_recipe_add(s, "clean.parse", &st, NULL);
    cm_kv_set(cm_recipe_params(s, st), "na", "NA,-200", NULL);
    return s;
}

static uint64_t rng = 42;
static uint64_t next(void)
{
    return tap_rand(&rng);
}

/* Fills row i of b with values that depend on (seed, row), including
 * NaN, infinities, extreme integers and missing values. */
static void fill(cm_schema *s, cm_batch *b, size_t i, uint64_t row)
{
    for (size_t c = 0; c < cm_schema_ncols(s); c++) {
        void *v = cm_batch_values(b, c);
        uint64_t r = next();
        cm_batch_valid(b, c)[i] = r % 7 != 0;
        switch (cm_schema_dtype(s, c)) {
        case CM_TIME: ((int64_t *)v)[i] = (int64_t)(row * 3600) - 86400; break;
        case CM_I64:
            ((int64_t *)v)[i] = row % 5 == 1 ? INT64_MIN : row % 5 == 2 ? INT64_MAX
                                                                     : (int64_t)r;
            break;
        case CM_F32: {
            float x = row % 11 == 3 ? NAN : row % 11 == 4 ? -INFINITY
                    : (float)((double)(r >> 11) * 0x1p-40);
            ((float *)v)[i] = x;
            break;
        }
        case CM_F64: {
            double x;
            uint64_t bits = r;
            memcpy(&x, &bits, 8); /* any bit pattern, NaN payloads included */
            ((double *)v)[i] = row % 13 == 5 ? INFINITY : x;
            break;
        }
        case CM_CAT: {
            char name[32];
            /* more categories as rows go: deltas in later batches */
            snprintf(name, sizeof name, "zone %llu",
                     (unsigned long long)(r % (1 + row / 10)));
            cm_dict_intern(cm_schema_dict(s, c), name, strlen(name),
                           &((uint32_t *)v)[i], NULL);
            break;
        }
        }
    }
}

typedef struct rowlog {
    cm_batch *all; /* every row written, for comparison */
    size_t n;
} rowlog;

static int same_value(const cm_schema *s, size_t c, const cm_batch *x,
                      size_t i, const cm_batch *y, size_t j)
{
    int vx = cm_batch_valid_c(x, c)[i], vy = cm_batch_valid_c(y, c)[j];
    if (vx != vy)
        return 0;
    if (!vx)
        return 1;
    size_t w = cm_dtype_width(cm_schema_dtype(s, c));
    /* bitwise: NaN payloads and signed zeros must survive too */
    return memcmp((const char *)cm_batch_values_c(x, c) + i * w,
                  (const char *)cm_batch_values_c(y, c) + j * w, w) == 0;
}

/* Writes nrows rows in batches of bsize; returns the stream bytes. */
static int background; /* write_stream compresses on a thread when set */

static char *write_stream(cm_schema *s, size_t nrows, size_t bsize, int level,
                          int layout, size_t *size, rowlog *log)
{
    char *mem = NULL;
    FILE *f = open_memstream(&mem, size);
    cm_writer_opts o = {level, (cm_layout)layout, background};
    cm_error err;
    cm_writer *w = cm_writer_new(f, s, &o, &err);
    cm_batch *b = cm_batch_new(s, bsize ? bsize : 1);
    if (log)
        log->all = cm_batch_new(s, nrows ? nrows : 1), log->n = 0;
    for (size_t row = 0; row < nrows;) {
        size_t n = nrows - row < bsize ? nrows - row : bsize;
        for (size_t i = 0; i < n; i++, row++) {
            fill(s, b, i, row);
            if (log) {
                for (size_t c = 0; c < cm_schema_ncols(s); c++) {
                    size_t wd = cm_dtype_width(cm_schema_dtype(s, c));
                    memcpy((char *)cm_batch_values(log->all, c) + row * wd,
                           (char *)cm_batch_values(b, c) + i * wd, wd);
                    cm_batch_valid(log->all, c)[row] = cm_batch_valid(b, c)[i];
                }
            }
        }
        cm_batch_set_nrows(b, n);
        if (cm_writer_write(w, b, &err))
            printf("# write: %s\n", err.msg);
    }
    if (cm_writer_finish(w, &err))
        printf("# finish: %s\n", err.msg);
    cm_writer_free(w);
    cm_batch_free(b);
    fclose(f);
    return mem;
}

/* Rows handed out by the last read_stream, even when it then failed. */
static long rows_seen;

/* Reads a whole stream from memory: rows read, or -1 with err set. */
static long read_stream(const char *mem, size_t size, const rowlog *log,
                        int *mismatch, cm_error *err)
{
    FILE *f = fmemopen((void *)(uintptr_t)mem, size ? size : 1, "rb");
    if (size == 0) { /* fmemopen cannot open an empty buffer: read past it */
        fgetc(f);
    }
    cm_reader *r = cm_reader_new(f, err);
    long rows = 0;
    rows_seen = 0;
    if (!r) {
        fclose(f);
        return -1;
    }
    cm_batch *b;
    int got;
    while ((got = cm_reader_next(r, &b, err)) == 1) {
        const cm_schema *s = cm_reader_schema(r);
        for (size_t i = 0; log && i < cm_batch_nrows(b); i++, rows++)
            for (size_t c = 0; c < cm_schema_ncols(s); c++)
                if (!same_value(s, c, log->all, (size_t)rows, b, i))
                    *mismatch = 1;
        if (!log)
            rows += (long)cm_batch_nrows(b);
    }
    rows_seen = rows;
    cm_reader_free(r);
    fclose(f);
    return got < 0 ? -1 : rows;
}

static void round_trip(const char *what, cm_schema *s, size_t rows, size_t bsize,
                       int level, int layout)
{
    size_t size;
    rowlog log;
    char *mem = write_stream(s, rows, bsize, level, layout, &size, &log);
    cm_error err;
    cm_error_clear(&err);
    int mismatch = 0;
    long got = read_stream(mem, size, &log, &mismatch, &err);
    CHECK(got == (long)rows && !mismatch, "round trip %s: %zu rows (level %d, layout %d)%s%s",
          what, rows, level, layout, err.msg[0] ? ": " : "", err.msg);
    cm_batch_free(log.all);
    free(mem);
}

static void test_round_trips(void)
{
    int levels[] = {0, 1, 6, 9};
    for (size_t i = 0; i < 4; i++) {
        cm_schema *s = all_types();
        round_trip("all dtypes", s, 1000, 128, levels[i], 0);
        cm_schema_free(s);
    }
    cm_schema *s;
    for (int layout = CM_LAYOUT_PLAIN; layout <= CM_LAYOUT_SHUFFLE; layout++) {
        s = all_types();
        round_trip("all dtypes", s, 1000, 333, 1, layout);
        cm_schema_free(s);
    }
    s = all_types();
    round_trip("0 rows", s, 0, 16, 1, 0);
    cm_schema_free(s);
    s = all_types();
    round_trip("1 row", s, 1, 16, 1, 0);
    cm_schema_free(s);
    s = all_types();
    round_trip("rows not a multiple of 8", s, 13, 13, 1, 0);
    cm_schema_free(s);

    s = cm_schema_new();
    for (int c = 0; c < 200; c++) {
        char name[16];
        snprintf(name, sizeof name, "x%d", c);
        cm_schema_add(s, name, c % 3 ? CM_F32 : CM_F64, CM_ROLE_FEATURE, NULL, NULL);
    }
    round_trip("200 columns", s, 500, 100, 1, 0);
    cm_schema_free(s);

    s = cm_schema_new();
    cm_schema_add(s, "t", CM_TIME, CM_ROLE_TIME, NULL, NULL);
    cm_schema_add(s, "x", CM_F32, CM_ROLE_FEATURE, NULL, NULL);
    round_trip("1,000,000 rows", s, 1000000, CM_DEFAULT_BATCH_ROWS, 1, 0);
    cm_schema_free(s);

    /* The background writer must give the very same bytes. */
    size_t n0, n1;
    s = all_types();
    rng = 42;
    char *m0 = write_stream(s, 5000, 100, 1, 0, &n0, NULL);
    cm_schema_free(s);
    s = all_types();
    rng = 42; /* the same data again */
    background = 1;
    char *m1 = write_stream(s, 5000, 100, 1, 0, &n1, NULL);
    background = 0;
    cm_schema_free(s);
    CHECK(n0 == n1 && !memcmp(m0, m1, n0),
          "a background writer writes the same bytes (%zu and %zu)", n0, n1);
    free(m0);
    free(m1);

    /* and reports a failed write (a full disk) instead of losing it */
    FILE *full = fopen("/dev/full", "wb");
    if (full) {
        setvbuf(full, NULL, _IONBF, 0);
        s = all_types();
        cm_writer_opts o = {1, CM_LAYOUT_AUTO, 1};
        cm_error err;
        cm_writer *w = cm_writer_new(full, s, &o, &err);
        cm_status st = w ? CM_OK : err.status;
        cm_batch *b = cm_batch_new(s, 10);
        for (size_t i = 0; i < 10; i++)
            fill(s, b, i, i);
        cm_batch_set_nrows(b, 10);
        for (int k = 0; k < 20 && !st; k++)
            st = cm_writer_write(w, b, &err);
        if (!st)
            st = cm_writer_finish(w, &err);
        CHECK(st == CM_ERR_IO && err.sys != 0, "a full disk is reported: %s", err.msg);
        cm_writer_free(w);
        cm_batch_free(b);
        cm_schema_free(s);
        fclose(full);
    }
}

static void test_schema_survives(void)
{
    cm_schema *s = all_types();
    size_t size;
    char *mem = write_stream(s, 50, 7, 1, 0, &size, NULL);
    FILE *f = fmemopen(mem, size, "rb");
    cm_error err;
    cm_reader *r = cm_reader_new(f, &err);
    const cm_schema *rs = r ? cm_reader_schema(r) : NULL;
    int ok = rs && cm_schema_ncols(rs) == 5;
    for (size_t c = 0; ok && c < 5; c++)
        ok = !strcmp(cm_schema_name(rs, c), cm_schema_name(s, c)) &&
             cm_schema_dtype(rs, c) == cm_schema_dtype(s, c) &&
             cm_schema_role(rs, c) == cm_schema_role(s, c);
    CHECK(ok, "schema names, dtypes and roles survive");
    CHECK(rs && !strcmp(cm_kv_get(cm_schema_meta_c(rs), "producer"), "test") &&
              !strcmp(cm_kv_get(cm_schema_col_meta_c(rs, 0), "tz"), "Europe/Berlin"),
          "stream and column metadata survive");
    CHECK(rs && cm_recipe_nsteps(rs) == 1 &&
              !strcmp(cm_recipe_op(rs, 0), "clean.parse") &&
              !strcmp(cm_kv_get(cm_recipe_params_c(rs, 0), "na"), "NA,-200"),
          "recipe survives");
    cm_batch *b;
    while (r && cm_reader_next(r, &b, &err) == 1)
        ;
    const cm_dict *d = rs ? cm_schema_dict_c(rs, 4) : NULL;
    int same = d && cm_dict_size(d) == cm_dict_size(cm_schema_dict_c(s, 4));
    for (uint32_t k = 0; same && k < cm_dict_size(d); k++)
        same = !strcmp(cm_dict_string(d, k, NULL),
                       cm_dict_string(cm_schema_dict_c(s, 4), k, NULL));
    CHECK(same, "dictionary grown by deltas equals the writer's (%u entries)",
          d ? cm_dict_size(d) : 0);
    cm_reader_free(r);
    fclose(f);
    free(mem);
    cm_schema_free(s);
}

static void test_missing_bytes_canonical(void)
{
    /* Garbage under a missing value must not change the bytes written. */
    cm_schema *s = cm_schema_new();
    cm_schema_add(s, "x", CM_F64, CM_ROLE_FEATURE, NULL, NULL);
    char *mem[2];
    size_t size[2];
    for (int k = 0; k < 2; k++) {
        FILE *f = open_memstream(&mem[k], &size[k]);
        cm_writer *w = cm_writer_new(f, s, NULL, NULL);
        cm_batch *b = cm_batch_new(s, 3);
        double *v = cm_batch_values(b, 0);
        uint8_t *ok = cm_batch_valid(b, 0);
        v[0] = 1; v[1] = k ? 12345.0 : -7.0; v[2] = 3;
        ok[0] = 1; ok[1] = 0; ok[2] = 1;
        cm_batch_set_nrows(b, 3);
        cm_writer_write(w, b, NULL);
        cm_writer_finish(w, NULL);
        cm_writer_free(w);
        cm_batch_free(b);
        fclose(f);
    }
    CHECK(size[0] == size[1] && !memcmp(mem[0], mem[1], size[0]),
          "a missing value's bytes do not reach the stream");
    free(mem[0]);
    free(mem[1]);
    cm_schema_free(s);
}

/* Every prefix and every single-byte corruption of a stream is refused. */
static void test_damage(void)
{
    cm_schema *s = all_types();
    size_t size;
    rowlog log;
    char *mem = write_stream(s, 20, 6, 1, 0, &size, &log);
    char *bad = malloc(size + 1);
    size_t trunc_ok = 0, flip_ok = 0, codes_ok = 1, partial_ok = 1;
    for (size_t n = 0; n < size; n++) {
        cm_error err;
        cm_error_clear(&err);
        int mismatch = 0;
        long got = read_stream(mem, n, &log, &mismatch, &err);
        trunc_ok += got < 0 && err.msg[0] && !strchr(err.msg, '\n');
        partial_ok &= rows_seen < 20;
        if (got >= 0 || (err.status != CM_ERR_TRUNCATED && n >= 8))
            codes_ok = 0, printf("# prefix %zu: status %d %s\n", n, err.status, err.msg);
    }
    CHECK(trunc_ok == size, "all %zu truncations rejected (%zu)", size, trunc_ok);
    CHECK(codes_ok, "truncations past the magic are reported as truncated");
    for (size_t i = 0; i < size; i++) {
        memcpy(bad, mem, size);
        bad[i] ^= (char)0xff;
        cm_error err;
        cm_error_clear(&err);
        int mismatch = 0;
        long got = read_stream(bad, size, &log, &mismatch, &err);
        flip_ok += got < 0 && err.msg[0];
        partial_ok &= rows_seen < 20;
        if (got >= 0)
            printf("# flipping byte %zu went unnoticed (%ld rows, mismatch %d)\n",
                   i, got, mismatch);
    }
    CHECK(flip_ok == size, "all %zu single-byte corruptions rejected (%zu)",
          size, flip_ok);
    CHECK(partial_ok, "a damaged stream never hands out all its rows");
    memcpy(bad, mem, size);
    bad[size] = 0;
    cm_error err;
    int mismatch = 0;
    CHECK(read_stream(bad, size + 1, &log, &mismatch, &err) < 0 &&
              strstr(err.msg, "after the end marker"),
          "trailing data after the end marker is refused");
    free(bad);
    cm_batch_free(log.all);
    free(mem);
    cm_schema_free(s);
}

static void test_foreign_and_version(void)
{
    cm_error err;
    int mm = 0;
    CHECK(read_stream("", 0, NULL, &mm, &err) < 0 && err.status == CM_ERR_NOTCMT &&
              strstr(err.msg, "empty"), "empty input: %s", err.msg);
    CHECK(read_stream("a,b\n1,2\n", 8, NULL, &mm, &err) < 0 &&
              err.status == CM_ERR_NOTCMT && strstr(err.msg, "text"),
          "CSV input: %s", err.msg);
    CHECK(read_stream("\x1f\x8b\x08\0\0\0\0\0", 8, NULL, &mm, &err) < 0 &&
              strstr(err.msg, "gzip"), "gzip input: %s", err.msg);
    /* version 2.7 of the format */
    char h[16] = {(char)0x89, 'C', 'M', 'T', 0x0D, 0x0A, 0x1A, 0x0A, 2, 7};
    CHECK(read_stream(h, 16, NULL, &mm, &err) < 0 && err.status == CM_ERR_VERSION &&
              strstr(err.msg, "2.7") && strstr(err.msg, "1.x"),
          "newer major version: %s", err.msg);
    /* A header claiming a 4 GiB message must fail before any allocation. */
    cm_schema *s = all_types();
    size_t size;
    char *mem = write_stream(s, 0, 1, 1, 0, &size, NULL);
    memset(mem + 16 + 8, 0xff, 8);
    CHECK(read_stream(mem, size, NULL, &mm, &err) < 0 && err.status == CM_ERR_CORRUPT &&
              strstr(err.msg, "limit"), "forged message length: %s", err.msg);
    free(mem);
    cm_schema_free(s);
}

/* A stream of one message built by hand: header, SCHEMA payload as given. */
static char *forge(const uint8_t *schema, size_t n, size_t *size)
{
    cm_schema *s = cm_schema_new();
    char *mem = write_stream(s, 0, 1, 0, CM_LAYOUT_AUTO, size, NULL);
    cm_schema_free(s);
    /* Replace the empty schema message (16 + 20 + 8 bytes) by ours. */
    size_t tail = *size - 44;
    char *out = malloc(16 + 20 + n + tail);
    memcpy(out, mem, 16);
    uint8_t h[20] = {1, 0, 0, 0, 0, 0, 0, 0};
    h[8] = (uint8_t)n; h[12] = (uint8_t)n;
    uLong crc = crc32(crc32(0L, h, 16), schema, (uInt)n);
    for (int i = 0; i < 4; i++)
        h[16 + i] = (uint8_t)(crc >> (8 * i));
    memcpy(out + 16, h, 20);
    memcpy(out + 36, schema, n);
    memcpy(out + 36 + n, mem + 44, tail);
    *size = 36 + n + tail;
    free(mem);
    return out;
}

static void test_forged(void)
{
    /* no metadata, one column "a\0b" f32 feature, no column metadata */
    static const uint8_t nul_name[] = {0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 'a', 0, 'b',
                                       1, 0, 0, 0, 0, 0, 0, 0};
    size_t size;
    char *mem = forge(nul_name, sizeof nul_name, &size);
    cm_error err;
    int mm = 0;
    CHECK(read_stream(mem, size, NULL, &mm, &err) < 0 && err.status == CM_ERR_CORRUPT,
          "a NUL inside a column name is refused: %s", err.msg);
    free(mem);
    static const uint8_t good[] = {0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 'a', 'x', 'b',
                                   1, 0, 0, 0, 0, 0, 0, 0};
    mem = forge(good, sizeof good, &size);
    CHECK(read_stream(mem, size, NULL, &mm, &err) == 0,
          "the forging itself is sound (same stream, name 'axb'): %s", err.msg);
    free(mem);

    /* A tiny BATCH claiming 2^20 rows of 2 columns: refused as corrupt
     * before the batch is allocated. */
    cm_schema *s = cm_schema_new();
    cm_schema_add(s, "x", CM_F64, CM_ROLE_FEATURE, NULL, NULL);
    cm_schema_add(s, "y", CM_F64, CM_ROLE_FEATURE, NULL, NULL);
    mem = write_stream(s, 1, 1, 0, CM_LAYOUT_PLAIN, &size, NULL);
    /* header 16, schema msg, recipe msg, batch msg: find the batch header */
    size_t at = 16;
    for (int k = 0; k < 2; k++)
        at += 20 + (size_t)(uint8_t)mem[at + 12] + ((size_t)(uint8_t)mem[at + 13] << 8);
    uint8_t *payload = (uint8_t *)mem + at + 20;
    payload[0] = 0; payload[1] = 0; payload[2] = 0x10; /* nrows = 2^20 */
    uint32_t len = (uint32_t)(uint8_t)mem[at + 8];
    uLong crc = crc32(crc32(0L, (uint8_t *)mem + at, 16), payload, len);
    for (int i = 0; i < 4; i++)
        mem[at + 16 + i] = (char)(crc >> (8 * i));
    CHECK(read_stream(mem, size, NULL, &mm, &err) < 0 && err.status == CM_ERR_CORRUPT &&
              strstr(err.msg, "batch"), "a batch claiming more rows than it holds: %s",
          err.msg);
    free(mem);
    cm_schema_free(s);
}

/* A batch larger than a message may hold is split, not refused. */
static void test_big_batch(void)
{
    cm_schema *s = cm_schema_new();
    cm_schema_add(s, "x", CM_F32, CM_ROLE_FEATURE, NULL, NULL);
    size_t n = CM_MAX_BATCH_ROWS + 5;
    cm_batch *b = cm_batch_new(s, n);
    float *v = cm_batch_values(b, 0);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)i, cm_batch_valid(b, 0)[i] = 1;
    cm_batch_set_nrows(b, n);
    char *mem = NULL;
    size_t size;
    FILE *f = open_memstream(&mem, &size);
    cm_error err;
    cm_writer *w = cm_writer_new(f, s, NULL, &err);
    int wrote = w && !cm_writer_write(w, b, &err) && !cm_writer_finish(w, &err);
    cm_writer_free(w);
    fclose(f);
    int mm = 0;
    long rows = wrote ? read_stream(mem, size, NULL, &mm, &err) : -1;
    CHECK(rows == (long)n, "a batch of %zu rows is written and read back (%ld)", n, rows);
    free(mem);
    cm_batch_free(b);
    cm_schema_free(s);
}

int main(void)
{
    test_round_trips();
    test_schema_survives();
    test_missing_bytes_canonical();
    test_damage();
    test_foreign_and_version();
    test_forged();
    test_big_batch();
    return tap_done();
}
