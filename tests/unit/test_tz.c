/* test_tz.c - time zones: offsets and local-to-UTC folds in real zones,
 * footer rules in made-up TZif files, a cross-check against glibc (which
 * the test may use, the library may not), and damaged or hostile input. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cm.h"
#include "tap.h"

static uint64_t state = 11;

static int64_t utc(int64_t y, unsigned mo, unsigned d, int h, int mi, int s)
{
    return cm_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

static cm_tz *load(const char *name)
{
    cm_error err;
    cm_error_clear(&err);
    cm_tz *tz = cm_tz_load(name, &err);
    CHECK(tz != NULL, "load %s%s%s", name, tz ? "" : ": ", err.msg);
    return tz;
}

/* One expected offset at an instant; `what` names the case. */
static void off_is(const cm_tz *tz, int64_t t, int32_t want, const char *what)
{
    int32_t got = cm_tz_offset(tz, t);
    CHECK(got == want, "%s %s: offset %ld (want %ld)", cm_tz_name(tz), what,
          (long)got, (long)want);
}

static void fold_is(const cm_tz *tz, int64_t local, cm_tz_fold want_fold,
                    int64_t want, const char *what)
{
    int64_t got = 0;
    cm_tz_fold f = cm_tz_to_utc(tz, local, &got);
    CHECK(f == want_fold && got == want,
          "%s to_utc %s: fold %d utc %lld (want %d, %lld)", cm_tz_name(tz),
          what, (int)f, (long long)got, (int)want_fold, (long long)want);
}

/* ---- real zones ---------------------------------------------------------- */

static void test_utc(void)
{
    static const char *names[] = {"UTC", "Etc/UTC", "GMT"};
    for (size_t i = 0; i < 3; i++) {
        cm_tz *tz = load(names[i]);
        if (!tz)
            continue;
        CHECK(!strcmp(cm_tz_name(tz), names[i]), "name is %s",
              cm_tz_name(tz));
        off_is(tz, 0, 0, "epoch");
        off_is(tz, utc(2026, 7, 1, 12, 0, 0), 0, "2026 summer");
        off_is(tz, INT64_MAX, 0, "INT64_MAX");
        off_is(tz, INT64_MIN, 0, "INT64_MIN");
        fold_is(tz, 1234567890, CM_TZ_UNIQUE, 1234567890, "identity");
        cm_tz_free(tz);
    }
    cm_tz_free(NULL);
}

static void test_berlin(void)
{
    cm_tz *tz = load("Europe/Berlin");
    if (!tz)
        return;
    off_is(tz, utc(2026, 1, 15, 12, 0, 0), 3600, "winter 2026");
    off_is(tz, utc(2026, 7, 1, 12, 0, 0), 7200, "summer 2026");
    int64_t spring = utc(2026, 3, 29, 1, 0, 0);
    int64_t fall = utc(2026, 10, 25, 1, 0, 0);
    off_is(tz, spring - 1, 3600, "1 s before 2026 spring change");
    off_is(tz, spring, 7200, "at 2026 spring change");
    off_is(tz, fall - 1, 7200, "1 s before 2026 autumn change");
    off_is(tz, fall, 3600, "at 2026 autumn change");
    off_is(tz, utc(2045, 7, 1, 0, 0, 0), 7200, "summer 2045 (rule)");
    off_is(tz, utc(1890, 1, 1, 0, 0, 0), 3208, "1890 local mean time");

    fold_is(tz, utc(2026, 7, 1, 12, 0, 0), CM_TZ_UNIQUE,
            utc(2026, 7, 1, 10, 0, 0), "summer noon");
    fold_is(tz, utc(2026, 1, 15, 12, 0, 0), CM_TZ_UNIQUE,
            utc(2026, 1, 15, 11, 0, 0), "winter noon");
    fold_is(tz, utc(2026, 3, 29, 2, 30, 0), CM_TZ_GAP,
            utc(2026, 3, 29, 1, 30, 0), "02:30 spring gap -> 03:30 CEST");
    fold_is(tz, utc(2026, 3, 29, 2, 0, 0), CM_TZ_GAP, spring,
            "02:00 spring gap start");
    fold_is(tz, utc(2026, 3, 29, 1, 59, 59), CM_TZ_UNIQUE, spring - 1,
            "01:59:59 before the gap");
    fold_is(tz, utc(2026, 3, 29, 3, 0, 0), CM_TZ_UNIQUE, spring,
            "03:00 after the gap");
    fold_is(tz, utc(2026, 10, 25, 2, 30, 0), CM_TZ_AMBIGUOUS,
            utc(2026, 10, 25, 0, 30, 0), "02:30 autumn, earlier (CEST)");
    fold_is(tz, utc(2026, 10, 25, 2, 0, 0), CM_TZ_AMBIGUOUS,
            utc(2026, 10, 25, 0, 0, 0), "02:00 autumn");
    fold_is(tz, utc(2026, 10, 25, 3, 0, 0), CM_TZ_UNIQUE, fall + 3600,
            "03:00 autumn");
    fold_is(tz, utc(2026, 10, 25, 1, 59, 59), CM_TZ_UNIQUE,
            utc(2026, 10, 24, 23, 59, 59), "01:59:59 autumn");
    fold_is(tz, utc(2045, 3, 26, 2, 30, 0), CM_TZ_GAP,
            utc(2045, 3, 26, 1, 30, 0), "2045 spring gap (rule)");
    fold_is(tz, utc(2045, 10, 29, 2, 30, 0), CM_TZ_AMBIGUOUS,
            utc(2045, 10, 29, 0, 30, 0), "2045 autumn fold (rule)");
    cm_tz_free(tz);
}

