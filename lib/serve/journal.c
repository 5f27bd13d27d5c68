/* journal.c - the live history's journal: every accepted row (and every
 * series dropped) appended as one message of the framing cm streams and
 * model files use (a CRC-32 each, cm-tensor(5)), so that a restart finds
 * what was acknowledged, and a write torn by a crash is told from data.
 *
 * Appends are buffered under a lock and handed to the kernel before a
 * request is answered: a killed server loses nothing acknowledged.  With
 * --sync every, the answer also waits for an fsync, which the requests
 * waiting at once share (a group commit).  The file is rewritten from the
 * history, atomically, when it has doubled. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "serve/live.h"
#include "stream/frame.h"

struct cm_journal {
    pthread_mutex_t lock;      /* the file and the counts below */
    pthread_mutex_t sync_lock; /* one fsync at a time */
    FILE *f;
    cm_frame *fr;
    char *path;
    uint8_t *fields;           /* the JR_FIELDS payload */
    size_t nfields;
    uint64_t bytes;            /* the file's length */
    uint64_t written;          /* records appended ever (a mark) */
    uint64_t flushed, synced;  /* marks handed to the kernel, on disk */
    uint64_t base;             /* bytes after the last rewrite */
    /* fsync latencies, for /metrics */
    uint64_t hist[CM_SERVE_NBUCKETS + 1];
    double sum;
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* What a file in the journal's place is, when it cannot be read on. */
enum { OURS, OTHER_FIELDS, FOREIGN };

/* Reads every record, cut at the first that is not whole; its end into
 * *good.  A JR_FIELDS record other than ours, or no journal's header (not
 * one cut short): *other says which, nothing read. */
static cm_status replay(cm_journal *j, FILE *f, cm_journal_fn fn, void *ctx, uint64_t size,
                        uint64_t *good, int *other, cm_error *err)
{
    cm_error why;
    cm_error_clear(&why);
    *good = 0;
    if (cm_frame_read_header(f, cm_magic_journal, 1, 1, NULL, NULL, &why)) {
        /* a header cut short is a crash's: the file starts again */
        *other = why.status == CM_ERR_TRUNCATED || !size ? OURS : FOREIGN;
        return CM_OK;
    }
    *good = CM_FILE_HEADER;
    for (;;) {
        if (*good == size)
            return CM_OK;
        uint32_t type;
        const uint8_t *raw;
        size_t len;
        if (cm_frame_read(j->fr, f, &type, &raw, &len, &why))
            return CM_OK;
        if (type == JR_FIELDS) {
            if (len != j->nfields || memcmp(raw, j->fields, len)) {
                *other = OTHER_FIELDS;
                return CM_OK;
            }
        } else if (fn(ctx, type, raw, len, err)) {
            if (err->status != CM_ERR_CORRUPT)
                return err->status;
            /* whole, yet not a record we wrote: cut there, as a tear */
            cm_error_clear(err);
            return CM_OK;
        }
        *good += cm_frame_stored(j->fr);
    }
}

static cm_status write_start(cm_journal *j, FILE *f, cm_error *err)
{
    if (cm_frame_write_header(f, cm_magic_journal, 1, 0, err) ||
        cm_frame_write(j->fr, f, JR_FIELDS, j->fields, j->nfields, err))
        return err->status;
    return CM_OK;
}

cm_journal *cm_journal_open(const char *path, const uint8_t *fields, size_t nfields,
                            cm_journal_fn fn, void *ctx, char *note, size_t noten,
                            cm_error *err)
{
    note[0] = '\0';
    cm_journal *j = calloc(1, sizeof *j);
    if (!j || !(j->fr = cm_frame_new(0, cm_magic_journal)) || !(j->path = cm_strdup(path)) ||
        !(j->fields = malloc(nfields + 1))) {
        cm_journal_free(j);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&j->lock, NULL);
    pthread_mutex_init(&j->sync_lock, NULL);
    memcpy(j->fields, fields, nfields);
    j->nfields = nfields;
    FILE *f = fopen(path, "r+be");
    if (!f && errno != ENOENT) {
        cm_fail_sys(err, errno, "%s", path);
        cm_journal_free(j);
        return NULL;
    }
    uint64_t good = 0;
    int other = OURS;
    struct stat st;
    if (f && fstat(fileno(f), &st) == 0 &&
        replay(j, f, fn, ctx, (uint64_t)st.st_size, &good, &other, err)) {
        fclose(f);
        cm_journal_free(j);
        return NULL;
    }
    if (f && other) {
        /* another model's rows: kept for whoever wants them, not replayed */
        char aside[4096];
        snprintf(aside, sizeof aside, "%s.%lld", path, (long long)time(NULL));
        fclose(f);
        f = NULL;
        if (rename(path, aside)) {
            cm_fail_sys(err, errno, "%s: cannot move aside", path);
            cm_journal_free(j);
            return NULL;
        }
        snprintf(note, noten, "%s: %s: moved to %s, the history starts empty", path,
                 other == FOREIGN ? "not a journal"
                                  : "written for other raw fields than the model reads", aside);
        good = 0;
    } else if (f && good < (uint64_t)st.st_size) {
        snprintf(note, noten, "%s: the last %llu bytes are not whole records (a write torn "
                 "by a crash?): cut at byte %llu", path,
                 (unsigned long long)((uint64_t)st.st_size - good), (unsigned long long)good);
        if (ftruncate(fileno(f), (off_t)good)) {
            cm_fail_sys(err, errno, "%s: cannot cut", path);
            fclose(f);
            cm_journal_free(j);
            return NULL;
        }
    }
    if (!f && !(f = fopen(path, "w+be"))) {
        cm_fail_sys(err, errno, "%s", path);
        cm_journal_free(j);
        return NULL;
    }
    j->f = f;
    if (good < CM_FILE_HEADER) { /* new, or nothing whole in it */
        if (ftruncate(fileno(f), 0) || fseeko(f, 0, SEEK_SET) || write_start(j, f, err) ||
            fflush(f)) {
            if (!err->status)
                cm_fail_sys(err, errno, "%s", path);
            cm_journal_free(j);
            return NULL;
        }
        good = (uint64_t)ftello(f);
        cm_sync_dir_of(path);
    } else if (fseeko(f, (off_t)good, SEEK_SET)) {
        cm_fail_sys(err, errno, "%s", path);
        cm_journal_free(j);
        return NULL;
    }
    j->bytes = j->base = good;
    return j;
}

