/* dense.c - a fully connected layer, Y = X . W^T + b, and its gradients:
 * three matrix products and a column sum. */
#include <string.h>

#include "nn/cm_nn.h"

void cm_dense_forward(size_t batch, size_t in, size_t out, const float *X,
                      const float *W, const float *b, float *Y, int threads)
{
    /* The bias first, so that the product accumulates onto it: one pass
     * over Y instead of two. */
    for (size_t i = 0; i < batch; i++)
        memcpy(Y + i * out, b, out * sizeof *Y);
    cm_gemm_nt(batch, out, in, X, W, Y, 1, threads);
}

void cm_dense_backward(size_t batch, size_t in, size_t out, const float *X,
                       const float *W, const float *dY, float *dW, float *db,
                       float *dX, int threads)
{
    cm_gemm_tn(out, in, batch, dY, X, dW, 0, threads);
    /* Row by row, so that the inner loop runs along memory. */
    for (size_t j = 0; j < out; j++)
        db[j] = 0.0f;
    for (size_t i = 0; i < batch; i++)
        for (size_t j = 0; j < out; j++)
            db[j] += dY[i * out + j];
    if (dX)
        cm_gemm_nn(batch, in, out, dY, W, dX, 0, threads);
}
