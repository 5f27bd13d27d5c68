/* fuzz_time.c - times as text: every form cm_parse_time knows, settings'
 * instants, and a --time-format (the input's first line) applied to the
 * rest, the wall time then put through a zone with summer time. */
#include <stdlib.h>

#include "fuzz.h"

static cm_tz *berlin;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    berlin = cm_tz_load("Europe/Berlin", NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return 0;
    memcpy(s, data, n);
    s[n] = '\0';
    cm_walltime w;
    int64_t t, utc;
    cm_parse_time(s, n, &w);
    cm_time_instant(s, berlin, &t);
    char *nl = memchr(s, '\n', n);
    if (nl) {
        *nl = '\0';
        cm_timefmt *f = cm_timefmt_new(s, NULL);
        if (f && !cm_timefmt_parse(f, nl + 1, n - (size_t)(nl + 1 - s), &w) && berlin) {
            cm_tz_to_utc(berlin, w.wall, &utc);
            char buf[64];
            cm_fmt_time_tz(buf, sizeof buf, utc, berlin);
        }
        cm_timefmt_free(f);
    }
    free(s);
    return 0;
}
