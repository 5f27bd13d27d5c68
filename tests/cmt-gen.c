/*
 * cmt-gen - test-only producer of cm streams, until cm-clean exists and
 * for shapes cm-clean would never write.  Not installed.
 *
 *   cmt-gen gen [--rows N] [--cols SPEC] [--batch N] [--seed S]
 *               [--na PERMILLE] [--special] [--level L] [--layout 0|1|2]
 *       SPEC: comma-separated NAME:TYPE[:ROLE] items, or TYPExN for N
 *       columns named TYPE_1..TYPE_N.  Deterministic sensor-like values.
 *   cmt-gen text [-d SEP] [--batch N] [--level L] [--layout 0|1|2] < TYPED
 *       TYPED: optional '#meta K=V', '#colmeta COL K=V' and
 *       '#step OP [K=V]...' lines, a header of NAME:TYPE[:ROLE] fields,
 *       then rows; an empty field is missing.  Times are integers or
 *       YYYY-MM-DDTHH:MM:SSZ.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm.h"

static void die(const char *msg, const cm_error *err)
{
    fprintf(stderr, "cmt-gen: %s%s%s\n", msg, err ? ": " : "",
            err ? err->msg : "");
    exit(1);
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static double unit(uint64_t *s)
{
    return (double)(splitmix(s) >> 11) * 0x1.0p-53;
}

static void add_column(cm_schema *s, char *item)
{
    char *type = strchr(item, ':');
    if (!type)
        die("column spec needs NAME:TYPE", NULL);
    *type++ = '\0';
    char *role = strchr(type, ':');
    if (role)
        *role++ = '\0';
    cm_dtype t;
    cm_role r = CM_ROLE_FEATURE;
    if (cm_dtype_parse(type, &t) || (role && cm_role_parse(role, &r)))
        die("unknown type or role in column spec", NULL);
    cm_error err;
    if (cm_schema_add(s, item, t, r, NULL, &err))
        die("bad column", &err);
}

static void parse_spec(cm_schema *s, const char *spec)
{
    char *copy = strdup(spec), *save = NULL;
    for (char *it = strtok_r(copy, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        char *x = strchr(it, 'x');
        cm_dtype t;
        if (!strchr(it, ':') && x) {
            *x = '\0';
            if (cm_dtype_parse(it, &t))
                die("unknown type in TYPExN", NULL);
            long n = strtol(x + 1, NULL, 10);
            for (long i = 1; i <= n; i++) {
                char name[64];
                snprintf(name, sizeof name, "%s_%ld:%s", it, i, it);
                add_column(s, name);
            }
        } else {
            add_column(s, it);
        }
    }
    free(copy);
}

static const char *const words[] = {"Clear", "Clouds", "Rain", "Snow",
                                    "Mist, light", "Drizzle \"fine\"", "Fog"};

static void gen_value(cm_schema *s, cm_batch *b, size_t c, size_t i,
                      uint64_t row, uint64_t *rng, int special)
{
    void *v = cm_batch_values(b, c);
    double noise = unit(rng) - 0.5;
    switch (cm_schema_dtype(s, c)) {
    case CM_TIME:
        ((int64_t *)v)[i] = 1767225600 + (int64_t)row * 3600; /* 2026-01-01 */
        return;
    case CM_F32: {
        double x = 15 + 10 * sin(6.283185307179586 * (double)(row % 24) / 24) +
                   (double)c + noise;
        ((float *)v)[i] = (float)(round(x * 100) / 100);
        break;
    }
    case CM_F64:
        ((double *)v)[i] = 1000 * sin((double)row / 1000 + (double)c) + noise;
        break;
    case CM_I64:
        ((int64_t *)v)[i] = (int64_t)(splitmix(rng) % 1000) - 100;
        return;
    case CM_CAT: {
        /* The set of values grows as the stream goes, so later batches
         * bring new categories: dictionary deltas mid-stream. */
        uint64_t k = splitmix(rng) % (1 + row / 512 < 40 ? 1 + row / 512 : 40);
        char name[32];
        const char *str = name;
        if (k < sizeof words / sizeof *words)
            str = words[k];
        else
            snprintf(name, sizeof name, "zone %llu", (unsigned long long)k);
        cm_error err;
        if (cm_dict_intern(cm_schema_dict(s, c), str, strlen(str),
                           &((uint32_t *)v)[i], &err))
            die("intern", &err);
        return;
    }
    }
    if (special) {
        double sp = row % 97 == 5 ? NAN : row % 89 == 7 ? INFINITY
                  : row % 83 == 11 ? -INFINITY : 0;
        if (sp != 0 || isnan(sp)) {
            if (cm_schema_dtype(s, c) == CM_F32)
                ((float *)v)[i] = (float)sp;
            else
                ((double *)v)[i] = sp;
        }
    }
}

