/* fuzz.h - what the fuzz targets share: the input as a FILE, and a sink
 * for what they write.  Each target is one LLVMFuzzerTestOneInput over a
 * library entry point that real input reaches; built with libFuzzer by
 * `make fuzz`, and with replay.c (no libFuzzer) to replay the corpora in
 * `make check`. */
#ifndef CM_FUZZ_H
#define CM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The model of fuzzmodel.c, made anew. */
cm_model *fuzz_model(void);
/* A predictor of a new fuzz_model, into *model (aborts on failure). */
cm_predictor *fuzz_predictor(cm_model **model);

/* The bytes as a FILE to read (an empty input too). */
static inline FILE *fuzz_file(const uint8_t *data, size_t n)
{
    return n ? fmemopen((void *)(uintptr_t)data, n, "rb") : fopen("/dev/null", "rb");
}

/* Where output goes: nowhere, but through every byte of stdio. */
static inline FILE *fuzz_sink(void)
{
    return fopen("/dev/null", "wb");
}

#endif
