/* numfmt.c - numbers as text, identical under every locale. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

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

/* %.{prec}g of the decimal d[0].d[1]d[2]... x 10^x (prec digits, the
 * sign neg), as printf would write it: fixed or exponent form, trailing
 * zeros dropped. */
static int as_g(char *buf, size_t n, int neg, const char *d, int prec, int x)
{
    char t[48];
    int j = 0, k = prec;
    while (k > 1 && d[k - 1] == '0')
        k--;
    if (neg)
        t[j++] = '-';
    if (x < -4 || x >= prec) {
        t[j++] = d[0];
        if (k > 1)
            t[j++] = '.';
        for (int i = 1; i < k; i++)
            t[j++] = d[i];
        j += snprintf(t + j, sizeof t - (size_t)j, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    } else if (x >= 0) {
        for (int i = 0; i <= x; i++)
            t[j++] = i < k ? d[i] : '0';
        if (k > x + 1)
            t[j++] = '.';
        for (int i = x + 1; i < k; i++)
            t[j++] = d[i];
    } else {
        t[j++] = '0';
        t[j++] = '.';
        for (int i = -1; i > x; i--)
            t[j++] = '0';
        for (int i = 0; i < k; i++)
            t[j++] = d[i];
    }
    t[j] = '\0';
    return snprintf(buf, n, "%s", t);
}

/* A whole number below 10^15, as %.15g writes it, without printf: counts
 * and other whole values are most of what cm prints. */
static size_t whole(char *buf, size_t n, double v)
{
    char t[24];
    int j = (int)sizeof t;
    unsigned long long u = (unsigned long long)fabs(v);
    t[--j] = '\0';
    do
        t[--j] = (char)('0' + u % 10);
    while (u /= 10);
    if (signbit(v))
        t[--j] = '-';
    return (size_t)snprintf(buf, n, "%s", t + j);
}

size_t cm_fmt_f64(char *buf, size_t n, double v)
{
    if (!isfinite(v))
        return special(buf, n, v);
    if (v == trunc(v) && fabs(v) < 1e15)
        return whole(buf, n, v);
    /* The fewest significant digits, from 15, that read back exactly: most
     * values that came from decimal text need 15 or fewer.  printf makes
     * the 17 digits once (%.16e, rounded from the exact value), and 15 and
     * 16 are rounded from those, which gives printf's own digits unless
     * the digits dropped are a 5 and zeros: that tie is printf's to
     * break, from the exact value.  (One printf instead of three: the
     * text of every forecast goes through here.) */
    char e[48];
    snprintf(e, sizeof e, "%.16e", v);
    int neg = e[0] == '-';
    const char *p = e + neg; /* d.ddddddddddddddddde+XX, whatever the point */
    char d17[17];
    d17[0] = p[0];
    memcpy(d17 + 1, p + 2, 16);
    int x = atoi(p + 19);
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        char d[17];
        int xr = x, tie = prec < 17 && d17[prec] == '5';
        for (int i = prec + 1; tie && i < 17; i++)
            tie = d17[i] == '0';
        memcpy(d, d17, 17);
        if (tie) {
            len = snprintf(buf, n, "%.*g", prec, v);
            dotted(buf, len > 0 && (size_t)len < n ? (size_t)len : 0);
        } else {
            if (prec < 17 && d17[prec] >= '5') { /* round up, carrying */
                int i = prec - 1;
                while (i >= 0 && d[i] == '9')
                    d[i--] = '0';
                if (i >= 0) {
                    d[i]++;
                } else { /* 99..9 became 100..0 */
                    d[0] = '1';
                    xr++;
                }
            }
            len = as_g(buf, n, neg, d, prec, xr);
        }
        if (len > 0 && (size_t)len < n && strtod(buf, NULL) == v)
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