static cm_writer *open_writer(cm_schema *s, int level, int layout)
{
    cm_error err;
    cm_writer_opts o = {level, (cm_layout)layout, 0};
    cm_writer *w = cm_writer_new(stdout, s, &o, &err);
    if (!w)
        die("writer", &err);
    return w;
}

static void put(cm_writer *w, cm_batch *b)
{
    cm_error err;
    if (cm_writer_write(w, b, &err))
        die("write", &err);
}

static void finish(cm_writer *w)
{
    cm_error err;
    if (cm_writer_finish(w, &err))
        die("finish", &err);
    if (fflush(stdout) || ferror(stdout))
        die("write error", NULL);
}

static int gen(int argc, char **argv)
{
    unsigned long long rows = 10, batch = CM_DEFAULT_BATCH_ROWS, seed = 1;
    unsigned na = 0;
    int special = 0, level = -1, layout = 0;
    const char *spec = "t:time:time,temp:f32,flow:f64,count:i64,weather:cat";
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--special")) { special = 1; continue; }
        
        if (!v)
            die("option needs a value", NULL);
        i++;
        if (!strcmp(a, "--rows")) rows = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--cols")) spec = v;
        else if (!strcmp(a, "--batch")) batch = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--na")) na = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--level")) level = atoi(v);
        else if (!strcmp(a, "--layout")) layout = atoi(v);
        else die("unknown option", NULL);
    }
    if (batch == 0 || batch > CM_MAX_BATCH_ROWS)
        die("bad --batch", NULL);
    cm_schema *s = cm_schema_new();
    cm_error err;
    if (cm_kv_set(cm_schema_meta(s), "producer", "cmt-gen", &err))
        die("meta", &err);
    parse_spec(s, spec);
    cm_batch *b = cm_batch_new(s, (size_t)batch);
    cm_writer *w = open_writer(s, level, layout);
    uint64_t rng = seed;
    for (uint64_t row = 0; row < rows;) {
        size_t n = rows - row < batch ? (size_t)(rows - row) : (size_t)batch;
        for (size_t i = 0; i < n; i++, row++)
            for (size_t c = 0; c < cm_schema_ncols(s); c++) {
                gen_value(s, b, c, i, row, &rng, special);
                cm_batch_valid(b, c)[i] =
                    cm_schema_dtype(s, c) == CM_TIME || splitmix(&rng) % 1000 >= na;
            }
        cm_batch_set_nrows(b, n);
        put(w, b);
    }
    finish(w);
    cm_writer_free(w);
    cm_batch_free(b);
    cm_schema_free(s);
    return 0;
}

static void set_field(cm_schema *s, cm_batch *b, size_t c, size_t i,
                      const char *f, size_t line)
{
    void *v = cm_batch_values(b, c);
    char *end = NULL;
    cm_error err;
    cm_batch_valid(b, c)[i] = *f != '\0';
    if (!*f)
        return;
    errno = 0;
    switch (cm_schema_dtype(s, c)) {
    case CM_F32: ((float *)v)[i] = strtof(f, &end); break;
    case CM_F64: ((double *)v)[i] = strtod(f, &end); break;
    case CM_I64: ((int64_t *)v)[i] = strtoll(f, &end, 10); break;
    case CM_TIME: {
        long long y;
        unsigned mo, d, h, mi, se;
        char z;
        if (sscanf(f, "%lld-%u-%uT%u:%u:%u%c", &y, &mo, &d, &h, &mi, &se, &z) == 7 &&
            z == 'Z') {
            ((int64_t *)v)[i] = cm_days_from_civil(y, mo, d) * 86400 +
                                h * 3600 + mi * 60 + se;
            return;
        }
        ((int64_t *)v)[i] = strtoll(f, &end, 10);
        break;
    }
    case CM_CAT:
        if (cm_dict_intern(cm_schema_dict(s, c), f, strlen(f),
                           &((uint32_t *)v)[i], &err))
            die("intern", &err);
        return;
    }
    if (!end || *end || errno == ERANGE) {
        fprintf(stderr, "cmt-gen: line %zu: bad value '%s'\n", line, f);
        exit(1);
    }
}

