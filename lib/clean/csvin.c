/* csvin.c - CSV records pulled one at a time from a FILE, parsed by libcsv
 * in strict mode.  libcsv knows nothing of lines, so input is fed to it one
 * physical line at a time: every record then carries the line it began on,
 * and every message can point at it.  Input that starts with gzip's magic
 * is inflated on the way, a buffer at a time. */
#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "clean/csvin.h"

#define CHUNK (64u << 10)

/* Where the bytes come from: the file as it is, or inflated from gzip
 * members one after another (as `cat a.gz b.gz` makes them). */
typedef struct source {
    FILE *in;
    int gz;
    z_stream z;
    unsigned char *zbuf; /* compressed bytes read, CHUNK of them */
    int zeof;            /* the file has no more */
    int member_end;      /* the last member read ended, trailer checked */
} source;

struct cm_csv {
    source src;
    struct csv_parser p;
    char delim;
    /* input not yet fed to libcsv */
    char *buf;
    size_t start, len;
    int eof, bom_done, finished;
    uint64_t line;        /* physical line being fed, from 1 */
    uint64_t rec_line;    /* line on which the record being parsed began */
    int in_record;
    size_t since_field;   /* bytes fed since the last field ended */
    /* fields of the records completed but not yet handed out */
    cm_buf arena;
    size_t *off, *flen, nf, capf;
    size_t *rec_first, *rec_n;
    uint64_t *rec_lines;
    size_t nrec, caprec, next_rec;
    int oom;
    /* what the caller sees */
    const char **fields;
    size_t capview;
    uint64_t cur_line;
};

static void on_field(void *s, size_t len, void *data)
{
    cm_csv *c = data;
    c->since_field = 0;
    if (c->nf == c->capf) {
        size_t cap = c->capf ? c->capf * 2 : 64;
        size_t *o = realloc(c->off, cap * sizeof *o);
        size_t *l = o ? realloc(c->flen, cap * sizeof *l) : NULL;
        if (o)
            c->off = o;
        if (!l) {
            c->oom = 1;
            return;
        }
        c->flen = l;
        c->capf = cap;
    }
    uint8_t *at = cm_buf_take(&c->arena, len + 1);
    if (!at) {
        c->oom = 1;
        return;
    }
    c->off[c->nf] = (size_t)(at - c->arena.data);
    c->flen[c->nf] = len;
    if (len)
        memcpy(at, s, len);
    at[len] = '\0';
    c->nf++;
}

static void on_record(int term, void *data)
{
    cm_csv *c = data;
    (void)term;
    if (c->nrec == c->caprec) {
        size_t cap = c->caprec ? c->caprec * 2 : 8;
        size_t *f = realloc(c->rec_first, cap * sizeof *f);
        size_t *n = f ? realloc(c->rec_n, cap * sizeof *n) : NULL;
        uint64_t *l = n ? realloc(c->rec_lines, cap * sizeof *l) : NULL;
        if (f)
            c->rec_first = f;
        if (n)
            c->rec_n = n;
        if (!l) {
            c->oom = 1;
            return;
        }
        c->rec_lines = l;
        c->caprec = cap;
    }
    size_t before = c->nrec ? c->rec_first[c->nrec - 1] + c->rec_n[c->nrec - 1] : 0;
    c->rec_first[c->nrec] = before;
    c->rec_n[c->nrec] = c->nf - before;
    c->rec_lines[c->nrec] = c->rec_line;
    c->nrec++;
    c->in_record = 0;
}

/* libcsv trims spaces and tabs around unquoted fields; with a tab as the
 * delimiter only spaces may go. */
static int space_only(unsigned char ch) { return ch == ' '; }

/* Picks the candidate that splits the first lines into the same number of
 * fields, more than one; a comma when nothing does. */
static char sniff(const char *s, size_t n, char decimal)
{
    static const char cand[] = {',', ';', '\t', '|'};
    char best = decimal == ',' ? ';' : ',';
    size_t best_count = 0;
    for (size_t k = 0; k < sizeof cand; k++) {
        if (cand[k] == decimal)
            continue;
        size_t first = 0, lines = 0, consistent = 1, count = 0;
        int quoted = 0;
        for (size_t i = 0; i < n && lines < 10; i++) {
            if (s[i] == '"')
                quoted = !quoted;
            else if (!quoted && s[i] == cand[k])
                count++;
            else if (!quoted && s[i] == '\n') {
                if (lines == 0)
                    first = count;
                else if (count != first)
                    consistent = 0;
                lines++;
                count = 0;
            }
        }
        if (lines == 0)
            first = count;
        if (first > best_count && consistent) {
            best = cand[k];
            best_count = first;
        }
    }
    return best;
}

