/*
 * stream.h - inside the stream module: the layout of a batch, and the
 * dictionary's life cycle, which only schemas manage.
 */
#ifndef CM_STREAM_INTERNAL_H
#define CM_STREAM_INTERNAL_H

#include "common/common.h"
#include "stream/cm_stream.h"

struct cm_batch {
    size_t cap, nrows, ncols;
    void **values;
    uint8_t **valid;
};

cm_dict *cm_dict_new(void);
void cm_dict_free(cm_dict *d);
cm_dict *cm_dict_clone(const cm_dict *d);

#endif
