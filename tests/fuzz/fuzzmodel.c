/* fuzzmodel.c - the model the fields and request targets predict with:
 * a linear model of 48 hours of a made-up sensor, its recipe cm-clean's
 * (numbers, a category, the time from two columns in a zone with summer
 * time) and cm-features' (calendar parts, lags), made through the
 * library as the programs make one. */
#include <stdlib.h>

#include "fuzz.h"
#include "../settings.h"

static cm_status write_batch(void *ctx, cm_batch *b, cm_error *err)
{
    return cm_writer_write(ctx, b, err);
}

cm_model *fuzz_model(void)
{
    char csv[8192];
    size_t k = (size_t)snprintf(csv, sizeof csv, "day,hr,site,temp,v\n");
    for (int i = 0; i < 48; i++)
        k += (size_t)snprintf(csv + k, sizeof csv - k, "2026-03-%02d,%d,%s,%d.5,%d\n",
                              28 + i / 24, i % 24, i % 3 ? "north" : "south", i % 7,
                              10 + (i * 7) % 13);
    cm_error err;
    cm_kv *ck = settings("time=day,hr tz=Europe/Berlin type.site=cat");
    cm_kv *fk = settings("target=v lag.1=v:1h,2h time-features=hour,dow");
    cm_kv *tk = settings("model=linear valid=0");
    cm_clean *c = cm_clean_new(ck, &err);
    FILE *in = fmemopen(csv, k, "rb"), *clean = tmpfile(), *feat = tmpfile();
    cm_reader *r = NULL, *r2 = NULL;
    cm_features *f = NULL;
    cm_writer *w = NULL;
    int ok = c && in && clean && feat && !cm_clean_run(c, in, "fuzz.csv", clean, NULL, &err);
    rewind(clean);
    ok = ok && (r = cm_reader_new(clean, &err)) &&
         (f = cm_features_new(cm_reader_schema(r), fk, &err)) &&
         (w = cm_writer_new(feat, cm_features_schema(f), NULL, &err));
    cm_batch *b;
    while (ok && cm_reader_next(r, &b, &err) == 1)
        ok = !cm_features_push(f, b, write_batch, w, &err);
    ok = ok && !cm_features_finish(f, write_batch, w, &err) && !cm_writer_finish(w, &err);
    rewind(feat);
    cm_model *model = NULL;
    ok = ok && (r2 = cm_reader_new(feat, &err)) && (model = cm_train(r2, tk, NULL, NULL, &err));
    if (!ok) {
        fprintf(stderr, "fuzz: no model: %s\n", err.msg);
        abort();
    }
    cm_writer_free(w), cm_features_free(f), cm_reader_free(r), cm_reader_free(r2);
    cm_clean_free(c), fclose(in), fclose(clean), fclose(feat);
    cm_kv_free(ck), cm_kv_free(fk), cm_kv_free(tk);
    return model;
}

cm_predictor *fuzz_predictor(cm_model **model)
{
    cm_error err;
    cm_predictor *p = cm_predictor_new(*model = fuzz_model(), &err);
    if (!p) {
        fprintf(stderr, "fuzz: no predictor: %s\n", err.msg);
        abort();
    }
    return p;
}