static void test_new_york(void)
{
    cm_tz *tz = load("America/New_York");
    if (!tz)
        return;
    static const struct { int y; unsigned mar, nov; } years[] = {
        {2030, 10, 3}, {2040, 11, 4},
    };
    for (size_t i = 0; i < 2; i++) {
        int y = years[i].y;
        char what[64];
        int64_t on = utc(y, 3, years[i].mar, 7, 0, 0);
        int64_t off = utc(y, 11, years[i].nov, 6, 0, 0);
        snprintf(what, sizeof what, "%d winter", y);
        off_is(tz, utc(y, 1, 15, 12, 0, 0), -18000, what);
        snprintf(what, sizeof what, "%d summer", y);
        off_is(tz, utc(y, 7, 4, 12, 0, 0), -14400, what);
        snprintf(what, sizeof what, "%d before/at DST start", y);
        off_is(tz, on - 1, -18000, what);
        off_is(tz, on, -14400, what);
        snprintf(what, sizeof what, "%d before/at DST end", y);
        off_is(tz, off - 1, -14400, what);
        off_is(tz, off, -18000, what);

        snprintf(what, sizeof what, "%d 02:30 gap -> 03:30 EDT", y);
        fold_is(tz, utc(y, 3, years[i].mar, 2, 30, 0), CM_TZ_GAP,
                utc(y, 3, years[i].mar, 7, 30, 0), what);
        snprintf(what, sizeof what, "%d 01:30 fold, earlier (EDT)", y);
        fold_is(tz, utc(y, 11, years[i].nov, 1, 30, 0), CM_TZ_AMBIGUOUS,
                utc(y, 11, years[i].nov, 5, 30, 0), what);
        snprintf(what, sizeof what, "%d July 4th noon", y);
        fold_is(tz, utc(y, 7, 4, 12, 0, 0), CM_TZ_UNIQUE,
                utc(y, 7, 4, 16, 0, 0), what);
    }
    cm_tz_free(tz);
}

static void test_sydney(void)
{
    cm_tz *tz = load("Australia/Sydney");
    if (!tz)
        return;
    off_is(tz, utc(2030, 1, 15, 0, 0, 0), 39600, "January 2030 (DST)");
    off_is(tz, utc(2030, 7, 1, 0, 0, 0), 36000, "July 2030");
    off_is(tz, utc(2039, 12, 31, 23, 59, 59), 39600, "2039/2040 new year");
    off_is(tz, utc(2040, 1, 1, 0, 0, 0), 39600, "2040 new year");
    /* 2040: DST ends Sunday April 1st 03:00 AEDT, starts October 7th
     * 02:00 AEST. */
    int64_t end = utc(2040, 3, 31, 16, 0, 0);
    int64_t start = utc(2040, 10, 6, 16, 0, 0);
    off_is(tz, end - 1, 39600, "2040 1 s before DST end");
    off_is(tz, end, 36000, "2040 at DST end");
    off_is(tz, start - 1, 36000, "2040 1 s before DST start");
    off_is(tz, start, 39600, "2040 at DST start");
    fold_is(tz, utc(2040, 10, 7, 2, 30, 0), CM_TZ_GAP,
            utc(2040, 10, 6, 16, 30, 0), "2040 02:30 gap");
    fold_is(tz, utc(2040, 4, 1, 2, 30, 0), CM_TZ_AMBIGUOUS,
            utc(2040, 3, 31, 15, 30, 0), "2040 02:30 fold");
    cm_tz_free(tz);
}

