/* test_encoder.c - a model's inputs are made one way only: the encoder
 * (cm_encoder_encode) on a hand-built encoder, and then the property that
 * makes a model trustworthy: cm_model_predict on a stream's rows gives
 * bit for bit what cm_model_forward gives on vectors encoded by hand
 * from the raw values, for a linear model and an mlp alike. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm.h"
#include "../settings.h"
#include "tap.h"

/* ---- the encoder alone ---------------------------------------------------------- */

/* Numbers are standardized, (x - mean) / sd, at their offset; a category
 * is one-hot over its ncats slots and one more for the unseen, which
 * every code at or past ncats takes.  Numbers come in the order of the
 * numeric inputs, codes in the order of the category inputs. */
static void test_encode(void)
{
    char a[] = "a", c[] = "c", b[] = "b", y[] = "y";
    cm_feature f[3] = {
        {.name = a, .cat = 0, .mean = 10, .sd = 4, .offset = 0},
        {.name = c, .cat = 1, .ncats = 3, .offset = 1}, /* slots 1, 2, 3; unseen 4 */
        {.name = b, .cat = 0, .mean = -1, .sd = 0.5, .offset = 5},
    };
    cm_encoder e = {.f = f, .nf = 3, .width = 6, .target = y, .tmean = 0, .tsd = 1};
    const double num[2] = {14, 0}; /* a, then b */
    float x[6];
    static const struct {
        uint32_t code;
        float want[6];
        const char *what;
    } cases[] = {
        {0, {1, 1, 0, 0, 0, 2}, "code 0 sets slot 0"},
        {2, {1, 0, 0, 1, 0, 2}, "code 2 sets slot 2"},
        {3, {1, 0, 0, 0, 1, 2}, "code 3 (= ncats) is unseen"},
        {7, {1, 0, 0, 0, 1, 2}, "code 7 (past ncats) is unseen"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        for (size_t k = 0; k < 6; k++)
            x[k] = 9; /* whatever was there before */
        cm_encoder_encode(&e, num, &cases[i].code, x);
        CHECK(!memcmp(x, cases[i].want, sizeof x),
              "encode: (14-10)/4 = 1 and (0+1)/0.5 = 2 around the one-hot; %s "
              "(got %g %g %g %g %g %g)", cases[i].what, x[0], x[1], x[2], x[3], x[4], x[5]);
    }
    cm_encoder copy;
    cm_error err;
    CHECK(cm_encoder_copy(&copy, &e, &err) == CM_OK && copy.nf == 3 && copy.width == 6 &&
              copy.f[1].ncats == 3 && copy.f[2].sd == 0.5 && copy.f[0].name != e.f[0].name &&
              !strcmp(copy.f[0].name, "a") && !strcmp(copy.target, "y"),
          "encoder copy: the same parts, its own names");
    cm_encoder_release(&copy);
}

/* ---- a model end to end ------------------------------------------------------------ */

/* 24 hourly rows: x1 = i, x2 = (7i mod 5) - 2, c cycling a, b, c, and
 * y a function of them; or, with odd, rows for forecasting only. */
static char *training_csv(void)
{
    static const int shift[3] = {0, 5, -5};
    size_t n = 0, cap = 4096;
    char *s = malloc(cap);
    n += (size_t)snprintf(s + n, cap - n, "t,x1,x2,c,y\n");
    for (int i = 0; i < 24; i++) {
        int x2 = (7 * i) % 5 - 2;
        n += (size_t)snprintf(s + n, cap - n, "2024-01-01 %02d:00,%d,%d,%c,%d\n", i, i, x2,
                              "abc"[i % 3], 3 * i + x2 + shift[i % 3]);
    }
    return s;
}

/* csv cleaned (time=t, missing=keep) into a stream in a temporary file,
 * rewound for reading; NULL on failure. */
static FILE *clean_to_stream(const char *csv)
{
    cm_kv *kv = settings("time=t missing=keep");
    cm_error err;
    cm_clean *c = cm_clean_new(kv, &err);
    FILE *in = fmemopen((void *)(uintptr_t)csv, strlen(csv), "r");
    FILE *out = tmpfile();
    cm_status st = c ? cm_clean_run(c, in, "rows.csv", out, NULL, &err) : err.status;
    if (st)
        printf("# clean: %s\n", err.msg);
    fclose(in);
    cm_clean_free(c);
    cm_kv_free(kv);
    if (st) {
        fclose(out);
        return NULL;
    }
    rewind(out);
    return out;
}

/* The input vector of row i of b (read under schema s) made by hand:
 * the raw numbers in the order of the numeric inputs, and each category's
 * code in the model schema's dictionary (its string looked up there; a
 * string the model never saw gets ncats, the unseen slot). */
static void encode_row(const cm_model *m, const cm_schema *s, const cm_batch *b, size_t i,
                       float *x)
{
    const cm_encoder *e = cm_model_encoder(m);
    double num[16];
    uint32_t cat[16];
    size_t jn = 0, jc = 0;
    for (size_t k = 0; k < e->nf && k < 16; k++) {
        size_t col = (size_t)cm_schema_find(s, e->f[k].name);
        const void *v = cm_batch_values_c(b, col);
        if (!e->f[k].cat) {
            num[jn++] = ((const double *)v)[i];
            continue;
        }
        size_t len;
        const char *str = cm_dict_string(cm_schema_dict_c(s, col), ((const uint32_t *)v)[i], &len);
        uint32_t code;
        if (!cm_dict_find(cm_schema_dict_c(cm_model_schema(m), e->f[k].col), str, len, &code))
            code = e->f[k].ncats;
        cat[jc++] = code;
    }
    cm_encoder_encode(e, num, cat, x);
}

/* Predicts every row of the stream in f two ways; the rows where the two
 * differ in any bit, or -1 when a call fails.  *rows counts the rows,
 * *unseen what cm_model_predict counted, *batched the rows where one
 * cm_model_forward over all of a batch differs from row by row. */
static long compare(const cm_model *m, FILE *f, size_t *rows, uint64_t *unseen,
                    size_t *batched)
{
    cm_error err;
    cm_reader *r = cm_reader_new(f, &err);
    if (!r)
        return -1;
    const cm_encoder *e = cm_model_encoder(m);
    long differ = 0;
    cm_batch *b;
    int got;
    *rows = 0;
    *unseen = 0;
    *batched = 0;
    while ((got = cm_reader_next(r, &b, &err)) == 1) {
        size_t n = cm_batch_nrows(b);
        const cm_schema *s = cm_reader_schema(r);
        double *pred = calloc(n, sizeof *pred), *mine = calloc(n, sizeof *mine),
               *all = calloc(n, sizeof *all);
        uint8_t *ok = calloc(n, 1);
        float *x = calloc(n * e->width, sizeof *x);
        float *scratch = calloc(cm_model_scratch(m, n), sizeof *scratch);
        if (cm_model_predict(m, s, b, pred, ok, NULL, unseen, &err))
            differ = -1;
        for (size_t i = 0; differ >= 0 && i < n; i++) {
            encode_row(m, s, b, i, x + i * e->width);
            cm_model_forward(m, 1, x + i * e->width, &mine[i], scratch);
            differ += !ok[i] || memcmp(&pred[i], &mine[i], sizeof(double)) != 0;
        }
        if (differ >= 0)
            cm_model_forward(m, n, x, all, scratch);
        for (size_t i = 0; differ >= 0 && i < n; i++)
            *batched += memcmp(&all[i], &mine[i], sizeof(double)) != 0;
        *rows += n;
        free(pred);
        free(mine);
        free(all);
        free(ok);
        free(x);
        free(scratch);
    }
    if (got < 0)
        differ = -1;
    cm_reader_free(r);
    return differ;
}

/* Trains a model of the settings on the training stream. */
static cm_model *train(FILE *stream, const char *set)
{
    cm_kv *kv = settings(set);
    cm_error err;
    rewind(stream);
    cm_reader *r = cm_reader_new(stream, &err);
    cm_model *m = r ? cm_train(r, kv, NULL, NULL, &err) : NULL;
    if (!m)
        printf("# train: %s\n", err.msg);
    cm_reader_free(r);
    cm_kv_free(kv);
    return m;
}

/* Rows for forecasting: categories in another order (b first, so its
 * code differs from the model's), one never seen (z), one x1 missing. */
static const char *const fresh_csv = "t,x1,x2,c,y\n"
                                     "2024-01-02 00:00,30,1,b,\n"
                                     "2024-01-02 01:00,31,-2,z,\n"
                                     "2024-01-02 02:00,32,0,a,\n"
                                     "2024-01-02 03:00,33,2,z,\n"
                                     "2024-01-02 04:00,,2,c,\n";

/* A model forecasts by the one encoder: its forecasts for a stream's
 * rows are, bit for bit, the network's on the rows encoded by hand. */
static void test_model(const char *kind, const char *set, FILE *stream, FILE *fresh)
{
    cm_model *m = train(stream, set);
    CHECK(m != NULL, "%s: trained", kind);
    if (!m)
        return;
    const cm_encoder *e = cm_model_encoder(m);
    CHECK(cm_model_ninputs(m) == 3 && !strcmp(cm_model_input(m, 0), "x1") &&
              !strcmp(cm_model_input(m, 1), "x2") && !strcmp(cm_model_input(m, 2), "c") &&
              !strcmp(cm_model_target(m), "y"),
          "%s: inputs x1, x2, c (not the time t), target y", kind);
    CHECK(cm_model_categories(m, "c") == 3 && e->width == 1 + 1 + 3 + 1,
          "%s: c has 3 categories and the unseen slot: width 6 (got %zu)", kind, e->width);
    /* x1 is 0..23: mean 11.5, population sd sqrt((24^2 - 1) / 12) */
    CHECK(e->f[0].mean == 11.5 && e->f[0].sd == sqrt(575.0 / 12),
          "%s: x1 standardized by its training mean 11.5 and sd sqrt(575/12)", kind);

    size_t rows = 0, batched = 0;
    uint64_t unseen = 0;
    rewind(stream);
    long differ = compare(m, stream, &rows, &unseen, &batched);
    CHECK(differ == 0 && rows == 24, "%s: predict = forward(encode) bit for bit on the "
                                     "24 training rows (%ld differ)", kind, differ);
    CHECK(unseen == 0, "%s: no unseen category in the training rows", kind);
    CHECK(batched == 0, "%s: a forward over the whole batch gives the bits of row by "
                        "row (%zu differ)", kind, batched);

    /* rows the model has not seen */
    cm_error err;
    rewind(fresh);
    cm_reader *r = cm_reader_new(fresh, &err);
    cm_batch *b = NULL;
    if (r && cm_reader_next(r, &b, &err) == 1 && cm_batch_nrows(b) == 5) {
        const cm_schema *s = cm_reader_schema(r);
        double pred[5], mine;
        uint8_t ok[5];
        size_t why[5];
        uint64_t nunseen = 0;
        float x[16], *scratch = calloc(cm_model_scratch(m, 1), sizeof *scratch);
        uint32_t here, there;
        CHECK(cm_dict_find(cm_schema_dict_c(s, 3), "b", 1, &here) && here == 0 &&
                  cm_dict_find(cm_schema_dict_c(cm_model_schema(m), 3), "b", 1, &there) &&
                  there == 1,
              "%s: b is code 0 in the rows to forecast but code 1 in the model", kind);
        cm_status st = cm_model_predict(m, s, b, pred, ok, why, &nunseen, &err);
        CHECK(st == CM_OK && nunseen == 2, "%s: the 2 rows of z are counted unseen (got %llu)",
              kind, (unsigned long long)nunseen);
        int same = 1;
        for (size_t i = 0; i < 4; i++) {
            encode_row(m, s, b, i, x);
            cm_model_forward(m, 1, x, &mine, scratch);
            same &= ok[i] && !memcmp(&pred[i], &mine, sizeof mine);
        }
        CHECK(same, "%s: known categories by their strings, z by the unseen slot: "
                    "predict = forward(encode) bit for bit", kind);
        encode_row(m, s, b, 1, x);
        CHECK(x[2 + 3] == 1 && x[2] == 0 && x[3] == 0 && x[4] == 0,
              "%s: z sets the unseen slot only", kind);
        CHECK(!ok[4] && why[4] == 0, "%s: a missing x1 gives no forecast, why = input 0", kind);
        CHECK(ok[0] && why[0] == SIZE_MAX, "%s: a forecast has why SIZE_MAX", kind);
        free(scratch);
    } else {
        CHECK(0, "%s: read the rows to forecast", kind);
    }
    cm_reader_free(r);
    cm_model_free(m);
}

int main(void)
{
    test_encode();
    char *csv = training_csv();
    FILE *stream = clean_to_stream(csv);
    FILE *fresh = clean_to_stream(fresh_csv);
    CHECK(stream && fresh, "the training and forecasting rows are cleaned into streams");
    if (stream && fresh) {
        test_model("linear", "model=linear target=y valid=0", stream, fresh);
        test_model("mlp", "model=mlp target=y epochs=2 layers=4 valid=0", stream, fresh);
    }
    if (stream)
        fclose(stream);
    if (fresh)
        fclose(fresh);
    free(csv);
    return tap_done();
}
