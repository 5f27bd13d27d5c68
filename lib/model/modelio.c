/* modelio.c - model files (cm-model(5)): the stream container with its
 * own magic; the training schema, recipe and dictionaries as in a stream,
 * then the metadata, the encoder, the weight tensors and an end marker. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stream/codec.h"
#include "stream/frame.h"
#include "model/model.h"

enum { MSG_MODEL = 16, MSG_ENCODER = 17, MSG_TENSOR = 18 };

/* ---- writing -------------------------------------------------------------- */

static void put_f64(cm_buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    cm_buf_u64(b, u);
}

struct cm_tensor_out {
    cm_frame *frame;
    FILE *f;
    cm_buf buf;
    uint64_t tensors;
};

static cm_status emit(cm_tensor_out *o, uint32_t type, cm_error *err)
{
    cm_status st = o->buf.oom ? cm_fail(err, CM_ERR_NOMEM, "out of memory")
                              : cm_frame_write(o->frame, o->f, type, o->buf.data,
                                               o->buf.len, err);
    o->buf.len = 0;
    return st;
}

cm_status cm_tensor_write(cm_tensor_out *o, const char *name, int type, size_t d0,
                          size_t d1, const void *data, cm_error *err)
{
    cm_buf *b = &o->buf;
    cm_buf_str(b, name, strlen(name));
    cm_buf_u8(b, (uint8_t)type);
    cm_buf_u8(b, d1 ? 2 : 1);
    cm_buf_u16(b, 0);
    cm_buf_u32(b, (uint32_t)d0);
    if (d1)
        cm_buf_u32(b, (uint32_t)d1);
    size_t n = d0 * (d1 ? d1 : 1);
    if (type == CM_TENSOR_U8)
        cm_buf_put(b, data, n);
    for (size_t i = 0; type != CM_TENSOR_U8 && i < n; i++) {
        if (type == CM_TENSOR_F32 || type == CM_TENSOR_I32) {
            uint32_t u;
            memcpy(&u, (const char *)data + 4 * i, 4);
            cm_buf_u32(b, u);
        } else {
            put_f64(b, ((const double *)data)[i]);
        }
    }
    o->tensors++;
    return emit(o, MSG_TENSOR, err);
}

static void put_encoder(cm_buf *b, const cm_encoder *e)
{
    cm_buf_u32(b, (uint32_t)e->nf);
    for (size_t i = 0; i < e->nf; i++) {
        const cm_feature *f = &e->f[i];
        cm_buf_str(b, f->name, strlen(f->name));
        cm_buf_u8(b, (uint8_t)f->cat);
        cm_buf_u8(b, 0);
        cm_buf_u16(b, 0);
        cm_buf_u32(b, f->ncats);
        put_f64(b, f->mean);
        put_f64(b, f->sd);
    }
    cm_buf_str(b, e->target, strlen(e->target));
    put_f64(b, e->tmean);
    put_f64(b, e->tsd);
}

cm_status cm_model_save(const cm_model *m, FILE *f, cm_error *err)
{
    cm_tensor_out o = {cm_frame_new(1, cm_magic_model), f, {0}, 0};
    if (!o.frame)
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    cm_status st = cm_frame_write_header(f, cm_magic_model,
                                         MODEL_MAJOR_OF(m->enc.nout, m->kind),
                                         MODEL_MINOR_OF(m->enc.nout, m->kind), err);
    const cm_schema *s = m->schema;
    if (!st) {
        cm_encode_schema(&o.buf, s);
        st = emit(&o, CM_MSG_SCHEMA, err);
    }
    if (!st) {
        cm_encode_recipe(&o.buf, s);
        st = emit(&o, CM_MSG_RECIPE, err);
    }
    for (size_t c = 0; !st && c < cm_schema_ncols(s); c++) {
        if (cm_schema_dtype(s, c) != CM_CAT || !cm_dict_size(cm_schema_dict_c(s, c)))
            continue;
        cm_encode_dict(&o.buf, s, c, 0);
        st = emit(&o, CM_MSG_DICT, err);
    }
    if (!st) {
        cm_encode_kv(&o.buf, m->meta);
        st = emit(&o, MSG_MODEL, err);
    }
    if (!st) {
        put_encoder(&o.buf, &m->enc);
        st = emit(&o, MSG_ENCODER, err);
    }
    if (!st)
        st = m->kind->save(m->net, &o, err);
    if (!st) {
        cm_buf_u64(&o.buf, o.tensors);
        cm_buf_u64(&o.buf, 0);
        st = emit(&o, CM_MSG_END, err);
    }
    if (!st && fflush(f) != 0)
        st = cm_fail_sys(err, errno, "write failed");
    cm_buf_free(&o.buf);
    cm_frame_free(o.frame);
    return st;
}

