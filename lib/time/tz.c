/* tz.c - IANA time zones from TZif files (RFC 8536, versions 1 to 4) and
 * the POSIX TZ rule in their footer.  A loaded zone is immutable, so one
 * cm_tz can serve many threads; nothing here reads TZ or calls tzset. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "time/cm_time.h"

/* Real zones are a few KiB; anything near this is not a zone file. */
#define TZ_MAX_FILE (1u << 20)
#define TZ_MAX_NAME 255
#define TZ_MAX_FOOTER 255
#define TZ_HEAD 44
/* RFC 8536 keeps UT offsets within (-25 h, +26 h); one bound both ways
 * lets to_utc search a fixed window of UTC instants around a wall time. */
#define TZ_MAX_OFF (26 * 3600)
/* Rule arithmetic stays far from int64 overflow: about 35 million years. */
#define TZ_CLAMP ((int64_t)1 << 50)

/* One end of daylight time in a POSIX rule. */
typedef struct tz_date {
    char kind;    /* 'J': day 1..365 without Feb 29, 'D': day 0..365, 'M' */
    int day;      /* J or D day; for M the weekday 0..6 (Sunday 0) */
    int week;     /* M: 1..5, 5 meaning the last */
    int month;    /* M: 1..12 */
    int32_t secs; /* local time of day of the change, -167 h .. +167 h */
} tz_date;

typedef struct tz_rule {
    int32_t std_off, dst_off; /* seconds east of UTC */
    int has_dst;
    tz_date start, end;
} tz_rule;

struct cm_tz {
    char name[TZ_MAX_NAME + 1];
    size_t ntrans;
    int64_t *trans;   /* strictly ascending UTC instants */
    uint8_t *type_of; /* the type in force from trans[i] on */
    int32_t off[256]; /* UT offset of each type */
    int has_rule;     /* the footer rule governs from the last transition on */
    tz_rule rule;
};

/* ---- small arithmetic ---------------------------------------------------- */

static int64_t sat_sub(int64_t a, int64_t b)
{
    if (b > 0 && a < INT64_MIN + b)
        return INT64_MIN;
    if (b < 0 && a > INT64_MAX + b)
        return INT64_MAX;
    return a - b;
}

