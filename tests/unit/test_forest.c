/* test_forest.c - the gbdt kind's trees as cm walks them (model/forest.c):
 * XGBoost's rules on a hand-built forest (x < threshold goes left, equal
 * goes right, NaN the default way, leaves summed in float32 in tree order
 * from the base score); a model file of trees read back to the same bits;
 * and forests that could loop or read past the inputs refused as corrupt
 * when a model file is read. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm.h"
#include "tap.h"

/* Tree 0: x0 < 0.5 ? (x1 < 2 ? 1 : 2) : 3, a missing x0 going right and
 * a missing x1 left.  Tree 1: a single leaf.  Tree 2: x1 < -1 ? 1e-8 :
 * 1024, a missing x1 right: a sum where float32's order shows. */
static cm_forest *forest(void)
{
    static const int32_t start[] = {0, 5, 6, 9};
    static const int32_t feature[] = {0, 1, -1, -1, -1, -1, 1, -1, -1};
    static const int32_t left[] = {1, 3, -1, -1, -1, -1, 7, -1, -1};
    static const int32_t right[] = {2, 4, -1, -1, -1, -1, 8, -1, -1};
    static const uint8_t dleft[] = {0, 1, 0, 0, 0, 0, 0, 0, 0};
    static const float thr[] = {0.5f, 2, 0, 0, 0, 0, -1, 0, 0};
    static const float leaf[] = {0, 0, 3, 1, 2, 0.25f, 0, 1e-8f, 1024.0f};
    cm_forest *f = calloc(1, sizeof *f);
    f->ntrees = 3, f->nnodes = 9, f->width = 2, f->base = 0.5f;
#define DUP(field, src) (f->field = malloc(sizeof src), memcpy(f->field, src, sizeof src))
    DUP(start, start), DUP(feature, feature), DUP(left, left), DUP(right, right);
    DUP(dleft, dleft), DUP(thr, thr), DUP(leaf, leaf);
    static const float gain[9] = {5, 2, 0, 0, 0, 0, 1, 0, 0};
    static const float hess[9] = {9, 5, 4, 3, 2, 9, 9, 1, 8};
    static const float weight[9] = {1.5f, 1.25f, 3, 1, 2, 0.25f, 7, 1e-8f, 1024};
    DUP(gain, gain), DUP(hess, hess), DUP(weight, weight);
    static const char json[] = "{\"learner\":{\"trees\":[],\"n\":1}}";
    DUP(xgb, json);
#undef DUP
    f->xgb_len = sizeof json - 1;
    cm_error err;
    if (cm_forest_ready(f, &err))
        printf("# ready: %s\n", err.msg);
    return f;
}