/* ---- reading --------------------------------------------------------------- */

static cm_status bad(cm_error *err, const char *what)
{
    return cm_fail(err, CM_ERR_CORRUPT, "corrupt model file: %s", what);
}

static double get_f64(cm_cursor *c)
{
    uint64_t u = cm_cur_u64(c);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

static cm_status read_meta(cm_model *m, const uint8_t *p, size_t n, cm_error *err)
{
    cm_cursor c = {p, p + n, 0};
    cm_status st = cm_decode_kv(&c, m->meta, "model file", "metadata", err);
    return !st && c.p != c.end ? bad(err, "bad metadata message") : st;
}

static cm_status read_encoder(cm_model *m, const uint8_t *p, size_t n, cm_error *err)
{
    cm_cursor c = {p, p + n, 0};
    cm_encoder *e = &m->enc;
    uint32_t nf = cm_cur_u32(&c);
    if (c.bad || nf > CM_MAX_COLUMNS)
        return bad(err, "encoder");
    if (!(e->f = calloc(nf + 1, sizeof *e->f)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < nf && !c.bad; i++) {
        cm_feature *f = &e->f[e->nf];
        if (!(f->name = cm_cur_str(&c, CM_MAX_NAME, NULL)))
            return bad(err, "encoder");
        e->nf++;
        f->cat = cm_cur_u8(&c);
        uint8_t r8 = cm_cur_u8(&c);
        uint16_t r16 = cm_cur_u16(&c);
        f->ncats = cm_cur_u32(&c);
        f->mean = get_f64(&c);
        f->sd = get_f64(&c);
        f->lo = f->hi = NAN;
        long col = cm_schema_find(m->schema, f->name);
        cm_dtype t = col >= 0 ? cm_schema_dtype(m->schema, (size_t)col) : CM_F64;
        int twice = 0;
        for (size_t j = 0; j + 1 < e->nf; j++)
            twice |= !strcmp(e->f[j].name, f->name);
        if (c.bad || r8 || r16 || f->cat > 1 || col < 0 || twice || t == CM_TIME ||
            (t == CM_CAT) != f->cat || (!f->cat && f->ncats) ||
            (f->cat && f->ncats > cm_dict_size(cm_schema_dict_c(m->schema, (size_t)col))) ||
            !isfinite(f->mean) || !(f->sd > 0) || !isfinite(f->sd))
            return bad(err, "encoder");
        f->offset = e->width;
        f->col = (size_t)col;
        e->width += f->cat ? f->ncats + 1 : 1;
    }
    e->target = cm_cur_str(&c, CM_MAX_NAME, NULL);
    e->tmean = get_f64(&c);
    e->tsd = get_f64(&c);
    const char *mt = cm_kv_get(m->meta, "target");
    if (c.bad || !e->target || c.p != c.end || !isfinite(e->tmean) ||
        !(e->tsd > 0) || !isfinite(e->tsd) || cm_schema_find(m->schema, e->target) < 0 ||
        !mt || strcmp(mt, e->target))
        return bad(err, "encoder");
    return CM_OK;
}

/* The outputs: a direct model's horizon (files of version 2), else one. */
static cm_status read_horizon(cm_model *m, cm_error *err)
{
    const char *v = cm_kv_get(m->meta, "horizon");
    m->enc.nout = 1;
    if (m->major != MODEL_MAJOR_DIRECT && (m->major != MODEL_MAJOR_SEQ || !v))
        return CM_OK; /* no key: one output */
    if (!v)
        return bad(err, "metadata: no horizon");
    char *end;
    unsigned long long h = strtoull(v, &end, 10);
    if (*v < '1' || *v > '9' || *end || h < 2 || h > MODEL_MAX_HORIZON)
        return bad(err, "metadata: bad horizon");
    m->enc.nout = (size_t)h;
    return CM_OK;
}

/* The range of each numeric input training saw, from its seen.NAME
 * metadata key (model files from 1.1), into the encoder. */
static cm_status read_seen(cm_model *m, cm_error *err)
{
    for (size_t i = 0; i < m->enc.nf; i++) {
        cm_feature *f = &m->enc.f[i];
        char key[CM_MAX_NAME + 8];
        snprintf(key, sizeof key, "seen.%s", f->name);
        const char *v = cm_kv_get(m->meta, key), *sp = v ? strchr(v, ' ') : NULL;
        if (!v)
            continue;
        if (f->cat || !sp || cm_parse_num(v, (size_t)(sp - v), '.', &f->lo) ||
            cm_parse_num(sp + 1, strlen(sp + 1), '.', &f->hi) || !isfinite(f->lo) ||
            !isfinite(f->hi) || !(f->lo <= f->hi))
            return bad(err, "metadata: bad seen range");
    }
    return CM_OK;
}

struct cm_tensor_in {
    cm_frame *frame;
    FILE *f;
    uint64_t tensors;
};

/* Tensor name of type and shape (d0 SIZE_MAX: a vector of any length,
 * which goes to *d0). */
static cm_status tensor_read(cm_tensor_in *in, const char *name, int type, size_t *d0,
                             size_t d1, void **data, cm_error *err)
{
    const uint8_t *p;
    size_t n;
    *data = NULL;
    cm_status st = cm_frame_expect(in->frame, in->f, MSG_TENSOR, &p, &n, err);
    if (st)
        return st;
    in->tensors++;
    cm_cursor c = {p, p + n, 0};
    char *got = cm_cur_str(&c, 64, NULL);
    int ok = got && !strcmp(got, name);
    free(got);
    uint8_t t = cm_cur_u8(&c), rank = cm_cur_u8(&c);
    uint16_t r = cm_cur_u16(&c);
    uint32_t g0 = cm_cur_u32(&c), g1 = rank == 2 ? cm_cur_u32(&c) : 0;
    if (*d0 == SIZE_MAX && !d1)
        *d0 = g0;
    if (!ok || c.bad || t != type || r || rank != (d1 ? 2 : 1) || g0 != *d0 || g1 != d1)
        return bad(err, "weights do not match the layers");
    size_t count = *d0 * (d1 ? d1 : 1);
    size_t w = type == CM_TENSOR_U8 ? 1 : type == CM_TENSOR_F64 ? 8 : 4;
    const uint8_t *src = cm_cur_bytes(&c, count * w);
    if (!src || c.p != c.end)
        return bad(err, "weights");
    if (!(*data = malloc(count * w + 1)))
        return cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (type == CM_TENSOR_U8 || type == CM_TENSOR_I32) { /* no finite check for these */
        for (size_t i = 0; type == CM_TENSOR_I32 && i < count; i++) {
            uint32_t u = cm_rd32(src + 4 * i);
            memcpy((char *)*data + 4 * i, &u, 4);
        }
        if (type == CM_TENSOR_U8)
            memcpy(*data, src, count);
        return CM_OK;
    }
    for (size_t i = 0; i < count; i++) {
        double v;
        if (type == CM_TENSOR_F32) {
            uint32_t u = cm_rd32(src + 4 * i);
            float fv;
            memcpy(&fv, &u, 4);
            ((float *)*data)[i] = fv;
            v = fv;
        } else {
            uint64_t u = cm_rd64(src + 8 * i);
            memcpy(&v, &u, 8);
            ((double *)*data)[i] = v;
        }
        if (!isfinite(v)) {
            free(*data);
            *data = NULL;
            return bad(err, "a weight is not a finite number");
        }
    }
    return CM_OK;
}

cm_status cm_tensor_read(cm_tensor_in *in, const char *name, int type, size_t d0,
                         size_t d1, void **data, cm_error *err)
{
    return tensor_read(in, name, type, &d0, d1, data, err);
}

cm_status cm_tensor_read_vec(cm_tensor_in *in, const char *name, int type, size_t *d0,
                             void **data, cm_error *err)
{
    *d0 = SIZE_MAX;
    return tensor_read(in, name, type, d0, 0, data, err);
}

cm_model *cm_model_load(FILE *f, cm_error *err)
{
    cm_model *m = calloc(1, sizeof *m);
    cm_tensor_in in = {cm_frame_new(0, cm_magic_model), f, 0};
    cm_frame *fr = in.frame;
    const uint8_t *p;
    size_t n;
    uint32_t type = 0;
    cm_status st = m && fr && (m->schema = cm_schema_new()) && (m->meta = cm_kv_new())
                       ? CM_OK : cm_fail(err, CM_ERR_NOMEM, "out of memory");
    if (!st)
        st = cm_frame_read_header(f, cm_magic_model, MODEL_MAJOR, MODEL_MAJOR_SEQ, &m->major,
                                  &m->minor, err);
    if (!st && !(st = cm_frame_expect(fr, f, CM_MSG_SCHEMA, &p, &n, err)))
        st = cm_decode_schema(p, n, m->schema, "model file", err);
    if (!st && !(st = cm_frame_expect(fr, f, CM_MSG_RECIPE, &p, &n, err)))
        st = cm_decode_recipe(p, n, m->schema, "model file", err);
    while (!st && !(st = cm_frame_read(fr, f, &type, &p, &n, err)) && type == CM_MSG_DICT)
        st = cm_decode_dict(p, n, m->schema, "model file", err);
    if (!st && type != MSG_MODEL)
        st = bad(err, "no metadata");
    if (!st)
        st = read_meta(m, p, n, err);
    if (!st && !(st = cm_frame_expect(fr, f, MSG_ENCODER, &p, &n, err)))
        st = read_encoder(m, p, n, err);
    if (!st)
        st = read_seen(m, err);
    if (!st)
        st = read_horizon(m, err);
    if (!st && !(m->kind = cm_kind_find(cm_kv_get(m->meta, "kind"))))
        st = bad(err, "unknown model kind");
    if (!st && ((m->major == MODEL_MAJOR_TREES) != m->kind->raw ||
                (m->major == MODEL_MAJOR_SEQ) != m->kind->seq))
        st = bad(err, "its kind is not of its version");
    if (!st)
        m->enc.raw = m->kind->raw;
    if (!st && !(m->net = m->kind->load(&in, m->meta, m->enc.width, m->enc.nout, err)))
        st = err->status;
    if (!st && !(st = cm_frame_expect(fr, f, CM_MSG_END, &p, &n, err)) &&
        (n != 16 || cm_rd64(p) != in.tensors || cm_rd64(p + 8) != 0))
        st = bad(err, "end marker");
    if (!st && fgetc(f) != EOF)
        st = bad(err, "data after the end marker");
    else if (!st && ferror(f)) /* not the end: a read that failed */
        st = cm_fail_sys(err, errno, "read failed");
    cm_frame_free(fr);
    if (st) {
        cm_model_free(m);
        return NULL;
    }
    return m;
}
