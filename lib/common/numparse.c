/* numparse.c - decimal text to double, exactly and fast.  Sensor exports
 * are short decimals ("12.5", "-200", "0.2879"): for those the digits fit
 * in 53 bits and the power of ten is exact, so one multiplication or
 * division rounds correctly (Clinger's fast path).  Anything longer goes
 * to strtod, which is exact too but several times slower. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

static const double pow10_exact[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int word(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    if (n != k)
        return 0;
    for (size_t i = 0; i < k; i++)
        if ((s[i] | 0x20) != w[i])
            return 0;
    return 1;
}

/* The slow path: strtod on a copy with '.' as the decimal point. */
static int slow(const char *s, size_t n, char decimal, double *out)
{
    char buf[512];
    if (n >= sizeof buf)
        return -1;
    for (size_t i = 0; i < n; i++)
        buf[i] = s[i] == decimal ? '.' : s[i];
    buf[n] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return end == buf + n ? 0 : -1;
}

int cm_parse_num(const char *s, size_t n, char decimal, double *out)
{
    while (n && is_space(*s))
        s++, n--;
    while (n && is_space(s[n - 1]))
        n--;
    const char *p = s, *end = s + n;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    if (p < end && (*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') {
        size_t k = (size_t)(end - p);
        if (word(p, k, "inf") || word(p, k, "infinity"))
            *out = neg ? -INFINITY : INFINITY;
        else if (word(p, k, "nan"))
            *out = NAN;
        else
            return -1;
        return 0;
    }
    uint64_t mant = 0;
    int digits = 0, frac = 0, any = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++, any = 1) {
        if (mant || *p != '0')
            digits++;
        if (digits <= 19)
            mant = mant * 10 + (uint64_t)(*p - '0');
    }
    if (p < end && *p == decimal) {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++, any = 1) {
            if (mant || *p != '0')
                digits++;
            if (digits <= 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                frac++;
            }
        }
    }
    if (!any)
        return -1;
    long exp = 0;
    if (p < end && (*p | 0x20) == 'e') {
        p++;
        int eneg = 0;
        if (p < end && (*p == '-' || *p == '+'))
            eneg = *p++ == '-';
        if (p == end || *p < '0' || *p > '9')
            return -1;
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if (exp < 100000)
                exp = exp * 10 + (*p - '0');
        if (eneg)
            exp = -exp;
    }
    if (p != end)
        return -1;
    if (digits > 19)
        return slow(s, n, decimal, out);
    long e10 = exp - frac;
    double v;
    if (mant == 0) {
        v = 0;
    } else if (mant <= (1ull << 53) && e10 >= -22 && e10 <= 22) {
        v = (double)mant;
        v = e10 < 0 ? v / pow10_exact[-e10] : v * pow10_exact[e10];
    } else {
        return slow(s, n, decimal, out);
    }
    *out = neg ? -v : v;
    return 0;
}

int cm_num_plain(const char *s, size_t n, char decimal)
{
    double v;
    if (cm_parse_num(s, n, decimal, &v))
        return 0;
    while (n && is_space(*s))
        s++, n--;
    if (n && (*s == '-' || *s == '+'))
        s++, n--;
    /* "0", "0.5" and "0e3" are numbers; "007" and "00.5" look like codes. */
    return !(n >= 2 && s[0] == '0' && s[1] >= '0' && s[1] <= '9');
}
