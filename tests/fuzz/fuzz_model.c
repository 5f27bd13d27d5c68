/* fuzz_model.c - a model file read and checked (cm_model_load), then
 * described, readied for predictions, run on an input vector of zeros,
 * and exported when it holds trees. */
#include <stdlib.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    FILE *in = fuzz_file(data, n), *out = fuzz_sink();
    cm_error err;
    cm_model *m = in ? cm_model_load(in, &err) : NULL;
    if (m && out) {
        cm_model_describe(m, out);
        cm_predictor *p = cm_predictor_new(m, &err);
        if (p)
            cm_predictor_describe(p, out);
        cm_predictor_free(p);
        size_t w = cm_model_encoder(m)->width, k = cm_model_horizon(m);
        float *x = calloc(w + 1, sizeof *x), *scratch = calloc(cm_model_scratch(m, 1), sizeof *scratch);
        double *y = calloc(k + 1, sizeof *y);
        if (x && scratch && y)
            cm_model_forward(m, 1, x, y, scratch);
        free(x), free(scratch), free(y);
        cm_model_export_xgboost(m, out, &err);
    }
    cm_model_free(m);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    return 0;
}
