/* ridge.c - the closed-form fit: (A + l2 I) w = b by Cholesky, in double
 * because a Gram matrix squares the condition number of its data. */
#include <math.h>

#include "nn/cm_nn.h"

/* A pivot this small relative to its diagonal entry is rounding noise
 * left by a column that depends on the earlier ones, not information:
 * dividing by it would give huge weights instead of an error.  Relative
 * to each entry, not to the largest, so that scaling a feature changes
 * nothing; 1e-12 lies well above that noise (about d * 1e-16) and well
 * below what a usable fit needs. */
#define PIVOT_TOL 1e-12

int cm_ridge_solve(size_t d, const double *A, const double *b, double l2,
                   double *w, double *work)
{
    double *L = work;

    /* Row by row (Cholesky-Banachiewicz), so that every inner product
     * runs along two contiguous rows of L. */
    for (size_t i = 0; i < d; i++) {
        double *Li = L + i * d;
        for (size_t j = 0; j < i; j++) {
            const double *Lj = L + j * d;
            double s = A[i * d + j];
            for (size_t k = 0; k < j; k++)
                s -= Li[k] * Lj[k];
            Li[j] = s / Lj[j];
        }
        double diag = A[i * d + i] + l2, s = diag;
        for (size_t k = 0; k < i; k++)
            s -= Li[k] * Li[k];
        /* Negated so that NaN (and an infinite entry) fails too. */
        if (!(s > 0 && s > PIVOT_TOL * diag))
            return -1;
        Li[i] = sqrt(s);
    }

    /* L y = b, with y kept in w. */
    for (size_t i = 0; i < d; i++) {
        const double *Li = L + i * d;
        double s = b[i];
        for (size_t k = 0; k < i; k++)
            s -= Li[k] * w[k];
        w[i] = s / Li[i];
    }
    /* L^T w = y, by columns of L^T, which are the contiguous rows of L. */
    for (size_t i = d; i-- > 0;) {
        const double *Li = L + i * d;
        w[i] /= Li[i];
        for (size_t k = 0; k < i; k++)
            w[k] -= Li[k] * w[i];
    }
    return 0;
}
