/* fuzz_tables.c - cm's own outputs read back: the tables cm-plot draws
 * (forecasts, backtest scores and forecasts, a training history, a
 * search, predictions), and cm-tune's results file as --resume and
 * --merge read it.  Files a user keeps, edits and copies between
 * machines.  The first byte picks the picture's kind. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (!n)
        return 0;
    static const cm_plot_kind kinds[] = {CM_PLOT_FORECAST, CM_PLOT_BACKTEST, CM_PLOT_HISTORY,
                                         CM_PLOT_TUNE, CM_PLOT_PREDICT};
    cm_plot_opts o = {kinds[data[0] % 5], "dumb size 80,24", NULL, NULL, NULL, 1};
    cm_error err;
    cm_plot *p = cm_plot_new(&o, &err);
    FILE *in = fuzz_file(data + 1, n - 1);
    if (p && in && !cm_plot_add(p, in, "fuzz.csv", NULL, &err)) {
        FILE *out = fuzz_sink();
        cm_plot_script(p, out, &err);
        fclose(out);
    }
    cm_plot_free(p);
    if (in)
        fclose(in);
    in = fuzz_file(data + 1, n - 1);
    const char *name = "fuzz.tsv";
    cm_results *r = in ? cm_results_read(&in, &name, 1, &err) : NULL;
    for (size_t i = 0; r && i < cm_results_count(r); i++)
        (void)cm_results_mean(r, i), (void)cm_results_fixed(r, i);
    if (r)
        cm_results_best(r, data[0] & 1);
    cm_results_free(r);
    if (in)
        fclose(in);
    return 0;
}
