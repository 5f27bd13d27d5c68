/* conv.c - a causal dilated 1-D convolution over the steps of a window,
 * PyTorch's Conv1d with the input left-padded by (kernel-1)*dilation
 * zeros, so that step t sees steps t, t-d, ..., t-(kernel-1)d and never
 * a later one.  Done as one matrix product: each step's inputs gathered
 * into a row (im2col), the rows times the weights; backward scatters the
 * rows' gradients back onto the steps they came from.
 *
 * Only the steps asked for are computed: a stack whose last step alone
 * reaches the head needs, layer by layer down, only the steps that step
 * sees (cm_conv_steps), a sixth of the work of every step for the bike
 * benchmark's four layers. */
#include <string.h>

#include "nn/cm_nn.h"

size_t cm_conv_col(size_t batch, size_t T, size_t cin, size_t kernel)
{
    return batch * T * cin * kernel;
}

size_t cm_conv_steps(size_t T, size_t kernel, size_t dilation, const uint32_t *above,
                     size_t nabove, uint8_t *seen, uint32_t *steps)
{
    memset(seen, 0, T);
    for (size_t i = 0; i < nabove; i++)
        for (size_t j = 0; j < kernel; j++) {
            size_t back = j * dilation;
            if (above[i] >= back)
                seen[above[i] - back] = 1;
        }
    size_t n = 0;
    for (size_t t = 0; t < T; t++)
        if (seen[t])
            steps[n++] = (uint32_t)t;
    return n;
}

/* Step t's row: for channel c and tap j, x at t - (kernel-1-j)*dilation,
 * or 0 before the window (as PyTorch's padded Conv1d and weight order). */
static void gather(size_t batch, size_t T, size_t cin, size_t kernel, size_t dilation,
                   const uint32_t *steps, size_t ns, const float *x, float *col)
{
    size_t row = cin * kernel;
    for (size_t b = 0; b < batch; b++)
        for (size_t i = 0; i < ns; i++) {
            size_t t = steps ? steps[i] : i;
            float *r = col + (b * ns + i) * row;
            for (size_t j = 0; j < kernel; j++) {
                size_t back = (kernel - 1 - j) * dilation;
                const float *s = t >= back ? x + (b * T + t - back) * cin : NULL;
                for (size_t c = 0; c < cin; c++)
                    r[c * kernel + j] = s ? s[c] : 0.0f;
            }
        }
}

void cm_conv_forward(size_t batch, size_t T, size_t cin, size_t cout, size_t kernel,
                     size_t dilation, const uint32_t *steps, size_t ns, const float *x,
                     const float *W, const float *b, float *y, float *col, int threads)
{
    ns = steps ? ns : T;
    gather(batch, T, cin, kernel, dilation, steps, ns, x, col);
    cm_dense_forward(batch * ns, cin * kernel, cout, col, W, b, y, threads);
}

void cm_conv_backward(size_t batch, size_t T, size_t cin, size_t cout, size_t kernel,
                      size_t dilation, const uint32_t *steps, size_t ns, const float *col,
                      const float *W, const float *dy, float *dW, float *db, float *dx,
                      float *dcol, int threads)
{
    ns = steps ? ns : T;
    cm_dense_backward(batch * ns, cin * kernel, cout, col, W, dy, dW, db, dx ? dcol : NULL,
                      threads);
    if (!dx)
        return;
    memset(dx, 0, batch * T * cin * sizeof *dx);
    size_t row = cin * kernel;
    for (size_t b = 0; b < batch; b++)
        for (size_t i = 0; i < ns; i++) {
            size_t t = steps ? steps[i] : i;
            const float *r = dcol + (b * ns + i) * row;
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
