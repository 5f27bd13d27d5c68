/*
 * cm_time.h - time as cm reads and writes it: IANA zones from TZif files,
 * the proleptic Gregorian calendar, the calendar parts of an instant, and
 * times read from text (ISO 8601, US forms, strptime-like formats).
 */
#ifndef CM_TIME_H
#define CM_TIME_H

#include "common/cm_common.h"

/* ---- time zones ---------------------------------------------------------- */

/*
 * IANA time zones read from the system's TZif files (TZDIR, else
 * /usr/share/zoneinfo), including the POSIX TZ rule at their end for times
 * after the last listed transition.  No process-wide state (TZ, tzset) is
 * touched, so zones can be used from several threads at once.
 */
typedef struct cm_tz cm_tz;

/* "UTC", "Europe/Berlin", ...; a name with ".." or a leading '/' is refused. */
cm_tz *cm_tz_load(const char *name, cm_error *err);
void cm_tz_free(cm_tz *tz);
const char *cm_tz_name(const cm_tz *tz);
/* Seconds to add to the UTC instant t to get local wall-clock time. */
int32_t cm_tz_offset(const cm_tz *tz, int64_t t);

typedef enum cm_tz_fold {
    CM_TZ_UNIQUE = 0,    /* the local time exists exactly once */
    CM_TZ_AMBIGUOUS = 1, /* twice (clocks set back): the earlier is chosen */
    CM_TZ_GAP = 2        /* never (clocks set forward): shifted forward by
                            the gap, as the clock a person reads would */
} cm_tz_fold;

/* Converts local wall-clock seconds (counted as if the wall clock were UTC)
 * to the UTC instant *utc, saying which case applied. */
cm_tz_fold cm_tz_to_utc(const cm_tz *tz, int64_t local, int64_t *utc);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int cm_is_leap(int64_t year);
int cm_month_days(int64_t year, unsigned month); /* month 1..12 */
int64_t cm_days_from_civil(int64_t y, unsigned m, unsigned d);
void cm_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* The calendar of an instant in a zone (UTC when tz is NULL). */
typedef struct cm_timeparts {
    int64_t year;
    int month, dom, hour, minute, second;
    int dow;          /* Monday 0 .. Sunday 6 */
    int doy;          /* 1 .. 366 */
    int week;         /* ISO 8601 week, 1 .. 53 */
    int month_days;   /* days in this month */
    int year_days;    /* 365 or 366 */
    int year_weeks;   /* ISO weeks in this ISO year, 52 or 53 */
    int64_t day;      /* local days since 1970-01-01 */
} cm_timeparts;

void cm_time_parts(const cm_tz *tz, int64_t t, cm_timeparts *p);
/* The same, the date's parts taken from the cache when t falls on its
 * local day (rows of one day share them: a forecast asks for every hour
 * of every window); a zeroed cache is empty. */
typedef struct cm_daycache {
    int full;
    cm_timeparts p;
} cm_daycache;
void cm_time_parts_cached(const cm_tz *tz, int64_t t, cm_daycache *c, cm_timeparts *p);

/* A time read from text: wall-clock seconds counted as if the wall clock
 * were UTC, and the UTC offset when the text carried one. */
typedef struct cm_walltime {
    int64_t wall;
    int has_offset;
    int32_t offset; /* seconds east of UTC */
} cm_walltime;

typedef enum cm_time_kind {
    CM_TIME_NONE = 0,
    CM_TIME_ISO = 1,   /* 2026-11-28, 2026-11-28T08:00[:00][.5][Z|+01:00], with
                          a space for the T, an hour of one digit, or / */
    CM_TIME_US = 2,    /* 11/28/2026 [8:00[:00] [AM|PM]] */
    CM_TIME_YEAR = 3,  /* 2026: January 1st */
    CM_TIME_EPOCH = 4  /* seconds since 1970: an integer of 9 to 12 digits */
} cm_time_kind;

/* Reads a time in any of the forms above, fractions of a second dropped;
 * returns the form found, CM_TIME_NONE when none fits. */
cm_time_kind cm_parse_time(const char *s, size_t n, cm_walltime *out);

