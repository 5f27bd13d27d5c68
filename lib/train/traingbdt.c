/* traingbdt.c - the gbdt kind's trainer: boosted trees grown by XGBoost
 * (its C API, hist method) on the encoder's raw design rows, a round at a
 * time with the losses after each, the best round's trees kept, then
 * taken out of XGBoost's JSON into cm's own cm_forest (model/forest.c).
 * Only cm-train and cm-tune link XGBoost; predicting never does. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xgboost/c_api.h>

#include "train/trainer.h"

static cm_status xgb_fail(cm_error *err, const char *what)
{
    return cm_fail(err, CM_ERR_DATA, "XGBoost: %s: %s", what, XGBGetLastError());
}

/* A part of the rows as one matrix: the chunks as they come (one, in
 * memory), copied only when there are several. */
typedef struct part {
    const float *x, *y;
    const double *yr;
    float *own_x, *own_y;
    double *own_yr;
    size_t n;
} part;

static cm_status gather(const cm_source *src, int which, size_t w, part *p, cm_error *err)
{
    cm_chunk ch;
    cm_status st;
    size_t cap = 0;
    *p = (part){0};
    while (!(st = src->next(src->ctx, which, &ch, err)) && ch.n) {
        if (ch.whole) {
            p->x = ch.x, p->y = ch.y, p->yr = ch.yraw, p->n = ch.n;
            continue;
        }
        if (p->n + ch.n > cap) {
            size_t ncap = cm_cap_for(cap, p->n + ch.n, 1024); /* index n + ch.n fits */
            if (cm_resize(&p->own_x, cap * w, ncap * w, sizeof *p->own_x, err) ||
                cm_resize(&p->own_y, cap, ncap, sizeof *p->own_y, err) ||
                cm_resize(&p->own_yr, cap, ncap, sizeof *p->own_yr, err))
                return CM_ERR_NOMEM;
            cap = ncap;
        }
        memcpy(p->own_x + p->n * w, ch.x, ch.n * w * sizeof *ch.x);
        memcpy(p->own_y + p->n, ch.y, ch.n * sizeof *ch.y);
        memcpy(p->own_yr + p->n, ch.yraw, ch.n * sizeof *ch.yraw);
        p->n += ch.n;
        p->x = p->own_x, p->y = p->own_y, p->yr = p->own_yr;
    }
    return st;
}

static void part_free(part *p)
{
    free(p->own_x), free(p->own_y), free(p->own_yr);
}

static cm_status matrix(const part *p, size_t w, int threads, const char **names,
                        DMatrixHandle *out, cm_error *err)
{
    if (XGDMatrixCreateFromMat_omp(p->x, p->n, w, NAN, out, threads) ||
        XGDMatrixSetFloatInfo(*out, "label", p->y, p->n) ||
        XGDMatrixSetStrFeatureInfo(*out, "feature_name", names, w))
        return xgb_fail(err, "the rows");
    return CM_OK;
}

/* The objective's loss over a part, in the target's units: MSE, MAE, or
 * the pseudo-Huber loss XGBoost minimizes for huber. */
static double loss(const cm_train_cfg *c, const part *p, const float *pred)
{
    double sum = 0, d = c->huber;
    for (size_t i = 0; i < p->n; i++) {
        double r = (double)pred[i] - p->yr[i];
        sum += c->loss == CM_LOSS_MSE ? r * r
             : c->loss == CM_LOSS_MAE ? fabs(r) : d * d * (sqrt(1 + (r / d) * (r / d)) - 1);
    }
    return sum / (double)(p->n ? p->n : 1);
}

static cm_status predict(BoosterHandle b, DMatrixHandle m, const float **out, cm_error *err)
{
    static const char cfg[] = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                              "\"iteration_end\": 0, \"strict_shape\": false}";
    bst_ulong const *shape;
    bst_ulong dim;
    return XGBoosterPredictFromDMatrix(b, m, cfg, &shape, &dim, out) ? xgb_fail(err, "predict")
                                                                      : CM_OK;
}