static int64_t clamp(int64_t t)
{
    return t < -TZ_CLAMP ? -TZ_CLAMP : t > TZ_CLAMP ? TZ_CLAMP : t;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return q - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t year_of(int64_t t)
{
    int64_t y;
    unsigned m, d;
    cm_civil_from_days(floor_div(t, 86400), &y, &m, &d);
    return y;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static int64_t be64s(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int32_t be32s(const uint8_t *p)
{
    return (int32_t)be32(p);
}

/* ---- the POSIX TZ rule ----------------------------------------------------
 * Parsed from a NUL-terminated copy of the footer; every helper returns 0
 * and advances *s, or -1 on anything that is not the RFC 8536 grammar. */

static int is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int parse_int(const char **s, int maxdigits, int *v)
{
    const char *p = *s;
    int n = 0;
    *v = 0;
    while (n < maxdigits && is_digit(*p)) {
        *v = *v * 10 + (*p++ - '0');
        n++;
    }
    if (n == 0)
        return -1;
    *s = p;
    return 0;
}

/* "EST" or the quoted "<+0330>" that allows digits and signs. */
static int parse_abbr(const char **s)
{
    const char *p = *s;
    size_t n = 0;
    if (*p == '<') {
        for (p++; is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-'; p++)
            n++;
        if (*p++ != '>')
            return -1;
    } else {
        for (; is_alpha(*p); p++)
            n++;
    }
    if (n < 3)
        return -1;
    *s = p;
    return 0;
}

/* [+-]hh[:mm[:ss]]; offsets allow 24 hours, rule times 167 (RFC 8536 v3). */
static int parse_hms(const char **s, int maxh, int32_t *secs)
{
    const char *p = *s;
    int sign = 1, h, m = 0, sec = 0;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (parse_int(&p, 3, &h) || h > maxh)
        return -1;
    if (*p == ':') {
        p++;
        if (parse_int(&p, 2, &m) || m > 59)
            return -1;
        if (*p == ':') {
            p++;
            if (parse_int(&p, 2, &sec) || sec > 59)
                return -1;
        }
    }
    *secs = sign * (h * 3600 + m * 60 + sec);
    *s = p;
    return 0;
}

static int parse_date(const char **s, tz_date *d)
{
    const char *p = *s;
    memset(d, 0, sizeof *d);
    if (*p == 'J') {
        p++;
        d->kind = 'J';
        if (parse_int(&p, 3, &d->day) || d->day < 1 || d->day > 365)
            return -1;
    } else if (*p == 'M') {
        p++;
        d->kind = 'M';
        if (parse_int(&p, 2, &d->month) || d->month < 1 || d->month > 12 ||
            *p++ != '.' || parse_int(&p, 1, &d->week) || d->week < 1 ||
            d->week > 5 || *p++ != '.' || parse_int(&p, 1, &d->day) ||
            d->day > 6)
            return -1;
    } else {
        d->kind = 'D';
        if (parse_int(&p, 3, &d->day) || d->day > 365)
            return -1;
    }
    d->secs = 2 * 3600;
    if (*p == '/') {
        p++;
        if (parse_hms(&p, 167, &d->secs))
            return -1;
    }
    *s = p;
    return 0;
}

static int parse_rule(const char *s, tz_rule *r)
{
    int32_t off;
    memset(r, 0, sizeof *r);
    /* POSIX counts offsets west of Greenwich; we count them east. */
    if (parse_abbr(&s) || parse_hms(&s, 24, &off))
        return -1;
    r->std_off = -off;
    if (*s == '\0')
        return 0;
    if (parse_abbr(&s))
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*s != '\0' && *s != ',') {
        if (parse_hms(&s, 24, &off))
            return -1;
        r->dst_off = -off;
    }
    if (*s == '\0') {
        /* POSIX leaves the dates to the implementation; zic always writes
         * them, and glibc assumes the US rules, as we do. */
        static const tz_date mar = {'M', 0, 2, 3, 7200};
        static const tz_date nov = {'M', 0, 1, 11, 7200};
        r->start = mar;
        r->end = nov;
        return 0;
    }
    if (*s++ != ',' || parse_date(&s, &r->start) || *s++ != ',' ||
        parse_date(&s, &r->end) || *s != '\0')
        return -1;
    return 0;
}

/* Days since 1970 of the day a rule date falls on in year y. */
static int64_t rule_day(const tz_date *d, int64_t y)
{
    int64_t jan1 = cm_days_from_civil(y, 1, 1);
    if (d->kind == 'J')
        return jan1 + d->day - 1 + (cm_is_leap(y) && d->day >= 60);
    if (d->kind == 'D')
        return jan1 + d->day;
    int64_t first = cm_days_from_civil(y, (unsigned)d->month, 1);
    int dow = (int)((first % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
    int64_t day = first + (d->day - dow + 7) % 7 + (int64_t)(d->week - 1) * 7;
    while (day >= first + cm_month_days(y, d->month))
        day -= 7;
    return day;
}

/* The UTC instants at which daylight time starts ([0], read on the
 * standard clock) and ends ([1], read on the daylight clock) in year y. */
static void rule_events(const tz_rule *r, int64_t y, int64_t ev[2])
{
    ev[0] = rule_day(&r->start, y) * 86400 + r->start.secs - r->std_off;
    ev[1] = rule_day(&r->end, y) * 86400 + r->end.secs - r->dst_off;
}

/*
 * The offset set by the latest change at or before t.  Each kind of
 * change moves forward about a year per year, so for t in year y the
 * latest one is from y-2 .. y+1 even with +-167 h times.  Changes at the
 * same instant are ordered by year, then start before end: all-year
 * daylight time ("EST5EDT,0/0,J365/25") ends one year exactly when it
 * starts the next, and must stay on.
 */
static int32_t rule_offset(const tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    t = clamp(t);
    int64_t y = year_of(t), best = INT64_MIN;
    int32_t off = r->std_off;
    for (int64_t yy = y - 2; yy <= y + 1; yy++) {
        int64_t ev[2];
        rule_events(r, yy, ev);
        for (int k = 0; k < 2; k++)
            if (ev[k] <= t && ev[k] >= best) {
                best = ev[k];
                off = k == 0 ? r->dst_off : r->std_off;
            }
    }
    return off;
}

/* The first change after t; INT64_MAX when there is none to find. */
static int64_t rule_next(const tz_rule *r, int64_t t)
{
    if (!r->has_dst || t >= TZ_CLAMP)
        return INT64_MAX;
    int64_t y = year_of(clamp(t)), best = INT64_MAX;
    for (int64_t yy = y - 1; yy <= y + 2; yy++) {
        int64_t ev[2];
        rule_events(r, yy, ev);
        for (int k = 0; k < 2; k++)
            if (ev[k] > t && ev[k] < best)
                best = ev[k];
    }
    return best;
}

/* ---- reading TZif -------------------------------------------------------- */

typedef struct tz_head {
    uint32_t isut, isstd, leap, time, type, chars;
} tz_head;

/* Reads the header at p[at] and checks that the data block of time
 * values tsize bytes wide fits in n; its length goes to *len. */
static cm_status read_head(const uint8_t *p, size_t n, size_t at, size_t tsize,
                           tz_head *h, size_t *len, cm_error *err)
{
    if (n - at < TZ_HEAD)
        return cm_fail(err, CM_ERR_CORRUPT, "truncated TZif header");
    if (memcmp(p + at, "TZif", 4) != 0)
        return cm_fail(err, CM_ERR_CORRUPT, "not a TZif file");
    const uint8_t *c = p + at + 20;
    h->isut = be32(c);
    h->isstd = be32(c + 4);
    h->leap = be32(c + 8);
    h->time = be32(c + 12);
    h->type = be32(c + 16);
    h->chars = be32(c + 20);
    /* Counts are below 2^32, so this cannot overflow 64 bits. */
    uint64_t need = (uint64_t)h->time * (tsize + 1) + (uint64_t)h->type * 6 +
                    h->chars + (uint64_t)h->leap * (tsize + 4) + h->isstd +
                    h->isut;
    if (need > n - at - TZ_HEAD)
        return cm_fail(err, CM_ERR_CORRUPT,
                       "TZif counts exceed the file (truncated or damaged)");
    *len = (size_t)need;
    return CM_OK;
}

static cm_status check_head(const tz_head *h, cm_error *err)
{
    if (h->type == 0 || h->type > 256 || h->chars == 0)
        return cm_fail(err, CM_ERR_CORRUPT,
                       "TZif file with %u types and %u abbreviation bytes",
                       (unsigned)h->type, (unsigned)h->chars);
    if ((h->isut && h->isut != h->type) || (h->isstd && h->isstd != h->type))
        return cm_fail(err, CM_ERR_CORRUPT,
                       "TZif indicator counts do not match the type count");
    /* Our instants are POSIX seconds; a "right/" zone counts leap seconds
     * and would be off by half a minute without a word. */
    if (h->leap)
        return cm_fail(err, CM_ERR_DATA,
                       "TZif file with leap seconds (a right/ zone) is not "
                       "supported");
    return CM_OK;
}

/* Fills tz from the data block at p, time values tsize bytes wide. */
static cm_status read_block(cm_tz *tz, const tz_head *h, const uint8_t *p,
                            size_t tsize, cm_error *err)
{
    cm_status st = check_head(h, err);
    if (st)
        return st;
    tz->ntrans = h->time;
    if (h->time) {
        tz->trans = malloc(h->time * sizeof *tz->trans);
        tz->type_of = malloc(h->time);
        if (!tz->trans || !tz->type_of)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    const uint8_t *idx = p + (size_t)h->time * tsize;
    const uint8_t *types = idx + h->time;
    for (size_t i = 0; i < h->time; i++) {
        tz->trans[i] = tsize == 8 ? be64s(p + i * 8) : be32s(p + i * 4);
        if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
            return cm_fail(err, CM_ERR_CORRUPT,
                           "TZif transitions out of order");
        if (idx[i] >= h->type)
            return cm_fail(err, CM_ERR_CORRUPT,
                           "TZif transition to type %u of %u", idx[i],
                           (unsigned)h->type);
        tz->type_of[i] = idx[i];
    }
    for (size_t i = 0; i < h->type; i++) {
        const uint8_t *ty = types + i * 6;
        int32_t off = be32s(ty);
        if (off <= -TZ_MAX_OFF || off >= TZ_MAX_OFF || ty[4] > 1 ||
            ty[5] >= h->chars)
            return cm_fail(err, CM_ERR_CORRUPT, "TZif type %zu is invalid",
                           i);
        tz->off[i] = off;
    }
    return CM_OK;
}

/* The v2+ footer: "\n" TZ-string "\n" right after the 64-bit block. */
static cm_status read_footer(cm_tz *tz, const uint8_t *p, size_t n,
                             cm_error *err)
{
    const uint8_t *nl = n > 0 ? memchr(p + 1, '\n', n - 1) : NULL;
    if (n < 2 || p[0] != '\n' || !nl)
        return cm_fail(err, CM_ERR_CORRUPT, "TZif footer is missing");
    size_t len = (size_t)(nl - p - 1);
    if (len > TZ_MAX_FOOTER || memchr(p + 1, '\0', len))
        return cm_fail(err, CM_ERR_CORRUPT, "TZif footer is invalid");
    if (len == 0)
        return CM_OK; /* no rule: the last type stays */
    char s[TZ_MAX_FOOTER + 1];
    memcpy(s, p + 1, len);
    s[len] = '\0';
    if (parse_rule(s, &tz->rule))
        return cm_fail(err, CM_ERR_CORRUPT, "TZif footer '%s' is not a "
                       "valid TZ rule", s);
    int32_t lo = -TZ_MAX_OFF, hi = TZ_MAX_OFF;
    if (tz->rule.std_off <= lo || tz->rule.std_off >= hi ||
        tz->rule.dst_off <= lo || tz->rule.dst_off >= hi)
        return cm_fail(err, CM_ERR_CORRUPT, "TZif footer '%s' has an offset "
                       "out of range", s);
    tz->has_rule = 1;
    return CM_OK;
}

static cm_status parse_tzif(cm_tz *tz, const uint8_t *p, size_t n,
                            cm_error *err)
{
    tz_head h;
    size_t len;
    cm_status st = read_head(p, n, 0, 4, &h, &len, err);
    if (st)
        return st;
    uint8_t v = p[4];
    if (v == 0)
        return read_block(tz, &h, p + TZ_HEAD, 4, err);
    if (v < '2' || v > '4')
        return cm_fail(err, v > '4' && v <= '9' ? CM_ERR_VERSION
                                                 : CM_ERR_CORRUPT,
                       "TZif version byte 0x%02x is not supported", v);
    /* Version 2 and later repeat everything with 64-bit times; the first
     * block is only for old readers. */
    size_t at = TZ_HEAD + len;
    st = read_head(p, n, at, 8, &h, &len, err);
    if (st)
        return st;
    if (p[at + 4] != v)
        return cm_fail(err, CM_ERR_CORRUPT, "TZif headers disagree on the "
                       "version");
    st = read_block(tz, &h, p + at + TZ_HEAD, 8, err);
    if (st)
        return st;
    at += TZ_HEAD + len;
    return read_footer(tz, p + at, n - at, err);
}

/* ---- loading ------------------------------------------------------------- */

static cm_status check_name(const char *name, cm_error *err)
{
    if (!name || !*name)
        return cm_fail(err, CM_ERR_ARG, "empty time zone name");
    size_t n = strlen(name);
    if (n > TZ_MAX_NAME)
        return cm_fail(err, CM_ERR_ARG, "time zone name longer than %d bytes",
                       TZ_MAX_NAME);
    /* Names are paths under the zone directory and must stay inside it. */
    if (name[0] == '/' || strstr(name, ".."))
        return cm_fail(err, CM_ERR_ARG, "time zone name '%s' is not a "
                       "relative name like Europe/Berlin", name);
    return CM_OK;
}

/* Reads the whole file into *data (malloc'd).  A missing file, or one that
 * is a directory like "Europe", sets *missing: it is an unknown name, not
 * an I/O failure.  O_NONBLOCK: a FIFO in the zone directory must not hang
 * us before fstat shows it is no regular file. */
static cm_status read_zone_file(const char *path, const char *name,
                                uint8_t **data, size_t *n, int *missing,
                                cm_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat sb;
    *missing = 0;
    if (fd < 0) {
        *missing = errno == ENOENT || errno == ENOTDIR;
        return *missing ? CM_OK : cm_fail_sys(err, errno, "%s", path);
    }
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return cm_fail_sys(err, e, "%s", path);
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        *missing = 1;
        return CM_OK;
    }
    /* One byte over the cap tells an oversized file from a full one. */
    uint8_t *buf = malloc(TZ_MAX_FILE + 1);
    if (!buf) {
        close(fd);
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    }
    size_t len = 0;
    while (len <= TZ_MAX_FILE) {
        ssize_t r = read(fd, buf + len, TZ_MAX_FILE + 1 - len);
        if (r == 0)
            break;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return cm_fail_sys(err, e, "%s", path);
        }
        len += (size_t)r;
    }
    close(fd);
    if (len > TZ_MAX_FILE) {
        free(buf);
        return cm_fail(err, CM_ERR_CORRUPT, "time zone '%s': file over %u "
                       "bytes is not a TZif file", name, TZ_MAX_FILE);
    }
    *data = buf;
    *n = len;
    return CM_OK;
}

static int builtin_utc(const char *name)
{
    return !strcmp(name, "UTC") || !strcmp(name, "Etc/UTC") ||
           !strcmp(name, "GMT");
}

static cm_status load_into(cm_tz *tz, const char *name, cm_error *err)
{
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    size_t dn = strlen(dir), nn = strlen(name);
    char *path = malloc(dn + nn + 2);
    if (!path)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    memcpy(path, dir, dn);
    path[dn] = '/';
    memcpy(path + dn + 1, name, nn + 1);
    uint8_t *data = NULL;
    size_t n = 0;
    int missing;
    cm_status st = read_zone_file(path, name, &data, &n, &missing, err);
    free(path);
    if (st)
        return st;
    if (missing) {
        /* Minimal containers ship no tzdata, but UTC needs none. */
        if (builtin_utc(name))
            return CM_OK;
        return cm_fail(err, CM_ERR_ARG, "unknown time zone '%s'", name);
    }
    st = parse_tzif(tz, data, n, err);
    free(data);
    if (st && st != CM_ERR_NOMEM && err) {
        /* Say which zone the damage is in. */
        char msg[sizeof err->msg];
        memcpy(msg, err->msg, sizeof msg);
        cm_fail(err, st, "time zone '%s': %s", name, msg);
    }
    return st;
}

void cm_tz_free(cm_tz *tz)
{
    if (!tz)
        return;
    free(tz->trans);
    free(tz->type_of);
    free(tz);
}

cm_tz *cm_tz_load(const char *name, cm_error *err)
{
    if (check_name(name, err))
        return NULL;
    cm_tz *tz = calloc(1, sizeof *tz);
    if (!tz) {
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(tz->name, name, strlen(name) + 1);
    if (load_into(tz, name, err)) {
        cm_tz_free(tz);
        return NULL;
    }
    return tz;
}

const char *cm_tz_name(const cm_tz *tz)
{
    return tz->name;
}

/* ---- lookups ------------------------------------------------------------- */

int32_t cm_tz_offset(const cm_tz *tz, int64_t t)
{
    size_t n = tz->ntrans;
    if (n == 0 || t >= tz->trans[n - 1]) {
        if (tz->has_rule)
            return rule_offset(&tz->rule, t);
        return tz->off[n ? tz->type_of[n - 1] : 0];
    }
    /* Before the first transition: type 0, as RFC 8536 says (zic makes it
     * the zone's local mean time). */
    if (t < tz->trans[0])
        return tz->off[0];
    size_t lo = 0, hi = n - 1; /* trans[lo] <= t < trans[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->off[tz->type_of[lo]];
}

/* The first instant after t at which the offset may change. */
static int64_t next_change(const cm_tz *tz, int64_t t)
{
    size_t n = tz->ntrans;
    if (n > 0 && t < tz->trans[n - 1]) {
        size_t lo = 0, hi = n - 1; /* the first trans[i] > t is in lo..hi */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (tz->trans[mid] > t)
                hi = mid;
            else
                lo = mid + 1;
        }
        return tz->trans[lo];
    }
    return tz->has_rule ? rule_next(&tz->rule, t) : INT64_MAX;
}

/*
 * Every UTC instant u that shows `local` satisfies u + offset(u) = local
 * with |offset| < TZ_MAX_OFF, so it lies within TZ_MAX_OFF of local.  We
 * walk that window piece by piece (the offset is constant between
 * changes) and test, for each piece, whether local - its offset falls
 * inside it.  Pieces come in time order, so the first hit is the earliest.
 */
cm_tz_fold cm_tz_to_utc(const cm_tz *tz, int64_t local, int64_t *utc)
{
    int64_t s = sat_sub(local, TZ_MAX_OFF), hi = sat_sub(local, -TZ_MAX_OFF);
    int64_t prev_u = 0, gap_u = 0;
    int hits = 0, prev_after = 0, gap = 0;
    for (;;) {
        int64_t u = sat_sub(local, cm_tz_offset(tz, s));
        int64_t e = next_change(tz, s);
        if (e <= s) /* only past the clamp of the rule arithmetic */
            e = INT64_MAX;
        if (u >= s && u < e) {
            if (hits++ == 0)
                *utc = u;
        } else if (u < s && prev_after && !gap) {
            /* The old offset puts local after the change, the new one
             * before it: local was skipped.  Reading it on the old clock
             * lands it just as far past the change as it is past the
             * old clock's last reading. */
            gap = 1;
            gap_u = prev_u;
        }
        prev_after = u >= e;
        prev_u = u;
        if (e > hi || e == INT64_MAX)
            break;
        s = e;
    }
    if (hits)
        return hits == 1 ? CM_TZ_UNIQUE : CM_TZ_AMBIGUOUS;
    /* With offsets bounded as checked on load a gap is always found; the
     * fallback only keeps *utc defined. */
    *utc = gap ? gap_u : sat_sub(local, cm_tz_offset(tz, local));
    return CM_TZ_GAP;
}
