/* featset.c - cm-features' settings, declared once, and compiled into a
 * plan before any schema is known: calendar parts, holidays, and every
 * lag, difference and window with its spans and statistics. */
#include <stdlib.h>
#include <string.h>

#include "features/featcore.h"

const char *const cm_feature_parts[P_NPARTS] = {
    "hour", "minute", "dow", "dom", "month", "doy", "week", "year", "weekend"};
const char *const cm_feature_stats[] = {"mean", "std", "min", "max", "sum", "count"};

#define AT(f, U) CM_SET_AT(feat_raw, f, U)
#define REC CM_SET_RECORD
static const cm_setting decls[] = {
    {.name = "target", .short_opt = 'y', .type = CM_SET_TEXT, .flags = REC, .arg = "COL",
     .help = "the column to forecast (put last, role target)", .offset = AT(target, const char *)},
    {.name = "time-features", .type = CM_SET_TEXT, .flags = REC, .arg = "LIST",
     .help = "hour,minute,dow,dom,month,doy,week,year,weekend\nor none",
     .dflt = DEFAULT_PARTS, .offset = AT(time_features, const char *)},
    {.name = "cyclic", .type = CM_SET_FLAG, .flags = REC,
     .help = "add sin/cos pairs of the periodic parts", .offset = AT(cyclic, int)},
    /* a setting of dates, YYYY-MM-DD,...; cm-features reads them from a file */
    {.name = "holidays", .type = CM_SET_TEXT, .flags = REC, .arg = "FILE",
     .help = "dates (YYYY-MM-DD, one a line, # comments) that\nare holidays: adds is_holiday",
     .offset = AT(holidays, const char *)},
    {.name = "holiday-col", .type = CM_SET_TEXT, .flags = REC, .arg = "COL",
     .help = "a category naming holidays (spread to the day)",
     .offset = AT(holiday_col, const char *)},
    {.name = "holiday-none", .type = CM_SET_TEXT, .flags = REC, .arg = "VAL", .dflt = "None",
     .help = "its value on ordinary days", .offset = AT(holiday_none, const char *)},
    {.name = "lag", .short_opt = 'L', .type = CM_SET_TEXT, .flags = REC | CM_SET_REPEAT,
     .arg = "COL:SPAN,...",
     .help = "value at exactly SPAN earlier (1h, 7d), or SPAN\nrows earlier for a plain "
             "number (repeatable)", .offset = CM_SET_NOWHERE},
    {.name = "rolling", .short_opt = 'R', .type = CM_SET_TEXT, .flags = REC | CM_SET_REPEAT,
     .arg = "COL:STAT,...:SPAN",
     .help = "mean, std, min, max, sum, count over\nthe SPAN before each row, the row "
             "itself left out", .offset = CM_SET_NOWHERE},
    {.name = "diff", .type = CM_SET_TEXT, .flags = REC | CM_SET_REPEAT, .arg = "COL:SPAN,...",
     .help = "value minus the value SPAN earlier", .offset = CM_SET_NOWHERE},
    {.name = "sequence", .type = CM_SET_TEXT, .flags = REC, .arg = "COLS:W:SPAN",
     .help = "the W values of each of COLS before the row,\nSPAN apart, as seq_COL_W..seq_COL_1 "
             "(the\nwindow of a sequence model, cm-train -m gru)",
     .offset = AT(sequence, const char *)},
    {.name = "by", .short_opt = 'b', .type = CM_SET_TEXT, .flags = REC, .arg = "COL",
     .help = "series (sensor, station): look back within each", .offset = AT(by, const char *)},
    {.name = "min-count", .type = CM_SET_COUNT, .flags = REC, .arg = "N", .lo = 1, .dflt = "1",
     .help = "fewest values a window needs", .offset = AT(min_count, int64_t)},
    {.name = "keep-incomplete", .type = CM_SET_FLAG, .flags = REC,
     .help = "keep rows whose derived values are missing",
     .offset = AT(keep_incomplete, int)},
    {.name = "drop", .type = CM_SET_TEXT, .flags = REC, .arg = "LIST",
     .help = "leave out these input columns", .offset = AT(drop, const char *)},
    {.name = "keep", .type = CM_SET_TEXT, .flags = REC, .arg = "LIST",
     .help = "keep only these input columns (and the time)", .offset = AT(keep, const char *)},
    {.name = "max-history", .type = CM_SET_COUNT, .flags = REC, .arg = "N", .lo = 1,
     .dflt = "1048576", .help = "rows of one series a look-back may hold",
     .offset = AT(max_history, int64_t)},
};
#undef AT
#undef REC

