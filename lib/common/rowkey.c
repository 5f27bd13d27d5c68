/* rowkey.c - the order of rows by series, then time, then place: a
 * direct model's targets ahead (train) and a forecast's future rows
 * (forecast) both find rows of a series and time in it. */
#include "common/common.h"

int cm_rowkey_cmp(const void *a, const void *b)
{
    const cm_rowkey *p = a, *q = b;
    if (p->series != q->series)
        return p->series < q->series ? -1 : 1;
    if (p->t != q->t)
        return p->t < q->t ? -1 : 1;
    return p->row < q->row ? -1 : p->row > q->row;
}