/* A time given as a setting (--from, --until, --valid-from): ISO 8601, a
 * date, or a year alone (January 1st); 0 and its instant, with its own offset or as a wall time of tz
 * (UTC when NULL); -1 when s is no such time. */
int cm_time_instant(const char *s, const cm_tz *tz, int64_t *t);
/* The same check alone, for a setting's declaration: 0 ok, -1 not. */
int cm_time_instant_bad(const char *s);

/* ---- steps: the regular interval of a series ------------------------------ */

/* A step of seconds, or of days or months of the local calendar (a year
 * is 12 months, a week 7 days). */
enum { CM_STEP_SECOND = 1, CM_STEP_DAY = 2, CM_STEP_MONTH = 3 };
typedef struct cm_step {
    int unit;
    int64_t n;
} cm_step;

/* The differences between consecutive times of a series, counted by the
 * step each is: a tally for telling the step of a whole stream. */
#define CM_STEPS_KEPT 16
typedef struct cm_steps {
    cm_step seen[CM_STEPS_KEPT];
    uint64_t count[CM_STEPS_KEPT], pairs, other;
    size_t n;
} cm_steps;
/* One pair of consecutive times t0 <= t1 of a series (in tz, or UTC). */
void cm_steps_observe(cm_steps *c, const cm_tz *tz, int64_t t0, int64_t t1);
/* The step: the one more than half of the differences are; 0, or -1 and
 * what was found, in words, into why. */
int cm_steps_decide(const cm_steps *c, cm_step *out, char *why, size_t n);
/* "15m", "1h", "1d", "1w", "1mo", "1y"; and back (0, or -1 for text that
 * is no step). */
size_t cm_step_format(char *buf, size_t n, cm_step s);
int cm_step_parse(const char *text, cm_step *out);
/* How many steps text is: a whole number of them, or a span such as
 * "24h", "2d" or "5y" that is a whole number of them; 0, or -1. */
int cm_step_count(const char *text, cm_step step, int64_t *n);
/* Whether text can be such a count before the step is known, as a
 * setting's check: 1 to CM_STEPS_MAX steps, or a span; 0 ok, -1 not. */
#define CM_STEPS_MAX 100000
int cm_step_count_bad(const char *text);
/* cm_step_count of 1 to max steps, or CM_ERR_ARG saying so of the
 * setting what ("horizon: '90m' is not a whole number of steps of 1h (1
 * to 100000)"). */
cm_status cm_steps_of(const char *what, const char *text, cm_step step, int64_t max,
                      int64_t *n, cm_error *err);
/* The time k steps after t (k may be negative), in tz (or UTC); a day of
 * the month past the end of the month is its last day. */
int64_t cm_step_add(const cm_tz *tz, int64_t t, cm_step s, int64_t k);
/* A step's seconds at its longest (a day of summer time's end, a month
 * of 31 days with that day in it): so many steps of history never span
 * too little. */
int64_t cm_step_longest(cm_step s);
/* Whole steps from a to b: days and months told by their mean length, to
 * the nearest (summer time's days, months' days). */
int64_t cm_step_between(cm_step s, int64_t a, int64_t b);

/* strptime-like formats, read the same under every locale:
 * %Y %m %d %e %H %I %M %S %p %y %b %j %z %F %T %s %% and literal text;
 * a space matches any run of spaces. */
typedef struct cm_timefmt cm_timefmt;
cm_timefmt *cm_timefmt_new(const char *fmt, cm_error *err);
void cm_timefmt_free(cm_timefmt *f);
/* 0 ok, -1 when s does not match. */
int cm_timefmt_parse(const cm_timefmt *f, const char *s, size_t n,
                     cm_walltime *out);

/* ISO 8601 UTC, "2026-11-28T08:00:00Z". */
size_t cm_fmt_time(char *buf, size_t n, int64_t t);
/* ISO 8601 local time in tz with its offset, "2026-11-28T09:00:00+01:00"
 * ("Z" where the offset is 0; tz NULL is UTC). */
size_t cm_fmt_time_tz(char *buf, size_t n, int64_t t, const cm_tz *tz);

#endif