static cm_status gz_start(source *s, const char *head, size_t n, cm_error *err)
{
    if (!(s->zbuf = malloc(CHUNK)) || inflateInit2(&s->z, 15 + 16) != Z_OK)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    s->gz = 1;
    memcpy(s->zbuf, head, n);
    s->z.next_in = s->zbuf;
    s->z.avail_in = (uInt)n;
    return CM_OK;
}

/* Inflates until dst is full or the input ends after a whole member, as
 * fread fills it from a plain file: the CSV is cut into the same pieces.
 * A gzip input cut short or damaged is an error, never an end. */
static cm_status gz_read(source *s, char *dst, size_t cap, size_t *got, cm_error *err)
{
    z_stream *z = &s->z;
    z->next_out = (unsigned char *)dst;
    z->avail_out = (uInt)cap;
    while (z->avail_out > 0) {
        if (z->avail_in == 0 && !s->zeof) {
            size_t n = fread(s->zbuf, 1, CHUNK, s->in);
            if (n == 0 && ferror(s->in))
                return cm_fail_sys(err, errno, "read failed");
            s->zeof = n == 0;
            z->next_in = s->zbuf;
            z->avail_in = (uInt)n;
        }
        if (z->avail_in == 0) {
            if (s->member_end)
                break;
            return cm_fail(err, CM_ERR_TRUNCATED, "truncated gzip input");
        }
        if (s->member_end) { /* bytes after a member: the next member */
            if (z->next_in[0] != 0x1f)
                return cm_fail(err, CM_ERR_CORRUPT, "corrupt gzip input: "
                               "bytes after the end that are not gzip data");
            inflateReset(z);
            s->member_end = 0;
        }
        int r = inflate(z, Z_NO_FLUSH);
        if (r == Z_STREAM_END)
            s->member_end = 1;
        else if (r == Z_MEM_ERROR)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory");
        else if (r != Z_OK && r != Z_BUF_ERROR)
            return cm_fail(err, CM_ERR_CORRUPT, "corrupt gzip input: %s",
                           z->msg ? z->msg : "bad data");
    }
    *got = cap - z->avail_out;
    return CM_OK;
}

/* cap bytes of CSV, fewer only at the end of the input. */
static cm_status src_read(source *s, char *dst, size_t cap, size_t *got, cm_error *err)
{
    if (s->gz)
        return gz_read(s, dst, cap, got, err);
    *got = fread(dst, 1, cap, s->in);
    if (*got == 0 && ferror(s->in))
        return cm_fail_sys(err, errno, "read failed");
    return CM_OK;
}

static cm_status fill(cm_csv *c, cm_error *err)
{
    if (c->start > 0) {
        memmove(c->buf, c->buf + c->start, c->len);
        c->start = 0;
    }
    size_t got;
    cm_status st = src_read(&c->src, c->buf + c->len, CHUNK - c->len, &got, err);
    if (st)
        return st;
    c->eof = got == 0;
    c->len += got;
    return CM_OK;
}

/* A gzip input: what was read is its start, and the CSV is inside. */
static cm_status gunzip(cm_csv *c, cm_error *err)
{
    cm_status st = gz_start(&c->src, c->buf, c->len, err);
    c->len = 0;
    return st ? st : fill(c, err);
}

void cm_csv_free(cm_csv *c)
{
    if (!c)
        return;
    csv_free(&c->p);
    if (c->src.gz)
        inflateEnd(&c->src.z);
    free(c->src.zbuf);
    free(c->buf);
    cm_buf_free(&c->arena);
    free(c->off);
    free(c->flen);
    free(c->rec_first);
    free(c->rec_n);
    free(c->rec_lines);
    free(c->fields);
    free(c);
}

cm_csv *cm_csv_new(FILE *in, char delim, char decimal, cm_error *err)
{
    cm_csv *c = calloc(1, sizeof *c);
    if (!c || !(c->buf = malloc(CHUNK)) || csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI)) {
        if (c)
            free(c->buf);
        free(c);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->src.in = in;
    c->line = 1;
    if (fill(c, err) || (c->len >= 2 && !memcmp(c->buf, "\x1f\x8b", 2) && gunzip(c, err))) {
        cm_csv_free(c);
        return NULL;
    }
    const char *what = c->len >= 4 && !memcmp(c->buf, "\x89" "CMT", 4)
                           ? "a cm stream, not CSV (read it with cm-cat)"
                       : c->len >= 4 && !memcmp(c->buf, "\x89" "CMM", 4)
                           ? "a cm model file, not CSV"
                       : c->len >= 2 && !memcmp(c->buf, "\x1f\x8b", 2)
                           ? "gzip data compressed twice, not CSV"
                           : NULL;
    if (what) {
        cm_fail(err, CM_ERR_DATA, "input is %s", what);
        cm_csv_free(c);
        return NULL;
    }
    if (c->len >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0) {
        c->start = 3; /* a UTF-8 byte order mark is not part of the header */
        c->len -= 3;
    }
    c->delim = delim ? delim : sniff(c->buf + c->start, c->len, decimal);
    csv_set_delim(&c->p, (unsigned char)c->delim);
    if (c->delim == '\t') /* libcsv's own test, spaces and tabs, is inlined */
        csv_set_space_func(&c->p, space_only);
    return c;
}