const cm_settings cm_features_settings = {decls, sizeof decls / sizeof *decls};

/* ---- parts of the plan ------------------------------------------------------- */

static const char *spec_what(int kind)
{
    return kind == D_ROLL ? "rolling" : kind == D_LAG ? "lag" : kind == D_SEQ ? "sequence"
         : "diff";
}

/* "24" is rows, "24h" a duration, "1y" or "3mo" months of the calendar
 * (a yearly or monthly series, whose steps no duration matches). */
static int parse_span(const char *s, feat_span *sp)
{
    size_t n = strlen(s);
    sp->by_rows = sp->months = 0;
    if (n && strspn(s, "0123456789") == n) {
        sp->by_rows = 1;
        sp->span = strtoll(s, NULL, 10);
        return sp->span > 0 && sp->span <= 1 << 30 ? 0 : -1;
    }
    cm_step cal;
    if (!cm_step_parse(s, &cal) && cal.unit == CM_STEP_MONTH) {
        sp->months = 1;
        sp->span = cal.n;
        return sp->span <= CM_MAX_TIME / feat_span_seconds(1, 1) ? 0 : -1;
    }
    return cm_parse_duration(s, &sp->span) || sp->span <= 0 || sp->span > CM_MAX_TIME ? -1 : 0;
}


static cm_status add_span(feat_spec *sp, const char *text, cm_error *err)
{
    feat_span *s = realloc(sp->spans, (sp->nspans + 1) * sizeof *s);
    if (!s)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    sp->spans = s;
    s += sp->nspans;
    if (parse_span(text, s))
        return cm_fail(err, CM_ERR_ARG, "%s '%s': '%s' is not a duration (90s 15m 1h 7d "
                       "1w), months (1mo 1y) or a number of rows", spec_what(sp->kind),
                       sp->text, text);
    if (!(s->text = cm_strndup(text, strlen(text))))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    sp->nspans++;
    return CM_OK;
}

/* lag.N and diff.N: COL:SPAN,...; rolling.N: COL:STAT,...:SPAN */
static cm_status parse_spec(feat_spec *sp, const char *v, cm_error *err)
{
    const char *what = spec_what(sp->kind);
    const char *c1 = strchr(v, ':'), *c2 = strrchr(v, ':');
    if (!(sp->text = cm_strndup(v, strlen(v))))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (sp->kind == D_ROLL ? !c1 || c1 == c2 || c1 == v || !c2[1] : !c2 || c2 == v || !c2[1])
        return cm_fail(err, CM_ERR_ARG, sp->kind == D_ROLL
                       ? "%s '%s': expected COL:STAT[,STAT...]:SPAN"
                       : "%s '%s': expected COL:SPAN[,SPAN...]", what, v);
    const char *colend = sp->kind == D_ROLL ? c1 : c2;
    if (!(sp->col = cm_strndup(v, (size_t)(colend - v))))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    cm_list items = {0};
    cm_status st;
    if (sp->kind == D_ROLL) {
        char *stats = cm_strndup(c1 + 1, (size_t)(c2 - c1 - 1));
        st = stats ? add_span(sp, c2 + 1, err) : cm_fail(err, CM_ERR_NOMEM, "out of memory");
        if (!st)
            st = cm_list_split(&items, stats, err);
        free(stats);
        for (size_t i = 0; !st && i < items.n; i++) {
            int k = 0;
            while (k < 6 && strcmp(items.item[i], cm_feature_stats[k]))
                k++;
            if (k == 6)
                st = cm_fail(err, CM_ERR_ARG, "rolling '%s': '%s' is not one of mean, "
                             "std, min, max, sum, count", v, items.item[i]);
            else if (sp->nstats < sizeof sp->stats / sizeof *sp->stats)
                sp->stats[sp->nstats++] = k;
        }
    } else {
        st = cm_list_split(&items, colend + 1, err);
        for (size_t i = 0; !st && i < items.n; i++)
            st = add_span(sp, items.item[i], err);
    }
    cm_list_free(&items);
    return st;
}

/* sequence: COL,COL,...:W:SPAN, a duration (a window by time alone: a
 * step missing is a gap, never the row before it). */
