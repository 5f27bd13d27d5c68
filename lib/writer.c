/* writer.c - writes a cm stream: header, schema, recipe, then dictionary
 * deltas and batches as they come, then the end marker. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "frame.h"

struct cm_writer {
    FILE *out;
    const cm_schema *schema;
    cm_frame *frame;
    cm_buf payload, scratch;
    uint32_t *dict_sent; /* per column: dictionary entries already written */
    uint64_t rows, batches;
    cm_layout layout;
    int failed;
};

cm_status cm_level_from_env(int *level, cm_error *err)
{
    const char *s = getenv("CM_ZLEVEL");
    *level = CM_DEFAULT_LEVEL;
    if (!s || !*s)
        return CM_OK;
    if (s[1] != '\0' || s[0] < '0' || s[0] > '9')
        return cm_fail(err, CM_ERR_ARG,
                       "CM_ZLEVEL='%.32s': expected a level from 0 to 9", s);
    *level = s[0] - '0';
    return CM_OK;
}

/* Encodes with fill(), then frames; the payload buffer is reused. */
static cm_status emit(cm_writer *w, uint32_t type, cm_error *err)
{
    if (w->payload.oom)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    return cm_frame_write(w->frame, w->out, type, w->payload.data,
                          w->payload.len, err);
}

cm_writer *cm_writer_new(FILE *out, const cm_schema *s, const cm_writer_opts *opts,
                         cm_error *err)
{
    int level = opts ? opts->level : -1;
    if (level < 0 && cm_level_from_env(&level, err))
        return NULL;
    if (level > 9) {
        cm_fail(err, CM_ERR_ARG, "compression level %d (expected 0 to 9)",
                level);
        return NULL;
    }
    cm_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->frame = cm_frame_new(level)) ||
        !(w->dict_sent = calloc(cm_schema_ncols(s) + 1, sizeof *w->dict_sent))) {
        cm_writer_free(w);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    w->out = out;
    w->schema = s;
    w->layout = opts ? opts->layout : CM_LAYOUT_AUTO;
    cm_status st = cm_frame_write_header(out, cm_magic_stream, CM_STREAM_MAJOR,
                                         CM_STREAM_MINOR, err);
    if (!st) {
        cm_encode_schema(&w->payload, s);
        st = emit(w, CM_MSG_SCHEMA, err);
    }
    if (!st) {
        w->payload.len = 0;
        cm_encode_recipe(&w->payload, s);
        st = emit(w, CM_MSG_RECIPE, err);
    }
    if (st) {
        cm_writer_free(w);
        return NULL;
    }
    return w;
}

cm_status cm_writer_write(cm_writer *w, const cm_batch *b, cm_error *err)
{
    cm_status st = CM_OK;
    if (w->failed)
        return cm_fail(err, CM_ERR_ARG, "write after a failed write");
    if (cm_batch_ncols(b) != cm_schema_ncols(w->schema))
        return cm_fail(err, CM_ERR_ARG, "batch does not match the schema");
    /* New categories go out before the batch that may use them. */
    for (size_t c = 0; c < cm_schema_ncols(w->schema) && !st; c++) {
        if (cm_schema_dtype(w->schema, c) != CM_CAT)
            continue;
        uint32_t size = cm_dict_size(cm_schema_dict_c(w->schema, c));
        if (size == w->dict_sent[c] || cm_batch_nrows(b) == 0)
            continue;
        w->payload.len = 0;
        cm_encode_dict(&w->payload, w->schema, c, w->dict_sent[c]);
        if (!(st = emit(w, CM_MSG_DICT, err)))
            w->dict_sent[c] = size;
    }
    /* A batch of any size goes out as messages a reader will accept: at
     * most CM_MAX_BATCH_ROWS rows and CM_MAX_MESSAGE bytes each. */
    size_t rows = cm_batch_nrows(b), step = CM_MAX_BATCH_ROWS;
    while (step > 1 && cm_batch_bytes(w->schema, step) > CM_MAX_MESSAGE)
        step /= 2;
    if (cm_batch_bytes(w->schema, step) > CM_MAX_MESSAGE)
        st = cm_fail(err, CM_ERR_LIMIT, "a row of %zu columns is too wide",
                     cm_schema_ncols(w->schema));
    for (size_t first = 0; first < rows && !st; first += step) {
        size_t n = rows - first < step ? rows - first : step;
        w->payload.len = 0;
        st = cm_encode_batch(&w->payload, &w->scratch, w->schema, b, first, n,
                             w->layout, err);
        if (!st)
            st = emit(w, CM_MSG_BATCH, err);
        if (!st) {
            w->rows += n;
            w->batches++;
        }
    }
    w->failed = st != CM_OK;
    return st;
}

cm_status cm_writer_finish(cm_writer *w, cm_error *err)
{
    if (w->failed)
        return cm_fail(err, CM_ERR_ARG, "finish after a failed write");
    w->payload.len = 0;
    cm_buf_u64(&w->payload, w->rows);
    cm_buf_u64(&w->payload, w->batches);
    cm_status st = emit(w, CM_MSG_END, err);
    if (!st && fflush(w->out) != 0)
        st = cm_fail_sys(err, errno, "write failed");
    w->failed = st != CM_OK;
    return st;
}

void cm_writer_free(cm_writer *w)
{
    if (!w)
        return;
    cm_frame_free(w->frame);
    cm_buf_free(&w->payload);
    cm_buf_free(&w->scratch);
    free(w->dict_sent);
    free(w);
}
