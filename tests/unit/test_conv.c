/* test_conv.c - the causal dilated convolution (conv.c): its outputs
 * against the sum PyTorch's padded Conv1d makes, written out in double;
 * no step seeing a later one; and every gradient (weights, bias, input)
 * by central differences, for one layer and for a stack with ReLU
 * between (dilations 1, 2, 4: the padding reached at every level). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "nn/cm_nn.h"
#include "tap.h"

typedef struct conv {
    size_t cin, cout, kernel, dilation;
    float *W, *b, *dW, *db, *y, *a, *col, *dcol, *dx;
} conv;

typedef struct stack {
    size_t batch, T, n;
    float *x;
    conv c[3];
    double *R;
} stack;

static void conv_init(conv *c, size_t batch, size_t T, size_t cin, size_t cout,
                      size_t kernel, size_t dilation)
{
    *c = (conv){cin, cout, kernel, dilation, random_floats(cout * cin * kernel, 1),
                random_floats(cout, 1), malloc(cout * cin * kernel * sizeof(float)),
                malloc(cout * sizeof(float)), malloc(batch * T * cout * sizeof(float)),
                malloc(batch * T * cout * sizeof(float)),
                malloc(cm_conv_col(batch, T, cin, kernel) * sizeof(float)),
                malloc(cm_conv_col(batch, T, cin, kernel) * sizeof(float)),
                malloc(batch * T * cin * sizeof(float))};
}

static void conv_free(conv *c)
{
    free(c->W), free(c->b), free(c->dW), free(c->db), free(c->y), free(c->a);
    free(c->col), free(c->dcol), free(c->dx);
}

/* sum(out .* R), out the last layer's output; ReLU after all but it */
static double objective(void *ctx)
{
    stack *s = ctx;
    const float *in = s->x;
    for (size_t i = 0; i < s->n; i++) {
        conv *c = &s->c[i];
        cm_conv_forward(s->batch, s->T, c->cin, c->cout, c->kernel, c->dilation, NULL, 0, in, c->W,
                        c->b, c->y, c->col, 1);
        size_t m = s->batch * s->T * c->cout;
        if (i + 1 < s->n)
            cm_act_forward(CM_ACT_RELU, m, c->y, c->a);
        else
            memcpy(c->a, c->y, m * sizeof *c->a);
        in = c->a;
    }
    const conv *top = &s->c[s->n - 1];
    double v = 0;
    for (size_t i = 0; i < s->batch * s->T * top->cout; i++)
        v += top->a[i] * s->R[i];
    return v;
}

static void backward(stack *s)
{
    objective(s);
    size_t m = s->batch * s->T * s->c[s->n - 1].cout;
    float *d = malloc(m * sizeof *d);
    for (size_t i = 0; i < m; i++)
        d[i] = (float)s->R[i];
    for (size_t i = s->n; i-- > 0;) {
        conv *c = &s->c[i];
        if (i + 1 < s->n)
            cm_act_backward(CM_ACT_RELU, s->batch * s->T * c->cout, c->y, c->a, d, d);
        cm_conv_backward(s->batch, s->T, c->cin, c->cout, c->kernel, c->dilation, NULL, 0, c->col,
                         c->W, d, c->dW, c->db, c->dx, c->dcol, 1);
        d = realloc(d, s->batch * s->T * c->cin * sizeof *d);
        memcpy(d, c->dx, s->batch * s->T * c->cin * sizeof *d);
    }
    free(d);
}

/* A nudge that moves an input to a ReLU across 0 makes the difference
 * meaningless there: such entries are left out, and counted. */
static int relu_flips(stack *s, float *p, double eps)
{
    unsigned char *before = NULL;
    size_t total = 0;
    for (size_t i = 0; i + 1 < s->n; i++)
        total += s->batch * s->T * s->c[i].cout;
    before = malloc(total + 1);
    objective(s);
    size_t k = 0;
    for (size_t i = 0; i + 1 < s->n; i++)
        for (size_t j = 0; j < s->batch * s->T * s->c[i].cout; j++)
            before[k++] = s->c[i].y[j] > 0;
    int flip = 0;
    float saved = *p;
    for (int sgn = -1; sgn <= 1; sgn += 2) {
        *p = (float)(saved + sgn * eps);
        objective(s);
        k = 0;
        for (size_t i = 0; i + 1 < s->n; i++)
            for (size_t j = 0; j < s->batch * s->T * s->c[i].cout; j++)
                flip |= before[k++] != (s->c[i].y[j] > 0);
    }
    *p = saved;
    free(before);
    return flip;
}

