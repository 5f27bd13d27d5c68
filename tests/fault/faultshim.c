/* faultshim.c - an LD_PRELOAD library that makes the k-th write, read or
 * allocation of a program fail, to reach the error paths no unit test
 * can (issue 17; jq tests its I/O failures the same way).
 *
 *   CM_FAULT=write:K[:ENOSPC|EIO][:sticky]   the K-th write to a file
 *   CM_FAULT=read:K[:EIO]                    the K-th read from a file
 *   CM_FAULT=malloc:K                        the K-th malloc, calloc,
 *                                            realloc or aligned allocation
 *   CM_FAULT_COUNT=PATH   at exit, "WRITES READS MALLOCS" to PATH: how many
 *                         there were, so that a sweep knows its K's
 *
 * A fault strikes once (the disk had a bad moment), or from K on with
 * sticky (the disk stays full).
 *
 * glibc's stdio writes through an internal __write that LD_PRELOAD cannot
 * reach, so the files a program opens with fopen or fdopen are handed
 * back as fopencookie streams over the same descriptor, whose reads and
 * writes come here; fileno() answers that descriptor.  Standard input,
 * output and error are not wrapped: the faults are those of named files.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

enum { WRITE, READ, MALLOC, KINDS };

static struct {
    int ready;
    int armed;       /* main has begun */
    int kind;        /* which calls fail; -1: none (count only) */
    unsigned long k; /* the first to fail */
    int err;
    int sticky;
    pid_t pid;       /* counts are reported by the process that began */
    unsigned long count[KINDS];
} S = {.kind = -1};

static void setup(void)
{
    if (__atomic_exchange_n(&S.ready, 1, __ATOMIC_ACQ_REL))
        return;
    S.pid = getpid();
    const char *v = getenv("CM_FAULT");
    if (!v)
        return;
    static const char *names[KINDS] = {"write:", "read:", "malloc:"};
    for (int i = 0; i < KINDS; i++)
        if (strncmp(v, names[i], strlen(names[i])) == 0) {
            S.kind = i;
            v += strlen(names[i]);
        }
    S.k = strtoul(v, NULL, 10);
    S.err = S.kind == MALLOC ? ENOMEM : strstr(v, ":ENOSPC") ? ENOSPC : EIO;
    S.sticky = strstr(v, ":sticky") != NULL;
}

/* Counts one call of kind; nonzero when it is to fail. */
static int strike(int kind)
{
    if (!__atomic_load_n(&S.armed, __ATOMIC_RELAXED))
        return 0;
    setup();
    unsigned long n = __atomic_add_fetch(&S.count[kind], 1, __ATOMIC_RELAXED);
    if (kind != S.kind || n < S.k || (n > S.k && !S.sticky))
        return 0;
    errno = S.err;
    return 1;
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("CM_FAULT_COUNT");
    if (!path || getpid() != S.pid)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    char line[96];
    int n = snprintf(line, sizeof line, "%lu %lu %lu\n", S.count[WRITE], S.count[READ],
                     S.count[MALLOC]);
    if (write(fd, line, (size_t)n) != n)
        n = -1;
    close(fd);
}

/* Only the program's own run counts, from main on: the allocations of
 * the loader and of static constructors (a C++ library's) come before it
 * and cannot report a failure anyway. */
typedef int main_fn(int, char **, char **);
static main_fn *real_main;

static int armed_main(int argc, char **argv, char **env)
{
    setup();
    __atomic_store_n(&S.armed, 1, __ATOMIC_RELAXED);
    return real_main(argc, argv, env);
}

int __libc_start_main(main_fn *main, int argc, char **argv, void (*init)(void),
                      void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
    typedef int start_fn(main_fn *, int, char **, void (*)(void), void (*)(void),
                         void (*)(void), void *);
    start_fn *real = (start_fn *)dlsym(RTLD_NEXT, "__libc_start_main");
    real_main = main;
    return real(armed_main, argc, argv, init, fini, rtld_fini, stack_end);
}

/* Allocations. */

void *malloc(size_t n)
{
    return strike(MALLOC) ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    return strike(MALLOC) ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    return strike(MALLOC) ? NULL : __libc_realloc(p, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    return strike(MALLOC) ? NULL : __libc_memalign(align, n);
}

int posix_memalign(void **p, size_t align, size_t n)
{
    if (strike(MALLOC))
        return ENOMEM;
    *p = __libc_memalign(align, n);
    return *p ? 0 : ENOMEM;
}

/* Files, as cookie streams over their descriptors. */

typedef struct {
    int fd;
} cookie;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    FILE *f;
    cookie *c;
} table[256];

static ssize_t c_read(void *p, char *buf, size_t n)
{
    cookie *c = p;
    return strike(READ) ? -1 : read(c->fd, buf, n);
}

/* A cookie write reports an error as 0 bytes written, errno set. */
static ssize_t c_write(void *p, const char *buf, size_t n)
{
    cookie *c = p;
    if (strike(WRITE))
        return 0;
    ssize_t w = write(c->fd, buf, n);
    return w < 0 ? 0 : w;
}

static int c_seek(void *p, off64_t *off, int whence)
{
    cookie *c = p;
    off64_t r = lseek(c->fd, *off, whence);
    if (r < 0)
        return -1;
    *off = r;
    return 0;
}

static int c_close(void *p)
{
    cookie *c = p;
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (table[i].c == c)
            table[i].f = NULL, table[i].c = NULL;
    pthread_mutex_unlock(&table_lock);
    int r = close(c->fd);
    free(c);
    return r;
}

static FILE *wrap(int fd, const char *mode)
{
    cookie *c = __libc_malloc(sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    FILE *f = fopencookie(c, mode, (cookie_io_functions_t){c_read, c_write, c_seek, c_close});
    if (!f) {
        free(c);
        return NULL;
    }
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (!table[i].f) {
            table[i].f = f, table[i].c = c;
            break;
        }
    pthread_mutex_unlock(&table_lock);
    return f;
}

FILE *fdopen(int fd, const char *mode)
{
    return wrap(fd, mode);
}

/* The real fopen gives the open(2) flags of the mode (creation,
 * truncation, appending); its descriptor, duplicated, goes on in a cookie
 * stream. */
FILE *fopen(const char *path, const char *mode)
{
    static FILE *(*real)(const char *, const char *);
    if (!real)
        real = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
    FILE *f = real(path, mode);
    if (!f)
        return NULL;
    int fd = dup(fileno_unlocked(f));
    fclose(f);
    if (fd < 0)
        return NULL;
    FILE *w = wrap(fd, mode);
    if (!w)
        close(fd);
    return w;
}

FILE *fopen64(const char *path, const char *mode)
{
    return fopen(path, mode);
}

int fileno(FILE *f)
{
    int fd = -1;
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (table[i].f == f)
            fd = table[i].c->fd;
    pthread_mutex_unlock(&table_lock);
    return fd >= 0 ? fd : fileno_unlocked(f);
}