static cm_status params(BoosterHandle b, const cm_train_cfg *c, cm_error *err)
{
    static const char *const objective[] = {"reg:squarederror", "reg:absoluteerror",
                                            "reg:pseudohubererror"};
    char v[13][40];
    snprintf(v[0], sizeof v[0], "%d", c->depth);
    snprintf(v[1], sizeof v[1], "%.17g", c->eta);
    snprintf(v[2], sizeof v[2], "%.17g", c->subsample);
    snprintf(v[3], sizeof v[3], "%.17g", c->colsample);
    snprintf(v[4], sizeof v[4], "%.17g", c->min_child_weight);
    snprintf(v[5], sizeof v[5], "%.17g", c->l2);
    snprintf(v[6], sizeof v[6], "%d", c->max_bin);
    snprintf(v[7], sizeof v[7], "%llu", (unsigned long long)(c->seed & INT64_MAX));
    snprintf(v[8], sizeof v[8], "%d", c->threads);
    snprintf(v[9], sizeof v[9], "%.17g", (double)c->huber);
    const char *kv[][2] = {
        {"verbosity", "0"},  {"tree_method", "hist"},   {"objective", objective[c->loss]},
        {"max_depth", v[0]}, {"eta", v[1]},             {"subsample", v[2]},
        {"colsample_bytree", v[3]}, {"min_child_weight", v[4]}, {"lambda", v[5]},
        {"max_bin", v[6]},   {"seed", v[7]},            {"nthread", v[8]},
        {"huber_slope", v[9]}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        if (XGBoosterSetParam(b, kv[i][0], kv[i][1]))
            return xgb_fail(err, kv[i][0]);
    return CM_OK;
}

static void report(const cm_train_cfg *c, int round, size_t ntrain, const struct timespec *t0,
                   double train, double valid, int improved,
                   void (*on_epoch)(void *, const cm_epoch *), void *ctx)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
    cm_epoch ep = {round + 1, c->trees, train, valid,
                   (double)ntrain * (round + 1) / (secs > 0 ? secs : 1e-9),
                   secs / (round + 1) * (c->trees - round - 1), improved};
    on_epoch(ctx, &ep);
}

/* The arrays of one tree of XGBoost's JSON, checked for length n. */
static const cm_jv *tree_array(const cm_jv *tree, const char *key, size_t n)
{
    const cm_jv *a = cm_jv_get(tree, key);
    if (!a || a->type != CM_J_ARR || a->n != n)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (a->item[i].type != CM_J_NUM && a->item[i].type != CM_J_BOOL)
            return NULL;
    return a;
}

