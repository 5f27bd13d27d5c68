/*
 * featcore.h - inside cm-features' engine: the plan (featset.c), the
 * output schema and recipe (features.c), the rows (featrows.c) and each
 * series' history (history.c).
 */
#ifndef CM_FEATCORE_H
#define CM_FEATCORE_H

#include "features/history.h"

enum { P_HOUR, P_MINUTE, P_DOW, P_DOM, P_MONTH, P_DOY, P_WEEK, P_YEAR,
       P_WEEKEND, P_NPARTS };
enum { D_PART, D_SIN, D_COS, D_HOLIDAY, D_LAG, D_ROLL, D_DIFF, D_SEQ };
enum { S_MEAN, S_STD, S_MIN, S_MAX, S_SUM, S_COUNT };

extern const char *const cm_feature_parts[P_NPARTS];

/* The history column of a source the rows lack (cm_features_opts.may_lack). */
#define ABSENT ((size_t)-1)

/* One derived column. */
typedef struct derived {
    int kind;
    int part;       /* calendar part, or rolling statistic */
    size_t src;     /* for lags, windows, differences: slot in the history */
    int64_t span;   /* seconds, or rows when by_rows, or months */
    int by_rows;
    int months;     /* span is months of the calendar (a yearly series) */
    size_t out;     /* column in the output schema */
} derived;

/* A series: its history and, for the row order check, its last time. */
typedef struct series {
    cm_history h;
    int64_t last_t;
    int seen;
} series;

/* One span of a lag, difference or window: "1h", "24" (rows) or "1y"
 * (12 months of the calendar). */
typedef struct feat_span {
    int64_t span;   /* seconds, or rows when by_rows, or months */
    int by_rows, months;
    char *text;     /* as given: it names the derived column */
} feat_span;

/* One lag.N, diff.N or rolling.N setting, parsed; or the sequence: the
 * window of a sequence model, lags of several columns at every step. */
typedef struct feat_spec {
    int kind;       /* D_LAG, D_DIFF, D_ROLL or D_SEQ */
    char *col;      /* the column it looks back on */
    cm_list cols;   /* the sequence's columns (col is the first) */
    int64_t steps;  /* the sequence's length, in spans */
    char *text;     /* the setting, for messages */
    feat_span *spans;    /* a lag's or difference's spans; a window's one */
    size_t nspans;
    int stats[8];   /* a window's statistics, in the order given */
    size_t nstats;
} feat_spec;

/* The settings as declared (cm_settings_read fills these). */
typedef struct feat_raw {
    const char *target, *time_features, *holidays, *holiday_col, *holiday_none, *by,
        *drop, *keep, *sequence;
    int cyclic, keep_incomplete;
    int64_t min_count, max_history;
} feat_raw;

struct cm_features_plan {
    cm_kv *settings;     /* as given: the recipe records them */
    feat_raw r;
    int parts_given;     /* time-features was given, not defaulted */
    int parts[P_NPARTS]; /* calendar parts, in the order given */
    size_t nparts;
    int64_t *holidays;   /* local days, sorted */
    size_t nholidays;
    cm_list drop, keep;
    feat_spec *specs;         /* in the order given */
    size_t nspecs;
};

/* A column passed through: where from, where to, its values' width, and
 * whether it is a category (whose dictionary follows the input's). */
typedef struct feat_pass {
    size_t in, out, width;
    int cat;
} feat_pass;

struct cm_features {
    const cm_features_plan *p;
    cm_features_plan *owned; /* p, when the builder compiled it */
    cm_features_opts o;
    const cm_schema *in;
    cm_schema *out;
    long time_col, by_col, holiday_col, target_col;
    const cm_tz *tz;      /* of the time column; NULL is UTC */
    cm_tz *tz_owned;
    feat_pass *pass;      /* the passed-through columns */
    size_t npass;
    derived *d;
    size_t nd;
    size_t *hist_col;     /* input column of each history slot */
    size_t nhist;
    int64_t max_span;     /* seconds any feature looks back, months at their
                           * longest; -1: none does */
    uint64_t max_rows;    /* rows any feature looks back */
    size_t reach_span, reach_rows; /* the output columns that look back most */
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
    cm_daycache days;     /* the date's parts of the last row's day */
    double *vals;         /* scratch: history values of one row */
    uint8_t *oks;
    uint64_t rows_in, rows_out, dropped, no_time;
    uint64_t *dropped_by; /* per output column */
};

extern const char *const cm_feature_stats[];

/* featrows.c, for lookback.c: the history values of row i of b (into
 * f->vals and f->oks), and with them the row at time t into h; row i made
 * into row o of ob (its holiday by its own name unless spread, which a
 * builder's own rows do over their day), h then holding it; the input's
 * new categories copied to the output schema. */
void cm_features_history_values(cm_features *f, const cm_ccols *b, size_t i);
cm_status cm_features_remember(cm_features *f, cm_history *h, int64_t t, cm_error *err);
cm_status cm_features_make_row(cm_features *f, cm_history *h, const cm_ccols *b, size_t i,
                               int64_t t, const cm_cols *ob, size_t o, int spread,
                               int *complete, cm_error *err);
cm_status cm_features_sync_dicts(cm_features *f, cm_error *err);
/* The time a derived column looks back to from t: d->span earlier, in
 * seconds or months of the calendar (not by_rows). */
int64_t cm_features_back_time(const cm_features *f, const derived *d, int64_t t);
/* A span's reach in seconds, months at their longest (cm_step_longest):
 * the history kept for a span of months is never short. */
static inline int64_t feat_span_seconds(int64_t span, int months)
{
    return months ? cm_step_longest((cm_step){CM_STEP_MONTH, span}) : span;
}
/* seq_COL_K, the sequence's column of COL K spans back. */
#define CM_SEQ_NAME "seq_%s_%lld"
/* The longest sequence, in steps. */
#define CM_SEQ_MAX 10000
#define DEFAULT_PARTS "hour,dow,month,doy,weekend"

#endif
