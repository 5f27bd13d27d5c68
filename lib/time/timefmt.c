/* timefmt.c - instants as ISO 8601 text, in UTC or a zone's wall clock. */
#include <stdio.h>

#include "time/cm_time.h"

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
