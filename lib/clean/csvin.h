/*
 * csvin.h - CSV records from a stream, with the line each began on.
 * Internal to libcm: cm-clean's engine and the recipe replay read CSV
 * through it.
 */
#ifndef CM_CSVIN_H
#define CM_CSVIN_H

#include "common/common.h"
#include "clean/cm_clean.h"

#define CM_MAX_FIELD (1u << 20) /* bytes of one CSV field */

typedef struct cm_csv cm_csv;

/* delim 0: guessed from the first lines among , ; tab |, never `decimal`
 * (a decimal comma makes commas common inside fields).  Input that begins
 * with gzip's magic (1F 8B) is inflated as it is read, member after
 * member; one cut short or damaged is CM_ERR_TRUNCATED or CM_ERR_CORRUPT. */
cm_csv *cm_csv_new(FILE *in, char delim, char decimal, cm_error *err);
void cm_csv_free(cm_csv *c);
char cm_csv_delim(const cm_csv *c);
/* Next record: 1 and its fields (NUL-terminated, valid until the next
 * call), 0 at the end of input, -1 with err set (err->line too). */
int cm_csv_next(cm_csv *c, size_t *nfields, const char *const **fields,
                const size_t **lens, cm_error *err);
/* Line on which the last record returned began. */
uint64_t cm_csv_line(const cm_csv *c);

#endif
