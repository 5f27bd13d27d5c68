/* test_atomic.c - the atomic output's two ways in: the unnamed O_TMPFILE
 * file and the named fallback, which no file system here forces (tmpfs
 * and ext4 both have O_TMPFILE), so its static functions are called
 * directly: the file is included, not linked. */
#include "common/atomic.c"

#include <sys/stat.h>

#include "tap.h"

static const char *slurp(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Names in dir that begin with a dot. */
static int dot_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

static void test_pattern(void)
{
    static const struct {
        const char *name;
        int is;
    } cases[] = {
        {".m.cmm.abcdef", 1}, {".m.cmm.Z0z9Qx", 1}, {".m.cmm.abcde", 0},
        {".m.cmm.abcdefg", 0}, {".m.cmm.abc-ef", 0}, {"m.cmm.abcdef", 0},
        {".m.cmmxabcdef", 0}, {".m.cm.abcdef", 0}, {"..m.cmm.abcdef", 0},
        {".m.cmm.ab\xc3\xa9" "cd", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(is_temp_of(cases[i].name, "m.cmm", 5) == cases[i].is,
              "temporary name pattern: '%s' %s", cases[i].name,
              cases[i].is ? "is one" : "is not");
}

static void test_fallback(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/new.cmm", dir);
    cm_error err;
    umask(022);
    cm_atomic *a = open_regular(path, 0, &err);
    const char *tmp = a ? cm_atomic_temp_path(a) : NULL;
    const char *base = tmp ? strrchr(tmp, '/') + 1 : "";
    struct stat st;
    CHECK(tmp && is_temp_of(base, "new.cmm", 7) && stat(tmp, &st) == 0 &&
              (st.st_mode & 0777) == 0644,
          "fallback: a named temporary file .new.cmm.XXXXXX, mode 0644 (%s)", base);
    if (!a)
        return;
    fputs("whole", cm_atomic_file(a));
    CHECK(cm_atomic_commit(a, &err) == CM_OK && !strcmp(slurp(path), "whole") &&
              dot_files(dir) == 0, "fallback: commit renames it into place");
    chmod(path, 0640);
    a = open_regular(path, 0, &err);
    if (a)
        fputs("again", cm_atomic_file(a));
    CHECK(a && cm_atomic_commit(a, &err) == CM_OK && !strcmp(slurp(path), "again") &&
              stat(path, &st) == 0 && (st.st_mode & 0777) == 0640,
          "fallback: replacing keeps the file's mode");
    a = open_regular(path, 0, &err);
    if (a)
        fputs("half", cm_atomic_file(a));
    cm_atomic_abort(a);
    CHECK(a && !strcmp(slurp(path), "again") && dot_files(dir) == 0,
          "fallback: abort removes the temporary file");
    unlink(path);
}

static void test_unnamed(const char *dir)
{
    int fd = open_anon(dir);
    if (fd < 0) {
        tap_skip("no O_TMPFILE or no /proc here: %s", strerror(errno));
        return;
    }
    close(fd);
    char path[256];
    snprintf(path, sizeof path, "%s/m.cmm", dir);
    cm_error err;
    umask(022);
    cm_atomic *a = cm_atomic_open(path, &err);
    if (a) {
        fputs("unnamed", cm_atomic_file(a));
        fflush(cm_atomic_file(a));
    }
    CHECK(a && !cm_atomic_temp_path(a) && dot_files(dir) == 0 && access(path, F_OK) != 0,
          "unnamed: no name at all while writing, no temporary path");
    struct stat st;
    CHECK(a && cm_atomic_commit(a, &err) == CM_OK && !strcmp(slurp(path), "unnamed") &&
              dot_files(dir) == 0 && stat(path, &st) == 0 && (st.st_mode & 0777) == 0644,
          "unnamed: commit names it, mode 0644 under umask 022");
    unlink(path);
}

int main(void)
{
    char dir[] = "/tmp/cm-atomic-XXXXXX";
    test_pattern();
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return tap_done();
    }
    test_fallback(dir);
    test_unnamed(dir);
    rmdir(dir);
    return tap_done();
}