void cm_journal_free(cm_journal *j)
{
    if (!j)
        return;
    if (j->f) {
        fflush(j->f);
        fsync(fileno(j->f));
        fclose(j->f);
        pthread_mutex_destroy(&j->lock);
        pthread_mutex_destroy(&j->sync_lock);
    }
    cm_frame_free(j->fr);
    free(j->path);
    free(j->fields);
    free(j);
}

cm_status cm_journal_append(cm_journal *j, uint32_t type, const uint8_t *rec, size_t len,
                            uint64_t *mark, cm_error *err)
{
    pthread_mutex_lock(&j->lock);
    cm_status st = cm_frame_write(j->fr, j->f, type, rec, len, err);
    if (!st) {
        j->bytes += cm_frame_stored(j->fr);
        *mark = ++j->written;
    }
    pthread_mutex_unlock(&j->lock);
    if (st)
        cm_fail(err, err->status, "journal %s: %s", j->path, err->msg);
    return st;
}

static int sync_to(cm_journal *j, uint64_t mark)
{
    int e = 0;
    pthread_mutex_lock(&j->sync_lock);
    pthread_mutex_lock(&j->lock);
    uint64_t upto = j->flushed, done = j->synced;
    pthread_mutex_unlock(&j->lock);
    if (done < mark) { /* else a fsync begun after ours was flushed covered it */
        double t0 = now();
        if (fdatasync(fileno(j->f)))
            e = errno;
        double secs = now() - t0;
        pthread_mutex_lock(&j->lock);
        if (!e && upto > j->synced)
            j->synced = upto;
        size_t b = 0;
        while (b < CM_SERVE_NBUCKETS && secs > cm_serve_bucket[b])
            b++;
        j->hist[b]++;
        j->sum += secs;
        pthread_mutex_unlock(&j->lock);
    }
    pthread_mutex_unlock(&j->sync_lock);
    return e;
}

cm_status cm_journal_commit(cm_journal *j, uint64_t mark, int sync, cm_error *err)
{
    int e = 0;
    pthread_mutex_lock(&j->lock);
    if (j->flushed < mark) {
        if (fflush(j->f))
            e = errno ? errno : EIO;
        else
            j->flushed = j->written;
    }
    pthread_mutex_unlock(&j->lock);
    if (!e && sync)
        e = sync_to(j, mark);
    return e ? cm_fail_sys(err, e, "journal %s", j->path) : CM_OK;
}

void cm_journal_sync(cm_journal *j)
{
    pthread_mutex_lock(&j->lock);
    uint64_t mark = j->flushed;
    pthread_mutex_unlock(&j->lock);
    sync_to(j, mark);
}

int cm_journal_wants_compaction(cm_journal *j)
{
    pthread_mutex_lock(&j->lock);
    int yes = j->bytes > 2 * j->base + (1u << 20);
    pthread_mutex_unlock(&j->lock);
    return yes;
}

/* The rewrite's records go to a FILE of their own, through a journal
 * that shares our frame and fields. */
cm_status cm_journal_compact(cm_journal *j,
                             cm_status (*write)(void *ctx, cm_journal *out, cm_error *err),
                             void *ctx, cm_error *err)
{
    cm_atomic *a = cm_atomic_open(j->path, err);
    if (!a)
        return err->status;
    cm_journal out = {.f = cm_atomic_file(a), .fr = j->fr, .path = j->path};
    pthread_mutex_init(&out.lock, NULL);
    cm_status st = write_start(j, out.f, err);
    if (!st)
        st = write(ctx, &out, err);
    uint64_t bytes = (uint64_t)ftello(out.f);
    pthread_mutex_destroy(&out.lock);
    if (st) {
        cm_atomic_abort(a);
        return st;
    }
    if (cm_atomic_commit(a, err))
        return err->status;
    /* the new file, appended to from its end */
    FILE *f = fopen(j->path, "r+be");
    if (!f || fseeko(f, 0, SEEK_END)) {
        if (f)
            fclose(f);
        return cm_fail_sys(err, errno, "journal %s: cannot reopen", j->path);
    }
    pthread_mutex_lock(&j->sync_lock); /* no fsync on the old descriptor */
    pthread_mutex_lock(&j->lock);
    fclose(j->f);
    j->f = f;
    j->bytes = j->base = bytes;
    j->flushed = j->synced = j->written; /* the rewrite holds them all, on disk */
    pthread_mutex_unlock(&j->lock);
    pthread_mutex_unlock(&j->sync_lock);
    return CM_OK;
}

uint64_t cm_journal_bytes(cm_journal *j)
{
    pthread_mutex_lock(&j->lock);
    uint64_t b = j->bytes;
    pthread_mutex_unlock(&j->lock);
    return b;
}

void cm_journal_fsyncs(cm_journal *j, uint64_t *hist, double *sum)
{
    pthread_mutex_lock(&j->lock);
    for (size_t b = 0; b <= CM_SERVE_NBUCKETS; b++)
        hist[b] += j->hist[b];
    *sum += j->sum;
    pthread_mutex_unlock(&j->lock);
}
