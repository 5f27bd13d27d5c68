/* cleanreport.c - what a cleaning run did, as text or JSON. */
#include <stdlib.h>
#include <string.h>

#include "clean/clean.h"

static void text(const cm_clean *c, FILE *out, const char *t0, const char *t1)
{
    const cm_clean_stats *st = &c->st;
    fprintf(out, "rows read: %llu\nrows written: %llu\n",
            (unsigned long long)st->rows_read, (unsigned long long)st->rows_written);
    fprintf(out, "rows dropped: %llu bad, %llu missing time, %llu duplicate, "
            "%llu missing values", (unsigned long long)st->bad_rows,
            (unsigned long long)st->missing_time, (unsigned long long)st->duplicates,
            (unsigned long long)st->rows_dropped_missing);
    if (c->p->have_from || c->p->have_until)
        fprintf(out, ", %llu outside --from/--until", (unsigned long long)st->outside);
    fputc('\n', out);
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
        if (col->unnamed && col->kind == K_SKIP && !col->explicit_kind)
            fputs(" (no name, empty in the sample)", out);
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
}

/* What left the most rows out. */
void cm_clean_reason(const cm_clean *c, char *buf, size_t n)
{
    const cm_clean_stats *st = &c->st;
    uint64_t dropped = st->rows_read - st->rows_written;
    int all = st->rows_read && !st->rows_written;
    size_t len = (size_t)snprintf(buf, n, all ? "every row was dropped: "
                                              : "%llu of %llu rows dropped: ",
                                  (unsigned long long)dropped,
                                  (unsigned long long)st->rows_read);
    if (!st->rows_read) {
        snprintf(buf, n, "no data rows%s", c->p->r.header ? " after the header" : "");
        return;
    }
    buf += len < n ? len : n, n -= len < n ? len : n;
    if (all && st->outside && st->outside >= st->rows_read - st->bad_rows - st->missing_time) {
        snprintf(buf, n, "%llu outside --from/--until", (unsigned long long)st->outside);
        return;
    }
    uint64_t most = st->rows_dropped_missing;
    if (st->bad_rows >= most && st->bad_rows >= st->missing_time &&
        st->bad_rows >= st->duplicates) {
        snprintf(buf, n, "%llu unreadable (bad-rows skip)%s%s", (unsigned long long)st->bad_rows,
                 c->nnotes ? ", the first at " : "", c->nnotes ? c->notes[0] : "");
        return;
    }
    if (st->missing_time >= most && st->missing_time >= st->duplicates) {
        snprintf(buf, n, "%llu without a time (column '%s' empty)",
                 (unsigned long long)st->missing_time, c->time.n ? c->time.item[0] : "?");
        return;
    }
    if (all && st->duplicates >= most) {
        snprintf(buf, n, "%llu repeating a time (dedupe)", (unsigned long long)st->duplicates);
        return;
    }
    /* missing values: the columns empty in every row that reached the
     * policies, or the one most often missing */
    uint64_t reached = st->rows_read - st->bad_rows - st->missing_time - st->duplicates -
                       st->outside;
    size_t nout = cm_schema_ncols(c->schema), nempty = 0, top = 0;
    char names[200] = "", list[200] = "";
    for (size_t o = 0; o < nout; o++) {
        if (st->dropped_missing[o] > st->dropped_missing[top])
            top = o;
        if (st->dropped_missing[o] != reached)
            continue;
        size_t a = strlen(names), l = strlen(list);
        if (a + strlen(cm_schema_name(c->schema, o)) + 8 < sizeof names)
            snprintf(names + a, sizeof names - a, "%s'%s'", nempty ? ", " : "",
                     cm_schema_name(c->schema, o));
        if (l + strlen(cm_schema_name(c->schema, o)) + 2 < sizeof list)
            snprintf(list + l, sizeof list - l, "%s%s", nempty ? "," : "",
                     cm_schema_name(c->schema, o));
        nempty++;
    }
    if (nempty == 1)
        snprintf(buf, n, "column %s is empty in all %llu rows (use --drop %s or "
                 "--missing %s=zero)", names, (unsigned long long)most, list, list);
    else if (nempty)
        snprintf(buf, n, "columns %s are empty in all %llu rows (use --drop %s, or "
                 "--missing COL=zero for each)", names, (unsigned long long)most, list);
    else
        snprintf(buf, n, "%llu missing a value, most often '%s' (%llu rows; -v says more)",
                 (unsigned long long)most, nout ? cm_schema_name(c->schema, top) : "?",
                 (unsigned long long)(nout ? st->dropped_missing[top] : 0));
}

