/* timeparse.c - times from text: the common forms of city exports found
 * automatically, or a strptime-like format that ignores the locale. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "time/cm_time.h"

static int valid_date(int64_t y, unsigned m, unsigned d)
{
    return m >= 1 && m <= 12 && d >= 1 && (int)d <= cm_month_days(y, m);
}

/* Reading state over s[0..n). */
typedef struct scan {
    const char *p, *end;
} scan;

/* Between min and max digits as a number; -1 when fewer than min. */
static long digits(scan *c, int min, int max)
{
    long v = 0;
    int k = 0;
    while (k < max && c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        v = v * 10 + (*c->p++ - '0');
        k++;
    }
    return k >= min ? v : -1;
}

static int eat(scan *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

static void spaces(scan *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static int set(cm_walltime *out, int64_t y, unsigned mo, unsigned d, long h,
               long mi, long s)
{
    if (!valid_date(y, mo, d) || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        s < 0 || s > 59)
        return -1;
    out->wall = cm_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return 0;
}

/* [:mm[:ss[.frac]]] after an hour; missing parts are zero. */
static int clock_rest(scan *c, long *mi, long *s)
{
    *mi = *s = 0;
    if (!eat(c, ':'))
        return 0;
    if ((*mi = digits(c, 2, 2)) < 0)
        return -1;
    if (!eat(c, ':'))
        return 0;
    if ((*s = digits(c, 2, 2)) < 0)
        return -1;
    if (eat(c, '.') || eat(c, ','))
        if (digits(c, 1, 9) < 0) /* fractions of a second are dropped */
            return -1;
    return 0;
}

/* Z, +hh, +hh:mm or +hhmm; nothing is fine too. */
static int zone(scan *c, cm_walltime *out)
{
    out->has_offset = 0;
    out->offset = 0;
    spaces(c);
    if (eat(c, 'Z') || eat(c, 'z')) {
        out->has_offset = 1;
        return 0;
    }
    if (c->p >= c->end || (*c->p != '+' && *c->p != '-'))
        return 0;
    int neg = *c->p++ == '-';
    long h = digits(c, 2, 2), m = 0;
    if (h < 0 || h > 23)
        return -1;
    eat(c, ':');
    if (c->p < c->end && (m = digits(c, 2, 2)) < 0)
        return -1;
    if (m > 59)
        return -1;
    out->has_offset = 1;
    out->offset = (int32_t)((neg ? -1 : 1) * (h * 3600 + m * 60));
    return 0;
}

static int iso(scan *c, cm_walltime *out)
{
    long y = digits(c, 4, 4), mo, d, h = 0, mi = 0, s = 0;
    char sep = c->p < c->end ? *c->p : 0;
    if (y < 0 || (sep != '-' && sep != '/'))
        return -1;
    c->p++;
    if ((mo = digits(c, 1, 2)) < 0 || !eat(c, sep) || (d = digits(c, 1, 2)) < 0)
        return -1;
    if (c->p < c->end && (*c->p == 'T' || *c->p == ' ')) {
        c->p++;
        spaces(c);
        if ((h = digits(c, 1, 2)) < 0 || clock_rest(c, &mi, &s))
            return -1;
        if (zone(c, out))
            return -1;
    } else {
        out->has_offset = 0;
        out->offset = 0;
    }
    return set(out, y, (unsigned)mo, (unsigned)d, h, mi, s);
}

static int us(scan *c, cm_walltime *out)
{
    long mo = digits(c, 1, 2), d, y, h = 0, mi = 0, s = 0;
    if (mo < 0 || !eat(c, '/') || (d = digits(c, 1, 2)) < 0 || !eat(c, '/') ||
        (y = digits(c, 4, 4)) < 0)
        return -1;
    out->has_offset = 0;
    out->offset = 0;
    spaces(c);
    if (c->p < c->end) {
        if ((h = digits(c, 1, 2)) < 0 || clock_rest(c, &mi, &s))
            return -1;
        spaces(c);
        if (c->end - c->p >= 2 && (c->p[1] | 0x20) == 'm' &&
            ((c->p[0] | 0x20) == 'a' || (c->p[0] | 0x20) == 'p')) {
            if (h < 1 || h > 12)
                return -1;
            h = h % 12 + ((c->p[0] | 0x20) == 'p' ? 12 : 0);
            c->p += 2;
        }
    }
    return set(out, y, (unsigned)mo, (unsigned)d, h, mi, s);
}

cm_time_kind cm_parse_time(const char *s, size_t n, cm_walltime *out)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    scan c = {s, s + n};
    if (iso(&c, out) == 0 && c.p == c.end)
        return CM_TIME_ISO;
    c.p = s;
    if (us(&c, out) == 0 && c.p == c.end)
        return CM_TIME_US;
    size_t k = 0;
    int neg = n > 0 && s[0] == '-';
    for (k = (size_t)neg; k < n && s[k] >= '0' && s[k] <= '9'; k++)
        ;
    if (k != n || n == (size_t)neg)
        return CM_TIME_NONE;
    out->has_offset = 0;
    out->offset = 0;
    if (n == 4 && !neg) {
        out->wall = cm_days_from_civil(atol(s), 1, 1) * 86400;
        return CM_TIME_YEAR;
    }
    if (n - (size_t)neg >= 9 && n - (size_t)neg <= 12) {
        /* An instant, not a wall clock: say so with a zero offset. */
        char buf[16];
        memcpy(buf, s, n);
        buf[n] = '\0';
        out->wall = strtoll(buf, NULL, 10);
        out->has_offset = 1;
        return CM_TIME_EPOCH;
    }
    return CM_TIME_NONE;
}

/* ---- formats ----------------------------------------------------------- */

struct cm_timefmt {
    char *fmt;
};

static const char *const months[] = {"january", "february", "march", "april",
                                     "may", "june", "july", "august",
                                     "september", "october", "november",
                                     "december"};

cm_timefmt *cm_timefmt_new(const char *fmt, cm_error *err)
{
    /* Checked once here, so parsing needs no error paths for the format. */
    for (const char *p = fmt; *p; p++) {
        if (*p != '%')
            continue;
        if (!p[1] || !strchr("YmdeHIMSpybjzFTs%", p[1])) {
            cm_fail(err, CM_ERR_ARG, "time format '%s': unknown directive '%%%.1s'",
                    fmt, p[1] ? p + 1 : "");
            return NULL;
        }
        p++;
    }
    cm_timefmt *f = calloc(1, sizeof *f);
    if (f)
        f->fmt = cm_strdup(fmt);
    if (!f || !f->fmt) {
        cm_timefmt_free(f);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return f;
}

void cm_timefmt_free(cm_timefmt *f)
{
    if (f) {
        free(f->fmt);
        free(f);
    }
}

typedef struct fields {
    long y, mo, d, h, mi, s, yday;
    int pm;          /* -1 none, 0 am, 1 pm */
    int h12;
    int has_epoch;
    long long epoch;
} fields;

static int directive(scan *c, char d, fields *t, cm_walltime *out)
{
    switch (d) {
    case 'Y': return (t->y = digits(c, 4, 4)) < 0 ? -1 : 0;
    case 'y':
        if ((t->y = digits(c, 2, 2)) < 0)
            return -1;
        t->y += t->y < 69 ? 2000 : 1900; /* POSIX's pivot */
        return 0;
    case 'm': return (t->mo = digits(c, 1, 2)) < 0 ? -1 : 0;
    case 'd': case 'e':
        spaces(c);
        return (t->d = digits(c, 1, 2)) < 0 ? -1 : 0;
    case 'H': return (t->h = digits(c, 1, 2)) < 0 ? -1 : 0;
    case 'I':
        t->h12 = 1;
        return (t->h = digits(c, 1, 2)) < 1 || t->h > 12 ? -1 : 0;
    case 'M': return (t->mi = digits(c, 1, 2)) < 0 ? -1 : 0;
    case 'S':
        if ((t->s = digits(c, 1, 2)) < 0)
            return -1;
        if (eat(c, '.'))
            return digits(c, 1, 9) < 0 ? -1 : 0;
        return 0;
    case 'j': return (t->yday = digits(c, 1, 3)) < 1 ? -1 : 0;
    case 'p':
        if (c->end - c->p < 2 || (c->p[1] | 0x20) != 'm')
            return -1;
        if ((c->p[0] | 0x20) == 'a') t->pm = 0;
        else if ((c->p[0] | 0x20) == 'p') t->pm = 1;
        else return -1;
        c->p += 2;
        return 0;
    case 'b': /* a month's first three letters or its whole English name */
        for (int i = 0; i < 12; i++) {
            size_t k = 0, full = strlen(months[i]);
            while (k < full && c->p + k < c->end && (c->p[k] | 0x20) == months[i][k])
                k++;
            if (k == 3 || k == full) {
                int letter_follows = c->p + k < c->end &&
                                     (c->p[k] | 0x20) >= 'a' && (c->p[k] | 0x20) <= 'z';
                if (letter_follows)
                    continue;
                t->mo = i + 1;
                c->p += k;
                return 0;
            }
        }
        return -1;
    case 'z':
        return zone(c, out) || !out->has_offset ? -1 : 0;
    case 's': {
        int neg = eat(c, '-');
        long long v = 0;
        int k = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && k < 15)
            v = v * 10 + (*c->p++ - '0'), k++;
        if (!k)
            return -1;
        t->has_epoch = 1;
        t->epoch = neg ? -v : v;
        return 0;
    }
    case '%': return eat(c, '%') ? 0 : -1;
    }
    return -1;
}

static int run(const char *fmt, scan *c, fields *t, cm_walltime *out)
{
    for (const char *p = fmt; *p; p++) {
        if (*p == ' ') {
            spaces(c);
        } else if (*p == '%') {
            char d = *++p;
            if (d == 'F') {
                if (run("%Y-%m-%d", c, t, out))
                    return -1;
            } else if (d == 'T') {
                if (run("%H:%M:%S", c, t, out))
                    return -1;
            } else if (directive(c, d, t, out)) {
                return -1;
            }
        } else if (!eat(c, *p)) {
            return -1;
        }
    }
    return 0;
}

int cm_timefmt_parse(const cm_timefmt *f, const char *s, size_t n,
                     cm_walltime *out)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    scan c = {s, s + n};
    fields t = {1970, 1, 1, 0, 0, 0, 0, -1, 0, 0, 0};
    out->has_offset = 0;
    out->offset = 0;
    spaces(&c);
    if (run(f->fmt, &c, &t, out) || c.p != c.end)
        return -1;
    if (t.has_epoch) {
        out->wall = t.epoch;
        out->has_offset = 1;
        out->offset = 0;
        return 0;
    }
    if (t.pm >= 0) {
        if (!t.h12 && (t.h < 1 || t.h > 12))
            return -1;
        t.h = t.h % 12 + (t.pm ? 12 : 0);
    } else if (t.h12) {
        return -1; /* %I without %p is not a time of day */
    }
    if (t.yday) {
        if (t.yday > 365 + cm_is_leap(t.y))
            return -1;
        int32_t off = out->offset;
        int has = out->has_offset;
        if (set(out, t.y, 1, 1, t.h, t.mi, t.s))
            return -1;
        out->wall += (t.yday - 1) * 86400;
        out->offset = off;
        out->has_offset = has;
        return 0;
    }
    return set(out, t.y, (unsigned)t.mo, (unsigned)t.d, t.h, t.mi, t.s);
}

int cm_time_instant(const char *s, const cm_tz *tz, int64_t *t)
{
    cm_walltime w;
    cm_time_kind k = cm_parse_time(s, strlen(s), &w);
    if (k != CM_TIME_ISO && k != CM_TIME_YEAR) /* a year alone: a yearly series' */
        return -1;
    *t = w.wall - w.offset;
    if (!w.has_offset && tz)
        cm_tz_to_utc(tz, w.wall, t);
    return 0;
}

int cm_time_instant_bad(const char *s)
{
    int64_t t;
    return cm_time_instant(s, NULL, &t);
}
