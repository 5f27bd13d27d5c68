/* atomic.c - output files that are either the old version or the whole
 * new one: a cron job killed mid-write must not leave half a model.
 *
 * The data go to an unnamed file (O_TMPFILE) in the target's directory,
 * named only once complete, so that even SIGKILL leaves nothing behind.
 * Where the file system cannot make one, or /proc is not there to name
 * it by, they go to a named temporary file .NAME.XXXXXX instead. */
#define _GNU_SOURCE /* O_TMPFILE */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"

/* A named temporary file this old is no live writer's: a killed run's. */
#define STALE_SECONDS (24 * 60 * 60)

struct cm_atomic {
    FILE *f;
    char *path;
    char *tmp;  /* .NAME.XXXXXX beside path; NULL: written in place */
    int named;  /* a file exists under tmp, for abort to remove */
    int anon;   /* f is an O_TMPFILE file, named at commit */
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

static size_t dir_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) + 1 : 0;
}

/* mkstemp's six characters: what a temporary name of ours ends in. */
static int temp_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9');
}

static int is_temp_of(const char *name, const char *base, size_t blen)
{
    if (name[0] != '.' || strncmp(name + 1, base, blen) != 0 || name[blen + 1] != '.')
        return 0;
    const char *x = name + blen + 2;
    for (int i = 0; i < 6; i++)
        if (!temp_char(x[i]))
            return 0;
    return x[6] == '\0';
}

/* A run killed where there is no O_TMPFILE leaves .NAME.XXXXXX: the next run for the same target takes
 * away those a day old.  Only regular files of ours by that exact pattern;
 * best effort, since failing to tidy up is no reason to fail the output. */
static void remove_stale(const char *dir, const char *base)
{
    size_t blen = strlen(base);
    DIR *d = blen ? opendir(dir) : NULL;
    if (!d)
        return;
    time_t now = time(NULL);
    uid_t me = geteuid();
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (is_temp_of(e->d_name, base, blen) &&
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode) && st.st_uid == me && st.st_mtime < now - STALE_SECONDS)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* An unnamed file in dir, or -1 (errno set).  It is of use only if it can
 * be named later through /proc/self/fd (linkat with AT_EMPTY_PATH needs a
 * privilege), so a /proc that does not show it counts as EOPNOTSUPP. */
static int open_anon(const char *dir)
{
#ifdef O_TMPFILE
    /* 0666 and the umask (and a default ACL): what a plain open gives. */
    int fd = open(dir, O_TMPFILE | O_WRONLY, 0666);
    if (fd < 0)
        return -1;
    char proc[32];
    struct stat ps, fs;
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (stat(proc, &ps) == 0 && fstat(fd, &fs) == 0 && ps.st_dev == fs.st_dev &&
        ps.st_ino == fs.st_ino)
        return fd;
    close(fd);
#else
    (void)dir;
#endif
    errno = EOPNOTSUPP;
    return -1;
}

/* How open(2) says O_TMPFILE is not to be had here. */
static int no_anon(int e)
{
    return e == EOPNOTSUPP || e == EISDIR || e == EINVAL;
}

/* Replacing a file keeps its mode; a new one gets what a plain open would
 * give, as the O_TMPFILE file already has (mkstemp makes 0600).  0 or -1
 * with errno set and fd closed. */
