/* cleanreport.c - what a cleaning run did, as text or JSON. */
#include <stdlib.h>
#include <string.h>

#include "clean/clean.h"

/* ---- the report ----------------------------------------------------------------- */

static void json_str(FILE *out, const char *s)
{
    size_t n = strlen(s);
    putc('"', out);
    for (size_t i = 0, k; i < n; i += k) {
        k = cm_utf8_char(s + i, n - i);
        if (k == 0) { /* not UTF-8: JSON text must be */
            fputs("\\ufffd", out);
            k = 1;
        } else if (s[i] == '"' || s[i] == '\\') {
            fprintf(out, "\\%c", s[i]);
        } else if ((unsigned char)s[i] < 0x20) {
            fprintf(out, "\\u%04x", s[i]);
        } else {
            fwrite(s + i, 1, k, out);
        }
    }
    putc('"', out);
}

void cm_clean_report(const cm_clean *c, FILE *out, int json)
{
    const cm_clean_stats *st = &c->st;
    char t0[40] = "", t1[40] = "";
    if (st->have_time) {
        cm_fmt_time(t0, sizeof t0, st->tmin);
        cm_fmt_time(t1, sizeof t1, st->tmax);
    }
    if (!json) {
        fprintf(out, "rows read: %llu\nrows written: %llu\n",
                (unsigned long long)st->rows_read, (unsigned long long)st->rows_written);
        fprintf(out, "rows dropped: %llu bad, %llu missing time, %llu duplicate, "
                "%llu missing values\n", (unsigned long long)st->bad_rows,
                (unsigned long long)st->missing_time, (unsigned long long)st->duplicates,
                (unsigned long long)st->rows_dropped_missing);
        for (size_t i = 0; i < c->nnotes; i++)
            fprintf(out, "  bad row: %s\n", c->notes[i]);
        if (st->have_time)
            fprintf(out, "time range: %s to %s\n", t0, t1);
        if (st->tz_ambiguous || st->tz_gap)
            fprintf(out, "local times: %llu ambiguous (earlier taken), %llu in a "
                    "gap (moved forward)\n", (unsigned long long)st->tz_ambiguous,
                    (unsigned long long)st->tz_gap);
        if (st->sort_runs)
            fprintf(out, "sort: %llu runs spilled to disk\n",
                    (unsigned long long)st->sort_runs);
        fputs("columns:\n", out);
        for (size_t i = 0; i < c->ncols; i++) {
            const incol *col = &c->cols[i];
            fprintf(out, "  %s: %s", col->name,
                    cm_clean_kinds[col->time_part >= 0 ? K_TIME : col->kind]);
            if (col->out >= 0) {
                size_t o = (size_t)col->out;
                if (st->dropped_missing[o])
                    fprintf(out, ", missing in %llu dropped rows",
                            (unsigned long long)st->dropped_missing[o]);
                if (st->out_of_range[o])
                    fprintf(out, ", %llu out of range", (unsigned long long)st->out_of_range[o]);
                if (st->filled[o])
                    fprintf(out, ", %llu filled", (unsigned long long)st->filled[o]);
                if (cm_schema_dtype(c->schema, o) == CM_CAT)
                    fprintf(out, ", %u categories",
                            cm_dict_size(cm_schema_dict_c(c->schema, o)));
            }
            fputc('\n', out);
        }
        return;
    }
    fprintf(out, "{\"rows_read\":%llu,\"rows_written\":%llu,\"bad_rows\":%llu,"
            "\"missing_time\":%llu,\"duplicates\":%llu,\"dropped_missing\":%llu,",
            (unsigned long long)st->rows_read, (unsigned long long)st->rows_written,
            (unsigned long long)st->bad_rows, (unsigned long long)st->missing_time,
            (unsigned long long)st->duplicates,
            (unsigned long long)st->rows_dropped_missing);
    fputs("\"bad_row_notes\":[", out);
    for (size_t i = 0; i < c->nnotes; i++) {
        if (i)
            putc(',', out);
        json_str(out, c->notes[i]);
    }
    fputs("],\"time_min\":", out);
    if (st->have_time) {
        json_str(out, t0);
        fputs(",\"time_max\":", out);
        json_str(out, t1);
    } else {
        fputs("null,\"time_max\":null", out);
    }
    fprintf(out, ",\"tz\":");
    json_str(out, cm_tz_name(c->p->tz));
    fprintf(out, ",\"tz_ambiguous\":%llu,\"tz_gap\":%llu,\"columns\":[",
            (unsigned long long)st->tz_ambiguous, (unsigned long long)st->tz_gap);
    for (size_t i = 0; i < c->ncols; i++) {
        const incol *col = &c->cols[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", out);
        json_str(out, col->name);
        fprintf(out, ",\"type\":\"%s\"", cm_clean_kinds[col->time_part >= 0 ? K_TIME : col->kind]);
        if (col->out >= 0) {
            size_t o = (size_t)col->out;
            fprintf(out, ",\"dropped_missing\":%llu,\"out_of_range\":%llu,\"filled\":%llu",
                    (unsigned long long)st->dropped_missing[o],
                    (unsigned long long)st->out_of_range[o],
                    (unsigned long long)st->filled[o]);
            if (cm_schema_dtype(c->schema, o) == CM_CAT)
                fprintf(out, ",\"categories\":%u",
                        cm_dict_size(cm_schema_dict_c(c->schema, o)));
        }
        putc('}', out);
    }
    fputs("]}\n", out);
}
