/* error.c - status texts and filling a caller's cm_error. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"

const char *cm_version_string(void)
{
    return CM_VERSION_STRING;
}

const char *cm_strerror(cm_status status)
{
    switch (status) {
    case CM_OK: return "success";
    case CM_ERR_NOMEM: return "out of memory";
    case CM_ERR_IO: return "input/output error";
    case CM_ERR_CORRUPT: return "corrupt stream";
    case CM_ERR_TRUNCATED: return "truncated stream";
    case CM_ERR_VERSION: return "unsupported format version";
    case CM_ERR_LIMIT: return "size limit exceeded";
    case CM_ERR_ARG: return "invalid argument";
    case CM_ERR_DATA: return "bad data";
    case CM_ERR_NOTCMT: return "not a cm stream";
    }
    return "unknown error";
}

void cm_error_clear(cm_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 0)))
#endif
static cm_status vfail(cm_error *err, cm_status status, int errnum,
                       const char *fmt, va_list ap)
{
    if (!err)
        return status;
    err->status = status;
    err->detail = CM_DETAIL_NONE;
    err->sys = errnum;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (errnum) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(errnum));
    }
    return status;
}

cm_status cm_fail(cm_error *err, cm_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, status, 0, fmt, ap);
    va_end(ap);
    return status;
}

cm_status cm_fail_as(cm_error *err, cm_status status, cm_detail detail, const char *fmt,
                     ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, status, 0, fmt, ap);
    va_end(ap);
    if (err)
        err->detail = detail;
    return status;
}

cm_status cm_fail_sys(cm_error *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, CM_ERR_IO, errnum ? errnum : EIO, fmt, ap);
    va_end(ap);
    return CM_ERR_IO;
}

cm_status cm_fail_no_column(cm_error *err, const char *what, const char *name,
                            const char *(*name_at)(const void *ctx, size_t i),
                            const void *ctx, size_t n)
{
    char have[200] = "";
    size_t len = 0, i = 0;
    for (; i < n && len < sizeof have - 40; i++) {
        const char *s = name_at(ctx, i);
        if ((unsigned char)s[0] < 0x20) /* a stage's own column, not the user's */
            continue;
        len += (size_t)snprintf(have + len, sizeof have - len, "%s'%s'", len ? ", " : "", s);
    }
    if (i < n)
        snprintf(have + len, sizeof have - len, ", ...");
    return cm_fail(err, CM_ERR_ARG, "%s: no column '%.64s' (the columns are %s)", what,
                   name, have);
}