static int set_mode(int fd, const char *path, int anon)
{
    struct stat st;
    mode_t mode;
    if (stat(path, &st) == 0) {
        mode = st.st_mode & 07777;
    } else if (anon) {
        return 0;
    } else {
        mode_t mask = umask(022);
        umask(mask);
        mode = 0666 & ~mask;
    }
    if (fchmod(fd, mode) == 0)
        return 0;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

static cm_atomic *new_atomic(const char *path)
{
    size_t n = strlen(path);
    cm_atomic *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->path = cm_strdup(path);
    a->tmp = malloc(n + 16);
    if (!a->path || !a->tmp) {
        cm_atomic_abort(a);
        return NULL;
    }
    /* Same directory, so the final rename never crosses file systems. */
    size_t dl = dir_len(path);
    snprintf(a->tmp, n + 16, "%.*s.%s.XXXXXX", (int)dl, path, path + dl);
    return a;
}

/* Opens a regular file's output; anon 0 goes straight to the fallback
 * (for the unit test of it). */
static cm_atomic *open_regular(const char *path, int anon, cm_error *err)
{
    cm_atomic *a = new_atomic(path);
    size_t dl = dir_len(path);
    char *dir = a ? malloc(dl + 2) : NULL;
    if (!dir) {
        cm_atomic_abort(a);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(dir, dl ? path : ".", dl ? dl : 1);
    dir[dl ? dl : 1] = '\0';
    int fd = -1;
    if (anon) {
        fd = open_anon(dir);
        a->anon = fd >= 0;
    }
    if (fd < 0 && (!anon || no_anon(errno)) && (fd = mkstemp(a->tmp)) >= 0)
        a->named = 1;
    if (fd >= 0 && set_mode(fd, path, a->anon) != 0)
        fd = -1;
    if (fd < 0 || !(a->f = fdopen(fd, "wb"))) {
        cm_fail_sys(err, errno, "%s", path);
        if (fd >= 0)
            close(fd);
        cm_atomic_abort(a);
        free(dir);
        return NULL;
    }
    remove_stale(dir, path + dl);
    free(dir);
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
    return open_regular(path, 1, err);
}

const char *cm_atomic_temp_path(const cm_atomic *a)
{
    return a->named ? a->tmp : NULL;
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
    if (a->named)
        unlink(a->tmp);
    free(a->tmp);
    free(a->path);
    free(a);
}

/* The two steps that put the finished unnamed file in the target's
 * place: a fresh name beside it, from which rename(2) replaces the target
 * in one step (linkat never replaces).  0 or an errno; only system calls,
 * for the child of publish(). */
static int link_and_rename(const char *proc, const char *tmp, const char *path)
{
    if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) != 0)
        return errno;
    if (rename(tmp, path) == 0)
        return 0;
    int e = errno;
    unlink(tmp);
    return e;
}

/* Between those two steps the file has its temporary name, and a SIGKILL
 * there (the OOM killer, a kill -9 of its pid) would leave it behind.  So a
 * child process takes them, which a kill of its parent does not stop;
 * the parent only waits for it.  Where no child can be had, the parent
 * takes them itself.  0 or an errno. */
static int publish(cm_atomic *a, int fd)
{
    char proc[32];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    static const char chars[] = "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char *x = a->tmp + strlen(a->tmp) - 6;
    for (int tries = 0; tries < 100; tries++) {
        unsigned char r[6];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
            return errno ? errno : EIO;
        for (int i = 0; i < 6; i++)
            x[i] = chars[r[i] % (sizeof chars - 1)];
        int e, status;
        pid_t pid = fork();
        if (pid == 0)
            _exit(link_and_rename(proc, a->tmp, a->path));
        if (pid < 0) {
            e = link_and_rename(proc, a->tmp, a->path);
        } else {
            while ((e = waitpid(pid, &status, 0) < 0 ? errno : 0) == EINTR)
                ;
            if (!e && !WIFEXITED(status)) {
                unlink(a->tmp); /* killed itself, maybe between the two */
                e = EIO;
            } else if (!e) {
                e = WEXITSTATUS(status);
            }
        }
        if (e != EEXIST)
            return e;
    }
    return EEXIST;
}

void cm_sync_dir_of(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + 1 : 1, slash ? path : ".");
    int dfd = open(dir, O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

static cm_status close_in_place(cm_atomic *a, FILE *f, cm_error *err)
{
    int bad = fflush(f) != 0 || ferror(f);
    int e = errno;
    if (fclose(f) != 0 && !bad)
        bad = 1, e = errno;
    if (bad)
        cm_fail_sys(err, e, "%s", a->path);
    cm_atomic_abort(a);
    return bad ? CM_ERR_IO : CM_OK;
}

cm_status cm_atomic_commit(cm_atomic *a, cm_error *err)
{
    FILE *f = a->f;
    a->f = NULL;
    if (!a->tmp)
        return close_in_place(a, f, err);
    /* The data reach the disk before any name points at them. */
    int e = 0;
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)
        e = errno ? errno : EIO;
    if (!e && a->anon)
        e = publish(a, fileno(f));
    if (fclose(f) != 0 && !e)
        e = errno;
    if (!e && !a->anon && rename(a->tmp, a->path) != 0)
        e = errno;
    if (e) {
        cm_fail_sys(err, e, "%s", a->path);
        cm_atomic_abort(a);
        return CM_ERR_IO;
    }
    a->named = 0;
    cm_sync_dir_of(a->path);
    cm_atomic_abort(a);
    return CM_OK;
}
