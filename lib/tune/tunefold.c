/* tunefold.c - the folds of cross-validation, as lists of row numbers.
 * Forward chaining for time series (each fold trains on rows before its
 * block: shuffled folds would train on the future), shuffled k-fold for
 * the rest. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tune/cm_tune.h"

typedef struct fold {
    size_t *train, ntrain, *valid, nvalid;
} fold;

struct cm_folds {
    fold *f;
    size_t k;
};

void cm_folds_free(cm_folds *fs)
{
    if (!fs)
        return;
    for (size_t i = 0; i < fs->k; i++) {
        free(fs->f[i].train);
        free(fs->f[i].valid);
    }
    free(fs->f);
    free(fs);
}

static int by_value(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* As scikit-learn's TimeSeriesSplit: k + 1 blocks, the first taking the
 * remainder; fold i validates on block i + 1 and trains on the rows
 * before it whose time is at least gap before the block's first. */
static cm_status forward(cm_folds *fs, size_t n, const int64_t *t, int64_t gap,
                         cm_error *err)
{
    size_t k = fs->k, size = n / (k + 1);
    /* Forward chaining means "before" in time: rows out of order would
     * train on the future. */
    for (size_t r = 1; t && r < n; r++)
        if (t[r] != INT64_MIN && t[r - 1] != INT64_MIN && t[r] < t[r - 1])
            return cm_fail(err, CM_ERR_DATA, "row %zu is earlier than the row before it: "
                           "time-series folds need the rows in time order "
                           "(cm-clean --sort, or --cv kfold)", r + 1);
    for (size_t i = 0; i < k; i++) {
        fold *f = &fs->f[i];
        size_t start = n - (k - i) * size;
        if (!(f->valid = malloc(size * sizeof *f->valid)) ||
            !(f->train = malloc((start + 1) * sizeof *f->train)))
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        for (size_t r = 0; r < size; r++)
            f->valid[f->nvalid++] = start + r;
        int64_t first = t ? t[start] : 0;
        for (size_t r = 0; r < start; r++)
            if (!gap || !t || (t[r] != INT64_MIN && t[r] <= first - gap))
                f->train[f->ntrain++] = r;
        if (f->ntrain == 0)
            return cm_fail(err, CM_ERR_ARG, "fold %zu has no training rows: the gap "
                           "is longer than the time before it", i + 1);
    }
    return CM_OK;
}

static cm_status shuffled(cm_folds *fs, size_t n, uint64_t seed, cm_error *err)
{
    size_t *perm = malloc(n * sizeof *perm);
    if (!perm)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    cm_rng rng;
    cm_rng_seed(&rng, seed);
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)cm_rng_below(&rng, i), tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
    cm_status st = CM_OK;
    for (size_t i = 0; !st && i < fs->k; i++) {
        fold *f = &fs->f[i];
        size_t lo = i * n / fs->k, hi = (i + 1) * n / fs->k;
        if (!(f->valid = malloc((hi - lo + 1) * sizeof *f->valid)) ||
            !(f->train = malloc((n - (hi - lo) + 1) * sizeof *f->train))) {
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t r = 0; r < n; r++)
            if (r >= lo && r < hi)
                f->valid[f->nvalid++] = perm[r];
            else
                f->train[f->ntrain++] = perm[r];
        /* the stream's order within each part, for --valid and the sums */
        qsort(f->train, f->ntrain, sizeof *f->train, by_value);
        qsort(f->valid, f->nvalid, sizeof *f->valid, by_value);
    }
    free(perm);
    return st;
}

cm_folds *cm_folds_new(size_t n, size_t k, int time, const int64_t *times, int64_t gap,
                       uint64_t seed, cm_error *err)
{
    cm_folds *fs = calloc(1, sizeof *fs);
    cm_status st = fs ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st && k < 2)
        st = cm_fail(err, CM_ERR_ARG, "folds: at least 2");
    if (!st && n < (time ? k + 1 : k))
        st = cm_fail(err, CM_ERR_DATA, "%zu rows are fewer than %zu folds need", n,
                     time ? k + 1 : k);
    if (!st && gap && !time)
        st = cm_fail(err, CM_ERR_ARG, "gap: only for time-series folds (--cv time)");
    if (!st && gap && !times)
        st = cm_fail(err, CM_ERR_ARG, "gap: the data have no time column");
    if (!st && !(fs->f = calloc(k, sizeof *fs->f)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st) {
        fs->k = k;
        st = time ? forward(fs, n, times, gap, err) : shuffled(fs, n, seed, err);
    }
    if (st) {
        cm_folds_free(fs);
        return NULL;
    }
    return fs;
}

size_t cm_folds_count(const cm_folds *fs)
{
    return fs->k;
}

void cm_folds_get(const cm_folds *fs, size_t i, const size_t **train, size_t *ntrain,
                  const size_t **valid, size_t *nvalid)
{
    *train = fs->f[i].train;
    *ntrain = fs->f[i].ntrain;
    *valid = fs->f[i].valid;
    *nvalid = fs->f[i].nvalid;
}
