/* fuzz_zone.c - a TZif zone file, read as cm_tz_load reads one (from
 * TZDIR), then asked for offsets and wall times around the year. */
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"

static char dir[64], path[96];

static void gone(void)
{
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(dir, sizeof dir, "/tmp/cm-fuzz-zone.XXXXXX");
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/Fuzz", dir);
    setenv("TZDIR", dir, 1);
    atexit(gone);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, n, f);
    fclose(f);
    cm_error err;
    cm_tz *tz = cm_tz_load("Fuzz", &err);
    for (int64_t t = -2000000000; tz && t < 4000000000; t += 86400 * 37 + 3607) {
        int64_t utc;
        cm_tz_offset(tz, t);
        cm_tz_to_utc(tz, t, &utc);
    }
    cm_tz_free(tz);
    unlink(path);
    return 0;
}
