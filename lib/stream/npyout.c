/* npyout.c - a stream's rows as NumPy files (the .npy format, version
 * 1.0): the number columns as one float64 matrix (.npy), or every column
 * an array of its own in a .npz (a ZIP of .npy files, stored, as
 * numpy.savez writes it): numbers float64 (NaN missing), times
 * datetime64[s] (NaT missing), categories int32 codes (-1 missing) and
 * their strings as NAME_categories.  Rows go to temporary files while the
 * stream is read, since a .npy header states the row count first. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "stream/stream.h"

struct cm_npy {
    int npz;
    size_t ncols;
    long *cols;   /* npy: the number columns; npz: every column */
    FILE **data;  /* npy: one file; npz: one a column */
    uint64_t rows;
};

static int number(cm_dtype t)
{
    return t == CM_F32 || t == CM_F64 || t == CM_I64;
}

void cm_npy_free(cm_npy *w)
{
    if (!w)
        return;
    for (size_t i = 0; w->data && i < (w->npz ? w->ncols : 1); i++)
        if (w->data[i])
            fclose(w->data[i]);
    free(w->data);
    free(w->cols);
    free(w);
}

cm_npy *cm_npy_new(const cm_schema *s, int npz, cm_error *err)
{
    cm_npy *w = calloc(1, sizeof *w);
    size_t n = cm_schema_ncols(s);
    if (!w || !(w->cols = calloc(n + 1, sizeof *w->cols))) {
        free(w);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    w->npz = npz;
    for (size_t c = 0; c < n; c++)
        if (npz || number(cm_schema_dtype(s, c)))
            w->cols[w->ncols++] = (long)c;
    cm_status st = CM_OK;
    if (!w->ncols)
        st = cm_fail(err, CM_ERR_DATA, "no number columns for a .npy matrix (-f npz writes "
                     "times and categories too)");
    else if (npz && w->ncols > 1000)
        st = cm_fail(err, CM_ERR_LIMIT, "%zu columns: a .npz of at most 1000", w->ncols);
    size_t files = npz ? w->ncols : 1;
    if (!st && !(w->data = calloc(files, sizeof *w->data)))
        st = cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < files; i++)
        if (!(w->data[i] = tmpfile()))
            st = cm_fail_sys(err, errno, "a temporary file");
    if (st) {
        cm_npy_free(w);
        return NULL;
    }
    return w;
}

static void put_le(FILE *f, uint64_t v, int bytes)
{
    unsigned char b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    fwrite(b, 1, (size_t)bytes, f);
}

static void put_f64(FILE *f, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_le(f, u, 8);
}

cm_status cm_npy_add(cm_npy *w, const cm_schema *s, const cm_batch *b, cm_error *err)
{
    cm_ccols c = cm_batch_ccols(b);
    for (size_t i = 0; i < c.nrows; i++)
        for (size_t k = 0; k < w->ncols; k++) {
            size_t col = (size_t)w->cols[k];
            FILE *f = w->data[w->npz ? k : 0];
            cm_dtype t = cm_schema_dtype(s, col);
            int ok = c.valid[col][i];
            if (t == CM_TIME)
                put_le(f, ok ? (uint64_t)((const int64_t *)c.values[col])[i] : (uint64_t)INT64_MIN, 8);
            else if (t == CM_CAT)
                put_le(f, ok ? ((const uint32_t *)c.values[col])[i] : UINT32_MAX, 4);
            else
                put_f64(f, ok ? cm_cell_f64(c.values[col], t, i) : NAN);
        }
    w->rows += c.nrows;
    for (size_t i = 0; i < (w->npz ? w->ncols : 1); i++)
        if (ferror(w->data[i]))
            return cm_fail_sys(err, errno, "a temporary file: write failed");
    return CM_OK;
}

/* The .npy header: magic, version 1.0, the dict padded with spaces to a
 * multiple of 64 bytes, ending in a newline. */
