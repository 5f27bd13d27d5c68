/* test_lib.c - the library's small parts: number and time text, UTF-8,
 * dictionaries, key/value lists and atomic output files. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm.h"
#include "stream/stream.h"
#include "tap.h"

static uint64_t state = 7;
static uint64_t next(void)
{
    return tap_rand(&state);
}

/* The shortest of printf's %.15g, %.16g and %.17g that reads back: what
 * cm_fmt_f64 must print, faster. */
static void shortest(char *buf, size_t n, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void test_shortest(void)
{
    char got[64], want[64], first[160] = "";
    long differ = 0, tries = 0;
    for (int i = 0; i < 300000; i++) {
        double x;
        uint64_t bits = next();
        switch (i % 4) {
        case 0: /* any bits */
            memcpy(&x, &bits, 8);
            break;
        case 1: /* a float32, as boosted trees forecast */
            {
                float f;
                uint32_t b32 = (uint32_t)bits;
                memcpy(&f, &b32, 4);
                x = f;
            }
            break;
        case 2: /* a short decimal, as sensors write them */
            x = (double)(int64_t)(bits % 2000001 - 1000000) / 1000;
            break;
        default: /* a number near a tie of 15 or 16 digits */
            x = (double)(bits % 1000000000000000ULL) + 0.5;
            x *= (bits >> 60) & 1 ? 1e-10 : 1e3;
            break;
        }
        if (!isfinite(x))
            continue;
        tries++;
        cm_fmt_f64(got, sizeof got, x);
        shortest(want, sizeof want, x);
        if (strcmp(got, want) && !differ++)
            snprintf(first, sizeof first, "%s for %s", got, want);
    }
    CHECK(differ == 0, "f64 text is printf's shortest of 15 to 17 digits for %ld numbers "
          "(%ld differ%s%s)", tries, differ, *first ? ", first " : "", first);
    static const double edge[] = {9.9999999999999995e-5, 1e-4, 1e15, 1e16, 1e17, 123456789012345680,
                                  0.5, 5e-324, 1.7976931348623157e308, 999999999999999.9, -0.0,
                                  0, 999999999999999, -5, 1e14, 4503599627370497};
    differ = 0;
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
        cm_fmt_f64(got, sizeof got, edge[i]);
        shortest(want, sizeof want, edge[i]);
        differ += strcmp(got, want) != 0;
    }
    CHECK(differ == 0, "f64 text at the edges of the forms and of the range");
}

static void test_numbers(void)
{
    char buf[64];
    long bad = 0;
    for (int i = 0; i < 200000; i++) {
        double x;
        uint64_t bits = next();
        memcpy(&x, &bits, 8);
        if (!isfinite(x))
            continue;
        cm_fmt_f64(buf, sizeof buf, x);
        double y = strtod(buf, NULL);
        bad += memcmp(&x, &y, 8) != 0; /* -0.0 must stay -0.0 */
    }
    CHECK(bad == 0, "f64 text reads back bit-exactly for random bit patterns");
    bad = 0;
    for (int i = 0; i < 200000; i++) {
        float x;
        uint32_t bits = (uint32_t)next();
        memcpy(&x, &bits, 4);
        if (!isfinite(x))
            continue;
        cm_fmt_f32(buf, sizeof buf, x);
        float y = strtof(buf, NULL);
        bad += memcmp(&x, &y, 4) != 0;
    }
    CHECK(bad == 0, "f32 text reads back bit-exactly for random bit patterns");
    static const struct { double v; const char *s; } f64[] = {
        {0.1, "0.1"}, {1e300, "1e+300"}, {-2.5, "-2.5"}, {100, "100"},
        {0.30000000000000004, "0.30000000000000004"}, {1.0 / 3, "0.3333333333333333"}, {-0.0, "-0"},
    };
    for (size_t i = 0; i < sizeof f64 / sizeof *f64; i++) {
        cm_fmt_f64(buf, sizeof buf, f64[i].v);
        CHECK(!strcmp(buf, f64[i].s), "f64 %s prints as %s", f64[i].s, buf);
    }
    cm_fmt_f32(buf, sizeof buf, 0.1f);
    CHECK(!strcmp(buf, "0.1"), "f32 0.1 prints shortest (%s)", buf);
    cm_fmt_f32(buf, sizeof buf, 16777216.0f);
    CHECK(!strcmp(buf, "16777216"), "f32 2^24 prints exactly (%s)", buf);
    cm_fmt_f64(buf, sizeof buf, NAN);
    CHECK(!strcmp(buf, "nan"), "NaN prints as nan");
    cm_fmt_f64(buf, sizeof buf, -INFINITY);
    CHECK(!strcmp(buf, "-inf"), "-inf prints as -inf");
}