static void test_walk(void)
{
    cm_forest *f = forest();
    static const struct {
        float x0, x1;
        float want;
        const char *what;
    } cases[] = {
        {0.25f, 1, 0.5f + 1 + 0.25f + 1024.0f, "x0 < 0.5, x1 < 2"},
        {0.25f, 2, 0.5f + 2 + 0.25f + 1024.0f, "x1 = 2 is not below 2: right"},
        {0.5f, -3, 0.5f + 3 + 0.25f + 1e-8f, "x0 = 0.5 is not below 0.5: right"},
        {NAN, -3, 0.5f + 3 + 0.25f + 1e-8f, "a missing x0 goes right (default)"},
        {0, NAN, 0.5f + 1 + 0.25f + 1024.0f, "a missing x1 goes left in tree 0, right in tree 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        float x[2] = {cases[i].x0, cases[i].x1};
        double y;
        cm_kind_gbdt.forward(f, 1, x, &y, NULL);
        /* want: the sum as float32 adds it, in this order */
        CHECK(y == (double)cases[i].want, "walk: %s (got %.9g, want %.9g)", cases[i].what, y,
              (double)cases[i].want);
    }
    /* float32 in tree order: 0.5 + 1 + 0.25 + 1e-8 is 1.75 exactly, where
     * a double sum would keep the 1e-8 */
    float x[2] = {0.25f, -3};
    double y;
    cm_kind_gbdt.forward(f, 1, x, &y, NULL);
    CHECK(y == 1.75, "the leaves are summed in float32: 1e-8 is lost beside 1.75 (got %.17g)", y);
    float xs[6] = {0.25f, 1, 0.5f, -3, NAN, NAN};
    double ys[3];
    cm_kind_gbdt.forward(f, 3, xs, ys, NULL);
    CHECK(ys[0] == (double)(0.5f + 1 + 0.25f + 1024.0f) && ys[1] == 3.75 &&
              ys[2] == (double)(0.5f + 3 + 0.25f + 1024.0f),
          "a batch of rows: each its own walk (got %.9g %.9g %.9g)", ys[0], ys[1], ys[2]);
    /* 130 rows: two blocks of 64 walked side by side and a short one */
    float xb[260];
    double yb[130], y1;
    uint64_t seed = 7;
    for (int i = 0; i < 260; i++) {
        uint64_t r = tap_rand(&seed);
        xb[i] = r % 7 == 0 ? NAN : (float)(r % 1000) / 250 - 2;
    }
    cm_kind_gbdt.forward(f, 130, xb, yb, NULL);
    int differ = 0;
    for (int r = 0; r < 130; r++) {
        cm_kind_gbdt.forward(f, 1, xb + 2 * r, &y1, NULL);
        differ += y1 != yb[r];
    }
    CHECK(differ == 0, "130 rows at once walk as each alone (%d differ)", differ);
    cm_forest_free(f);
}

/* A model of the forest f over inputs a and b of a stream's schema. */
static cm_model *model_of(cm_forest *f)
{
    const char csv[] = "a,b,y\n1,2,3\n4,5,6\n";
    cm_error err;
    cm_kv *kv = cm_kv_new();
    cm_clean *c = cm_clean_new(kv, &err);
    FILE *in = fmemopen((void *)(uintptr_t)csv, sizeof csv - 1, "r"), *out = tmpfile();
    cm_status st = cm_clean_run(c, in, "t.csv", out, NULL, &err);
    fclose(in);
    cm_clean_free(c);
    cm_kv_free(kv);
    rewind(out);
    cm_reader *r = st ? NULL : cm_reader_new(out, &err);
    cm_schema *s = r ? cm_schema_clone(cm_reader_schema(r)) : NULL;
    cm_reader_free(r);
    fclose(out);
    cm_feature *ft = calloc(2, sizeof *ft);
    ft[0] = (cm_feature){.name = strdup("a"), .sd = 1, .lo = NAN, .hi = NAN, .offset = 0};
    ft[1] = (cm_feature){.name = strdup("b"), .sd = 1, .lo = NAN, .hi = NAN, .offset = 1,
                         .col = 1};
    cm_encoder e = {.f = ft, .nf = 2, .width = 2, .target = strdup("y"), .tsd = 1, .nout = 1};
    cm_model *m = s ? cm_model_new(s, &e, &cm_kind_gbdt, f, &err) : NULL;
    if (m) {
        cm_kv_set(cm_model_meta_edit(m), "kind", "gbdt", &err);
        cm_kv_set(cm_model_meta_edit(m), "target", "y", &err);
    }
    return m;
}

/* The model saved and read back: NULL with *st its status when refused. */
static cm_model *round_trip(const cm_model *m, cm_status *st)
{
    cm_error err;
    FILE *f = tmpfile();
    *st = cm_model_save(m, f, &err);
    rewind(f);
    cm_model *back = *st ? NULL : cm_model_load(f, &err);
    if (!*st && !back)
        *st = err.status;
    fclose(f);
    return back;
}

static void test_file(void)
{
    cm_model *m = model_of(forest());
    cm_status st;
    cm_model *back = m ? round_trip(m, &st) : NULL;
    CHECK(back != NULL, "a model file of trees reads back");
    if (back) {
        float x[8] = {0.25f, 1, 0.25f, 2, NAN, -3, 0, NAN};
        double y0[4], y1[4];
        cm_model_forward(m, 4, x, y0, NULL);
        cm_model_forward(back, 4, x, y1, NULL);
        CHECK(!memcmp(y0, y1, sizeof y0), "...and walks to the same bits");
        char *json = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&json, &len);
        cm_error err;
        CHECK(cm_model_export_xgboost(back, mem, &err) == CM_OK, "...and exports");
        fclose(mem);
        static const char want[] =
            "{\"learner\":{\"trees\":["
            "{\"base_weights\":[1.5,1.25,3.0,1.0,2.0],\"categories\":[],\"categories_nodes\":[],"
            "\"categories_segments\":[],\"categories_sizes\":[],\"default_left\":[0,1,0,0,0],"
            "\"id\":0,\"left_children\":[1,3,-1,-1,-1],\"loss_changes\":[5.0,2.0,0.0,0.0,0.0],"
            "\"parents\":[2147483647,0,0,1,1],\"right_children\":[2,4,-1,-1,-1],"
            "\"split_conditions\":[0.5,2.0,3.0,1.0,2.0],\"split_indices\":[0,1,0,0,0],"
            "\"split_type\":[0,0,0,0,0],\"sum_hessian\":[9.0,5.0,4.0,3.0,2.0],"
            "\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"2\",\"num_nodes\":\"5\","
            "\"size_leaf_vector\":\"0\"}},"
            "{\"base_weights\":[0.25],\"categories\":[],\"categories_nodes\":[],"
            "\"categories_segments\":[],\"categories_sizes\":[],\"default_left\":[0],\"id\":1,"
            "\"left_children\":[-1],\"loss_changes\":[0.0],\"parents\":[2147483647],"
            "\"right_children\":[-1],\"split_conditions\":[0.25],\"split_indices\":[0],"
            "\"split_type\":[0],\"sum_hessian\":[9.0],\"tree_param\":{\"num_deleted\":\"0\","
            "\"num_feature\":\"2\",\"num_nodes\":\"1\",\"size_leaf_vector\":\"0\"}},"
            "{\"base_weights\":[7.0,1e-08,1024.0],\"categories\":[],\"categories_nodes\":[],"
            "\"categories_segments\":[],\"categories_sizes\":[],\"default_left\":[0,0,0],"
            "\"id\":2,\"left_children\":[1,-1,-1],\"loss_changes\":[1.0,0.0,0.0],"
            "\"parents\":[2147483647,0,0],\"right_children\":[2,-1,-1],"
            "\"split_conditions\":[-1.0,1e-08,1024.0],\"split_indices\":[1,0,0],"
            "\"split_type\":[0,0,0],\"sum_hessian\":[9.0,1.0,8.0],\"tree_param\":"
            "{\"num_deleted\":\"0\",\"num_feature\":\"2\",\"num_nodes\":\"3\","
            "\"size_leaf_vector\":\"0\"}}],\"n\":1}}";
        int same = json && !strcmp(json, want);
        CHECK(same, "...as XGBoost's JSON: the trees in the place of the empty list, each "
              "field of each node");
        if (!same)
            printf("# got:  %s\n# want: %s\n", json ? json : "", want);
        free(json);
    }
    cm_model_free(back);
    cm_model_free(m);

    /* Forests that must not be walked: each refused as it is read. */
    static const char *const what[] = {
        "a child before its parent (a loop)", "a child past its tree", "a feature past the inputs",
        "a leaf with a child", "a default way of 2", "a tree of no nodes"};
    for (int k = 0; k < 6; k++) {
        cm_forest *f = forest();
        switch (k) {
        case 0: f->left[1] = 0; break;       /* tree-relative: node 1 back to the root */
        case 1: f->right[1] = 5; break;      /* tree 0 has nodes 0..4 */
        case 2: f->feature[6] = 2; break;    /* two inputs: 0 and 1 */
        case 3: f->left[2] = 3; break;
        case 4: f->dleft[0] = 2; break;
        case 5: f->start[1] = 0, f->start[2] = 6; break; /* tree 0 empty, tree 1 of 6 */
        }
        /* the file numbers children within their tree; save takes them
         * as absolute, so make them so for the cases that change them */
        cm_model *bad = model_of(f);
        cm_model *got = bad ? round_trip(bad, &st) : NULL;
        CHECK(bad && !got && st == CM_ERR_CORRUPT, "refused as corrupt: %s", what[k]);
        cm_model_free(got);
        cm_model_free(bad);
    }
}

int main(void)
{
    test_walk();
    test_file();
    return tap_done();
}
