/* tunerun.c - the trials x folds of a search, on worker processes.
 * Workers are forked after the data are read, so every one reads the same
 * pages (copy-on-write) instead of a copy; each takes one (trial, fold)
 * at a time over a pipe, which keeps them all busy however long a fit
 * takes, and answers with its scores.  A trial is reported when its last
 * fold is in, so the caller can write it down at once. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "common/common.h"
#include "tune/cm_tune.h"

typedef struct task {
    uint64_t trial, fold;
} task;

typedef struct answer {
    uint64_t trial, fold;
    double v[4], secs;
    int32_t failed; /* the fit's cm_status, 0 if none */
    char msg[200];
} answer;

/* One fit and its score: the work of a worker, or of the caller with -j 1. */
static void run_task(const cm_tune_job *job, task t, answer *a)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(a, 0, sizeof *a);
    a->trial = t.trial;
    a->fold = t.fold;
    const size_t *train, *valid;
    size_t ntrain, nvalid;
    cm_folds_get(job->folds, (size_t)t.fold, &train, &ntrain, &valid, &nvalid);
    cm_kv *set = cm_kv_new();
    cm_error err;
    cm_error_clear(&err);
    cm_model *m = NULL;
    cm_status st = set ? cm_space_settings(job->space, (size_t)t.trial, job->fixed, set, &err)
                       : cm_fail(&err, CM_ERR_NOMEM, "out of memory");
    if (!st)
        st = cm_kv_set(set, "threads", "1", &err);
    if (!st && !(m = cm_dataset_fit(job->ds, set, train, ntrain, NULL, NULL, &err)))
        st = err.status;
    const int64_t *time = cm_dataset_times(job->ds);
    if (!st && job->horizon && !(time && nvalid))
        st = cm_fail(&err, CM_ERR_DATA, "horizon: the fold's block has no times");
    if (!st)
        st = job->horizon ? cm_tune_backtest(job, m, time[valid[0]], time[valid[nvalid - 1]],
                                             a->v, &err)
                          : cm_dataset_score(m, job->ds, valid, nvalid, a->v, &err);
    if (st) {
        a->failed = (int32_t)st;
        snprintf(a->msg, sizeof a->msg, "%.199s", err.msg);
    }
    cm_model_free(m);
    cm_kv_free(set);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    a->secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
}