static void test_times(void)
{
    static const struct { int64_t t; const char *s; } cases[] = {
        {0, "1970-01-01T00:00:00Z"},
        {951782400, "2000-02-29T00:00:00Z"},
        {-1, "1969-12-31T23:59:59Z"},
        {-86400, "1969-12-31T00:00:00Z"},
        {1798761599, "2026-12-31T23:59:59Z"},
        {253402300799, "9999-12-31T23:59:59Z"},
        {-62135596800, "0001-01-01T00:00:00Z"},
        {253402300800, "+10000-01-01T00:00:00Z"},
        {-62167219201, "-0001-12-31T23:59:59Z"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cm_fmt_time(buf, sizeof buf, cases[i].t);
        CHECK(!strcmp(buf, cases[i].s), "time %lld is %s (%s)",
              (long long)cases[i].t, cases[i].s, buf);
    }
    /* Every day for 800 years against a day counter. */
    int64_t t = -62135596800; /* 0001-01-01 */
    int y = 1, m = 1, d = 1, bad = 0;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int day = 0; day < 292200; day++, t += 86400) {
        char want[64];
        snprintf(want, sizeof want, "%04d-%02d-%02dT00:00:00Z", y, m, d);
        cm_fmt_time(buf, sizeof buf, t);
        bad += strcmp(buf, want) != 0;
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (++d > mdays[m - 1] + (m == 2 && leap)) {
            d = 1;
            if (++m > 12)
                m = 1, y++;
        }
    }
    CHECK(bad == 0, "calendar matches a day counter from year 1 to 800");
}

static void test_utf8(void)
{
    CHECK(cm_utf8_valid("Zürich", strlen("Zürich")), "UTF-8: Zürich is valid");
    CHECK(cm_utf8_valid("\xF0\x9F\x9A\xB2", 4), "UTF-8: a 4-byte emoji is valid");
    CHECK(!cm_utf8_valid("\xC3", 1), "UTF-8: a cut sequence is invalid");
    CHECK(!cm_utf8_valid("\xC0\xAF", 2), "UTF-8: an overlong form is invalid");
    CHECK(!cm_utf8_valid("\xED\xA0\x80", 3), "UTF-8: a surrogate is invalid");
    CHECK(!cm_utf8_valid("a\0b", 3), "UTF-8: NUL is refused");
    CHECK(!cm_utf8_valid("\xFF", 1), "UTF-8: 0xFF is invalid");
}

static void test_dict(void)
{
    cm_dict *d = cm_dict_new();
    char s[32];
    int ok = 1;
    for (int i = 0; i < 100000; i++) {
        uint32_t code;
        snprintf(s, sizeof s, "v%d", i % 50000);
        if (cm_dict_intern(d, s, strlen(s), &code, NULL) || code != (uint32_t)(i % 50000))
            ok = 0;
    }
    CHECK(ok && cm_dict_size(d) == 50000, "dictionary: codes are first-seen order, stable");
    uint32_t code = 0;
    CHECK(cm_dict_find(d, "v123", 4, &code) && code == 123 &&
              !cm_dict_find(d, "v50000", 6, NULL), "dictionary: find");
    size_t len;
    CHECK(!strcmp(cm_dict_string(d, 49999, &len), "v49999") && len == 6 &&
              cm_dict_string(d, 50000, NULL) == NULL, "dictionary: string of code");
    CHECK(cm_dict_intern(d, "", 0, &code, NULL) == CM_OK && code == 50000,
          "dictionary: the empty string is a category");
    cm_error err;
    CHECK(cm_dict_intern(d, "\xFF", 1, &code, &err) == CM_ERR_DATA,
          "dictionary: invalid UTF-8 refused (%s)", err.msg);
    cm_dict *c = cm_dict_clone(d);
    CHECK(c && cm_dict_size(c) == cm_dict_size(d) && cm_dict_find(c, "v7", 2, &code) &&
              code == 7, "dictionary: clone");
    cm_dict_free(c);
    cm_dict_free(d);
}