static cm_status parse_sequence(feat_spec *sp, const char *v, cm_error *err)
{
    const char *c2 = strrchr(v, ':'), *c1 = NULL;
    for (size_t i = c2 ? (size_t)(c2 - v) : 0; !c1 && i-- > 0;)
        if (v[i] == ':')
            c1 = v + i; /* the colon before W */
    if (!(sp->text = cm_strndup(v, strlen(v))))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!c1 || c1 == v || c2 - c1 < 2 || !c2[1])
        return cm_fail(err, CM_ERR_ARG, "sequence '%s': expected COL[,COL...]:W:SPAN", v);
    char num[24];
    size_t nlen = (size_t)(c2 - c1 - 1);
    snprintf(num, sizeof num, "%.*s", (int)(nlen < sizeof num ? nlen : sizeof num - 1), c1 + 1);
    if (nlen >= sizeof num || strspn(num, "0123456789") != nlen ||
        (sp->steps = strtoll(num, NULL, 10)) < 1 || sp->steps > CM_SEQ_MAX)
        return cm_fail(err, CM_ERR_ARG, "sequence '%s': the length must be 1 to %d steps",
                       v, CM_SEQ_MAX);
    if (!(sp->col = cm_strndup(v, (size_t)(c1 - v))))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    cm_status st = cm_list_split(&sp->cols, sp->col, err);
    if (!st && sp->cols.n == 0)
        st = cm_fail(err, CM_ERR_ARG, "sequence '%s': no column", v);
    for (size_t i = 0; !st && i < sp->cols.n; i++)
        for (size_t j = 0; !st && j < i; j++)
            if (!strcmp(sp->cols.item[i], sp->cols.item[j]))
                st = cm_fail(err, CM_ERR_ARG, "sequence '%s': '%s' twice", v,
                             sp->cols.item[i]);
    if (!st)
        st = add_span(sp, c2 + 1, err);
    if (!st && sp->spans[0].by_rows)
        st = cm_fail(err, CM_ERR_ARG, "sequence '%s': the span must be a duration (1h, 1d) "
                     "or months (1mo, 1y)", v);
    if (!st && feat_span_seconds(sp->spans[0].span, sp->spans[0].months) > CM_MAX_TIME / sp->steps)
        st = cm_fail(err, CM_ERR_ARG, "sequence '%s': reaches too far back", v);
    return st;
}

static cm_status parts(cm_features_plan *p, cm_error *err)
{
    cm_list items = {0};
    cm_status st = strcmp(p->r.time_features, "none")
                 ? cm_list_split(&items, p->r.time_features, err) : CM_OK;
    for (size_t i = 0; !st && i < items.n; i++) {
        int part = 0;
        while (part < P_NPARTS && strcmp(items.item[i], cm_feature_parts[part]))
            part++;
        if (part == P_NPARTS)
            st = cm_fail(err, CM_ERR_ARG, "time-features: '%s' is not one of hour, "
                         "minute, dow, dom, month, doy, week, year, weekend", items.item[i]);
        else if (p->nparts < P_NPARTS)
            p->parts[p->nparts++] = part;
    }
    cm_list_free(&items);
    return st;
}

