/* fuzz_history.c - a history, raw CSV as cm-predict --horizon and
 * --backtest read it, through the model's recipe into recursive
 * forecasts: the forecast module's reading of series, gaps and origins.
 * The first byte picks the run: a forecast or a backtest, how gaps are
 * filled, where future covariates come from. */

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
    if (!n)
        return 0;
    uint8_t how = data[0];
    cm_forecast_opts o = {0};
    o.horizon = 1 + (how & 3);
    o.backtest = (how >> 2) & 1;
    o.gaps = (cm_gapfill)(((how >> 3) & 3) % 3);
    o.future = (how >> 5) & 1 ? CM_FUTURE_LAST : CM_FUTURE_ROWS;
    /* a backtest of every origin is bounded (2^20), yet a long one is
     * seconds of work under the sanitizers, not a finding: 64 at most */
    o.windows = (how >> 6) & 1 ? 2 : 64;
    /* a gap of 650,000 hours is filled in a tenth of a second, but in
     * more than 10 under the sanitizers: gaps of 4096 steps at most here */
    o.max_fill = 4096;
    cm_error err;
    cm_forecaster *fc = cm_forecaster_new(pred, &o, &err);
    if (!fc)
        return 0;
    FILE *in = fuzz_file(data + 1, n - 1);
    if (o.backtest) {
        cm_fc_score *s = cm_fc_score_new(o.horizon);
        if (s && !cm_forecast_run(fc, in, "fuzz.csv", cm_fc_score_add, s, &err)) {
            FILE *out = fuzz_sink();
            cm_fc_score_write(s, out, CM_TEXT_CSV, "rows");
            fclose(out);
        }
        cm_fc_score_free(s);
    } else {
        FILE *out = fuzz_sink();
        cm_fc_writer *w = cm_fc_writer_new(out, model, NULL, CM_TEXT_CSV, NULL, 0, &err);
        if (w && !cm_forecast_run(fc, in, "fuzz.csv", cm_fc_write, w, &err))
            cm_fc_writer_finish(w);
        cm_fc_writer_free(w);
        fclose(out);
    }
    fclose(in);
    cm_forecaster_free(fc);
    return 0;
}
