/* fuzz_stream.c - a cm stream read through every message type (header,
 * schema, recipe, dictionaries, batches, end), its rows printed as CSV
 * and JSON: what cm-cat does with a file it did not write. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    FILE *in = fuzz_file(data, n), *out = fuzz_sink();
    cm_error err;
    cm_reader *r = in ? cm_reader_new(in, &err) : NULL;
    cm_batch *b;
    while (r && out && cm_reader_next(r, &b, &err) == 1) {
        const cm_schema *s = cm_reader_schema(r);
        cm_text_rows(out, s, b, 0, cm_batch_nrows(b), CM_TEXT_CSV);
        cm_text_rows(out, s, b, 0, cm_batch_nrows(b), CM_TEXT_JSON);
    }
    cm_reader_free(r);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    return 0;
}