static size_t npy_header(char *h, size_t n, const char *descr, uint64_t rows, size_t cols,
                         int matrix)
{
    char dict[200];
    int k = matrix ? snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, "
                              "'shape': (%llu, %zu), }", descr, (unsigned long long)rows, cols)
                   : snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, "
                              "'shape': (%llu,), }", descr, (unsigned long long)rows);
    size_t total = (10 + (size_t)k + 1 + 63) / 64 * 64, len = total - 10;
    if (total > n)
        return 0;
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    h[8] = (char)(len & 0xff), h[9] = (char)(len >> 8);
    memcpy(h + 10, dict, (size_t)k);
    memset(h + 10 + k, ' ', len - (size_t)k - 1);
    h[total - 1] = '\n';
    return total;
}

/* Copies all of in to out. */
static int copy(FILE *in, FILE *out)
{
    char buf[65536];
    size_t n;
    rewind(in);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    return ferror(in) ? -1 : 0;
}

/* The strings of a category column as a '<U' array: UTF-32, each padded
 * to the longest, written to f; its descr into descr. */
static void strings(FILE *f, const cm_dict *d, char *descr, size_t n)
{
    size_t most = 1;
    for (uint32_t i = 0; i < cm_dict_size(d); i++) {
        size_t len, cps = 0;
        const char *s = cm_dict_string(d, i, &len);
        for (size_t j = 0; j < len; j++)
            cps += ((unsigned char)s[j] & 0xC0) != 0x80;
        most = cps > most ? cps : most;
    }
    snprintf(descr, n, "<U%zu", most);
    for (uint32_t i = 0; i < cm_dict_size(d); i++) {
        size_t len, cps = 0;
        const unsigned char *s = (const unsigned char *)cm_dict_string(d, i, &len);
        for (size_t j = 0; j < len; cps++) {
            uint32_t u = s[j];
            int more = u >= 0xF0 ? 3 : u >= 0xE0 ? 2 : u >= 0xC0 ? 1 : 0;
            u &= more == 3 ? 0x07 : more == 2 ? 0x0F : more == 1 ? 0x1F : 0x7F;
            for (j++; more-- > 0 && j < len; j++)
                u = u << 6 | (s[j] & 0x3F);
            put_le(f, u, 4);
        }
        for (; cps < most; cps++)
            put_le(f, 0, 4);
    }
}

/* A ZIP member: its name, CRC, size and where its local header began. */
typedef struct member {
    char name[CM_MAX_NAME + 32];
    uLong crc;
    uint64_t size, at;
} member;

static void local_header(FILE *out, const member *m)
{
    size_t k = strlen(m->name);
    put_le(out, 0x04034b50, 4);
    put_le(out, 20, 2), put_le(out, 0, 2), put_le(out, 0, 2); /* version, flags, stored */
    put_le(out, 0, 2), put_le(out, 0x21, 2);                   /* time, date: 1980-01-01 */
    put_le(out, m->crc, 4), put_le(out, m->size, 4), put_le(out, m->size, 4);
    put_le(out, k, 2), put_le(out, 0, 2);
    fwrite(m->name, 1, k, out);
}

/* One .npy member of the ZIP: its header, then the data of in (NULL:
 * none), its CRC and size first in the local header. */
static cm_status member_out(FILE *out, uint64_t *pos, member *m, const char *hdr, size_t hlen,
                            FILE *in, FILE *tmp, cm_error *err)
{
    /* the CRC and size come first in the local header: the member is
     * put together in tmp, then copied */
    rewind(tmp);
    if (ftruncate(fileno(tmp), 0))
        return cm_fail_sys(err, errno, "a temporary file");
    fwrite(hdr, 1, hlen, tmp);
    if (in && copy(in, tmp))
        return cm_fail_sys(err, errno, "a temporary file: read failed");
    fflush(tmp);
    m->size = (uint64_t)ftello(tmp);
    if (m->size > 0xFFFFFFFFu)
        return cm_fail(err, CM_ERR_LIMIT, "%s: over 4 GiB, more than a .npz holds", m->name);
    m->crc = crc32(0, NULL, 0);
    rewind(tmp);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, tmp)) > 0)
        m->crc = crc32(m->crc, (const Bytef *)buf, (uInt)n);
    m->at = *pos; /* counted: the output may be a pipe */
    *pos += 30 + strlen(m->name) + m->size;
    local_header(out, m);
    return copy(tmp, out) ? cm_fail_sys(err, errno, "a temporary file: read failed")
                                : CM_OK;
}