/* XGBoost's JSON model into cm's forest: every node of every tree. */
static cm_status to_forest(const char *json, size_t len, size_t width, cm_forest *f,
                           cm_error *err)
{
    cm_jv *doc = cm_jv_parse(json, len, err);
    if (!doc)
        return err->status;
    const cm_jv *trees = cm_jv_path(doc, "learner", "gradient_booster", "model", "trees", NULL);
    const cm_jv *base = cm_jv_path(doc, "learner", "learner_model_param", "base_score", NULL);
    double bs = 0;
    cm_status st = trees && trees->type == CM_J_ARR && trees->n && base &&
                   base->type == CM_J_STR && !cm_parse_num(base->str, strlen(base->str), '.', &bs)
                 ? CM_OK : cm_fail(err, CM_ERR_DATA, "XGBoost's model: no trees or base score");
    size_t total = 0;
    for (size_t t = 0; !st && t < trees->n; t++) {
        const cm_jv *l = cm_jv_get(&trees->item[t], "left_children");
        total += l && l->type == CM_J_ARR ? l->n : 0;
    }
    f->ntrees = st ? 0 : trees->n;
    f->nnodes = total;
    f->width = width;
    f->base = (float)bs;
    if (!st && (!(f->start = malloc((f->ntrees + 1) * sizeof *f->start)) ||
                !(f->feature = malloc((total + 1) * sizeof *f->feature)) ||
                !(f->left = malloc((total + 1) * sizeof *f->left)) ||
                !(f->right = malloc((total + 1) * sizeof *f->right)) ||
                !(f->dleft = malloc(total + 1)) || !(f->thr = malloc((total + 1) * sizeof *f->thr)) ||
                !(f->leaf = malloc((total + 1) * sizeof *f->leaf)) ||
                !(f->gain = malloc((total + 1) * sizeof *f->gain)) ||
                !(f->hess = malloc((total + 1) * sizeof *f->hess)) ||
                !(f->weight = malloc((total + 1) * sizeof *f->weight))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    size_t at = 0;
    for (size_t t = 0; !st && t < f->ntrees; t++) {
        const cm_jv *tr = &trees->item[t], *l = cm_jv_get(tr, "left_children");
        size_t n = l && l->type == CM_J_ARR ? l->n : 0;
        const cm_jv *r = tree_array(tr, "right_children", n), *ix = tree_array(tr, "split_indices", n),
                    *cond = tree_array(tr, "split_conditions", n),
                    *dl = tree_array(tr, "default_left", n), *g = tree_array(tr, "loss_changes", n),
                    *ty = tree_array(tr, "split_type", n), *h = tree_array(tr, "sum_hessian", n),
                    *bw = tree_array(tr, "base_weights", n);
        if (!n || !tree_array(tr, "left_children", n) || !r || !ix || !cond || !dl || !g || !ty ||
            !h || !bw) {
            st = cm_fail(err, CM_ERR_DATA, "XGBoost's model: tree %zu is not as expected", t);
            break;
        }
        f->start[t] = (int32_t)at;
        for (size_t i = 0; i < n && !st; i++, at++) {
            int leaf = l->item[i].num < 0;
            if (ty->item[i].num != 0)
                st = cm_fail(err, CM_ERR_DATA, "XGBoost's model: a categorical split");
            f->feature[at] = leaf ? -1 : (int32_t)ix->item[i].num;
            f->left[at] = leaf ? -1 : (int32_t)(at - i + (size_t)l->item[i].num);
            f->right[at] = leaf ? -1 : (int32_t)(at - i + (size_t)r->item[i].num);
            f->dleft[at] = !leaf && dl->item[i].num != 0;
            f->thr[at] = leaf ? 0 : (float)cond->item[i].num;
            f->leaf[at] = leaf ? (float)cond->item[i].num : 0;
            f->gain[at] = leaf ? 0 : (float)g->item[i].num;
            f->hess[at] = (float)h->item[i].num;
            f->weight[at] = (float)bw->item[i].num;
        }
    }
    if (!st)
        f->start[f->ntrees] = (int32_t)at;
    cm_jv_free(doc);
    return st;
}

/* Every row of a part walked by cm's own code (model/forest.c) equals
 * XGBoost's prediction of it, to the bit: the promise that a model
 * predicts what XGBoost would, checked on each training, on threads. */
typedef struct walk {
    const cm_forest *f;
    const float *x;
    double *y;
    size_t n;
} walk;

static void *walk_rows(void *arg)
{
    walk *w = arg;
    cm_kind_gbdt.forward(w->f, w->n, w->x, w->y, NULL);
    return NULL;
}

#define MAX_WALKS 16

static cm_status agree(const cm_forest *f, BoosterHandle b, DMatrixHandle m, const part *p,
                       int threads, cm_error *err)
{
    const float *want;
    double *y = malloc((p->n + 1) * sizeof *y);
    cm_status st = y ? predict(b, m, &want, err) : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    /* the rows split among the threads, each run walked whole by one */
    size_t parts = threads < 1 ? 1 : threads > MAX_WALKS ? MAX_WALKS : (size_t)threads;
    walk w[MAX_WALKS];
    pthread_t tid[MAX_WALKS];
    int started[MAX_WALKS] = {0};
    for (size_t t = 0; !st && t < parts; t++) {
        size_t lo = p->n * t / parts, hi = p->n * (t + 1) / parts;
        w[t] = (walk){f, p->x + lo * f->width, y + lo, hi - lo};
        if (t && !(started[t] = pthread_create(&tid[t], NULL, walk_rows, &w[t]) == 0))
            walk_rows(&w[t]);
    }
    if (!st)
        walk_rows(&w[0]);
    for (size_t t = 1; !st && t < parts; t++)
        if (started[t])
            pthread_join(tid[t], NULL);
    for (size_t r = 0; !st && r < p->n; r++)
        if ((float)y[r] != want[r] && !(isnan(y[r]) && isnan(want[r])))
            st = cm_fail(err, CM_ERR_DATA, "the trees as cm walks them give %.9g for "
                         "training row %zu, XGBoost %.9g: a bug, please report it", y[r],
                         r + 1, (double)want[r]);
    free(y);
    return st;
}

/* XGBoost's JSON with its list of trees emptied (CM_XGB_TREES): the
 * learner, objective and names that the export puts the trees back in. */
static cm_status skeleton(const char *json, size_t len, cm_forest *f, cm_error *err)
{
    static const char key[] = "\"trees\":[";
    const char *at = NULL;
    for (size_t i = 0; !at && i + sizeof key - 1 <= len; i++)
        if (!memcmp(json + i, key, sizeof key - 1))
            at = json + i + sizeof key - 2; /* its '[' */
    size_t end = 0;
    int depth = 0, str = 0;
    for (size_t i = at ? (size_t)(at - json) : len; i < len && !end; i++) {
        char ch = json[i];
        if (str)
            str = ch == '\\' ? (i++, 1) : ch != '"';
        else if (ch == '"')
            str = 1;
        else if (ch == '[' || ch == '{')
            depth++;
        else if ((ch == ']' || ch == '}') && --depth == 0)
            end = i;
    }
    if (!end)
        return cm_fail(err, CM_ERR_DATA, "XGBoost's model: no list of trees");
    size_t head = (size_t)(at - json) + 1, tail = len - end;
    if (!(f->xgb = malloc(head + tail + 1)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    memcpy(f->xgb, json, head);
    memcpy(f->xgb + head, json + end, tail);
    f->xgb_len = head + tail;
    return CM_OK;
}

static cm_status fit_gbdt(const cm_train_cfg *c, const cm_encoder *e, const cm_schema *s,
                          const cm_source *src, size_t ntrain, size_t nvalid,
                          void (*on_epoch)(void *, const cm_epoch *), void *ctx, cm_fit *out,
                          cm_error *err)
{
    size_t w = e->width;
    part tr = {0}, va = {0};
    DMatrixHandle dm[2] = {NULL, NULL};
    BoosterHandle b = NULL, best = NULL;
    cm_forest *f = calloc(1, sizeof *f);
    char **names = calloc(w + 1, sizeof *names);
    const char **view = calloc(w + 1, sizeof *view); /* the same names, as XGBoost takes them */
    cm_status st = f && names && view ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t j = 0; !st && j < w; j++) {
        int k = cm_encoder_slot_name(e, s, j, NULL, 0);
        if (!(names[j] = malloc((size_t)k + 1)))
            st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
        else
            cm_encoder_slot_name(e, s, j, names[j], (size_t)k + 1);
        view[j] = names[j];
    }
    if (!st) st = gather(src, 0, w, &tr, err);
    if (!st && nvalid) st = gather(src, 1, w, &va, err);
    if (!st) st = matrix(&tr, w, c->threads, view, &dm[0], err);
    if (!st && nvalid) st = matrix(&va, w, c->threads, view, &dm[1], err);
    if (!st && XGBoosterCreate(dm, nvalid ? 2 : 1, &b))
        st = xgb_fail(err, "create");
    if (!st)
        st = params(b, c, err);
    double best_score = INFINITY;
    int since = 0;
    *out = (cm_fit){0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* The losses of a round cost two predictions of every row (measured:
     * as much again as growing the trees): made only when they are heard
     * or stop the training, and the training loss only when heard or
     * nothing is held out. */
    int want_train = on_epoch || (c->patience && !nvalid), want_valid = on_epoch || c->patience;
    for (int r = 0; !st && r < c->trees; r++) {
        const float *p;
        double train = NAN, valid = NAN;
        if (XGBoosterUpdateOneIter(b, r, dm[0]))
            st = xgb_fail(err, "a round");
        if (!st && want_train && !(st = predict(b, dm[0], &p, err)))
            train = loss(c, &tr, p);
        if (!st && nvalid && want_valid && !(st = predict(b, dm[1], &p, err)))
            valid = loss(c, &va, p);
        if (st)
            break;
        double score = nvalid ? valid : train;
        int improved = score < best_score;
        if (improved)
            best_score = score, out->best_epoch = r + 1, since = 0;
        else
            since++;
        out->epochs_run = r + 1;
        if (on_epoch)
            report(c, r, ntrain, &t0, train, valid, improved, on_epoch, ctx);
        if (c->patience && since >= c->patience)
            break;
    }
    /* Without early stopping every round is kept, as XGBoost keeps them;
     * with it, the best (and the rounds after it are dropped). */
    if (!st && (out->best_epoch == 0 || !c->patience))
        out->best_epoch = out->epochs_run;
    /* the best round's trees alone, as XGBoost itself would save them;
     * every round kept, the booster itself, whose predictions of the
     * rows are cached */
    BoosterHandle keep = b;
    if (!st && out->best_epoch < out->epochs_run) {
        if (XGBoosterSlice(b, 0, out->best_epoch, 1, &best))
            st = xgb_fail(err, "keep the best round");
        keep = best;
    }
    if (!st && XGBoosterSetStrFeatureInfo(keep, "feature_name", view, w))
        st = xgb_fail(err, "the inputs' names");
    bst_ulong len = 0;
    const char *json = NULL;
    if (!st && XGBoosterSaveModelToBuffer(keep, "{\"format\": \"json\"}", &len, &json))
        st = xgb_fail(err, "save");
    if (!st)
        st = to_forest(json, len, w, f, err);
    if (!st)
        st = skeleton(json, len, f, err);
    if (!st)
        st = cm_forest_ready(f, err);
    if (!st)
        st = agree(f, keep, dm[0], &tr, c->threads, err);
    /* the held-out rows too when XGBoost has their forecasts at hand (a
     * full prediction by its own code costs a tenth of the training) */
    if (!st && nvalid && want_valid && keep == b)
        st = agree(f, keep, dm[1], &va, c->threads, err);
    if (best)
        XGBoosterFree(best);
    if (b)
        XGBoosterFree(b);
    for (int i = 0; i < 2; i++)
        if (dm[i])
            XGDMatrixFree(dm[i]);
    for (size_t j = 0; names && j < w; j++)
        free(names[j]);
    free(names);
    free(view);
    part_free(&tr);
    part_free(&va);
    if (st) {
        cm_forest_free(f);
        return st;
    }
    out->net = f;
    return CM_OK;
}

static cm_status gbdt_meta(const cm_fit *f, cm_kv *meta, cm_error *err)
{
    const cm_forest *fo = f->net;
    cm_status st = cm_kv_set_num(meta, "rounds_run", f->epochs_run, err);
    if (!st) st = cm_kv_set_num(meta, "best_round", f->best_epoch, err);
    if (!st) st = cm_kv_set_num(meta, "trees_kept", (double)fo->ntrees, err);
    return st;
}

const cm_trainer cm_trainer_gbdt = {&cm_kind_gbdt, fit_gbdt, gbdt_meta};
