/* tunebt.c - a fold scored by forecasts of several steps: the fold's
 * model backtested from every origin whose whole window lies in the
 * fold's validation block (the first origin the time before the block),
 * each from the history of the stream up to it, and the errors pooled
 * over every step; so that a trial is ranked by what it forecasts H steps
 * ahead, recursively or directly, and not one. */
#include <math.h>
#include <stdio.h>

#include "common/common.h"
#include "forecast/cm_forecast.h"
#include "tune/cm_tune.h"

cm_status cm_tune_backtest(const cm_tune_job *job, const cm_model *m, int64_t first,
                           int64_t last, double v[4], cm_error *err)
{
    cm_step step;
    char why[200];
    if (cm_dataset_step(job->ds, &step, why, sizeof why))
        return cm_fail(err, CM_ERR_DATA, "horizon: the step of the series is not clear: %s",
                       why);
    int64_t h;
    if (cm_steps_of("horizon", job->horizon, step, CM_STEPS_MAX, &h, err))
        return err->status;
    cm_predictor *p = cm_predictor_new(m, err);
    if (!p)
        return err->status;
    cm_forecast_opts o = {.horizon = h, .step = step, .backtest = 1, .every = 1,
                          .has_from = 1, .has_until = 1, .until = last, .no_rows = 1};
    o.from = cm_step_add(cm_predictor_tz(p), first, step, -1);
    cm_forecaster *fc = cm_forecaster_new(p, &o, err);
    cm_fc_score *score = cm_fc_score_new(h);
    FILE *in = fc && score ? fmemopen(job->history, job->nhistory, "r") : NULL;
    cm_status st = !fc ? err->status
                 : !score || !in ? cm_fail(err, CM_ERR_NOMEM, "out of memory")
                 : cm_forecast_run(fc, in, job->history_name, cm_fc_score_add, score, err);
    double e[3];
    if (!st && !cm_fc_score_get(score, 0, e))
        st = cm_fail(err, CM_ERR_DATA, "no forecast of %lld steps in the fold's block to "
                     "score", (long long)h);
    if (!st) {
        v[CM_METRIC_MAE] = e[0];
        v[CM_METRIC_RMSE] = e[1];
        v[CM_METRIC_MAPE] = e[2];
        v[CM_METRIC_R2] = NAN;
    }
    if (in)
        fclose(in);
    cm_fc_score_free(score);
    cm_forecaster_free(fc);
    cm_predictor_free(p);
    return st;
}
