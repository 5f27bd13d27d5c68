/* calendar.c - proleptic Gregorian dates as day counts and back, exact for
 * every int64 second count we handle (H. Hinnant's civil algorithms). */
#include "internal.h"

int64_t cm_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void cm_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ISO weeks start on Monday; week 1 holds the year's first Thursday. */
static int iso_weeks(int64_t y)
{
    int64_t jan1 = cm_days_from_civil(y, 1, 1);
    int dow = (int)(((jan1 % 7) + 7 + 3) % 7);
    return dow == 3 || (dow == 2 && is_leap(y)) ? 53 : 52;
}

void cm_time_parts(const cm_tz *tz, int64_t t, cm_timeparts *p)
{
    int64_t local = tz ? t + cm_tz_offset(tz, t) : t;
    int64_t days = local / 86400, secs = local % 86400;
    if (secs < 0) { /* floor division: times before 1970 */
        secs += 86400;
        days--;
    }
    unsigned m, d;
    cm_civil_from_days(days, &p->year, &m, &d);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    p->month = (int)m;
    p->dom = (int)d;
    p->hour = (int)(secs / 3600);
    p->minute = (int)(secs / 60 % 60);
    p->second = (int)(secs % 60);
    p->day = days;
    p->dow = (int)(((days % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
    p->doy = (int)(days - cm_days_from_civil(p->year, 1, 1)) + 1;
    p->month_days = mdays[m - 1] + (m == 2 && is_leap(p->year));
    p->year_days = 365 + is_leap(p->year);
    int64_t thursday = days - p->dow + 3, iy;
    unsigned im, id;
    cm_civil_from_days(thursday, &iy, &im, &id);
    p->week = (int)((thursday - cm_days_from_civil(iy, 1, 1)) / 7) + 1;
    p->year_weeks = iso_weeks(iy);
}
