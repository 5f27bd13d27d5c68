/* net.c - the networks a model is made of, at inference: an MLP (dense
 * layers with an activation between them) and a linear map. */
#include <stdlib.h>

#include "nn/cm_nn.h"

void cm_mlp_free(cm_mlp *n)
{
    if (!n)
        return;
    for (size_t l = 0; l < n->nlayers; l++) {
        free(n->W ? n->W[l] : NULL);
        free(n->b ? n->b[l] : NULL);
    }
    free(n->W);
    free(n->b);
    free(n->size);
    free(n);
}

cm_mlp *cm_mlp_new(const size_t *size, size_t nlayers, cm_act act)
{
    cm_mlp *n = calloc(1, sizeof *n);
    if (!n || !(n->size = calloc(nlayers + 1, sizeof *n->size)) ||
        !(n->W = calloc(nlayers + 1, sizeof *n->W)) || !(n->b = calloc(nlayers + 1, sizeof *n->b))) {
        cm_mlp_free(n);
        return NULL;
    }
    n->nlayers = nlayers;
    n->act = act;
    for (size_t l = 0; l <= nlayers; l++)
        n->size[l] = size[l];
    for (size_t l = 0; l < nlayers; l++)
        if (!(n->W[l] = malloc(size[l] * size[l + 1] * sizeof(float))) ||
            !(n->b[l] = malloc(size[l + 1] * sizeof(float)))) {
            cm_mlp_free(n);
            return NULL;
        }
    return n;
}

size_t cm_mlp_scratch(const cm_mlp *n, size_t batch)
{
    size_t widest = 1;
    for (size_t l = 0; l <= n->nlayers; l++)
        widest = n->size[l] > widest ? n->size[l] : widest;
    return 2 * widest * batch;
}

const float *cm_mlp_forward(const cm_mlp *n, size_t batch, const float *x, float *scratch)
{
    size_t widest = cm_mlp_scratch(n, 1) / 2;
    float *a = scratch, *z = scratch + widest * batch;
    const float *in = x;
    for (size_t l = 0; l < n->nlayers; l++) {
        cm_dense_forward(batch, n->size[l], n->size[l + 1], in, n->W[l], n->b[l], z, 1);
        if (l + 1 < n->nlayers)
            cm_act_forward(n->act, batch * n->size[l + 1], z, z);
        float *t = a; /* the output becomes the next input */
        a = z;
        z = t;
        in = a;
    }
    return in;
}

cm_linear *cm_linear_new(size_t width, size_t nout)
{
    cm_linear *l = calloc(1, sizeof *l);
    if (!l || !(l->coef = calloc(width * nout + 1, sizeof *l->coef)) ||
        !(l->intercept = calloc(nout + 1, sizeof *l->intercept))) {
        cm_linear_free(l);
        return NULL;
    }
    l->width = width;
    l->nout = nout;
    return l;
}

void cm_linear_free(cm_linear *l)
{
    if (l) {
        free(l->coef);
        free(l->intercept);
    }
    free(l);
}

void cm_linear_forward(const cm_linear *l, size_t batch, const float *x, double *y)
{
    for (size_t r = 0; r < batch; r++)
        for (size_t o = 0; o < l->nout; o++) {
            const double *c = l->coef + o * l->width;
            double s = l->intercept[o];
            for (size_t j = 0; j < l->width; j++)
                s += c[j] * x[r * l->width + j];
            y[r * l->nout + o] = s;
        }
}