cm_status cm_npy_finish(cm_npy *w, const cm_schema *s, FILE *out, cm_error *err)
{
    char hdr[512];
    if (!w->npz) {
        size_t n = npy_header(hdr, sizeof hdr, "<f8", w->rows, w->ncols, 1);
        fwrite(hdr, 1, n, out);
        if (copy(w->data[0], out))
            return cm_fail_sys(err, errno, "a temporary file: read failed");
        return ferror(out) ? cm_fail_sys(err, errno, "write failed") : CM_OK;
    }
    size_t nm = 0;
    uint64_t pos = 0;
    member *m = calloc(2 * w->ncols + 1, sizeof *m);
    FILE *tmp = tmpfile();
    cm_status st = m && tmp ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (size_t k = 0; !st && k < w->ncols; k++) {
        size_t col = (size_t)w->cols[k];
        cm_dtype t = cm_schema_dtype(s, col);
        const char *descr = t == CM_TIME ? "<M8[s]" : t == CM_CAT ? "<i4" : "<f8";
        snprintf(m[nm].name, sizeof m[nm].name, "%s.npy", cm_schema_name(s, col));
        size_t n = npy_header(hdr, sizeof hdr, descr, w->rows, 1, 0);
        st = member_out(out, &pos, &m[nm++], hdr, n, w->data[k], tmp, err);
        if (!st && t == CM_CAT) { /* the strings of the codes */
            FILE *sf = tmpfile();
            char sd[32];
            if (!sf) {
                st = cm_fail_sys(err, errno, "a temporary file");
                break;
            }
            const cm_dict *d = cm_schema_dict_c(s, col);
            strings(sf, d, sd, sizeof sd);
            snprintf(m[nm].name, sizeof m[nm].name, "%s_categories.npy", cm_schema_name(s, col));
            n = npy_header(hdr, sizeof hdr, sd, cm_dict_size(d), 1, 0);
            st = member_out(out, &pos, &m[nm++], hdr, n, sf, tmp, err);
            fclose(sf);
        }
    }
    /* the central directory, then its end */
    uint64_t dir = pos;
    for (size_t i = 0; !st && i < nm; i++) {
        size_t k = strlen(m[i].name);
        pos += 46 + k;
        put_le(out, 0x02014b50, 4);
        put_le(out, 20, 2), put_le(out, 20, 2), put_le(out, 0, 2), put_le(out, 0, 2);
        put_le(out, 0, 2), put_le(out, 0x21, 2);
        put_le(out, m[i].crc, 4), put_le(out, m[i].size, 4), put_le(out, m[i].size, 4);
        put_le(out, k, 2), put_le(out, 0, 2), put_le(out, 0, 2), put_le(out, 0, 2);
        put_le(out, 0, 2), put_le(out, 0, 4), put_le(out, m[i].at, 4);
        fwrite(m[i].name, 1, k, out);
    }
    uint64_t end = pos;
    if (!st && (end > 0xFFFFFFFFu || nm > 0xFFFF))
        st = cm_fail(err, CM_ERR_LIMIT, "over 4 GiB, more than a .npz holds");
    if (!st) {
        put_le(out, 0x06054b50, 4);
        put_le(out, 0, 2), put_le(out, 0, 2), put_le(out, nm, 2), put_le(out, nm, 2);
        put_le(out, end - dir, 4), put_le(out, dir, 4), put_le(out, 0, 2);
    }
    if (!st && ferror(out))
        st = cm_fail_sys(err, errno, "write failed");
    if (tmp)
        fclose(tmp);
    free(m);
    return st;
}
