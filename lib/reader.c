/* reader.c - reads a cm stream one batch at a time and insists on its
 * end marker, so a cut pipe is never mistaken for a short stream. */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "frame.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "libcm keeps batch columns in little-endian byte order"
#endif

struct cm_reader {
    FILE *in;
    cm_schema *schema;
    cm_frame *frame;
    cm_batch *batch;
    cm_stream_stats st;
    int done, failed;
};

static cm_status expect(cm_reader *r, uint32_t want, const uint8_t **p,
                        size_t *n, cm_error *err)
{
    uint32_t type;
    cm_status st = cm_frame_read(r->frame, r->in, &type, p, n, err);
    if (st)
        return st;
    if (type != want)
        return cm_fail(err, CM_ERR_CORRUPT,
                       "corrupt stream: message %u where %u was expected",
                       type, want);
    return CM_OK;
}

cm_reader *cm_reader_new(FILE *in, cm_error *err)
{
    cm_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->schema = cm_schema_new()) || !(r->frame = cm_frame_new(0))) {
        cm_reader_free(r);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->in = in;
    const uint8_t *p;
    size_t n;
    cm_status st = cm_frame_read_header(in, cm_magic_stream, CM_STREAM_MAJOR,
                                        &r->st.minor, err);
    r->st.major = CM_STREAM_MAJOR;
    if (!st)
        st = expect(r, CM_MSG_SCHEMA, &p, &n, err);
    if (!st)
        st = cm_decode_schema(p, n, r->schema, err);
    if (!st)
        st = expect(r, CM_MSG_RECIPE, &p, &n, err);
    if (!st)
        st = cm_decode_recipe(p, n, r->schema, err);
    if (st) {
        cm_reader_free(r);
        return NULL;
    }
    return r;
}

void cm_reader_free(cm_reader *r)
{
    if (!r)
        return;
    cm_schema_free(r->schema);
    cm_frame_free(r->frame);
    cm_batch_free(r->batch);
    free(r);
}

const cm_schema *cm_reader_schema(const cm_reader *r)
{
    return r->schema;
}

void cm_reader_stats(const cm_reader *r, cm_stream_stats *st)
{
    *st = r->st;
}

static int end_of_stream(cm_reader *r, const uint8_t *p, size_t n,
                         cm_error *err)
{
    if (n != 16)
        return cm_fail(err, CM_ERR_CORRUPT, "corrupt stream: bad end marker"), -1;
    uint64_t rows = cm_rd64(p), batches = cm_rd64(p + 8);
    if (rows != r->st.rows || batches != r->st.batches)
        return cm_fail(err, CM_ERR_CORRUPT,
                       "corrupt stream: end marker counts %llu rows in %llu "
                       "batches, stream had %llu in %llu",
                       (unsigned long long)rows, (unsigned long long)batches,
                       (unsigned long long)r->st.rows,
                       (unsigned long long)r->st.batches), -1;
    if (fgetc(r->in) != EOF)
        return cm_fail(err, CM_ERR_CORRUPT,
                       "corrupt stream: data after the end marker"), -1;
    r->done = 1;
    return 0;
}

int cm_reader_next(cm_reader *r, cm_batch **out, cm_error *err)
{
    if (r->done)
        return 0;
    if (r->failed)
        return cm_fail(err, CM_ERR_ARG, "read after a failed read"), -1;
    for (;;) {
        uint32_t type;
        const uint8_t *p;
        size_t n;
        cm_status st = cm_frame_read(r->frame, r->in, &type, &p, &n, err);
        if (!st) {
            r->st.raw_bytes += n;
            r->st.stored_bytes += cm_frame_stored(r->frame);
        }
        if (!st && type == CM_MSG_DICT)
            st = cm_decode_dict(p, n, r->schema, err);
        else if (!st && type == CM_MSG_BATCH)
            st = cm_decode_batch(p, n, r->schema, &r->batch, err);
        else if (!st && type == CM_MSG_END) {
            if (end_of_stream(r, p, n, err)) {
                r->failed = 1;
                return -1;
            }
            return 0;
        } else if (!st && (type < CM_MSG_SKIP_FIRST || type > CM_MSG_SKIP_LAST))
            st = cm_fail(err, CM_ERR_CORRUPT,
                         "corrupt stream: unexpected message type %u", type);
        if (st) {
            r->failed = 1;
            return -1;
        }
        if (type == CM_MSG_BATCH) {
            r->st.rows += cm_batch_nrows(r->batch);
            r->st.batches++;
            *out = r->batch;
            return 1;
        }
    }
}
