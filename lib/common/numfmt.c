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
