/*
 * nnwide.h - inside nn: the elementwise loops of training (activations,
 * bias sums, optimizer steps) built for the baseline x86-64, which runs
 * them four floats at a time, and cloned for AVX2 and AVX-512, chosen when
 * the program starts, which run eight and sixteen.  A clone does each
 * element's operations in the same order, correctly rounded, with no sum
 * reordered and no contraction under -std=c11: the same bits as the
 * baseline.  GCC 12 vectorizes such loops only at -O3, which a file
 * using CM_WIDE asks for itself.
 */
#ifndef CM_NNWIDE_H
#define CM_NNWIDE_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define CM_WIDE __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CM_WIDE
#endif

#endif