static void test_kolkata_moscow(void)
{
    cm_tz *tz = load("Asia/Kolkata");
    if (tz) {
        off_is(tz, utc(2026, 3, 1, 0, 0, 0), 19800, "2026");
        off_is(tz, utc(2050, 9, 1, 0, 0, 0), 19800, "2050");
        fold_is(tz, utc(2026, 3, 1, 5, 30, 0), CM_TZ_UNIQUE,
                utc(2026, 3, 1, 0, 0, 0), "05:30");
        cm_tz_free(tz);
    }
    /* Moscow: summer time to 2010, then +4 all year from March 2011 to
     * October 2014, then +3. */
    tz = load("Europe/Moscow");
    if (!tz)
        return;
    off_is(tz, utc(2010, 1, 15, 0, 0, 0), 10800, "winter 2010");
    off_is(tz, utc(2010, 7, 1, 0, 0, 0), 14400, "summer 2010");
    off_is(tz, utc(2012, 1, 15, 0, 0, 0), 14400, "winter 2012");
    off_is(tz, utc(2013, 7, 1, 0, 0, 0), 14400, "summer 2013");
    int64_t back = utc(2014, 10, 25, 22, 0, 0);
    off_is(tz, back - 1, 14400, "1 s before the 2014 change");
    off_is(tz, back, 10800, "at the 2014 change");
    off_is(tz, utc(2030, 7, 1, 0, 0, 0), 10800, "summer 2030");
    cm_tz_free(tz);
}

/*
 * glibc's localtime_r as the reference, and the round trip
 * to_utc(t + offset(t)) == t, except that a doubled local time may give
 * the earlier instant, which must then show the same wall clock.
 */
static void cross_check(const cm_tz *tz, const char *tzenv, int64_t from,
                        int64_t to, int64_t step)
{
    setenv("TZ", tzenv, 1);
    tzset();
    long bad = 0, badfold = 0, n = 0;
    int64_t first_bad = 0;
    for (int64_t t = from; t < to; t += step, n++) {
        time_t tt = (time_t)t;
        struct tm tm;
        int32_t off = cm_tz_offset(tz, t);
        if (!localtime_r(&tt, &tm) || tm.tm_gmtoff != off) {
            if (!bad++)
                first_bad = t;
        }
        int64_t u = 0;
        cm_tz_fold f = cm_tz_to_utc(tz, t + off, &u);
        if (!(f == CM_TZ_UNIQUE && u == t) &&
            !(f == CM_TZ_AMBIGUOUS && u <= t && u + cm_tz_offset(tz, u) ==
                                                    t + off))
            badfold++;
    }
    CHECK(bad == 0, "%s: offsets of %ld instants match glibc (%ld differ, "
          "first at %lld)", tzenv, n, bad, (long long)first_bad);
    CHECK(badfold == 0, "%s: to_utc(t + offset) gives t back (%ld differ)",
          tzenv, badfold);
    unsetenv("TZ");
    tzset();
}

static void test_against_glibc(void)
{
    static const char *zones[] = {"Europe/Berlin", "America/New_York",
                                  "Australia/Sydney"};
    for (size_t i = 0; i < 3; i++) {
        cm_tz *tz = load(zones[i]);
        if (!tz)
            continue;
        cross_check(tz, zones[i], utc(1970, 1, 1, 0, 0, 0),
                    utc(2040, 1, 1, 0, 0, 0), 3600);
        cm_tz_free(tz);
    }
}

/* ---- made-up TZif files -------------------------------------------------- */

static char dir[] = "/tmp/cm-tz-XXXXXX";
static char *saved_tzdir;

static void use_dir(int ours)
{
    if (ours)
        setenv("TZDIR", dir, 1);
    else if (saved_tzdir)
        setenv("TZDIR", saved_tzdir, 1);
    else
        unsetenv("TZDIR");
}

static void put32(uint8_t **p, uint32_t v)
{
    (*p)[0] = (uint8_t)(v >> 24);
    (*p)[1] = (uint8_t)(v >> 16);
    (*p)[2] = (uint8_t)(v >> 8);
    (*p)[3] = (uint8_t)v;
    *p += 4;
}

static void put_head(uint8_t **p, char ver, uint32_t leap, uint32_t time,
                     uint32_t type)
{
    memset(*p, 0, 20);
    memcpy(*p, "TZif", 4);
    (*p)[4] = (uint8_t)ver;
    *p += 20;
    put32(p, 0);
    put32(p, 0);
    put32(p, leap);
    put32(p, time);
    put32(p, type);
    put32(p, 4);
}

typedef struct zone {
    char ver;           /* 0, '2', '3', '4' */
    size_t ntrans;
    const int64_t *trans;
    const uint8_t *idx;
    size_t ntypes;
    const int32_t *offs;
    const char *footer; /* v2+ only */
    uint32_t leap;
} zone;

