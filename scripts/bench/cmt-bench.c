/*
 * cmt-bench - write and read throughput of the cm stream on sensor-like
 * f32 columns, in one process so that only the stream code is timed.
 *   cmt-bench FILE ROWS COLS LEVEL [LAYOUT]
 * Prints: level, encoding, MB/s written, MB/s read, ratio (raw/stored).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cm.h"

#define POOL 8 /* distinct batches cycled through, so data are not one block */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: cmt-bench FILE ROWS COLS LEVEL [LAYOUT]\n");
        return 2;
    }
    const char *path = argv[1];
    unsigned long long rows = strtoull(argv[2], NULL, 10);
    size_t cols = strtoul(argv[3], NULL, 10);
    cm_writer_opts o = {atoi(argv[4]), argc > 5 ? (cm_layout)atoi(argv[5]) : CM_LAYOUT_AUTO, 0};
    cm_schema *s = cm_schema_new();
    for (size_t c = 0; c < cols; c++) {
        char name[32];
        snprintf(name, sizeof name, "sensor%zu", c);
        cm_schema_add(s, name, CM_F32, CM_ROLE_FEATURE, NULL, NULL);
    }
    /* Readings with two decimals around a daily cycle plus noise, like a
     * temperature or flow sensor. */
    size_t bsize = CM_DEFAULT_BATCH_ROWS;
    cm_batch *pool[POOL];
    uint64_t rng = 1;
    for (int p = 0; p < POOL; p++) {
        pool[p] = cm_batch_new(s, bsize);
        for (size_t c = 0; c < cols; c++) {
            float *v = cm_batch_values(pool[p], c);
            memset(cm_batch_valid(pool[p], c), 1, bsize);
            for (size_t i = 0; i < bsize; i++) {
                rng = rng * 6364136223846793005u + 1442695040888963407u;
                double noise = (double)(rng >> 40) / (double)(1u << 24) - 0.5;
                double hour = (double)((p * bsize + i) % 24);
                v[i] = (float)(round((10 + 3 * (double)c +
                                      8 * sin(hour * 0.2618) + noise) * 100) / 100);
            }
        }
        cm_batch_set_nrows(pool[p], bsize);
    }
    double raw = (double)rows * (double)cols * 4;

    FILE *f = fopen(path, "wb");
    cm_error err;
    double t0 = now();
    cm_writer *w = cm_writer_new(f, s, &o, &err);
    for (unsigned long long done = 0, k = 0; w && done < rows; k++) {
        cm_batch *b = pool[k % POOL];
        size_t n = rows - done < bsize ? (size_t)(rows - done) : bsize;
        cm_batch_set_nrows(b, n);
        if (cm_writer_write(w, b, &err))
            break;
        cm_batch_set_nrows(b, bsize);
        done += n;
    }
    if (!w || cm_writer_finish(w, &err) || fclose(f)) {
        fprintf(stderr, "cmt-bench: %s\n", err.msg);
        return 1;
    }
    double t_write = now() - t0;
    cm_writer_free(w);

    f = fopen(path, "rb");
    t0 = now();
    cm_reader *r = cm_reader_new(f, &err);
    cm_batch *b;
    int got = 0;
    double checksum = 0;
    while (r && (got = cm_reader_next(r, &b, &err)) == 1)
        checksum += ((const float *)cm_batch_values_c(b, 0))[0];
    double t_read = now() - t0;
    if (!r || got < 0) {
        fprintf(stderr, "cmt-bench: %s\n", err.msg);
        return 1;
    }
    cm_stream_stats st;
    cm_reader_stats(r, &st);
    cm_reader_free(r);
    fclose(f);
    printf("%d\t%s\t%.0f\t%.0f\t%.2f\t(check %g)\n", o.level,
           o.layout == CM_LAYOUT_AUTO ? "auto" : o.layout == CM_LAYOUT_PLAIN ? "plain" : "shuffle", raw / t_write / 1e6, raw / t_read / 1e6,
           (double)st.raw_bytes / (double)st.stored_bytes, checksum);
    for (int p = 0; p < POOL; p++)
        cm_batch_free(pool[p]);
    cm_schema_free(s);
    return 0;
}
