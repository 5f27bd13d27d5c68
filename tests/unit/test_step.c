/* test_step.c - the step of a series: told from its times (hourly, daily
 * across summer time, monthly, yearly, irregular), written and read, and
 * added to a time in the calendar of its zone. */
#include <stdio.h>
#include <string.h>

#include "cm.h"
#include "tap.h"

static int64_t utc(int64_t y, unsigned mo, unsigned d, int h)
{
    return cm_days_from_civil(y, mo, d) * 86400 + h * 3600;
}

/* The step told from times t[0..n) of one series in tz. */
static int told(const cm_tz *tz, const int64_t *t, size_t n, cm_step *s, char *why, size_t wn)
{
    cm_steps c = {0};
    for (size_t i = 1; i < n; i++)
        cm_steps_observe(&c, tz, t[i - 1], t[i]);
    return cm_steps_decide(&c, s, why, wn);
}

static void check_told(const cm_tz *tz, const int64_t *t, size_t n, const char *want,
                       const char *what)
{
    cm_step s = {0};
    char why[200] = "", got[32] = "";
    int r = told(tz, t, n, &s, why, sizeof why);
    if (!r)
        cm_step_format(got, sizeof got, s);
    CHECK(!r && !strcmp(got, want), "%s: step %s (want %s)%s%s", what, got, want,
          r ? ": " : "", why);
}

static void test_told(cm_tz *berlin)
{
    int64_t t[400];
    /* hourly in UTC, one gap of 3 hours: 1h */
    for (int i = 0; i < 100; i++)
        t[i] = utc(2026, 3, 27, 0) + 3600 * (i + (i > 50 ? 2 : 0));
    check_told(NULL, t, 100, "1h", "hourly with a gap");
    /* hourly in Berlin across the spring change: still 1h */
    check_told(berlin, t, 100, "1h", "hourly across summer time");
    /* local midnight in Berlin, across both changes: 1d, not 86400 s */
    for (int i = 0; i < 300; i++) {
        int64_t local = cm_days_from_civil(2026, 1, 1) * 86400 + (int64_t)i * 86400, u;
        cm_tz_to_utc(berlin, local, &u);
        t[i] = u;
    }
    check_told(berlin, t, 300, "1d", "local midnights across summer time");
    /* in UTC the same instants are 24 h apart but twice: a day as well */
    check_told(NULL, t, 300, "1d", "the same in UTC, mostly 24 h apart");
    /* the first of every month, and of every year */
    for (int i = 0; i < 30; i++)
        t[i] = utc(2020 + i / 12, (unsigned)(i % 12 + 1), 1, 0);
    check_told(NULL, t, 30, "1mo", "monthly");
    for (int i = 0; i < 30; i++)
        t[i] = utc(1990 + i, 1, 1, 0);
    check_told(NULL, t, 30, "1y", "yearly, leap years among them");
    /* quarter-hourly */
    for (int i = 0; i < 30; i++)
        t[i] = utc(2026, 1, 1, 0) + 900 * i;
    check_told(NULL, t, 30, "15m", "every 15 minutes");
    /* irregular: no step more than half the differences */
    int64_t x = utc(2026, 1, 1, 0);
    for (int i = 0; i < 30; i++)
        t[i] = x += (i % 3 + 1) * 3600;
    cm_step s;
    char why[200];
    int r = told(NULL, t, 30, &s, why, sizeof why);
    CHECK(r == -1 && strstr(why, "no regular step: of 29 differences") == why,
          "irregular times: no step (%s)", why);
    /* repeated times say nothing */
    for (int i = 0; i < 10; i++)
        t[i] = utc(2026, 1, 1, i / 2);
    check_told(NULL, t, 10, "1h", "each hour twice");
    r = told(NULL, t, 1, &s, why, sizeof why);
    CHECK(r == -1, "one time alone: no step");
}

static void test_text(void)
{
    static const char *const ok[] = {"1h", "15m", "90s", "1d", "1w", "1mo", "1y", "3y", "2h"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        cm_step s;
        char back[32] = "";
        int r = cm_step_parse(ok[i], &s);
        if (!r)
            cm_step_format(back, sizeof back, s);
        CHECK(!r && !strcmp(back, ok[i]), "'%s' reads and writes back ('%s')", ok[i], back);
    }
    cm_step s;
    CHECK(!cm_step_parse("60m", &s) && s.unit == CM_STEP_SECOND && s.n == 3600,
          "60m is 3600 s");
    CHECK(!cm_step_parse("12mo", &s) && s.unit == CM_STEP_MONTH && s.n == 12, "12mo is a year");
    static const char *const bad[] = {"", "h", "0h", "-1h", "1", "1x", "1 h", "01h"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(cm_step_parse(bad[i], &s) == -1, "'%s' is no step", bad[i]);
}

static void test_add(cm_tz *berlin)
{
    cm_step hour = {CM_STEP_SECOND, 3600}, day = {CM_STEP_DAY, 1}, month = {CM_STEP_MONTH, 1};
    /* 2026-03-29 01:00 Berlin (00:00 UTC) + 1h: 03:00 local, 01:00 UTC */
    int64_t t = utc(2026, 3, 29, 0);
    CHECK(cm_step_add(berlin, t, hour, 1) == utc(2026, 3, 29, 1), "an hour across the spring change");
    /* local noon the day before the change + 1 day: local noon, 23 h later */
    int64_t noon;
    cm_tz_to_utc(berlin, cm_days_from_civil(2026, 3, 28) * 86400 + 12 * 3600, &noon);
    CHECK(cm_step_add(berlin, noon, day, 1) == noon + 23 * 3600,
          "a day across the spring change is 23 hours");
    CHECK(cm_step_add(berlin, noon, day, -1) == noon - 24 * 3600, "a day back");
    /* January 31st + 1 month: February 28th; + 13 months from a leap day */
    CHECK(cm_step_add(NULL, utc(2026, 1, 31, 6), month, 1) == utc(2026, 2, 28, 6),
          "the 31st + a month is the last day of February");
    CHECK(cm_step_add(NULL, utc(2024, 2, 29, 0), month, 12) == utc(2025, 2, 28, 0),
          "a leap day + a year");
    CHECK(cm_step_add(NULL, utc(2026, 1, 15, 0), month, -13) == utc(2024, 12, 15, 0),
          "13 months back");
    /* k steps of an hour from t is t + k hours */
    CHECK(cm_step_add(NULL, t, hour, 24) == t + 86400, "24 hours");
}

int main(void)
{
    cm_error err;
    cm_error_clear(&err);
    cm_tz *berlin = cm_tz_load("Europe/Berlin", &err);
    CHECK(berlin != NULL, "Europe/Berlin loads%s%s", berlin ? "" : ": ", err.msg);
    if (berlin) {
        test_told(berlin);
        test_add(berlin);
    }
    test_text();
    cm_tz_free(berlin);
    return tap_done();
}