static uint8_t *put_block(uint8_t *p, const zone *z, int wide, int full)
{
    size_t nt = full ? z->ntrans : 0, ny = full ? z->ntypes : 1;
    for (size_t i = 0; i < nt; i++) {
        if (wide) {
            put32(&p, (uint32_t)((uint64_t)z->trans[i] >> 32));
            put32(&p, (uint32_t)z->trans[i]);
        } else {
            put32(&p, (uint32_t)z->trans[i]);
        }
    }
    for (size_t i = 0; i < nt; i++)
        *p++ = z->idx[i];
    for (size_t i = 0; i < ny; i++) {
        put32(&p, (uint32_t)(full ? z->offs[i] : 0));
        *p++ = 0;
        *p++ = 0;
    }
    memcpy(p, "XXX", 4);
    p += 4;
    uint32_t leap = full ? z->leap : 0;
    memset(p, 0, leap * (wide ? 12 : 8));
    p += leap * (wide ? 12 : 8);
    return p;
}

/* TZif bytes for z: the v1 block carries the data for a version 1 file and
 * only one type otherwise, as zic's slim output does. */
static size_t tzif(uint8_t *buf, const zone *z)
{
    uint8_t *p = buf;
    if (z->ver == 0) {
        put_head(&p, 0, z->leap, (uint32_t)z->ntrans, (uint32_t)z->ntypes);
        p = put_block(p, z, 0, 1);
        return (size_t)(p - buf);
    }
    put_head(&p, z->ver, 0, 0, 1);
    p = put_block(p, z, 0, 0);
    put_head(&p, z->ver, z->leap, (uint32_t)z->ntrans, (uint32_t)z->ntypes);
    p = put_block(p, z, 1, 1);
    p += sprintf((char *)p, "\n%s\n", z->footer ? z->footer : "");
    return (size_t)(p - buf);
}

static void write_file(const char *name, const void *data, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        CHECK(0, "write %s", path);
        if (f)
            fclose(f);
        return;
    }
    fclose(f);
}

static uint8_t buf[1 << 16];

static cm_tz *load_zone(const zone *z, cm_error *err)
{
    write_file("z", buf, tzif(buf, z));
    cm_error_clear(err);
    return cm_tz_load("z", err);
}

static cm_tz *footer_zone(const char *footer, char ver)
{
    static const int32_t offs[] = {0};
    zone z = {ver, 0, NULL, NULL, 1, offs, footer, 0};
    cm_error err;
    cm_tz *tz = load_zone(&z, &err);
    CHECK(tz != NULL, "footer-only zone '%s' loads%s%s", footer,
          tz ? "" : ": ", err.msg);
    return tz;
}