/* Whole messages over a pipe: short reads and writes resumed. */
static int xfer(int fd, void *p, size_t n, int out)
{
    char *c = p;
    while (n) {
        ssize_t k = out ? write(fd, c, n) : read(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static void worker(const cm_tune_job *job, int in, int out)
{
    task t;
    answer a;
    while (xfer(in, &t, sizeof t, 0) == 0) {
        run_task(job, t, &a);
        if (xfer(out, &a, sizeof a, 1))
            break;
    }
    _exit(0);
}

/* Per trial: the scores as its folds come in. */
typedef struct pending {
    double *score, secs;
    size_t done;
    char *error;
} pending;

static cm_status collect(const cm_tune_job *job, pending *p, const answer *a,
                         cm_trial_fn fn, void *ctx, cm_error *err)
{
    size_t k = cm_folds_count(job->folds);
    pending *q = &p[a->trial];
    /* A trial's own failure (it diverged, its settings do not fit the
     * data) is its score; the machine's (memory, I/O) would fail every
     * other trial as well, and make a best of those that ran before. */
    if (a->failed == CM_ERR_NOMEM || a->failed == CM_ERR_IO)
        return cm_fail(err, (cm_status)a->failed, "trial %llu: fold %llu: %s",
                       (unsigned long long)a->trial + 1, (unsigned long long)a->fold + 1, a->msg);
    q->score[a->fold] = a->failed ? NAN : a->v[job->metric];
    q->secs += a->secs;
    if (a->failed && !q->error) {
        char buf[256];
        snprintf(buf, sizeof buf, "fold %llu: %s", (unsigned long long)a->fold + 1, a->msg);
        q->error = cm_strdup(buf); /* NULL: the fold failed, unsaid */
    }
    if (++q->done < k)
        return CM_OK;
    double mean = 0, var = 0;
    for (size_t i = 0; i < k; i++)
        mean += q->score[i];
    mean /= (double)k;
    for (size_t i = 0; i < k; i++)
        var += (q->score[i] - mean) * (q->score[i] - mean);
    cm_trial_result r = {(size_t)a->trial, k, q->score, mean, sqrt(var / (double)k),
                         q->secs, q->error};
    return fn(ctx, &r, err);
}

static cm_status run_inline(const cm_tune_job *job, pending *p, cm_trial_fn fn, void *ctx,
                            cm_error *err)
{
    size_t k = cm_folds_count(job->folds);
    cm_status st = CM_OK;
    answer a;
    for (size_t i = 0; !st && i < job->ntrials; i++)
        for (size_t f = 0; !st && f < k; f++) {
            run_task(job, (task){job->trials[i], f}, &a);
            st = collect(job, p, &a, fn, ctx, err);
        }
    return st;
}

/* Task i of the search: trial by trial, so that trials finish (and are
 * written down) in order; within a trial, its largest fold first (forward
 * chaining's last: time folds grow), so that the last task handed out is
 * a small one, and the worker that ends first waits the less for the
 * other. */
static task task_at(const cm_tune_job *job, size_t i, size_t k)
{
    return (task){job->trials[i / k], k - 1 - i % k};
}

static cm_status run_workers(const cm_tune_job *job, pending *p, cm_trial_fn fn,
                             void *ctx, cm_error *err)
{
    size_t k = cm_folds_count(job->folds), ntasks = job->ntrials * k, next = 0, got = 0;
    size_t nw = (size_t)job->jobs < ntasks ? (size_t)job->jobs : ntasks;
    int *to = calloc(nw, sizeof *to), *from = calloc(nw, sizeof *from);
    pid_t *pid = calloc(nw, sizeof *pid);
    struct pollfd *pfd = calloc(nw, sizeof *pfd);
    int *busy = calloc(nw, sizeof *busy);
    cm_status st = to && from && pid && pfd && busy ? CM_OK
                 : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    size_t started = 0;
    /* A worker that dies must not take the caller with it by SIGPIPE. */
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    for (; !st && started < nw; started++) {
        int a[2], b[2];
        if (pipe(a)) {
            st = cm_fail_sys(err, errno, "cannot make a pipe");
            break;
        }
        if (pipe(b)) {
            st = cm_fail_sys(err, errno, "cannot make a pipe");
            close(a[0]), close(a[1]);
            break;
        }
        fflush(NULL); /* nothing buffered may be written twice */
        pid_t c = fork();
        if (c < 0) {
            close(a[0]), close(a[1]), close(b[0]), close(b[1]);
            st = cm_fail_sys(err, errno, "cannot start a worker");
            break;
        }
        if (c == 0) {
            /* The caller's handlers (removing its temporary files) are
             * not a worker's to run; a worker ends with its caller. */
            signal(SIGPIPE, SIG_DFL);
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            signal(SIGHUP, SIG_DFL);
#ifdef __linux__
            prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
            for (size_t w = 0; w < started; w++)
                close(to[w]), close(from[w]);
            close(a[1]);
            close(b[0]);
            worker(job, a[0], b[1]);
        }
        close(a[0]);
        close(b[1]);
        pid[started] = c;
        to[started] = a[1];
        from[started] = b[0];
        pfd[started] = (struct pollfd){b[0], POLLIN, 0};
    }
    for (size_t w = 0; !st && w < started && next < ntasks; w++, next++) {
        task t = task_at(job, next, k);
        if (xfer(to[w], &t, sizeof t, 1))
            st = cm_fail(err, CM_ERR_IO, "a worker stopped");
        busy[w] = 1;
    }
    while (!st && got < ntasks) {
        if (poll(pfd, started, -1) < 0) {
            if (errno == EINTR)
                continue;
            st = cm_fail_sys(err, errno, "poll failed");
            break;
        }
        for (size_t w = 0; !st && w < started; w++) {
            if (!pfd[w].revents)
                continue;
            answer a;
            if (!busy[w] || xfer(from[w], &a, sizeof a, 0)) {
                st = cm_fail(err, CM_ERR_IO, "a worker died (out of memory?)");
                break;
            }
            got++;
            busy[w] = 0;
            st = collect(job, p, &a, fn, ctx, err);
            if (!st && next < ntasks) {
                task t = task_at(job, next, k);
                next++;
                if (xfer(to[w], &t, sizeof t, 1))
                    st = cm_fail(err, CM_ERR_IO, "a worker stopped");
                busy[w] = 1;
            }
        }
    }
    for (size_t w = 0; w < started; w++)
        close(to[w]); /* end of tasks: the workers leave */
    for (size_t w = 0; w < started; w++) {
        if (st)
            kill(pid[w], SIGTERM);
        close(from[w]);
        while (waitpid(pid[w], NULL, 0) < 0 && errno == EINTR)
            ;
    }
    signal(SIGPIPE, old);
    free(to), free(from), free(pid), free(pfd), free(busy);
    return st;
}

cm_status cm_tune_run(const cm_tune_job *job, cm_trial_fn fn, void *ctx, cm_error *err)
{
    size_t n = cm_space_trials(job->space), k = cm_folds_count(job->folds);
    pending *p = calloc(n + 1, sizeof *p);
    cm_status st = p ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < job->ntrials; i++)
        if (!(p[job->trials[i]].score = calloc(k, sizeof(double))))
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st && job->ntrials)
        st = job->jobs <= 1 ? run_inline(job, p, fn, ctx, err)
                            : run_workers(job, p, fn, ctx, err);
    for (size_t i = 0; p && i < n; i++) {
        free(p[i].score);
        free(p[i].error);
    }
    free(p);
    return st;
}
