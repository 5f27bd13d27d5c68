/* table.c - the text tables cm's programs print (CSV with a header, or
 * TSV: cm-predict, cm-train --history, cm-tune's results), read back for
 * plotting: comment lines (#) skipped, quoted fields unquoted, each cell
 * kept as text until a plot asks for a number or a time. */
#include <stdlib.h>
#include <string.h>

#include "plot/plot.h"

void plot_table_free(plot_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->ncols; i++)
        free(t->name[i]);
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cell[i]);
    free(t->name);
    free(t->cell);
    free(t);
}

/* The fields of one line, split at sep, "quoted" ones unquoted. */
static cm_status split(const char *line, char sep, cm_list *out, cm_error *err)
{
    cm_buf b = {0};
    const char *p = line;
    *out = (cm_list){0};
    size_t cap = 0;
    for (;;) {
        b.len = 0;
        if (*p == '"') {
            for (p++; *p && !(*p == '"' && p[1] != '"'); p++) {
                if (*p == '"')
                    p++;
                cm_buf_u8(&b, (uint8_t)*p);
            }
            if (*p == '"')
                p++;
        }
        for (; *p && *p != sep; p++)
            cm_buf_u8(&b, (uint8_t)*p);
        cm_buf_u8(&b, 0);
        if (b.oom || cm_resize(&out->item, cap, out->n + 1, sizeof *out->item, err)) {
            cm_buf_free(&b);
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        }
        cap = out->n + 1;
        if (!(out->item[out->n++] = cm_strdup((const char *)b.data))) {
            cm_buf_free(&b);
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        }
        if (!*p)
            break;
        p++;
    }
    cm_buf_free(&b);
    return CM_OK;
}

plot_table *plot_table_read(FILE *in, const char *name, cm_error *err)
{
    plot_table *t = calloc(1, sizeof *t);
    char *line = NULL;
    size_t cap = 0, ncell = 0, lineno = 0;
    ssize_t len;
    cm_status st = t ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    while (!st && (len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (line[0] == '#') {
            if (!t->name && !t->comment[0])
                snprintf(t->comment, sizeof t->comment, "%s", line);
            continue;
        }
        if (!len && !t->name)
            continue;
        cm_list f;
        if (!t->name)
            t->sep = strchr(line, '\t') ? '\t' : ',';
        if ((st = split(line, t->sep, &f, err)))
            break;
        if (!t->name) {
            t->name = f.item;
            t->ncols = f.n;
            continue;
        }
        if (f.n != t->ncols) {
            cm_list_free(&f);
            st = cm_fail(err, CM_ERR_DATA, "line %zu: %zu fields, the header has %zu", lineno,
                         f.n, t->ncols);
            err->line = lineno;
            break;
        }
        if (cm_resize(&t->cell, ncell, ncell + f.n, sizeof *t->cell, err)) {
            cm_list_free(&f);
            st = CM_ERR_NOMEM;
            break;
        }
        memcpy(t->cell + ncell, f.item, f.n * sizeof *f.item);
        ncell += f.n;
        t->nrows++;
        free(f.item);
    }
    free(line);
    if (!st && ferror(in))
        st = cm_fail_sys(err, errno, "read failed");
    if (!st && !t->name)
        st = cm_fail(err, CM_ERR_DATA, "empty: no header line");
    if (st) {
        plot_table_free(t);
        return NULL;
    }
    (void)name;
    return t;
}

long plot_col(const plot_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (!strcmp(t->name[i], name))
            return (long)i;
    return -1;
}

const char *plot_cell(const plot_table *t, size_t row, size_t col)
{
    return t->cell[row * t->ncols + col];
}

int plot_num(const plot_table *t, size_t row, size_t col, double *v)
{
    const char *s = plot_cell(t, row, col);
    return *s && !cm_parse_num(s, strlen(s), '.', v) ? 0 : -1;
}

int plot_time(const plot_table *t, size_t row, size_t col, int64_t *wall)
{
    const char *s = plot_cell(t, row, col);
    cm_walltime w;
    if (cm_parse_time(s, strlen(s), &w) == CM_TIME_NONE)
        return -1;
    *wall = w.wall;
    return 0;
}
