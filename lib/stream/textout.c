/* textout.c - rows of a batch as CSV, TSV or JSON lines. */
#include <math.h>
#include <string.h>

#include "stream/stream.h"

int cm_text_format_parse(const char *s, cm_text_format *f)
{
    static const char *const names[] = {"csv", "tsv", "json"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *f = (cm_text_format)i;
            return 0;
        }
    return -1;
}

static void put_csv(FILE *out, const char *s, size_t n)
{
    if (n > 0 && strcspn(s, ",\"\r\n") == n && s[0] != ' ' && s[n - 1] != ' ') {
        fwrite(s, 1, n, out);
        return;
    }
    /* Quote anything a CSV reader could split, trim or misread; an empty
     * string is quoted too, so it stays apart from a missing value. */
    putc('"', out);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            putc('"', out);
        putc(s[i], out);
    }
    putc('"', out);
}

static void put_tsv(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '\t': fputs("\\t", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\\': fputs("\\\\", out); break;
        default: putc(s[i], out);
        }
    }
}

void cm_text_string(FILE *out, const char *s, size_t n, cm_text_format f)
{
    if (f == CM_TEXT_CSV)
        put_csv(out, s, n);
    else if (f == CM_TEXT_TSV)
        put_tsv(out, s, n);
    else
        cm_json_string(out, s, n);
}

void cm_text_name(FILE *out, cm_text_format f, const char *name, int first)
{
    if (!first)
        putc(f == CM_TEXT_TSV ? '\t' : ',', out);
    cm_text_string(out, name, strlen(name), f);
    if (f == CM_TEXT_JSON)
        putc(':', out);
}

void cm_text_cell(FILE *out, cm_text_format f, const char *name, int first)
{
    if (f == CM_TEXT_JSON)
        cm_text_name(out, f, name, first);
    else if (!first)
        putc(f == CM_TEXT_TSV ? '\t' : ',', out);
}

void cm_text_number(FILE *out, cm_text_format f, double v, int present)
{
    char buf[40];
    if (present)
        fwrite(buf, 1, cm_fmt_f64(buf, sizeof buf, v), out);
    else if (f == CM_TEXT_JSON)
        fputs("null", out);
}

void cm_text_header(FILE *out, const cm_schema *s, cm_text_format f)
{
    if (f == CM_TEXT_JSON)
        return;
    for (size_t c = 0; c < cm_schema_ncols(s); c++) {
        const char *name = cm_schema_name(s, c);
        if (c)
            putc(f == CM_TEXT_CSV ? ',' : '\t', out);
        cm_text_string(out, name, strlen(name), f);
    }
    putc('\n', out);
}

/* One present value; numbers that JSON cannot carry become strings. */
void cm_text_value(FILE *out, const cm_schema *s, const cm_batch *b, size_t c,
                   size_t row, cm_text_format f, const cm_tz *tz)
{
    char buf[64];
    size_t n = 0;
    int quote = 0; /* JSON has no nan, inf or time literals */
    const void *v = cm_batch_values_c(b, c);
    switch (cm_schema_dtype(s, c)) {
    case CM_F32: {
        float x = ((const float *)v)[row];
        n = cm_fmt_f32(buf, sizeof buf, x);
        quote = !isfinite(x);
        break;
    }
    case CM_F64: {
        double x = ((const double *)v)[row];
        n = cm_fmt_f64(buf, sizeof buf, x);
        quote = !isfinite(x);
        break;
    }
    case CM_I64:
        n = (size_t)snprintf(buf, sizeof buf, "%lld",
                             (long long)((const int64_t *)v)[row]);
        break;
    case CM_TIME:
        n = cm_fmt_time_tz(buf, sizeof buf, ((const int64_t *)v)[row], tz);
        quote = 1;
        break;
    case CM_CAT: {
        size_t len;
        const char *str = cm_dict_string(cm_schema_dict_c(s, c),
                                         ((const uint32_t *)v)[row], &len);
        cm_text_string(out, str, len, f);
        return;
    }
    }
    if (f == CM_TEXT_JSON && quote)
        cm_json_string(out, buf, n);
    else
        fwrite(buf, 1, n, out);
}

void cm_text_rows(FILE *out, const cm_schema *s, const cm_batch *b,
                  size_t first, size_t count, cm_text_format f)
{
    size_t ncols = cm_schema_ncols(s);
    char sep = f == CM_TEXT_TSV ? '\t' : ',';
    for (size_t row = first; row < first + count; row++) {
        if (f == CM_TEXT_JSON)
            putc('{', out);
        for (size_t c = 0; c < ncols; c++) {
            if (c)
                putc(sep, out);
            if (f == CM_TEXT_JSON) {
                const char *name = cm_schema_name(s, c);
                cm_json_string(out, name, strlen(name));
                putc(':', out);
            }
            if (cm_batch_valid_c(b, c)[row])
                cm_text_value(out, s, b, c, row, f, NULL);
            else if (f == CM_TEXT_JSON)
                fputs("null", out);
        }
        fputs(f == CM_TEXT_JSON ? "}\n" : "\n", out);
    }
}
