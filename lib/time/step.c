/* step.c - the regular interval of a series: told from its times, written
 * as "1h", "1d", "1mo", "1y", and added to a time.  A step of whole days,
 * months or years is one of the local calendar, so that a daily series
 * stays at its hour of the day across a change of summer time; a shorter
 * one is a count of seconds, which on any day keeps an hourly series on
 * the hour. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "time/cm_time.h"

/* The wall-clock time of t in tz (UTC when NULL): its local day and
 * second of the day. */
static void wall(const cm_tz *tz, int64_t t, int64_t *day, int64_t *sec)
{
    int64_t w = t + (tz ? cm_tz_offset(tz, t) : 0);
    *day = w >= 0 ? w / 86400 : -((-w + 86399) / 86400);
    *sec = w - *day * 86400;
}

/* The step from t0 to t1 > t0: months when the local day of the month and
 * the time of day agree, days when the time of day does, else seconds. */
static cm_step classify(const cm_tz *tz, int64_t t0, int64_t t1)
{
    int64_t d0, s0, d1, s1, y0, y1;
    unsigned m0, m1, dom0, dom1;
    wall(tz, t0, &d0, &s0);
    wall(tz, t1, &d1, &s1);
    if (s0 != s1 || d1 <= d0)
        return (cm_step){CM_STEP_SECOND, t1 - t0};
    cm_civil_from_days(d0, &y0, &m0, &dom0);
    cm_civil_from_days(d1, &y1, &m1, &dom1);
    int64_t months = (y1 - y0) * 12 + (int64_t)m1 - (int64_t)m0;
    if (dom0 == dom1 && months > 0)
        return (cm_step){CM_STEP_MONTH, months};
    return (cm_step){CM_STEP_DAY, d1 - d0};
}

void cm_steps_observe(cm_steps *c, const cm_tz *tz, int64_t t0, int64_t t1)
{
    if (t1 <= t0)
        return; /* a repeated time says nothing of the step */
    cm_step s = classify(tz, t0, t1);
    c->pairs++;
    for (size_t i = 0; i < c->n; i++)
        if (c->seen[i].unit == s.unit && c->seen[i].n == s.n) {
            c->count[i]++;
            return;
        }
    if (c->n < CM_STEPS_KEPT) {
        c->seen[c->n] = s;
        c->count[c->n++] = 1;
    } else {
        c->other++;
    }
}

/* The kept steps by count, most first (ties in the order first seen). */
static void rank(const cm_steps *c, size_t *order)
{
    for (size_t i = 0; i < c->n; i++)
        order[i] = i;
    for (size_t i = 1; i < c->n; i++)
        for (size_t j = i; j > 0 && c->count[order[j]] > c->count[order[j - 1]]; j--) {
            size_t k = order[j];
            order[j] = order[j - 1];
            order[j - 1] = k;
        }
}

int cm_steps_decide(const cm_steps *c, cm_step *out, char *why, size_t n)
{
    size_t order[CM_STEPS_KEPT] = {0};
    rank(c, order);
    if (!c->pairs) {
        snprintf(why, n, "no two rows of a series at different times");
        return -1;
    }
    uint64_t top = c->count[order[0]];
    int tie = c->n > 1 && c->count[order[1]] == top;
    if (!tie && top * 2 > c->pairs) {
        *out = c->seen[order[0]];
        return 0;
    }
    /* what was found, the three most common differences and their shares */
    size_t k = (size_t)snprintf(why, n, "no regular step: of %llu differences between "
                                "consecutive times,", (unsigned long long)c->pairs);
    for (size_t i = 0; i < c->n && i < 3 && k < n; i++) {
        char s[32];
        cm_step_format(s, sizeof s, c->seen[order[i]]);
        k += (size_t)snprintf(why + k, n - k, "%s %s %.0f%%", i ? "," : "", s,
                              100.0 * (double)c->count[order[i]] / (double)c->pairs);
    }
    return -1;
}

static const struct {
    const char *suffix;
    int unit;
    int64_t mult;
} units[] = {
    {"s", CM_STEP_SECOND, 1},  {"m", CM_STEP_SECOND, 60}, {"h", CM_STEP_SECOND, 3600},
    {"d", CM_STEP_DAY, 1},     {"w", CM_STEP_DAY, 7},     {"mo", CM_STEP_MONTH, 1},
    {"y", CM_STEP_MONTH, 12},
};

