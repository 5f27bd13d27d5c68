/*
 * codec.h - payloads of the cm stream's messages, encoded into and decoded
 * from byte buffers.  The writer and reader move them through frame.c.
 */
#ifndef CM_CODEC_H
#define CM_CODEC_H

#include "stream/stream.h"

#define CM_STREAM_MAJOR 1
#define CM_STREAM_MINOR 0

enum {
    CM_MSG_SCHEMA = 1,
    CM_MSG_RECIPE = 2,
    CM_MSG_DICT = 3,
    CM_MSG_BATCH = 4,
    CM_MSG_END = 5,
    /* 0x100-0x1ff: extensions a reader may skip (their CRC still checked) */
    CM_MSG_SKIP_FIRST = 0x100,
    CM_MSG_SKIP_LAST = 0x1ff
};

/* Column encodings inside a batch. */
enum {
    CM_ENC_PLAIN = 0,   /* values little-endian, one after another */
    CM_ENC_SHUFFLE = 1, /* byte planes: byte k of every value, then k+1 */
    CM_ENC_DELTA = 2    /* 64-bit differences to the previous value, shuffled */
};

/* A key/value list: a u32 count, then each key and value as u32-prefixed
 * strings; decoding refuses a repeated key or text not UTF-8. */
void cm_encode_kv(cm_buf *out, const cm_kv *kv);
cm_status cm_decode_kv(cm_cursor *c, cm_kv *kv, const char *file, const char *what,
                       cm_error *err);
/* file is "stream" or "model file", for the messages. */
void cm_encode_schema(cm_buf *out, const cm_schema *s);
void cm_encode_recipe(cm_buf *out, const cm_schema *s);
/* Entries [first, size) of column col's dictionary. */
void cm_encode_dict(cm_buf *out, const cm_schema *s, size_t col, uint32_t first);
/* Most bytes a batch of nrows can encode to. */
size_t cm_batch_bytes(const cm_schema *s, size_t nrows);
/* Rows [first, first + nrows) of b; scratch holds a column while it is
 * transformed. */
cm_status cm_encode_batch(cm_buf *out, cm_buf *scratch, const cm_schema *s,
                          const cm_batch *b, size_t first, size_t nrows,
                          cm_layout layout, cm_error *err);

cm_status cm_decode_schema(const uint8_t *p, size_t n, cm_schema *s, const char *file,
                           cm_error *err);
cm_status cm_decode_recipe(const uint8_t *p, size_t n, cm_schema *s, const char *file,
                           cm_error *err);
cm_status cm_decode_dict(const uint8_t *p, size_t n, cm_schema *s, const char *file,
                           cm_error *err);
/* Decodes into *b, replacing it with a larger batch when needed. */
cm_status cm_decode_batch(const uint8_t *p, size_t n, const cm_schema *s,
                          cm_batch **b, cm_error *err);

#endif
