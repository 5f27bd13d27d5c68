/* reader.c - reads a cm stream one batch at a time and insists on its
 * end marker, so a cut pipe is never mistaken for a short stream. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream/codec.h"
#include "stream/frame.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "libcm keeps batch columns in little-endian byte order"
#endif

struct cm_reader {
    FILE *in;
    cm_schema *schema;
    cm_frame *frame;
    cm_batch *batch;
    cm_stream_stats st;
    /* The message read ahead: a batch waiting to be decoded. */
    uint32_t type;
    const uint8_t *p;
    size_t n;
    int started, pending, failed;
    off_t start; /* where the stream began, or -1 when in cannot seek */
};

void cm_reader_free(cm_reader *r)
{
    if (!r)
        return;
    cm_schema_free(r->schema);
    cm_frame_free(r->frame);
    cm_batch_free(r->batch);
    free(r);
}

cm_reader *cm_reader_new(FILE *in, cm_error *err)
{
    cm_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->schema = cm_schema_new()) || !(r->frame = cm_frame_new(0, cm_magic_stream))) {
        cm_reader_free(r);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->in = in;
    r->start = ftello(in);
    const uint8_t *p;
    size_t n;
    cm_status st = cm_frame_read_header(in, cm_magic_stream, CM_STREAM_MAJOR, CM_STREAM_MAJOR,
                                        NULL, &r->st.minor, err);
    r->st.major = CM_STREAM_MAJOR;
    if (!st)
        st = cm_frame_expect(r->frame, r->in, CM_MSG_SCHEMA, &p, &n, err);
    if (!st)
        st = cm_decode_schema(p, n, r->schema, "stream", err);
    if (!st)
        st = cm_frame_expect(r->frame, r->in, CM_MSG_RECIPE, &p, &n, err);
    if (!st)
        st = cm_decode_recipe(p, n, r->schema, "stream", err);
    if (st) {
        cm_reader_free(r);
        return NULL;
    }
    return r;
}

cm_status cm_reader_rewind(cm_reader *r, cm_error *err)
{
    if (r->start < 0)
        return cm_fail(err, CM_ERR_ARG, "the input cannot be read twice: "
                       "give a file, not a pipe");
    if (fseeko(r->in, r->start, SEEK_SET))
        return cm_fail_sys(err, errno, "cannot seek");
    clearerr(r->in);
    cm_reader *fresh = cm_reader_new(r->in, err);
    if (!fresh)
        return err->status;
    /* The fresh reader takes the old one's place behind the caller's
     * handle; its schema starts again from the stream's first
     * dictionaries, which the deltas then grow as before. */
    cm_schema_free(r->schema);
    cm_frame_free(r->frame);
    cm_batch_free(r->batch);
    *r = *fresh;
    free(fresh);
    return CM_OK;
}

const cm_schema *cm_reader_schema(const cm_reader *r)
{
    return r->schema;
}

void cm_reader_stats(const cm_reader *r, cm_stream_stats *st)
{
    *st = r->st;
}

static cm_status end_of_stream(cm_reader *r, const uint8_t *p, size_t n,
                               cm_error *err)
{
    if (n != 16)
        return cm_fail(err, CM_ERR_CORRUPT, "corrupt stream: bad end marker");
    uint64_t rows = cm_rd64(p), batches = cm_rd64(p + 8);
    if (rows != r->st.rows || batches != r->st.batches)
        return cm_fail(err, CM_ERR_CORRUPT,
                       "corrupt stream: end marker counts %llu rows in %llu "
                       "batches, stream had %llu in %llu",
                       (unsigned long long)rows, (unsigned long long)batches,
                       (unsigned long long)r->st.rows,
                       (unsigned long long)r->st.batches);
    if (fgetc(r->in) != EOF)
        return cm_fail(err, CM_ERR_CORRUPT,
                       "corrupt stream: data after the end marker");
    if (ferror(r->in))
        return cm_fail_sys(err, errno, "read failed");
    return CM_OK;
}

/*
 * Reads on until the next batch message is in hand, CRC-checked, or the end
 * marker is verified; dictionary deltas on the way are applied.
 */
static cm_status advance(cm_reader *r, cm_error *err)
{
    for (;;) {
        cm_status st = cm_frame_read(r->frame, r->in, &r->type, &r->p, &r->n, err);
        if (st)
            return st;
        r->st.raw_bytes += r->n;
        r->st.stored_bytes += cm_frame_stored(r->frame);
        if (r->type == CM_MSG_BATCH) {
            r->pending = 1;
            return CM_OK;
        }
        if (r->type == CM_MSG_END)
            return end_of_stream(r, r->p, r->n, err);
        if (r->type == CM_MSG_DICT)
            st = cm_decode_dict(r->p, r->n, r->schema, "stream", err);
        else if (r->type < CM_MSG_SKIP_FIRST || r->type > CM_MSG_SKIP_LAST)
            st = cm_fail(err, CM_ERR_CORRUPT,
                         "corrupt stream: unexpected message type %u", r->type);
        if (st)
            return st;
    }
}

int cm_reader_next(cm_reader *r, cm_batch **out, cm_error *err)
{
    if (r->failed)
        return cm_fail(err, CM_ERR_ARG, "read after a failed read"), -1;
    cm_status st = CM_OK;
    if (!r->started) {
        r->started = 1;
        st = advance(r, err);
    }
    if (!st && !r->pending)
        return 0; /* the end marker was verified */
    if (!st)
        st = cm_decode_batch(r->p, r->n, r->schema, &r->batch, err);
    if (!st) {
        r->pending = 0;
        r->st.rows += cm_batch_nrows(r->batch);
        r->st.batches++;
        /* A batch is handed out only once what follows it is known to be
         * intact, so a stream cut or damaged after its last batch never
         * yields every row and then an error: the last rows are held back. */
        st = advance(r, err);
    }
    if (st) {
        r->failed = 1;
        return -1;
    }
    *out = r->batch;
    return 1;
}
