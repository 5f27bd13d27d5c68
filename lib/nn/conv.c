/* conv.c - a causal dilated 1-D convolution over the steps of a window,
 * PyTorch's Conv1d with the input left-padded by (kernel-1)*dilation
 * zeros, so that step t sees steps t, t-d, ..., t-(kernel-1)d and never
 * a later one.  Done as one matrix product: each step's inputs gathered
 * into a row (im2col), the rows times the weights; backward scatters the
 * rows' gradients back onto the steps they came from. */
#include <string.h>

#include "nn/cm_nn.h"

size_t cm_conv_col(size_t batch, size_t T, size_t cin, size_t kernel)
{
    return batch * T * cin * kernel;
}

/* Step t's row: for channel c and tap j, x at t - (kernel-1-j)*dilation,
 * or 0 before the window (as PyTorch's padded Conv1d and weight order). */
static void gather(size_t batch, size_t T, size_t cin, size_t kernel, size_t dilation,
                   const float *x, float *col)
{
    size_t row = cin * kernel;
    for (size_t b = 0; b < batch; b++)
        for (size_t t = 0; t < T; t++) {
            float *r = col + (b * T + t) * row;
            for (size_t j = 0; j < kernel; j++) {
                size_t back = (kernel - 1 - j) * dilation;
                const float *s = t >= back ? x + (b * T + t - back) * cin : NULL;
                for (size_t c = 0; c < cin; c++)
                    r[c * kernel + j] = s ? s[c] : 0.0f;
            }
        }
}

void cm_conv_forward(size_t batch, size_t T, size_t cin, size_t cout, size_t kernel,
                     size_t dilation, const float *x, const float *W, const float *b,
                     float *y, float *col, int threads)
{
    gather(batch, T, cin, kernel, dilation, x, col);
    cm_dense_forward(batch * T, cin * kernel, cout, col, W, b, y, threads);
}

void cm_conv_backward(size_t batch, size_t T, size_t cin, size_t cout, size_t kernel,
                      size_t dilation, const float *col, const float *W, const float *dy,
                      float *dW, float *db, float *dx, float *dcol, int threads)
{
    cm_dense_backward(batch * T, cin * kernel, cout, col, W, dy, dW, db, dx ? dcol : NULL,
                      threads);
    if (!dx)
        return;
    memset(dx, 0, batch * T * cin * sizeof *dx);
    size_t row = cin * kernel;
    for (size_t b = 0; b < batch; b++)
        for (size_t t = 0; t < T; t++) {
            const float *r = dcol + (b * T + t) * row;
            for (size_t j = 0; j < kernel; j++) {
                size_t back = (kernel - 1 - j) * dilation;
                if (t < back)
                    continue; /* a padding zero: nothing to send back */
                float *s = dx + (b * T + t - back) * cin;
                for (size_t c = 0; c < cin; c++)
                    s[c] += r[c * kernel + j];
            }
        }
}
