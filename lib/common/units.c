/* units.c - durations and sizes as people write them on command lines. */
#include <errno.h>
#include <stdlib.h>

#include "common/common.h"

/* A whole number with an optional one-letter unit from units/factors. */
static int scaled(const char *s, const char *units, const int64_t *factor,
                  int64_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    int64_t f = 1;
    if (*end) {
        const char *u = NULL;
        for (const char *p = units; *p; p++)
            if (*p == *end || *p == (*end | 0x20))
                u = p;
        if (!u || end[1])
            return -1;
        f = factor[u - units];
    }
    if (errno || v > (unsigned long long)(INT64_MAX / f))
        return -1;
    *out = (int64_t)v * f;
    return 0;
}

int cm_parse_duration(const char *s, int64_t *seconds)
{
    static const int64_t f[] = {1, 60, 3600, 86400, 604800};
    return scaled(s, "smhdw", f, seconds);
}

int cm_parse_size(const char *s, uint64_t *bytes)
{
    static const int64_t f[] = {1024, 1024 * 1024, 1024 * 1024 * 1024};
    int64_t v;
    if (scaled(s, "kmg", f, &v))
        return -1;
    *bytes = (uint64_t)v;
    return 0;
}
