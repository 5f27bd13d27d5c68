/*
 * featcore.h - cm-features' engine: the settings and output schema
 * (features.c) and the rows (featrows.c).
 */
#ifndef CM_FEATCORE_H
#define CM_FEATCORE_H

#include "features/history.h"

enum { P_HOUR, P_MINUTE, P_DOW, P_DOM, P_MONTH, P_DOY, P_WEEK, P_YEAR,
       P_WEEKEND, P_NPARTS };
enum { D_PART, D_SIN, D_COS, D_HOLIDAY, D_LAG, D_ROLL, D_DIFF };
enum { S_MEAN, S_STD, S_MIN, S_MAX, S_SUM, S_COUNT };

extern const char *const cm_feature_parts[P_NPARTS];

/* One derived column. */
typedef struct derived {
    int kind;
    int part;       /* calendar part, or rolling statistic */
    size_t src;     /* for lags, windows, differences: slot in the history */
    int64_t span;   /* seconds, or rows when by_rows */
    int by_rows;
    size_t out;     /* column in the output schema */
} derived;

/* A series: its history and, for the row order check, its last time. */
typedef struct series {
    cm_history h;
    int64_t last_t;
    int seen;
} series;

struct cm_features {
    const cm_schema *in;
    cm_schema *out;
    long time_col, by_col, holiday_col, target_col;
    const cm_tz *tz;      /* of the time column; NULL is UTC */
    cm_tz *tz_owned;
    size_t *pass, *pass_out; /* input and output column of passed-through ones */
    size_t npass;
    derived *d;
    size_t nd;
    size_t *hist_col;     /* input column of each history slot */
    size_t nhist;
    int64_t *holidays;    /* local days, sorted */
    size_t nholidays;
    char *holiday_none;
    int64_t max_span;     /* seconds any feature looks back; -1: none does */
    uint64_t max_rows;    /* rows any feature looks back */
    size_t max_history, min_count;
    int keep_incomplete;
    series *ser;          /* by series: 0 without --by, else code + 1 */
    size_t nser;
    /* rows on their way out */
    cm_batch *ob;
    size_t on;
    size_t day_start;     /* first held row of the current local day */
    int64_t cur_day;
    int day_holiday, have_day;
    double *vals;         /* scratch: history values of one row */
    uint8_t *oks;
    uint64_t rows_in, rows_out, dropped, no_time;
    uint64_t *dropped_by; /* per output column */
};

/* Back to no rows seen: every series' history and the rows held are
 * forgotten, the settings and the output schema kept. */
void cm_features_reset(cm_features *f);

/* cm_features_new with a zone lent for f's life, used when it is the
 * time column's: a replay per request reads no zone file. */
cm_features *cm_features_new_tz(const cm_schema *in, const cm_kv *s, const cm_tz *lent,
                                cm_error *err);

#endif