static void test_schema_rules(void)
{
    cm_schema *s = cm_schema_new();
    cm_error err;
    CHECK(cm_schema_add(s, "x", CM_F32, CM_ROLE_FEATURE, NULL, &err) == CM_OK,
          "schema: add");
    CHECK(cm_schema_add(s, "x", CM_F64, CM_ROLE_FEATURE, NULL, &err) == CM_ERR_DATA &&
              strstr(err.msg, "duplicate"), "schema: duplicate name refused (%s)", err.msg);
    CHECK(cm_schema_add(s, "", CM_F64, CM_ROLE_FEATURE, NULL, &err) != CM_OK,
          "schema: empty name refused");
    CHECK(cm_schema_add(s, "y", (cm_dtype)9, CM_ROLE_FEATURE, NULL, &err) == CM_ERR_ARG,
          "schema: unknown dtype refused");
    cm_kv *m = cm_schema_meta(s);
    cm_kv_set(m, "a", "1", NULL);
    cm_kv_set(m, "b", "2", NULL);
    cm_kv_set(m, "a", "3", NULL);
    CHECK(cm_kv_count(m) == 2 && !strcmp(cm_kv_key(m, 0), "a") &&
              !strcmp(cm_kv_get(m, "a"), "3"), "kv: set replaces in place");
    cm_schema *c = cm_schema_clone(s);
    CHECK(c && cm_schema_ncols(c) == 1 && !strcmp(cm_kv_get(cm_schema_meta(c), "b"), "2"),
          "schema: clone");
    cm_schema_free(c);
    cm_schema_free(s);
}

static char *slurp(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int temp_files_in(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -A %s | grep -c '^\\.'", dir);
    FILE *p = popen(cmd, "r");
    int n = 0;
    if (p && fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

static void test_atomic(void)
{
    char dir[] = "/tmp/cm-atomic-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/model.cmm", dir);
    FILE *f = fopen(path, "w");
    fputs("old", f);
    fclose(f);
    chmod(path, 0640);
    cm_error err;
    cm_atomic *a = cm_atomic_open(path, &err);
    fputs("new, half", cm_atomic_file(a));
    fflush(cm_atomic_file(a));
    CHECK(!strcmp(slurp(path), "old"), "atomic: old content while writing");
    cm_atomic_abort(a);
    CHECK(!strcmp(slurp(path), "old") && temp_files_in(dir) == 0,
          "atomic: abort keeps the old file and leaves no temporary");
    a = cm_atomic_open(path, &err);
    fputs("new", cm_atomic_file(a));
    CHECK(cm_atomic_commit(a, &err) == CM_OK && !strcmp(slurp(path), "new") &&
              temp_files_in(dir) == 0, "atomic: commit replaces");
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640,
          "atomic: replacing keeps the file's mode");
    char missing[300];
    snprintf(missing, sizeof missing, "%s/no/such/dir/m.cmm", dir);
    CHECK(cm_atomic_open(missing, &err) == NULL && err.status == CM_ERR_IO &&
              strstr(err.msg, "No such file"), "atomic: missing directory (%s)", err.msg);
    /* A device stays a device; a link stays a link, its target replaced. */
    a = cm_atomic_open("/dev/null", &err);
    if (a)
        fputs("x", cm_atomic_file(a));
    CHECK(a && cm_atomic_commit(a, &err) == CM_OK && stat("/dev/null", &st) == 0 &&
              S_ISCHR(st.st_mode), "atomic: /dev/null is written, not replaced");
    char link[300];
    snprintf(link, sizeof link, "%s/link.cmm", dir);
    CHECK(symlink("model.cmm", link) == 0, "atomic: make a link");
    a = cm_atomic_open(link, &err);
    if (a)
        fputs("via link", cm_atomic_file(a));
    struct stat ls;
    CHECK(a && cm_atomic_commit(a, &err) == CM_OK && lstat(link, &ls) == 0 &&
              S_ISLNK(ls.st_mode) && !strcmp(slurp(path), "via link"),
          "atomic: a symbolic link stays a link and its target is replaced");
    unlink(link);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_shortest();
    test_numbers();
    test_times();
    test_utf8();
    test_dict();
    test_schema_rules();
    test_atomic();
    return tap_done();
}