/* Splits line at sep in place; returns the field count. */
static size_t split(char *line, char sep, char **fields, size_t max)
{
    size_t n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line;; p++) {
        if (n < max)
            fields[n] = p;
        n++;
        p = strchr(p, sep);
        if (!p)
            return n;
        *p = '\0';
    }
}

static void add_kvs(cm_kv *kv, char *rest)
{
    cm_error err;
    char *save = NULL;
    for (char *t = strtok_r(rest, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(t, '=');
        if (!eq)
            die("expected K=V", NULL);
        *eq = '\0';
        if (cm_kv_set(kv, t, eq + 1, &err))
            die("meta", &err);
    }
}

static int text(int argc, char **argv)
{
    char sep = ',';
    unsigned long long batch = 4;
    int level = -1, layout = 0;
    for (int i = 2; i < argc; i += 2) {
        if (!strcmp(argv[i], "--layout")) { layout = atoi(argv[i + 1]); continue; }
        if (i + 1 >= argc) die("option needs a value", NULL);
        if (!strcmp(argv[i], "-d")) sep = argv[i + 1][0];
        else if (!strcmp(argv[i], "--batch")) batch = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--level")) level = atoi(argv[i + 1]);
        else die("unknown option", NULL);
    }
    cm_schema *s = cm_schema_new();
    cm_error err;
    char line[65536], *fields[1024];
    size_t lineno = 0, ncols = 0;
    while (fgets(line, sizeof line, stdin)) {
        lineno++;
        if (!strncmp(line, "#meta ", 6)) {
            line[strcspn(line, "\r\n")] = '\0';
            add_kvs(cm_schema_meta(s), line + 6);
        } else if (!strncmp(line, "#colmeta ", 9)) {
            line[strcspn(line, "\r\n")] = '\0';
            char *col = line + 9, *rest = strchr(col, ' ');
            if (!rest)
                die("#colmeta COL K=V", NULL);
            *rest++ = '\0';
            long c = cm_schema_find(s, col);
            if (c < 0)
                die("#colmeta: no such column (put it after the header)", NULL);
            add_kvs(cm_schema_col_meta(s, (size_t)c), rest);
        } else if (!strncmp(line, "#step ", 6)) {
            line[strcspn(line, "\r\n")] = '\0';
            char *op = line + 6, *rest = strchr(op, ' ');
            if (rest)
                *rest++ = '\0';
            size_t step;
            if (cm_recipe_add(s, op, &step, &err))
                die("step", &err);
            if (rest)
                add_kvs(cm_recipe_params(s, step), rest);
        } else {
            ncols = split(line, sep, fields, 1024);
            for (size_t c = 0; c < ncols; c++)
                add_column(s, fields[c]);
            break;
        }
    }
    /* Column metadata may follow the header, before the first row. */
    cm_batch *b = cm_batch_new(s, (size_t)batch);
    cm_writer *w = NULL;
    size_t n = 0;
    while (fgets(line, sizeof line, stdin)) {
        lineno++;
        if (!strncmp(line, "#colmeta ", 9) && !w) {
            line[strcspn(line, "\r\n")] = '\0';
            char *col = line + 9, *rest = strchr(col, ' ');
            long c = rest ? (*rest++ = '\0', cm_schema_find(s, col)) : -1;
            if (c < 0)
                die("#colmeta: no such column", NULL);
            add_kvs(cm_schema_col_meta(s, (size_t)c), rest);
            continue;
        }
        if (!w)
            w = open_writer(s, level, layout);
        if (split(line, sep, fields, 1024) != ncols) {
            fprintf(stderr, "cmt-gen: line %zu: wrong field count\n", lineno);
            exit(1);
        }
        for (size_t c = 0; c < ncols; c++)
            set_field(s, b, c, n, fields[c], lineno);
        if (++n == batch) {
            cm_batch_set_nrows(b, n);
            put(w, b);
            n = 0;
        }
    }
    if (!w)
        w = open_writer(s, level, layout);
    cm_batch_set_nrows(b, n);
    put(w, b);
    finish(w);
    cm_writer_free(w);
    cm_batch_free(b);
    cm_schema_free(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "gen"))
        return gen(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "text"))
        return text(argc, argv);
    fprintf(stderr, "usage: cmt-gen gen|text [OPTIONS]\n");
    return 2;
}