int cm_clean_warning(const cm_clean *c, size_t i, char *buf, size_t n)
{
    const cm_clean_stats *st = &c->st;
    /* repeated times merged, rows outside the window asked for: chosen,
     * not lost */
    int most = st->rows_written * 2 < st->rows_read - st->duplicates - st->outside;
    if (i == 0 && most) {
        cm_clean_reason(c, buf, n);
        return 1;
    }
    if (i == (size_t)most && st->repeats) {
        char t[40];
        cm_fmt_time(t, sizeof t, st->repeat_t);
        snprintf(buf, n, "%llu rows repeat the time of the row before them (the first: %s): "
                 "lags and windows over them are rarely what is meant (--dedupe first|last, "
                 "or --key COL for series)", (unsigned long long)st->repeats, t);
        return 1;
    }
    return 0;
}

static void json(const cm_clean *c, FILE *out, const char *t0, const char *t1)
{
    const cm_clean_stats *st = &c->st;
    cm_json j = {.out = out};
    cm_json_begin(&j, '{');
    const struct { const char *key; uint64_t v; } counts[] = {
        {"rows_read", st->rows_read}, {"rows_written", st->rows_written},
        {"bad_rows", st->bad_rows}, {"missing_time", st->missing_time},
        {"duplicates", st->duplicates}, {"dropped_missing", st->rows_dropped_missing},
        {"outside", st->outside}, {"repeated_times", st->repeats}};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
        cm_json_key(&j, counts[i].key);
        cm_json_u64(&j, counts[i].v);
    }
    cm_json_key(&j, "bad_row_notes");
    cm_json_begin(&j, '[');
    for (size_t i = 0; i < c->nnotes; i++)
        cm_json_str(&j, c->notes[i]);
    cm_json_end(&j, ']');
    cm_json_key(&j, "time_min");
    cm_json_str(&j, st->have_time ? t0 : NULL);
    cm_json_key(&j, "time_max");
    cm_json_str(&j, st->have_time ? t1 : NULL);
    cm_json_key(&j, "tz");
    cm_json_str(&j, cm_tz_name(c->p->tz));
    cm_json_key(&j, "tz_ambiguous");
    cm_json_u64(&j, st->tz_ambiguous);
    cm_json_key(&j, "tz_gap");
    cm_json_u64(&j, st->tz_gap);
    cm_json_key(&j, "columns");
    cm_json_begin(&j, '[');
    for (size_t i = 0; i < c->ncols; i++) {
        const incol *col = &c->cols[i];
        cm_json_begin(&j, '{');
        cm_json_key(&j, "name");
        cm_json_str(&j, col->name);
        cm_json_key(&j, "type");
        cm_json_str(&j, cm_clean_kinds[col->time_part >= 0 ? K_TIME : col->kind]);
        if (col->out >= 0) {
            size_t o = (size_t)col->out;
            cm_json_key(&j, "dropped_missing");
            cm_json_u64(&j, st->dropped_missing[o]);
            cm_json_key(&j, "out_of_range");
            cm_json_u64(&j, st->out_of_range[o]);
            cm_json_key(&j, "filled");
            cm_json_u64(&j, st->filled[o]);
            if (cm_schema_dtype(c->schema, o) == CM_CAT) {
                cm_json_key(&j, "categories");
                cm_json_u64(&j, cm_dict_size(cm_schema_dict_c(c->schema, o)));
            }
        }
        cm_json_end(&j, '}');
    }
    cm_json_end(&j, ']');
    cm_json_end(&j, '}');
    fputc('\n', out);
}

void cm_clean_report(const cm_clean *c, FILE *out, int as_json)
{
    char t0[40] = "", t1[40] = "";
    if (c->st.have_time) {
        cm_fmt_time(t0, sizeof t0, c->st.tmin);
        cm_fmt_time(t1, sizeof t1, c->st.tmax);
    }
    (as_json ? json : text)(c, out, t0, t1);
}
