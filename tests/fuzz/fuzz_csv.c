/* fuzz_csv.c - cm-clean's reader, type inference and conversion
 * (cm_clean_each), under settings carved from the first byte: the
 * delimiter, a decimal comma, a time format, missing-value markers. */
#include "fuzz.h"

static cm_status discard(void *ctx, cm_batch *b, cm_error *err)
{
    (void)ctx, (void)b, (void)err;
    return CM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (!n)
        return 0;
    static const char *const delims[] = {NULL, ",", ";", "\\t", "|"};
    static const char *const formats[] = {NULL, "%d.%m.%Y %H:%M", "%m/%d/%Y", "%Y%m%d%H%M%S"};
    uint8_t b = data[0];
    cm_kv *kv = cm_kv_new();
    if (delims[b % 5])
        cm_kv_set(kv, "delimiter", delims[b % 5], NULL);
    if (b & 8)
        cm_kv_set(kv, "decimal", ",", NULL);
    if (formats[(b >> 4) & 3])
        cm_kv_set(kv, "time-format", formats[(b >> 4) & 3], NULL);
    if (b & 64)
        cm_kv_set(kv, "na", "NA,-999,?", NULL);
    if (b & 128)
        cm_kv_set(kv, "missing", "keep", NULL);
    cm_error err;
    cm_clean *c = cm_clean_new(kv, &err);
    FILE *in = fuzz_file(data + 1, n - 1);
    if (c && in)
        cm_clean_each(c, in, "fuzz.csv", discard, NULL, &err);
    if (in)
        fclose(in);
    cm_clean_free(c);
    cm_kv_free(kv);
    return 0;
}