static double check(stack *s, float *p, float *g, size_t n, size_t *skipped)
{
    double *num = malloc(n * sizeof *num);
    for (size_t i = 0; i < n; i++) {
        if (s->n > 1 && relu_flips(s, &p[i], EPS)) {
            num[i] = g[i]; /* not judged */
            ++*skipped;
            continue;
        }
        num[i] = central(&p[i], EPS, objective, s);
    }
    double e = grad_error(n, g, num);
    free(num);
    return e;
}

static void test_grad(size_t n, size_t batch, size_t T, size_t cin, size_t width,
                      size_t kernel)
{
    stack s = {batch, T, n, random_floats(batch * T * cin, 1), {{0}}, NULL};
    for (size_t i = 0; i < n; i++)
        conv_init(&s.c[i], batch, T, i ? width : cin, width, kernel, (size_t)1 << i);
    s.R = random_doubles(batch * T * width);
    backward(&s);
    size_t skipped = 0;
    for (size_t i = 0; i < n; i++) {
        conv *c = &s.c[i];
        double ew = check(&s, c->W, c->dW, c->cout * c->cin * kernel, &skipped);
        double eb = check(&s, c->b, c->db, c->cout, &skipped);
        CHECK(ew < 5e-3 && eb < 5e-3, "conv stack of %zu, kernel %zu, %zu steps: d/d W and b of "
              "layer %zu (dilation %zu) by central differences (worst %.2g, %.2g)", n, kernel,
              T, i + 1, c->dilation, ew, eb);
    }
    double ex = check(&s, s.x, s.c[0].dx, batch * T * cin, &skipped);
    CHECK(ex < 5e-3, "conv stack of %zu, kernel %zu, %zu steps: d/d x, padding reached, by "
          "central differences (worst %.2g; %zu nudges flip a ReLU, skipped)", n, kernel, T,
          ex, skipped);
    for (size_t i = 0; i < n; i++)
        conv_free(&s.c[i]);
    free(s.x), free(s.R);
}

static void test_sum(size_t kernel, size_t dilation)
{
    size_t batch = 2, T = 7, cin = 3, cout = 2;
    conv c;
    conv_init(&c, batch, T, cin, cout, kernel, dilation);
    float *x = random_floats(batch * T * cin, 1);
    cm_conv_forward(batch, T, cin, cout, kernel, dilation, NULL, 0, x, c.W, c.b, c.y, c.col, 1);
    double worst = 0;
    for (size_t b = 0; b < batch; b++)
        for (size_t t = 0; t < T; t++)
            for (size_t f = 0; f < cout; f++) {
                double v = c.b[f];
                for (size_t ch = 0; ch < cin; ch++)
                    for (size_t j = 0; j < kernel; j++) {
                        long at = (long)t - (long)((kernel - 1 - j) * dilation);
                        if (at >= 0)
                            v += (double)c.W[(f * cin + ch) * kernel + j] *
                                 x[(b * T + (size_t)at) * cin + ch];
                    }
                worst = fmax(worst, fabs(v - c.y[(b * T + t) * cout + f]));
            }
    CHECK(worst < 1e-5, "kernel %zu, dilation %zu: PyTorch's padded Conv1d sum (worst %.2g)",
          kernel, dilation, worst);
    /* a later step changed: no earlier output moves */
    float *y0 = malloc(batch * T * cout * sizeof *y0);
    memcpy(y0, c.y, batch * T * cout * sizeof *y0);
    size_t t0 = 4;
    for (size_t b = 0; b < batch; b++)
        for (size_t ch = 0; ch < cin; ch++)
            x[(b * T + t0) * cin + ch] += 10;
    cm_conv_forward(batch, T, cin, cout, kernel, dilation, NULL, 0, x, c.W, c.b, c.y, c.col, 1);
    int causal = 1, moved = 0;
    for (size_t b = 0; b < batch; b++)
        for (size_t t = 0; t < T; t++)
            for (size_t f = 0; f < cout; f++) {
                size_t i = (b * T + t) * cout + f;
                if (t < t0)
                    causal &= c.y[i] == y0[i];
                else if (t == t0)
                    moved |= c.y[i] != y0[i];
            }
    CHECK(causal && moved, "kernel %zu, dilation %zu: step %zu moves its own output and no "
          "earlier one", kernel, dilation, t0);
    free(y0), free(x);
    conv_free(&c);
}

