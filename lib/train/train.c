/* train.c - fitting a model: the last fraction of the rows (or those
 * from a time on) held out in time order, the scaling fitted on the
 * training rows only, then the trainer of the model's kind, and what the
 * model says of itself. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/trainer.h"

const cm_trainer *cm_trainer_of(const cm_kind *k)
{
    static const cm_trainer *const all[] = {&cm_trainer_linear, &cm_trainer_mlp,
                                            &cm_trainer_gbdt, &cm_trainer_gru,
                                            &cm_trainer_lstm, &cm_trainer_cnn};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i]->kind == k)
            return all[i];
    return NULL;
}

cm_model *cm_train_fit(const cm_kv *settings, const cm_train_cfg *c, cm_train_rows *src,
                       size_t n, const cm_encoder *names, cm_schema *schema,
                       void (*on_epoch)(void *, const cm_epoch *), void *ctx, int describe,
                       cm_error *err)
{
    cm_encoder e;
    cm_status st = cm_encoder_copy(&e, names, err);
    src->e = &e;
    /* n * frac to the nearest, halves to even (rint), as the peers'
     * Python round() holds out their test rows, so that both hold out the
     * same ones; or the rows at or after valid-from, the last of the
     * stream (trainrows.c) */
    src->nvalid = c->valid_from ? src->s.nfrom : (size_t)rint((double)n * c->valid);
    src->ntrain = n - src->nvalid;
    src->pos = SIZE_MAX;
    if (!st && c->valid_from && (src->idx || !src->s.has_from))
        st = cm_fail(err, CM_ERR_ARG, "valid-from: only for a fit on every row of a stream");
    if (!st && src->ntrain == 0)
        st = cm_fail(err, CM_ERR_DATA, "no training rows left after holding out "
                     "--valid %g of %zu", c->valid, n);
    if (!st && !src->memory)
        st = cm_rows_size_chunks(src, schema, c->buffer, (size_t)c->batch, err);
    if (!st)
        st = cm_rows_fit_scaling(src, &e, err);
    size_t design_rows = src->memory ? n : src->chunk, k = src->d.nout;
    if (!st && (!(src->x = malloc((design_rows * e.width + 1) * sizeof *src->x)) ||
                !(src->y = malloc((design_rows * k + 1) * sizeof *src->y)) ||
                (src->idx && !(src->yr = malloc((n * k + 1) * sizeof *src->yr)))))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory: %zu rows x %zu inputs",
                     design_rows, e.width);
    if (!st && src->memory)
        cm_rows_design(&e, &src->d, src->idx, 0, n, src->x, src->y, src->yr);
    cm_source from = cm_rows_source(src);
    cm_fit f = {0};
    if (!st)
        st = cm_trainer_of(c->kind)->fit(c, &e, schema, &from, src->ntrain, src->nvalid,
                                         on_epoch, ctx, &f, err);
    cm_model *m = NULL;
    void *loose = f.net; /* the network, until the model has it */
    if (!st) {
        /* the parts are the model's now, or freed */
        if (!(m = cm_model_new(schema, &e, c->kind, f.net, err)))
            st = err->status;
        schema = NULL;
        loose = NULL;
    }
    src->e = m ? cm_model_encoder(m) : NULL;
    /* A fit on picked rows (a fold) is scored by its caller; the stream's
     * time range and counts would not describe it. */
    if (!st && describe)
        st = cm_train_describe(m, settings, c, &f, src, err);
    free(src->x);
    free(src->y);
    free(src->yr);
    src->x = src->y = NULL;
    src->yr = NULL;
    src->e = NULL;
    if (st) {
        if (loose)
            c->kind->free(loose);
        cm_encoder_release(&e);
        cm_schema_free(schema);
        cm_model_free(m);
        return NULL;
    }
    return m;
}

cm_model *cm_train(cm_reader *r, const cm_kv *settings,
                   void (*on_epoch)(void *ctx, const cm_epoch *e), void *ctx,
                   cm_error *err)
{
    cm_train_cfg c = {0};
    long *cols = NULL;
    cm_encoder names = {0};
    cm_train_rows src = {0};
    cm_schema *schema = NULL;
    cm_model *m = NULL;
    cm_status st = cm_train_cfg_read(settings, &c, err);
    if (!st)
        st = cm_rows_read(&src, r, &c, &names, &cols, err);
    /* after the whole stream, so that it has every category */
    if (!st && !(schema = cm_rows_schema(&src, err)))
        st = err->status;
    if (!st && !(m = cm_train_fit(settings, &c, &src, src.s.taken, &names, schema, on_epoch,
                                  ctx, 1, err)))
        st = err->status;
    else if (st)
        cm_schema_free(schema);
    free(cols);
    cm_train_cfg_free(&c);
    cm_encoder_release(&names);
    cm_rowset_free(&src.d);
    cm_rowreader_release(&src.s);
    return st ? NULL : m;
}