static void test_footer_rules(void)
{
    /* Rules glibc reads the same way, compared over 2000..2060 at an odd
     * step that drifts across every hour and minute. */
    static const char *rules[] = {
        "EST5EDT,M3.2.0,M11.1.0",
        "<+0330>-3:30",
        "CET-1CEST,M3.5.0,M10.5.0/3",
        "AEST-10AEDT,M10.1.0,M4.1.0/3",
        "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
        "IST-2IDT,M3.4.4/26,M10.5.0",
        "XST3XDT,J60/0,J300/0",
        "XST3XDT,59/0,300/0",
        "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
        "NZST-12NZDT,M9.5.0,M4.1.0/3",
        "<-03>3<-02>,M3.2.0/-2:30,M11.1.0/30:15:10",
    };
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
        cm_tz *tz = footer_zone(rules[i], '3');
        if (!tz)
            continue;
        cross_check(tz, rules[i], utc(2000, 1, 1, 0, 0, 0),
                    utc(2060, 1, 1, 0, 0, 0), 12347);
        cm_tz_free(tz);
    }

    cm_tz *tz = footer_zone("<+0330>-3:30", '2');
    if (tz) {
        off_is(tz, utc(2026, 6, 1, 0, 0, 0), 12600, "+0330 without DST");
        off_is(tz, INT64_MIN, 12600, "+0330 at INT64_MIN");
        cm_tz_free(tz);
    }
    /* Jn never counts February 29th, n does. */
    tz = footer_zone("XST3XDT,J60/0,J300/0", '3');
    if (tz) {
        off_is(tz, utc(2024, 3, 1, 3, 0, 0) - 1, -10800,
               "J60 2024, 1 s before");
        off_is(tz, utc(2024, 3, 1, 3, 0, 0), -7200, "J60 2024 is March 1st");
        off_is(tz, utc(2023, 3, 1, 3, 0, 0), -7200, "J60 2023 is March 1st");
        cm_tz_free(tz);
    }
    tz = footer_zone("XST3XDT,59/0,300/0", '3');
    if (tz) {
        off_is(tz, utc(2024, 2, 29, 3, 0, 0) - 1, -10800,
               "59 2024, 1 s before");
        off_is(tz, utc(2024, 2, 29, 3, 0, 0), -7200, "59 2024 is Feb 29th");
        off_is(tz, utc(2023, 3, 1, 3, 0, 0) - 1, -10800, "59 2023, 1 s before");
        off_is(tz, utc(2023, 3, 1, 3, 0, 0), -7200, "59 2023 is March 1st");
        cm_tz_free(tz);
    }
    /* RFC 8536 v3: hours up to 167 and negative.  2030: March 10th + 167 h
     * is March 16th 23:00 at -3; November 3rd - 167 h is October 27th
     * 01:00 at -2. */
    tz = footer_zone("XST3XDT,M3.2.0/167,M11.1.0/-167", '3');
    if (tz) {
        int64_t on = utc(2030, 3, 17, 2, 0, 0);
        int64_t off = utc(2030, 10, 27, 3, 0, 0);
        off_is(tz, on - 1, -10800, "/167 1 s before");
        off_is(tz, on, -7200, "/167 at");
        off_is(tz, off - 1, -7200, "/-167 1 s before");
        off_is(tz, off, -10800, "/-167 at");
        fold_is(tz, utc(2030, 3, 16, 23, 30, 0), CM_TZ_GAP, on + 1800,
                "/167 gap");
        cm_tz_free(tz);
    }
    /* All-year daylight time as RFC 8536 spells it: it must not blink
     * off at new year. */
    tz = footer_zone("EST5EDT,0/0,J365/25", '3');
    if (tz) {
        long bad = 0;
        for (int64_t t = utc(2029, 12, 30, 0, 0, 0);
             t < utc(2030, 1, 3, 0, 0, 0); t += 60)
            bad += cm_tz_offset(tz, t) != -14400;
        bad += cm_tz_offset(tz, utc(2030, 7, 1, 0, 0, 0)) != -14400;
        CHECK(bad == 0, "all-year DST stays on over new year (%ld off)", bad);
        fold_is(tz, utc(2030, 1, 1, 0, 30, 0), CM_TZ_UNIQUE,
                utc(2030, 1, 1, 4, 30, 0), "all-year DST new year");
        cm_tz_free(tz);
    }
    /* Changes that fall on the other side of new year in UTC: starts
     * December 31st 23:00 local at +14, i.e. December 31st 09:00Z. */
    tz = footer_zone("<+13>-13<+14>,M12.5.3/23,M1.1.0/-3", '3');
    if (tz) {
        long bad = 0;
        for (int64_t t = utc(2020, 1, 1, 0, 0, 0); t < utc(2060, 1, 1, 0, 0, 0);
             t += 7919) {
            int64_t u = 0;
            int32_t off = cm_tz_offset(tz, t);
            cm_tz_fold f = cm_tz_to_utc(tz, t + off, &u);
            bad += !(f == CM_TZ_UNIQUE && u == t) &&
                   !(f == CM_TZ_AMBIGUOUS && u <= t &&
                     u + cm_tz_offset(tz, u) == t + off);
        }
        CHECK(bad == 0, "new-year rule round-trips (%ld differ)", bad);
        cm_tz_free(tz);
    }
}

