/* json.c - the little JSON cm writes (reports, rows, scores): values with
 * their commas, strings escaped, numbers as their shortest text. */
#include <math.h>
#include <string.h>

#include "common/common.h"

void cm_json_string(FILE *out, const char *s, size_t n)
{
    putc('"', out);
    for (size_t i = 0, k; i < n; i += k) {
        k = cm_utf8_char(s + i, n - i);
        if (k == 0) { /* JSON text is UTF-8: what is not becomes U+FFFD */
            fputs("\\ufffd", out);
            k = 1;
        } else if (s[i] == '"' || s[i] == '\\') {
            putc('\\', out);
            putc(s[i], out);
        } else if ((unsigned char)s[i] < 0x20) {
            fprintf(out, "\\u%04x", s[i]);
        } else {
            fwrite(s + i, 1, k, out);
        }
    }
    putc('"', out);
}

/* A comma before every value of an object or array but its first. */
static void next(cm_json *j)
{
    if (j->depth && !j->first[j->depth - 1])
        putc(',', j->out);
    if (j->depth)
        j->first[j->depth - 1] = 0;
}

void cm_json_begin(cm_json *j, char open)
{
    if (!j->key)
        next(j);
    j->key = 0;
    putc(open, j->out);
    if (j->depth < (int)(sizeof j->first / sizeof *j->first))
        j->first[j->depth++] = 1;
}

void cm_json_end(cm_json *j, char close)
{
    putc(close, j->out);
    if (j->depth)
        j->depth--;
}

void cm_json_key(cm_json *j, const char *key)
{
    next(j);
    cm_json_string(j->out, key, strlen(key));
    putc(':', j->out);
    j->key = 1;
}

static void value(cm_json *j)
{
    if (!j->key)
        next(j);
    j->key = 0;
}

void cm_json_str(cm_json *j, const char *s)
{
    value(j);
    if (s)
        cm_json_string(j->out, s, strlen(s));
    else
        fputs("null", j->out);
}

void cm_json_u64(cm_json *j, uint64_t v)
{
    value(j);
    fprintf(j->out, "%llu", (unsigned long long)v);
}

void cm_json_f64(cm_json *j, double v)
{
    char buf[40];
    value(j);
    if (isnan(v)) {
        fputs("null", j->out);
        return;
    }
    /* JSON has no infinity: it goes as the string cm prints for it */
    cm_fmt_f64(buf, sizeof buf, v);
    if (isfinite(v))
        fputs(buf, j->out);
    else
        cm_json_string(j->out, buf, strlen(buf));
}
