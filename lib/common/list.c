/* list.c - comma-separated lists in settings, split once. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

void cm_list_free(cm_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->item[i]);
    free(l->item);
    memset(l, 0, sizeof *l);
}

cm_status cm_list_split(cm_list *l, const char *text, cm_error *err)
{
    cm_list_free(l);
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    if (!(l->item = calloc(n, sizeof *l->item)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (const char *p = text;; l->n++) {
        size_t w = strcspn(p, ",");
        if (!(l->item[l->n] = cm_strndup(p, w))) {
            cm_list_free(l);
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        }
        if (!p[w]) {
            l->n++;
            return CM_OK;
        }
        p += w + 1;
    }
}

long cm_list_find(const cm_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->item[i], s) == 0)
            return (long)i;
    return -1;
}
