/*
 * frame.h - the container shared by cm streams and model files: a 16-byte
 * file header, then messages, each a 20-byte header and a payload that is
 * stored or zlib-compressed and covered by a CRC-32.  See cm-tensor(5).
 */
#ifndef CM_FRAME_H
#define CM_FRAME_H

#include "stream/stream.h"

#define CM_MAGIC_LEN 8
#define CM_FILE_HEADER 16
#define CM_MSG_HEADER 20
#define CM_MSG_DEFLATE 1u /* message flag: payload is a zlib stream */

extern const uint8_t cm_magic_stream[CM_MAGIC_LEN];
extern const uint8_t cm_magic_model[CM_MAGIC_LEN];
extern const uint8_t cm_magic_journal[CM_MAGIC_LEN]; /* cm-serve's live history */

typedef struct cm_frame cm_frame;

/* A frame writing at level (reading: any), for files of this magic. */
cm_frame *cm_frame_new(int level, const uint8_t *magic);
void cm_frame_free(cm_frame *f);

/* Writes the file header: magic, major, minor, flags (0), CRC-32. */
cm_status cm_frame_write_header(FILE *out, const uint8_t *magic, uint8_t major,
                                uint8_t minor, cm_error *err);
/*
 * Reads the file header, telling a foreign input (empty, text, gzip) apart
 * from a damaged one.  Refuses a major version outside lo..hi; the file's
 * versions go to *major and *minor (each when not NULL).
 */
cm_status cm_frame_read_header(FILE *in, const uint8_t *magic, uint8_t lo, uint8_t hi,
                               uint8_t *major, uint8_t *minor, cm_error *err);

/* Compresses (level > 0) and writes one message. */
cm_status cm_frame_write(cm_frame *f, FILE *out, uint32_t type,
                         const uint8_t *raw, size_t len, cm_error *err);
/*
 * Reads one message into the frame's payload buffer, checked and
 * decompressed: CM_OK, or an error (CM_ERR_TRUNCATED when input ends).
 */
cm_status cm_frame_read(cm_frame *f, FILE *in, uint32_t *type,
                        const uint8_t **raw, size_t *len, cm_error *err);
/* cm_frame_read of a message that must be of type want. */
cm_status cm_frame_expect(cm_frame *f, FILE *in, uint32_t want, const uint8_t **raw,
                          size_t *len, cm_error *err);
/* Bytes the last message took in the file, header included. */
uint64_t cm_frame_stored(const cm_frame *f);

#endif