static void test_made_up_tables(void)
{
    cm_error err;
    /* Version 1: 32-bit times, no footer; the last type stays. */
    static const int64_t t1[] = {1000000000, 1100000000};
    static const uint8_t i1[] = {1, 2};
    static const int32_t o1[] = {-3600, 3600, 7200};
    zone z = {0, 2, t1, i1, 3, o1, NULL, 0};
    cm_tz *tz = load_zone(&z, &err);
    CHECK(tz != NULL, "version 1 file loads%s%s", tz ? "" : ": ", err.msg);
    if (tz) {
        off_is(tz, 999999999, -3600, "v1 before the first change: type 0");
        off_is(tz, 1000000000, 3600, "v1 first change");
        off_is(tz, 1099999999, 3600, "v1 between");
        off_is(tz, 1100000000, 7200, "v1 last change");
        off_is(tz, INT64_MAX, 7200, "v1 far future");
        cm_tz_free(tz);
    }
    for (char v = '2'; v <= '4'; v++) {
        z.ver = v;
        z.footer = "";
        tz = load_zone(&z, &err);
        CHECK(tz != NULL, "version %c file loads%s%s", v, tz ? "" : ": ",
              err.msg);
        if (tz)
            off_is(tz, utc(2050, 1, 1, 0, 0, 0), 7200, "empty footer");
        cm_tz_free(tz);
    }
    z.ver = '5';
    tz = load_zone(&z, &err);
    CHECK(!tz && err.status == CM_ERR_VERSION, "version 5 refused: %s",
          err.msg);
    z.ver = '3';
    z.leap = 1;
    tz = load_zone(&z, &err);
    CHECK(!tz && err.status == CM_ERR_DATA, "leap-second zone refused: %s",
          err.msg);
    z.leap = 0;

    /* A slim Berlin: transitions stop in 1996, the rule does the rest. */
    static const int64_t t2[] = {828234000, 846378000};
    static const uint8_t i2[] = {1, 0};
    static const int32_t o2[] = {3600, 7200};
    zone slim = {'2', 2, t2, i2, 2, o2, "CET-1CEST,M3.5.0,M10.5.0/3", 0};
    tz = load_zone(&slim, &err);
    CHECK(tz != NULL, "slim zone loads%s%s", tz ? "" : ": ", err.msg);
    if (tz) {
        use_dir(0);
        cm_tz *real = cm_tz_load("Europe/Berlin", NULL);
        use_dir(1);
        long bad = 0;
        for (int64_t t = utc(1997, 1, 1, 0, 0, 0); real &&
             t < utc(2045, 1, 1, 0, 0, 0); t += 1800)
            bad += cm_tz_offset(tz, t) != cm_tz_offset(real, t);
        CHECK(real && bad == 0, "slim Berlin matches the real one 1997-2045 "
              "(%ld differ)", bad);
        cm_tz_free(real);
        off_is(tz, 0, 3600, "slim before the first change");
        fold_is(tz, utc(2026, 3, 29, 2, 30, 0), CM_TZ_GAP,
                utc(2026, 3, 29, 1, 30, 0), "slim 2026 gap");
        fold_is(tz, utc(2026, 10, 25, 2, 30, 0), CM_TZ_AMBIGUOUS,
                utc(2026, 10, 25, 0, 30, 0), "slim 2026 fold");
        /* The fold right at the last listed transition. */
        fold_is(tz, utc(1996, 10, 27, 2, 30, 0), CM_TZ_AMBIGUOUS,
                utc(1996, 10, 27, 0, 30, 0), "slim 1996 fold");
        fold_is(tz, utc(1996, 3, 31, 2, 30, 0), CM_TZ_GAP,
                utc(1996, 3, 31, 1, 30, 0), "slim 1996 gap");
        cm_tz_free(tz);
    }

    /* Damage the table in ways only validation can catch. */
    static const uint8_t bad_idx[] = {1, 5};
    zone bad = slim;
    bad.idx = bad_idx;
    tz = load_zone(&bad, &err);
    CHECK(!tz && err.status == CM_ERR_CORRUPT, "type index 5 of 2: %s",
          err.msg);
    static const int64_t unsorted[] = {846378000, 828234000};
    bad = slim;
    bad.trans = unsorted;
    tz = load_zone(&bad, &err);
    CHECK(!tz && err.status == CM_ERR_CORRUPT, "unsorted transitions: %s",
          err.msg);
    static const int32_t huge_off[] = {3600, 100000};
    bad = slim;
    bad.offs = huge_off;
    tz = load_zone(&bad, &err);
    CHECK(!tz && err.status == CM_ERR_CORRUPT, "offset of 27 h: %s",
          err.msg);
    static const char *bad_footers[] = {
        "CET", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0",
        "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,J0,J100", "CET-1CEST,366,1",
        "CET-1CEST,M3.5.0/168,M10.5.0", "<+1>-1", "CET-25", "CET-1CEST,",
        "CET-1CEST,M3.5.0,M10.5.0x", "CET-1:60",
    };
    for (size_t i = 0; i < sizeof bad_footers / sizeof *bad_footers; i++) {
        bad = slim;
        bad.footer = bad_footers[i];
        tz = load_zone(&bad, &err);
        CHECK(!tz && err.status == CM_ERR_CORRUPT, "footer '%s' refused: %s",
              bad_footers[i], err.msg);
        cm_tz_free(tz);
    }
    /* No rule after a DST zone's name: the US dates, as glibc. */
    tz = footer_zone("EST5EDT", '2');
    if (tz) {
        off_is(tz, utc(2030, 3, 10, 7, 0, 0), -14400, "EST5EDT default rule");
        cm_tz_free(tz);
    }
}

/* ---- names and damaged files --------------------------------------------- */

static void refused(const char *name, cm_status want, const char *msg_part)
{
    cm_error err;
    cm_error_clear(&err);
    cm_tz *tz = cm_tz_load(name, &err);
    CHECK(!tz && err.status == want && strstr(err.msg, msg_part),
          "'%.40s' refused with status %d: %s", name ? name : "(null)",
          (int)err.status, err.msg);
    cm_tz_free(tz);
}

