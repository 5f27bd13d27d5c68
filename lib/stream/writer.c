/* writer.c - writes a cm stream: header, schema, recipe, then dictionary
 * deltas and batches as they come, then the end marker.  Payloads are
 * encoded by the caller's thread; with opts.background a second thread
 * compresses and writes them, so a stage's own work and deflate overlap. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "stream/codec.h"
#include "stream/frame.h"

#define QUEUE 4 /* messages in flight to the background thread */

typedef struct job {
    cm_buf payload;
    uint32_t type;
} job;

struct cm_writer {
    FILE *out;
    const cm_schema *schema;
    cm_frame *frame;
    cm_buf payload, scratch;
    uint32_t *dict_sent; /* per column: dictionary entries already written */
    uint64_t rows, batches;
    cm_layout layout;
    int failed;
    /* background compression: a ring of jobs the thread works through */
    int async;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job q[QUEUE];
    size_t qhead, qtail; /* jobs [qhead, qtail) are waiting or in work */
    int stopping;
    cm_status async_status;
    cm_error async_err;
};

static void *compress_loop(void *arg)
{
    cm_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->qhead == w->qtail && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->qhead == w->qtail)
            break;
        job *j = &w->q[w->qhead % QUEUE];
        cm_status failed = w->async_status; /* read under the lock */
        pthread_mutex_unlock(&w->mu);
        cm_error e;
        cm_status st = failed ? CM_OK
                                       : cm_frame_write(w->frame, w->out, j->type,
                                                        j->payload.data,
                                                        j->payload.len, &e);
        pthread_mutex_lock(&w->mu);
        if (st && !w->async_status) {
            w->async_status = st;
            w->async_err = e;
        }
        w->qhead++;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Waits until at most `left` jobs remain; returns the thread's error. */
static cm_status wait_queue(cm_writer *w, size_t left, cm_error *err)
{
    pthread_mutex_lock(&w->mu);
    while (w->qtail - w->qhead > left)
        pthread_cond_wait(&w->cv, &w->mu);
    cm_status st = w->async_status;
    if (st && err)
        *err = w->async_err;
    pthread_mutex_unlock(&w->mu);
    return st;
}

static void stop_thread(cm_writer *w)
{
    if (!w->async)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    w->async = 0;
}

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

/* Frames the encoded payload, here or on the background thread; the
 * payload buffer is reused (swapped with a finished job's). */
static cm_status emit(cm_writer *w, uint32_t type, cm_error *err)
{
    if (w->payload.oom)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!w->async)
        return cm_frame_write(w->frame, w->out, type, w->payload.data,
                              w->payload.len, err);
    cm_status st = wait_queue(w, QUEUE - 1, err);
    if (st)
        return st;
    job *j = &w->q[w->qtail % QUEUE];
    cm_buf spare = j->payload;
    j->payload = w->payload;
    j->type = type;
    w->payload = spare;
    w->payload.len = 0;
    pthread_mutex_lock(&w->mu);
    w->qtail++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return CM_OK;
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
    if (!w || !(w->frame = cm_frame_new(level, cm_magic_stream)) ||
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
    if (!st && opts && opts->background) {
        if (pthread_mutex_init(&w->mu, NULL) == 0 &&
            pthread_cond_init(&w->cv, NULL) == 0 &&
            pthread_create(&w->thread, NULL, compress_loop, w) == 0)
            w->async = 1; /* otherwise it simply stays synchronous */
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
        return cm_fail(err, CM_ERR_DATA, "write after a failed write");
    if (cm_batch_ncols(b) != cm_schema_ncols(w->schema))
        return cm_fail(err, CM_ERR_DATA, "batch does not match the schema");
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
        return cm_fail(err, CM_ERR_DATA, "finish after a failed write");
    w->payload.len = 0;
    cm_buf_u64(&w->payload, w->rows);
    cm_buf_u64(&w->payload, w->batches);
    cm_status st = emit(w, CM_MSG_END, err);
    if (!st && w->async)
        st = wait_queue(w, 0, err);
    if (!st && fflush(w->out) != 0)
        st = cm_fail_sys(err, errno, "write failed");
    w->failed = st != CM_OK;
    return st;
}

void cm_writer_free(cm_writer *w)
{
    if (!w)
        return;
    stop_thread(w);
    for (size_t i = 0; i < QUEUE; i++)
        cm_buf_free(&w->q[i].payload);
    cm_frame_free(w->frame);
    cm_buf_free(&w->payload);
    cm_buf_free(&w->scratch);
    free(w->dict_sent);
    free(w);
}