size_t cm_step_format(char *buf, size_t n, cm_step s)
{
    /* the largest unit that divides it */
    for (size_t i = sizeof units / sizeof *units; i-- > 0;)
        if (units[i].unit == s.unit && s.n % units[i].mult == 0)
            return (size_t)snprintf(buf, n, "%lld%s", (long long)(s.n / units[i].mult),
                                    units[i].suffix);
    return (size_t)snprintf(buf, n, "%llds", (long long)s.n);
}

int cm_step_parse(const char *text, cm_step *out)
{
    int64_t v = 0;
    const char *p = text;
    if (*p < '1' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (int64_t)1e12)
            return -1;
        v = v * 10 + (*p - '0');
    }
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (!strcmp(p, units[i].suffix)) {
            *out = (cm_step){units[i].unit, v * units[i].mult};
            return 0;
        }
    return -1;
}

int64_t cm_step_add(const cm_tz *tz, int64_t t, cm_step s, int64_t k)
{
    if (s.unit == CM_STEP_SECOND)
        return t + s.n * k;
    int64_t day, sec, y;
    unsigned m, d;
    wall(tz, t, &day, &sec);
    if (s.unit == CM_STEP_DAY) {
        day += s.n * k;
    } else {
        cm_civil_from_days(day, &y, &m, &d);
        int64_t months = y * 12 + (m - 1) + s.n * k;
        y = months >= 0 ? months / 12 : -((-months + 11) / 12);
        m = (unsigned)(months - y * 12) + 1;
        int last = cm_month_days(y, m);
        day = cm_days_from_civil(y, m, d > (unsigned)last ? (unsigned)last : d);
    }
    int64_t utc = day * 86400 + sec;
    if (tz)
        cm_tz_to_utc(tz, day * 86400 + sec, &utc);
    return utc;
}

int64_t cm_step_longest(cm_step s)
{
    return s.unit == CM_STEP_SECOND ? s.n : s.unit == CM_STEP_DAY ? s.n * 25 * 3600
                                                                  : s.n * (31 * 86400 + 3600);
}

int64_t cm_step_between(cm_step s, int64_t a, int64_t b)
{
    if (s.unit == CM_STEP_SECOND)
        return (b - a) / s.n;
    double each = (double)s.n * (s.unit == CM_STEP_DAY ? 86400.0 : 30.436875 * 86400);
    return llround((double)(b - a) / each);
}

/* A span as seconds when it has a fixed length (seconds, or days, which
 * an hourly step counts in hours), or -1 (months). */
static int64_t seconds(cm_step s)
{
    return s.unit == CM_STEP_SECOND ? s.n : s.unit == CM_STEP_DAY ? s.n * 86400 : -1;
}

int cm_step_count_bad(const char *text)
{
    char *end;
    cm_step span;
    long long v = strtoll(text, &end, 10);
    if (end != text && !*end && text[0] >= '0' && text[0] <= '9')
        return v < 1 || v > CM_STEPS_MAX ? -1 : 0;
    return cm_step_parse(text, &span);
}

cm_status cm_steps_of(const char *what, const char *text, cm_step step, int64_t max,
                      int64_t *n, cm_error *err)
{
    char s[32];
    if (!cm_step_count(text, step, n) && *n >= 1 && *n <= max)
        return CM_OK;
    cm_step_format(s, sizeof s, step);
    return cm_fail(err, CM_ERR_ARG, "%s: '%.32s' is not a whole number of steps of %s "
                   "(1 to %lld)", what, text, s, (long long)max);
}

int cm_step_count(const char *text, cm_step step, int64_t *n)
{
    char *end;
    long long v = strtoll(text, &end, 10);
    if (end != text && !*end && text[0] >= '0' && text[0] <= '9') {
        *n = v;
        return 0;
    }
    cm_step span;
    if (cm_step_parse(text, &span))
        return -1;
    if (span.unit == step.unit) {
        if (span.n % step.n)
            return -1;
        *n = span.n / step.n;
        return 0;
    }
    int64_t a = seconds(span), b = seconds(step);
    if (a < 0 || b <= 0 || a % b)
        return -1;
    *n = a / b;
    return 0;
}
