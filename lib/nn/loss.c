/* loss.c - the losses of regression as means over a batch, and their
 * gradients.  Sums are in double: a batch mean of float squares loses
 * digits that the training curve then shows as noise. */
#include <math.h>

#include "nn/cm_nn.h"

/* The loss of one residual r = pred - target, and its derivative in *g. */
static double point(cm_loss_kind l, double r, double delta, double *g)
{
    switch (l) {
    case CM_LOSS_MAE:
        *g = r > 0 ? 1 : r < 0 ? -1 : 0;
        return fabs(r);
    case CM_LOSS_HUBER:
        /* PyTorch's HuberLoss: the two pieces meet with equal slope at
         * |r| = delta. */
        if (fabs(r) <= delta) {
            *g = r;
            return 0.5 * r * r;
        }
        *g = r > 0 ? delta : -delta;
        return delta * (fabs(r) - 0.5 * delta);
    case CM_LOSS_MSE:
    default:
        *g = 2 * r;
        return r * r;
    }
}

double cm_loss(cm_loss_kind l, size_t n, const float *pred, const float *target,
               float delta, float *grad)
{
    if (n == 0)
        return 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double g;
        sum += point(l, (double)pred[i] - (double)target[i], delta, &g);
        if (grad)
            grad[i] = (float)(g / (double)n);
    }
    return sum / (double)n;
}