char cm_csv_delim(const cm_csv *c)
{
    return c->delim;
}

uint64_t cm_csv_line(const cm_csv *c)
{
    return c->cur_line;
}

static cm_status parse_error(cm_csv *c, cm_error *err)
{
    err->line = c->rec_line;
    if (csv_error(&c->p) == CSV_EPARSE)
        return cm_fail(err, CM_ERR_DATA,
                       "malformed CSV: a quote inside an unquoted field, or "
                       "text after a closing quote");
    return cm_fail(err, CM_ERR_NOMEM, "out of memory parsing CSV: %s",
                   csv_strerror(csv_error(&c->p)));
}

/* Feeds the next physical line (or the piece of it that is buffered). */
static cm_status feed(cm_csv *c, cm_error *err)
{
    if (c->len == 0 && !c->eof && fill(c, err))
        return err->status;
    if (c->len == 0) {
        c->finished = 1;
        if (csv_fini(&c->p, on_field, on_record, c)) {
            err->line = c->rec_line;
            return cm_fail(err, CM_ERR_DATA,
                           "unterminated quoted field (the record begins here)");
        }
        return CM_OK;
    }
    const char *s = c->buf + c->start;
    const char *nl = memchr(s, '\n', c->len);
    if (!nl && !c->eof && (c->start > 0 || c->len < CHUNK)) {
        /* Make room to find the end of this line before feeding it. */
        return fill(c, err);
    }
    size_t n = nl ? (size_t)(nl - s) + 1 : c->len;
    if (!c->in_record)
        c->rec_line = c->line;
    if (memchr(s, '\0', n)) {
        err->line = c->line;
        return cm_fail(err, CM_ERR_DATA, "NUL byte in the input (binary data?)");
    }
    size_t nrec = c->nrec;
    if (csv_parse(&c->p, s, n, on_field, on_record, c) != n)
        return parse_error(c, err);
    c->since_field += n;
    if (c->oom)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    c->start += n;
    c->len -= n;
    if (nl) {
        c->line++;
        /* The line ended a record, was blank, or continues a quoted field. */
        int blank = n == 1 || (n == 2 && s[0] == '\r');
        if (c->nrec == nrec && !blank)
            c->in_record = 1;
    } else {
        c->in_record = 1;
    }
    if (c->since_field > CM_MAX_FIELD) {
        err->line = c->rec_line;
        return cm_fail(err, CM_ERR_LIMIT, "a field longer than %u bytes",
                       (unsigned)CM_MAX_FIELD);
    }
    return CM_OK;
}

int cm_csv_next(cm_csv *c, size_t *nfields, const char *const **fields,
                const size_t **lens, cm_error *err)
{
    if (c->next_rec == c->nrec) {
        /* Every queued record was handed out: reuse the storage, keeping
         * the fields libcsv already gave of a record not yet complete (a
         * piece fed can end inside one: a bare CR ends records too). */
        size_t done = c->nrec ? c->rec_first[c->nrec - 1] + c->rec_n[c->nrec - 1] : 0;
        size_t base = done < c->nf ? c->off[done] : c->arena.len;
        for (size_t i = done; i < c->nf; i++) {
            c->off[i - done] = c->off[i] - base;
            c->flen[i - done] = c->flen[i];
        }
        if (base) {
            memmove(c->arena.data, c->arena.data + base, c->arena.len - base);
            c->arena.len -= base;
        }
        c->nf -= done;
        c->nrec = c->next_rec = 0;
        while (c->nrec == 0) {
            if (c->finished)
                return 0;
            if (feed(c, err))
                return -1;
        }
    }
    size_t r = c->next_rec++;
    size_t first = c->rec_first[r], n = c->rec_n[r];
    if (n > c->capview) {
        const char **v = realloc(c->fields, n * sizeof *v);
        if (!v)
            return cm_fail(err, CM_ERR_NOMEM, "out of memory"), -1;
        c->fields = v;
        c->capview = n;
    }
    for (size_t i = 0; i < n; i++)
        c->fields[i] = (const char *)c->arena.data + c->off[first + i];
    *nfields = n;
    *fields = c->fields;
    *lens = c->flen + first;
    c->cur_line = c->rec_lines[r];
    return 1;
}
