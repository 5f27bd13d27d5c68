/* atomic.c - output files that are either the old version or the whole
 * new one: a cron job killed mid-write must not leave half a model. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"

struct cm_atomic {
    FILE *f;
    char *path, *tmp; /* tmp NULL: written in place (not a regular file) */
};

/* A device, a FIFO or /dev/stdout cannot be replaced by rename(2) (that
 * would put a regular file where /dev/null was): those are written in
 * place.  A symbolic link is followed, so the link stays a link. */
static cm_atomic *open_special(const char *path, cm_error *err)
{
    cm_atomic *a = calloc(1, sizeof *a);
    if (!a || !(a->path = cm_strdup(path))) {
        free(a);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (!(a->f = fopen(path, "wb"))) {
        cm_fail_sys(err, errno, "%s", path);
        cm_atomic_abort(a);
        return NULL;
    }
    return a;
}

cm_atomic *cm_atomic_open(const char *path, cm_error *err)
{
    struct stat ls;
    if (stat(path, &ls) == 0 && !S_ISREG(ls.st_mode)) {
        if (S_ISDIR(ls.st_mode)) {
            cm_fail(err, CM_ERR_IO, "%s: is a directory", path);
            return NULL;
        }
        return open_special(path, err);
    }
    char *real = NULL;
    if (lstat(path, &ls) == 0 && S_ISLNK(ls.st_mode) && (real = realpath(path, NULL))) {
        cm_atomic *a = cm_atomic_open(real, err);
        free(real);
        return a;
    }
    size_t n = strlen(path);
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    cm_atomic *a = calloc(1, sizeof *a);
    if (a) {
        a->path = malloc(n + 1);
        a->tmp = malloc(n + 16);
    }
    if (!a || !a->path || !a->tmp) {
        cm_atomic_abort(a);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(a->path, path, n + 1);
    /* Same directory, so the final rename never crosses file systems. */
    snprintf(a->tmp, n + 16, "%.*s.%s.XXXXXX", (int)dirlen, path,
             path + dirlen);
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        cm_fail_sys(err, errno, "%s", path);
        free(a->tmp);
        a->tmp = NULL;
        cm_atomic_abort(a);
        return NULL;
    }
    /* mkstemp makes 0600; give the file the mode a plain open would. */
    struct stat st;
    mode_t mode;
    if (stat(path, &st) == 0) {
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = umask(022);
        umask(mask);
        mode = 0666 & ~mask;
    }
    if (fchmod(fd, mode) != 0 || !(a->f = fdopen(fd, "wb"))) {
        cm_fail_sys(err, errno, "%s", path);
        if (!a->f)
            close(fd);
        cm_atomic_abort(a);
        return NULL;
    }
    return a;
}

const char *cm_atomic_temp_path(const cm_atomic *a)
{
    return a->tmp;
}

FILE *cm_atomic_file(cm_atomic *a)
{
    return a->f;
}

void cm_atomic_abort(cm_atomic *a)
{
    if (!a)
        return;
    if (a->f)
        fclose(a->f);
    if (a->tmp)
        unlink(a->tmp);
    free(a->tmp);
    free(a->path);
    free(a);
}

cm_status cm_atomic_commit(cm_atomic *a, cm_error *err)
{
    FILE *f = a->f;
    a->f = NULL;
    if (!a->tmp) { /* written in place: all there is to do is close */
        int bad = fflush(f) != 0 || ferror(f);
        int e = errno;
        if (fclose(f) != 0 && !bad)
            bad = 1, e = errno;
        if (bad)
            cm_fail_sys(err, e, "%s", a->path);
        cm_atomic_abort(a);
        return bad ? CM_ERR_IO : CM_OK;
    }
    int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad && rename(a->tmp, a->path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        cm_fail_sys(err, e, "%s", a->path);
        cm_atomic_abort(a);
        return CM_ERR_IO;
    }
    /* The rename itself is durable only once the directory is synced. */
    char *slash = strrchr(a->path, '/');
    if (slash)
        *(slash == a->path ? slash + 1 : slash) = '\0';
    int dfd = open(slash ? a->path : ".", O_RDONLY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(a->tmp);
    a->tmp = NULL;
    cm_atomic_abort(a);
    return CM_OK;
}