/* Some steps only: their outputs, and the weights' and inputs' gradients
 * from a gradient at them alone, are those of every step. */
static void test_steps(size_t kernel, size_t dilation)
{
    size_t batch = 2, T = 9, cin = 3, cout = 2, ns = 3;
    uint32_t steps[] = {2, 5, 8};
    conv all, some;
    conv_init(&all, batch, T, cin, cout, kernel, dilation);
    conv_init(&some, batch, T, cin, cout, kernel, dilation);
    memcpy(some.W, all.W, cout * cin * kernel * sizeof *some.W);
    memcpy(some.b, all.b, cout * sizeof *some.b);
    float *x = random_floats(batch * T * cin, 3), *dy = random_floats(batch * T * cout, 4);
    float *dyc = malloc(batch * ns * cout * sizeof *dyc);
    for (size_t b = 0; b < batch; b++)
        for (size_t t = 0, i = 0; t < T; t++) {
            int listed = i < ns && steps[i] == t;
            for (size_t f = 0; f < cout; f++) {
                if (listed)
                    dyc[(b * ns + i) * cout + f] = dy[(b * T + t) * cout + f];
                else
                    dy[(b * T + t) * cout + f] = 0;
            }
            i += (size_t)listed;
        }
    cm_conv_forward(batch, T, cin, cout, kernel, dilation, NULL, 0, x, all.W, all.b, all.y,
                    all.col, 1);
    cm_conv_forward(batch, T, cin, cout, kernel, dilation, steps, ns, x, some.W, some.b,
                    some.y, some.col, 1);
    double wy = 0, wg = 0;
    for (size_t b = 0; b < batch; b++)
        for (size_t i = 0; i < ns; i++)
            for (size_t f = 0; f < cout; f++)
                wy = fmax(wy, fabs(some.y[(b * ns + i) * cout + f] -
                                   all.y[(b * T + steps[i]) * cout + f]));
    cm_conv_backward(batch, T, cin, cout, kernel, dilation, NULL, 0, all.col, all.W, dy,
                     all.dW, all.db, all.dx, all.dcol, 1);
    cm_conv_backward(batch, T, cin, cout, kernel, dilation, steps, ns, some.col, some.W, dyc,
                     some.dW, some.db, some.dx, some.dcol, 1);
    for (size_t i = 0; i < cout * cin * kernel; i++)
        wg = fmax(wg, fabs(some.dW[i] - all.dW[i]));
    for (size_t i = 0; i < cout; i++)
        wg = fmax(wg, fabs(some.db[i] - all.db[i]));
    for (size_t i = 0; i < batch * T * cin; i++)
        wg = fmax(wg, fabs(some.dx[i] - all.dx[i]));
    CHECK(wy < 1e-6 && wg < 1e-5, "kernel %zu, dilation %zu: steps 2, 5, 8 alone give every "
          "step's outputs there (worst %.2g) and gradients (worst %.2g)", kernel, dilation, wy,
          wg);
    /* the steps a layer's steps see, and only those */
    uint8_t seen[9];
    uint32_t below[9], top[] = {8};
    size_t nb = cm_conv_steps(T, kernel, dilation, top, 1, seen, below);
    int right = nb == (8 / dilation + 1 < kernel ? 8 / dilation + 1 : kernel);
    for (size_t i = 0; right && i < nb; i++)
        right = below[i] == 8 - (nb - 1 - i) * dilation;
    CHECK(right, "kernel %zu, dilation %zu: step 8 sees %zu steps below it", kernel, dilation,
          nb);
    conv_free(&all), conv_free(&some);
    free(x), free(dy), free(dyc);
}

int main(void)
{
    test_sum(1, 1);
    test_sum(3, 1);
    test_sum(3, 2);
    test_sum(2, 4);
    test_grad(1, 2, 5, 3, 4, 3);
    test_grad(3, 2, 6, 2, 3, 3);
    test_grad(3, 1, 9, 2, 3, 2);
    test_steps(3, 1);
    test_steps(3, 2);
    test_steps(2, 4);
    return tap_done();
}