static void test_names(void)
{
    char longname[300];
    memset(longname, 'a', 256);
    longname[256] = '\0';
    refused("Mars/Olympus", CM_ERR_ARG, "unknown time zone 'Mars/Olympus'");
    refused("../etc/passwd", CM_ERR_ARG, "../etc/passwd");
    refused("Europe/../../etc/passwd", CM_ERR_ARG, "Europe/..");
    refused("/etc/passwd", CM_ERR_ARG, "/etc/passwd");
    refused("", CM_ERR_ARG, "empty");
    refused(NULL, CM_ERR_ARG, "empty");
    refused(longname, CM_ERR_ARG, "longer than 255");
    longname[255] = '\0';
    refused(longname, CM_ERR_ARG, "unknown time zone");
    refused("Europe", CM_ERR_ARG, "unknown time zone 'Europe'");
    refused("Europe/Berlin/x", CM_ERR_ARG, "unknown time zone");
    CHECK(cm_tz_load("Mars/Olympus", NULL) == NULL, "a NULL cm_error is fine");
}

static void test_damage(void)
{
    cm_error err;
    /* No zone files at all: UTC still works, nothing else does. */
    static const char *utcs[] = {"UTC", "Etc/UTC", "GMT"};
    for (size_t i = 0; i < 3; i++) {
        cm_tz *tz = cm_tz_load(utcs[i], &err);
        CHECK(tz && cm_tz_offset(tz, 0) == 0, "%s built in", utcs[i]);
        cm_tz_free(tz);
    }
    refused("Etc/GMT", CM_ERR_ARG, "unknown time zone");

    uint8_t noise[4096];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (uint8_t)tap_rand(&state);
    write_file("noise", noise, sizeof noise);
    refused("noise", CM_ERR_CORRUPT, "noise");
    memcpy(noise, "TZif2", 5);
    write_file("noise", noise, sizeof noise);
    cm_tz *tz = cm_tz_load("noise", &err);
    CHECK(!tz && err.status == CM_ERR_CORRUPT, "TZif2 then noise: %s", err.msg);
    write_file("empty", "", 0);
    refused("empty", CM_ERR_CORRUPT, "empty");

    /* Counts that promise more than the file holds. */
    uint8_t *p = buf;
    put_head(&p, '2', 0, 0xFFFFFFFFu, 1);
    memset(p, 0, 100);
    write_file("counts", buf, (size_t)(p - buf) + 100);
    refused("counts", CM_ERR_CORRUPT, "exceed");

    static uint8_t big[(1 << 20) + 100];
    tzif(big, &(zone){'2', 0, NULL, NULL, 1, (const int32_t[]){0}, "UTC0", 0});
    write_file("big", big, sizeof big);
    refused("big", CM_ERR_CORRUPT, "over");

    /* The real Berlin file, cut short at every length and bit-flipped. */
    use_dir(0);
    const char *zd = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/Europe/Berlin",
             zd && *zd ? zd : "/usr/share/zoneinfo");
    use_dir(1);
    FILE *f = fopen(path, "rb");
    size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    CHECK(len > 1000, "read %s (%zu bytes)", path, len);
    /* Every length in the headers and footer, a sample between. */
    long cut_ok = 0, cuts = 0;
    for (size_t i = 0; i < len; i++) {
        if (i > 100 && i + 100 < len && i % 8)
            continue;
        cuts++;
        write_file("cut", buf, i);
        tz = cm_tz_load("cut", &err);
        cut_ok += tz == NULL && err.status == CM_ERR_CORRUPT;
        cm_tz_free(tz);
    }
    CHECK(len && cut_ok == cuts, "Berlin cut at %ld lengths is corrupt "
          "(%ld were)", cuts, cut_ok);
    write_file("cut", buf, len);
    tz = cm_tz_load("cut", &err);
    CHECK(tz && cm_tz_offset(tz, utc(2026, 7, 1, 0, 0, 0)) == 7200,
          "the uncut copy loads");
    cm_tz_free(tz);

    static uint8_t mut[1 << 16];
    long loaded = 0, rejected = 0;
    for (int i = 0; i < 2000; i++) {
        memcpy(mut, buf, len);
        int flips = 1 + (int)(tap_rand(&state) % 4);
        for (int k = 0; k < flips; k++) {
            uint64_t r = tap_rand(&state);
            /* Aim half the flips at the headers and the footer. */
            size_t at = r & 1 ? (size_t)(r >> 8) % len
                              : (r & 2 ? (size_t)(r >> 8) % 60
                                       : len - 1 - (size_t)(r >> 8) % 40);
            mut[at] ^= (uint8_t)(1u << ((r >> 3) % 8));
        }
        write_file("mut", mut, len);
        tz = cm_tz_load("mut", &err);
        if (!tz) {
            rejected += err.status != CM_OK;
            continue;
        }
        loaded++;
        for (int k = 0; k < 20; k++) {
            int64_t t = (int64_t)(tap_rand(&state) % 8000000000u) - 4000000000;
            int64_t u;
            int32_t off = cm_tz_offset(tz, t);
            cm_tz_to_utc(tz, t + off, &u);
        }
        cm_tz_to_utc(tz, INT64_MAX, &(int64_t){0});
        cm_tz_to_utc(tz, INT64_MIN, &(int64_t){0});
        cm_tz_free(tz);
    }
    CHECK(loaded + rejected == 2000, "2000 bit-flipped Berlins: %ld load, "
          "%ld refused, none crash", loaded, rejected);

    /* Valid rules with a character or two changed or cut off. */
    static const char *seeds[] = {
        "EST5EDT,M3.2.0,M11.1.0", "<+0330>-3:30<+0430>,J79/24,J263/24",
        "AEST-10AEDT,M10.1.0,M4.1.0/3", "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
        "XST3XDT,59/0,300/-167:59:59",
    };
    static const char alphabet[] = "0123456789,.:/+-<>JMESTDX";
    long ok = 0;
    for (int i = 0; i < 1000; i++) {
        char footer[64];
        snprintf(footer, sizeof footer, "%s", seeds[i % 5]);
        size_t fl = strlen(footer);
        for (int k = 0; k < 1 + i % 2; k++)
            footer[tap_rand(&state) % fl] =
                alphabet[tap_rand(&state) % (sizeof alphabet - 1)];
        if (i % 7 == 0)
            footer[tap_rand(&state) % fl] = '\0';
        zone z = {'3', 0, NULL, NULL, 1, (const int32_t[]){0}, footer, 0};
        tz = load_zone(&z, &err);
        if (tz) {
            ok++;
            int64_t u;
            for (int k = 0; k < 10; k++)
                cm_tz_to_utc(tz, (int64_t)(tap_rand(&state) % 4000000000u),
                             &u);
            cm_tz_offset(tz, INT64_MAX);
            cm_tz_offset(tz, INT64_MIN);
            cm_tz_to_utc(tz, INT64_MAX, &u);
            cm_tz_to_utc(tz, INT64_MIN, &u);
            cm_tz_free(tz);
        }
    }
    CHECK(1, "1000 damaged footers, %ld still valid, none crash", ok);
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* Cached calendar parts equal fresh ones, hour by hour and in jumps,
 * across DST changes and before 1970. */