static int by_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static cm_status holidays(cm_features_plan *p, cm_error *err)
{
    cm_list items = {0};
    cm_status st = cm_list_split(&items, p->r.holidays, err);
    if (!st && !(p->holidays = calloc(items.n + 1, sizeof *p->holidays)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < items.n; i++) {
        const char *item = items.item[i];
        cm_walltime w;
        if (!*item)
            continue;
        if (strlen(item) != 10 || item[4] != '-' || item[7] != '-' ||
            cm_parse_time(item, strlen(item), &w) != CM_TIME_ISO)
            st = cm_fail(err, CM_ERR_ARG, "holidays: '%s' is not a date (YYYY-MM-DD)", item);
        else
            p->holidays[p->nholidays++] = w.wall / 86400;
    }
    cm_list_free(&items);
    qsort(p->holidays, p->nholidays, sizeof *p->holidays, by_day);
    return st;
}

/* ---- the plan ------------------------------------------------------------------ */

int cm_features_plan_derives(const cm_features_plan *p, const char *name)
{
    char buf[CM_MAX_NAME + 160];
    for (size_t i = 0; i < p->nparts; i++) {
        const char *part = cm_feature_parts[p->parts[i]];
        size_t n = strlen(part);
        if (!strcmp(name, part) || (!strncmp(name, part, n) &&
                                    (!strcmp(name + n, "_sin") || !strcmp(name + n, "_cos"))))
            return 1;
    }
    if (!strcmp(name, "is_holiday"))
        return p->r.holidays || p->r.holiday_col;
    for (size_t i = 0; i < p->nspecs; i++) {
        const feat_spec *sp = &p->specs[i];
        for (size_t k = 0; k < (sp->kind == D_ROLL ? sp->nstats : sp->nspans); k++) {
            if (sp->kind == D_SEQ) {
                for (size_t c = 0; c < sp->cols.n; c++)
                    for (int64_t j = 1; j <= sp->steps; j++) {
                        snprintf(buf, sizeof buf, CM_SEQ_NAME, sp->cols.item[c], (long long)j);
                        if (!strcmp(buf, name))
                            return 1;
                    }
                break;
            }
            if (sp->kind == D_ROLL)
                snprintf(buf, sizeof buf, "%s_%s%s", sp->col, cm_feature_stats[sp->stats[k]],
                         sp->spans[0].text);
            else
                snprintf(buf, sizeof buf, "%s_%s%s", sp->col, sp->kind == D_LAG ? "lag" : "diff",
                         sp->spans[k].text);
            if (!strcmp(buf, name))
                return 1;
        }
    }
    return 0;
}

const char *cm_features_plan_by(const cm_features_plan *p)
{
    return p->r.by;
}

int cm_features_plan_reads(const cm_features_plan *p, const char *col)
{
    for (size_t i = 0; i < p->nspecs; i++)
        if (p->specs[i].kind == D_SEQ ? cm_list_find(&p->specs[i].cols, col) >= 0
                                      : !strcmp(p->specs[i].col, col))
            return 1;
    return (p->r.by && !strcmp(p->r.by, col)) ||
           (p->r.holiday_col && !strcmp(p->r.holiday_col, col));
}

void cm_features_plan_free(cm_features_plan *p)
{
    if (!p)
        return;
    cm_kv_free(p->settings);
    free(p->holidays);
    cm_list_free(&p->drop);
    cm_list_free(&p->keep);
    for (size_t i = 0; i < p->nspecs; i++) {
        for (size_t k = 0; k < p->specs[i].nspans; k++)
            free(p->specs[i].spans[k].text);
        free(p->specs[i].spans);
        free(p->specs[i].col);
        free(p->specs[i].text);
        cm_list_free(&p->specs[i].cols);
    }
    free(p->specs);
    free(p);
}

cm_features_plan *cm_features_plan_new(const cm_kv *settings, cm_error *err)
{
    cm_features_plan *p = calloc(1, sizeof *p);
    cm_status st = p && (p->settings = cm_kv_new()) ? CM_OK
                 : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st)
        st = cm_kv_copy(p->settings, settings, err);
    if (!st)
        st = cm_settings_read(&cm_features_settings, p->settings, &p->r, err);
    if (!st) {
        p->parts_given = cm_kv_get(settings, "time-features") != NULL;
        st = parts(p, err);
    }
    if (!st && p->r.holidays)
        st = holidays(p, err);
    if (!st && p->r.drop)
        st = cm_list_split(&p->drop, p->r.drop, err);
    if (!st && p->r.keep)
        st = cm_list_split(&p->keep, p->r.keep, err);
    /* lag.N, diff.N and rolling.N in the order given: the columns' order */
    for (size_t i = 0; !st && i < cm_kv_count(settings); i++) {
        const char *part, *k = cm_kv_key(settings, i);
        const cm_setting *s = cm_settings_find(&cm_features_settings, k, &part);
        if (!part)
            continue;
        feat_spec *sp = realloc(p->specs, (p->nspecs + 1) * sizeof *sp);
        if (!sp) {
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
            break;
        }
        p->specs = sp;
        sp += p->nspecs++;
        *sp = (feat_spec){.kind = s->name[0] == 'l' ? D_LAG : s->name[0] == 'd' ? D_DIFF : D_ROLL};
        st = parse_spec(sp, cm_kv_value(settings, i), err);
    }
    /* the sequence last: its columns after every other derived one */
    feat_spec *sp = !st && p->r.sequence ? realloc(p->specs, (p->nspecs + 1) * sizeof *sp)
                                         : NULL;
    if (!st && p->r.sequence && !sp)
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (sp) {
        p->specs = sp;
        sp += p->nspecs++;
        *sp = (feat_spec){.kind = D_SEQ};
        st = parse_sequence(sp, p->r.sequence, err);
    }
    if (st) {
        cm_features_plan_free(p);
        return NULL;
    }
    return p;
}
