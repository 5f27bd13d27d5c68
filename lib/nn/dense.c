/* dense.c - a fully connected layer, Y = X . W^T + b, and its gradients:
 * three matrix products and a column sum. */
#include <string.h>

#include "nn/cm_nn.h"
#include "nn/nnwide.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

/* db = the column sums of dY, row by row, so that the inner loop runs
 * along memory: each column's sum in the order of the rows, whatever the
 * width of the vector that holds it. */
CM_WIDE static void column_sums(size_t rows, size_t cols, const float *restrict dY,
                                float *restrict db)
{
    for (size_t j = 0; j < cols; j++)
        db[j] = 0.0f;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            db[j] += dY[i * cols + j];
}

void cm_dense_forward_tail(size_t batch, size_t in, size_t out, const float *X,
                           const float *W, const float *b, float *Y, int threads,
                           const cm_gemm_tail *y_tail)
{
    /* The bias first, so that the product accumulates onto it: one pass
     * over Y instead of two. */
    for (size_t i = 0; i < batch; i++)
        memcpy(Y + i * out, b, out * sizeof *Y);
    cm_gemm_nt_tail(batch, out, in, X, W, Y, 1, threads, y_tail);
}

void cm_dense_forward(size_t batch, size_t in, size_t out, const float *X,
                      const float *W, const float *b, float *Y, int threads)
{
    cm_dense_forward_tail(batch, in, out, X, W, b, Y, threads, NULL);
}

void cm_dense_backward_tail(size_t batch, size_t in, size_t out, const float *X,
                            const float *W, const float *dY, float *dW, float *db,
                            float *dX, int threads, const cm_gemm_tail *dx_tail,
                            const cm_gemm_tail *dw_tail)
{
    if (dX)
        cm_gemm_nn_tail(batch, in, out, dY, W, dX, 0, threads, dx_tail);
    cm_gemm_tn_tail(out, in, batch, dY, X, dW, 0, threads, dw_tail);
    column_sums(batch, out, dY, db);
}

void cm_dense_backward(size_t batch, size_t in, size_t out, const float *X,
                       const float *W, const float *dY, float *dW, float *db,
                       float *dX, int threads)
{
    cm_dense_backward_tail(batch, in, out, X, W, dY, dW, db, dX, threads, NULL, NULL);
}