static void test_parts_cached(void)
{
    const char *names[] = {"UTC", "Europe/Berlin", "Australia/Sydney"};
    for (size_t z = 0; z < 3; z++) {
        cm_tz *tz = load(names[z]);
        if (!tz)
            continue;
        cm_daycache c = {0};
        size_t bad = 0;
        int64_t t = utc(1969, 12, 30, 0, 0, 0);
        for (int i = 0; i < 20000; i++) {
            t += i % 7 == 6 ? 86400 * 37 + 1234 : 1800 + (i % 3) * 600;
            if (i % 997 == 0)
                t -= 86400 * 400; /* back in time too */
            cm_timeparts a, b;
            cm_time_parts(tz, t, &a);
            cm_time_parts_cached(tz, t, &c, &b);
            bad += a.year != b.year || a.month != b.month || a.dom != b.dom ||
                   a.hour != b.hour || a.minute != b.minute || a.second != b.second ||
                   a.dow != b.dow || a.doy != b.doy || a.week != b.week ||
                   a.month_days != b.month_days || a.year_days != b.year_days ||
                   a.year_weeks != b.year_weeks || a.day != b.day;
        }
        CHECK(bad == 0, "%s: %zu cached parts differ from fresh ones", names[z], bad);
        cm_tz_free(tz);
    }
}

int main(void)
{
    const char *tzdir = getenv("TZDIR");
    saved_tzdir = tzdir ? strdup(tzdir) : NULL;
    test_utc();
    test_berlin();
    test_new_york();
    test_sydney();
    test_kolkata_moscow();
    test_against_glibc();
    test_names();
    test_parts_cached();
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return tap_done();
    }
    use_dir(1);
    test_footer_rules();
    test_made_up_tables();
    test_damage();
    use_dir(0);
    remove_dir();
    free(saved_tzdir);
    return tap_done();
}
