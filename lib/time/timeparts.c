/* timeparts.c - the calendar of an instant as a zone's wall clock shows
 * it: what cm-features' calendar parts are made of. */
#include "time/cm_time.h"

/* ISO weeks start on Monday; week 1 holds the year's first Thursday. */
static int iso_weeks(int64_t y)
{
    int64_t jan1 = cm_days_from_civil(y, 1, 1);
    int dow = (int)(((jan1 % 7) + 7 + 3) % 7);
    return dow == 3 || (dow == 2 && cm_is_leap(y)) ? 53 : 52;
}

/* Local days and seconds into the day. */
static int64_t local_day(const cm_tz *tz, int64_t t, int64_t *secs)
{
    int64_t local = tz ? t + cm_tz_offset(tz, t) : t;
    int64_t days = local / 86400;
    *secs = local % 86400;
    if (*secs < 0) { /* floor division: times before 1970 */
        *secs += 86400;
        days--;
    }
    return days;
}

static void clock_parts(int64_t secs, cm_timeparts *p)
{
    p->hour = (int)(secs / 3600);
    p->minute = (int)(secs / 60 % 60);
    p->second = (int)(secs % 60);
}

void cm_time_parts_cached(const cm_tz *tz, int64_t t, cm_daycache *c, cm_timeparts *p)
{
    int64_t secs, days = local_day(tz, t, &secs);
    if (!c->full || c->p.day != days) {
        cm_time_parts(tz, t, &c->p);
        c->full = 1;
    }
    *p = c->p;
    clock_parts(secs, p);
}

void cm_time_parts(const cm_tz *tz, int64_t t, cm_timeparts *p)
{
    int64_t secs, days = local_day(tz, t, &secs);
    unsigned m, d;
    cm_civil_from_days(days, &p->year, &m, &d);
    p->month = (int)m;
    p->dom = (int)d;
    clock_parts(secs, p);
    p->day = days;
    p->dow = (int)(((days % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
    p->doy = (int)(days - cm_days_from_civil(p->year, 1, 1)) + 1;
    p->month_days = cm_month_days(p->year, m);
    p->year_days = 365 + cm_is_leap(p->year);
    int64_t thursday = days - p->dow + 3, iy;
    unsigned im, id;
    cm_civil_from_days(thursday, &iy, &im, &id);
    p->week = (int)((thursday - cm_days_from_civil(iy, 1, 1)) / 7) + 1;
    p->year_weeks = iso_weeks(iy);
}
