/* text.c - numbers and times as text, identical under every locale. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* printf follows LC_NUMERIC; a comma from a host program's locale must not
 * reach our output, and %g never prints a comma of its own. */
static size_t dotted(char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] == ',')
            buf[i] = '.';
    return len;
}

static size_t special(char *buf, size_t n, double v)
{
    const char *s = isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
    return (size_t)snprintf(buf, n, "%s", s);
}

size_t cm_fmt_f64(char *buf, size_t n, double v)
{
    if (!isfinite(v))
        return special(buf, n, v);
    /* The fewest significant digits that read back exactly: most values
     * that came from decimal text need 15 or fewer. */
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(buf, n, "%.*g", prec, v);
        dotted(buf, len > 0 && (size_t)len < n ? (size_t)len : 0);
        if (strtod(buf, NULL) == v)
            break;
    }
    return len > 0 ? (size_t)len : 0;
}

size_t cm_fmt_f32(char *buf, size_t n, float v)
{
    if (!isfinite(v))
        return special(buf, n, v);
    int len = 0;
    for (int prec = 6; prec <= 9; prec++) {
        len = snprintf(buf, n, "%.*g", prec, (double)v);
        dotted(buf, len > 0 && (size_t)len < n ? (size_t)len : 0);
        if (strtof(buf, NULL) == v)
            break;
    }
    return len > 0 ? (size_t)len : 0;
}

size_t cm_fmt_time_tz(char *buf, size_t n, int64_t t, const cm_tz *tz)
{
    int32_t off = tz ? cm_tz_offset(tz, t) : 0;
    size_t len = cm_fmt_time(buf, n, t + off);
    if (off == 0 || len == 0 || len >= n)
        return len;
    /* the local wall clock, then its offset in place of the Z */
    int32_t a = off < 0 ? -off : off;
    int k = snprintf(buf + len - 1, n - len + 1, "%c%02d:%02d", off < 0 ? '-' : '+',
                     (int)(a / 3600), (int)(a / 60 % 60));
    return k > 0 ? len - 1 + (size_t)k : 0;
}

size_t cm_fmt_time(char *buf, size_t n, int64_t t)
{
    /* Floor division keeps times before 1970 on the right day. */
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    cm_civil_from_days(days, &y, &m, &d);
    unsigned hh = (unsigned)(secs / 3600), mm = (unsigned)(secs / 60 % 60),
             ss = (unsigned)(secs % 60);
    /* ISO 8601 expanded years carry a sign outside 0000-9999. */
    int len = y >= 0 && y <= 9999
                  ? snprintf(buf, n, "%04lld-%02u-%02uT%02u:%02u:%02uZ",
                             (long long)y, m, d, hh, mm, ss)
                  : snprintf(buf, n, "%+05lld-%02u-%02uT%02u:%02u:%02uZ",
                             (long long)y, m, d, hh, mm, ss);
    return len > 0 ? (size_t)len : 0;
}
