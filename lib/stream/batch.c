/* batch.c - a block of rows held column by column, the unit every stage
 * reads, transforms and writes; a stage holds one at a time. */
#include <stdlib.h>
#include <string.h>

#include "stream/stream.h"

cm_batch *cm_batch_new(const cm_schema *s, size_t capacity)
{
    cm_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->cap = capacity;
    b->ncols = cm_schema_ncols(s);
    b->values = calloc(b->ncols ? b->ncols : 1, sizeof *b->values);
    b->valid = calloc(b->ncols ? b->ncols : 1, sizeof *b->valid);
    if (!b->values || !b->valid)
        goto fail;
    for (size_t c = 0; c < b->ncols; c++) {
        /* calloc so that untouched values are zero and deterministic */
        b->values[c] = calloc(capacity ? capacity : 1,
                              cm_dtype_width(cm_schema_dtype(s, c)));
        b->valid[c] = calloc(capacity ? capacity : 1, 1);
        if (!b->values[c] || !b->valid[c])
            goto fail;
    }
    return b;
fail:
    cm_batch_free(b);
    return NULL;
}

void cm_batch_free(cm_batch *b)
{
    if (!b)
        return;
    for (size_t c = 0; b->values && c < b->ncols; c++) {
        free(b->values[c]);
        if (b->valid)
            free(b->valid[c]);
    }
    free(b->values);
    free(b->valid);
    free(b);
}

size_t cm_batch_capacity(const cm_batch *b) { return b->cap; }
size_t cm_batch_ncols(const cm_batch *b) { return b->ncols; }
size_t cm_batch_nrows(const cm_batch *b) { return b->nrows; }

void cm_batch_set_nrows(cm_batch *b, size_t nrows)
{
    b->nrows = nrows <= b->cap ? nrows : b->cap;
}

void *cm_batch_values(cm_batch *b, size_t col) { return b->values[col]; }
const void *cm_batch_values_c(const cm_batch *b, size_t col) { return b->values[col]; }
uint8_t *cm_batch_valid(cm_batch *b, size_t col) { return b->valid[col]; }
const uint8_t *cm_batch_valid_c(const cm_batch *b, size_t col) { return b->valid[col]; }

void cm_batch_copy_row(const cm_schema *s, cm_batch *dst, size_t di,
                       const cm_batch *src, size_t si)
{
    size_t n = cm_schema_ncols(s);
    for (size_t c = 0; c < n; c++) {
        cm_cell_copy(dst->values[c], di, src->values[c], si,
                     cm_dtype_width(cm_schema_dtype(s, c)));
        dst->valid[c][di] = src->valid[c][si];
    }
}

cm_cols cm_batch_cols(cm_batch *b)
{
    return (cm_cols){b->nrows, b->ncols, b->values, b->valid};
}

cm_ccols cm_batch_ccols(const cm_batch *b)
{
    return (cm_ccols){b->nrows, b->ncols, (const void *const *)b->values,
                      (const uint8_t *const *)b->valid};
}
