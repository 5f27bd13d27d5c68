/*
 * cm_clean.h - cleaning: raw CSV to a typed stream.
 */
#ifndef CM_CLEAN_H
#define CM_CLEAN_H

#include "stream/cm_stream.h"

/* ---- cleaning: raw CSV to a typed stream --------------------------------- */

/*
 * Settings are key/value pairs; cm-clean makes them from its options and
 * the same pairs, with every inferred type filled in, become the "clean"
 * step of the recipe, so a model can clean a raw row exactly the same way.
 *   delimiter  , ; tab | (the word "tab" too) or auto     decimal  . or ,
 *   header     yes|no          sample  rows used to infer types (1000)
 *   type.COL   num|cat|time|skip        time  COL[,COL...]
 *   time-format  strptime-like         tz    IANA zone of naive times (UTC)
 *   na         extra missing markers, comma-separated
 *   missing    drop|keep|ffill|interpolate    missing.COL  the same, per column
 *   max-gap    seconds a fill may bridge      range.COL  MIN:MAX
 *   lower      COL,... or all     columns  COL,... to keep     drop  COL,...
 *   sort       yes|no     sort-memory  bytes    dedupe  first|last   key  COL
 *   bad-rows   fail|skip   tmpdir  directory for sort runs
 *   replay     yes: a model replaying the recipe: no sorting, no dedupe,
 *              no row dropped but for a missing time, bad rows fail;
 *              columns the recipe types but the input lacks are empty if
 *              skipped or listed in absent-ok COL,..., otherwise an error
 */
typedef struct cm_clean cm_clean;

cm_clean *cm_clean_new(const cm_kv *settings, cm_error *err);
void cm_clean_free(cm_clean *c);
/*
 * Reads CSV from in and writes the cleaned stream to out.  name is the
 * input's name for the stream metadata; errors carry the line and column.
 */
cm_status cm_clean_run(cm_clean *c, FILE *in, const char *name, FILE *out,
                       const cm_writer_opts *wo, cm_error *err);
/* The same, handing each batch of cleaned rows to emit instead; the
 * schema they are read under is cm_clean_out_schema's, set before the
 * first batch (dictionaries growing). */
cm_status cm_clean_each(cm_clean *c, FILE *in, const char *name, cm_batch_fn emit,
                        void *ctx, cm_error *err);
const cm_schema *cm_clean_out_schema(const cm_clean *c);
/* Calls fn(ctx, row) for each record (counted from 1) left out for lack of
 * a time; with the setting replay yes it is the only one left out. */
void cm_clean_on_drop(cm_clean *c, void (*fn)(void *ctx, uint64_t row), void *ctx);
/* What the run did, as indented text lines or as one JSON object. */
void cm_clean_report(const cm_clean *c, FILE *out, int json);
/* Calls fn(ctx, rows read so far) every 65536 rows, for progress display. */
void cm_clean_on_progress(cm_clean *c, void (*fn)(void *ctx, uint64_t rows),
                          void *ctx);

#endif
