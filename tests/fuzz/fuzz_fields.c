/* fuzz_fields.c - NAME=VALUE fields, a line each, through a model's
 * recipe replay (cleaning: numbers, a category, the time from two
 * columns in a zone with summer time; features: calendar parts and lags)
 * into one forecast, as cm-predict NAME=VALUE and cm-serve take them. */
#include <stdlib.h>

#include "fuzz.h"

static cm_model *model;
static cm_predictor *pred;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    pred = fuzz_predictor(&model);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char *text = malloc(n + 1);
    const char *names[64], *values[64];
    size_t k = 0;
    if (!text)
        return 0;
    memcpy(text, data, n);
    text[n] = '\0';
    for (char *line = text, *next; line && k < 64; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        names[k] = line;
        values[k++] = eq + 1;
    }
    cm_pred_one r;
    cm_error err;
    cm_predict_row(pred, names, values, k, &r, &err);
    free(text);
    return 0;
}
