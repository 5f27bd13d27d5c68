/* cm-cat - print a cm stream as CSV, TSV or JSON lines, describe it, or
 * copy it as a stream again (to change its compression level). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: cm-cat [OPTION]... [FILE]\n"
    "Print the cm stream FILE (or standard input) as text.\n"
    "\n";
static const char tail[] =
    "\n"
    "Exit status: 0 success, 1 bad or unreadable input, 2 usage error.\n"
    "See cm-cat(1) and cm-tensor(5).\n";

/* -f's choices: the text formats (as cm_text_format), then cmt, npy, npz */
enum { FORMAT_CMT = 3, FORMAT_NPY = 4, FORMAT_NPZ = 5 };

typedef struct opts {
    int info, header, format, export;
    int64_t level, head;
    cli_common co;
} opts;

#define AT(f, U) CM_SET_AT(opts, f, U)
static const cm_setting own[] = {
    {.name = "format", .short_opt = 'f', .type = CM_SET_CHOICE, .arg = "FMT",
     .choices = "csv|tsv|json|cmt|npy|npz", .dflt = "csv",
     .help = "csv, tsv, json (one object a line), cmt (a cm\nstream again), npy (the number "
     "columns, a NumPy\nmatrix) or npz (each column a NumPy array)",
     .offset = AT(format, int)},
    {.name = "head", .short_opt = 'n', .type = CM_SET_COUNT, .arg = "N",
     .help = "stop after N rows", .offset = AT(head, int64_t)},
    {.name = "info", .short_opt = 'i', .type = CM_SET_FLAG,
     .help = "describe the stream: schema, recipe, dictionaries,\nrows, batches and "
     "compression ratio; or a model file\n(a file, not a pipe): all but its weights",
     .offset = AT(info, int)},
    {.name = "export", .type = CM_SET_CHOICE, .arg = "FMT", .choices = "none|xgboost",
     .dflt = "none", .help = "a gbdt model file's trees in another program's\nform: xgboost "
     "(its JSON model, for xgboost.Booster)", .offset = AT(export, int)},
    {.name = "header", .option = "no-header", .flag = "no", .type = CM_SET_FLAG,
     .dflt = "yes", .help = "omit the CSV/TSV header line", .offset = AT(header, int)},
    {.name = "level", .short_opt = 'l', .type = CM_SET_COUNT, .arg = "N", .lo = 0, .hi = 9,
     .help = "deflate level 0-9 for -f cmt (default: CM_ZLEVEL or 1)",
     .offset = AT(level, int64_t)},
    CLI_OPT_OUTPUT(opts, "write to FILE, replaced only when complete"),
    CLI_OPT_FORCE(opts, "write a binary stream even to a terminal"),
    CLI_OPT_QUIET(opts, "no progress messages"),
};
#undef AT
static const cm_settings own_settings = CLI_TABLE(own);

static void print_kv(FILE *out, const char *indent, const cm_kv *kv)
{
    for (size_t i = 0; i < cm_kv_count(kv); i++)
        fprintf(out, "%s%s=%s\n", indent, cm_kv_key(kv, i), cm_kv_value(kv, i));
}

/* The whole stream is read (and so verified) before anything is said. */
static void info(FILE *out, const cm_schema *s, const cm_stream_stats *st)
{
    fprintf(out, "format: cmt %u.%u\n", st->major, st->minor);
    fprintf(out, "rows: %llu\n", (unsigned long long)st->rows);
    fprintf(out, "batches: %llu\n", (unsigned long long)st->batches);
    fprintf(out, "bytes: %llu decoded, %llu stored", (unsigned long long)st->raw_bytes,
            (unsigned long long)st->stored_bytes);
    if (st->stored_bytes)
        fprintf(out, " (ratio %.2f)", (double)st->raw_bytes / (double)st->stored_bytes);
    fputc('\n', out);
    if (cm_kv_count(cm_schema_meta_c(s))) {
        fputs("metadata:\n", out);
        print_kv(out, "  ", cm_schema_meta_c(s));
    }
    fprintf(out, "columns: %zu\n", cm_schema_ncols(s));
    for (size_t c = 0; c < cm_schema_ncols(s); c++) {
        fprintf(out, "  %zu %s %s %s", c + 1, cm_schema_name(s, c),
                cm_dtype_name(cm_schema_dtype(s, c)),
                cm_role_name(cm_schema_role(s, c)));
        if (cm_schema_dtype(s, c) == CM_CAT)
            fprintf(out, " categories=%u", cm_dict_size(cm_schema_dict_c(s, c)));
        const cm_kv *m = cm_schema_col_meta_c(s, c);
        for (size_t i = 0; i < cm_kv_count(m); i++)
            fprintf(out, " %s=%s", cm_kv_key(m, i), cm_kv_value(m, i));
        fputc('\n', out);
    }
    fprintf(out, "recipe: %zu steps\n", cm_recipe_nsteps(s));
    for (size_t i = 0; i < cm_recipe_nsteps(s); i++) {
        fprintf(out, "  %zu %s\n", i + 1, cm_recipe_op(s, i));
        print_kv(out, "    ", cm_recipe_params_c(s, i));
    }
}

/* --info on a model file: everything but its weights; or --export: its
 * trees as XGBoost's JSON. */
static int model_info(FILE *in, const char *name, const opts *o)
{
    cm_error err;
    cm_error_clear(&err);
    cm_model *m = cm_model_load(in, &err);
    if (!m)
        cli_die_error(name, &err);
    cli_output *out = cli_output_open(o->co.output, 0, 0);
    if (!o->export)
        cm_model_describe(m, cli_output_file(out));
    else if (cm_model_export_xgboost(m, cli_output_file(out), &err)) {
        cm_model_free(m);
        cli_output_abort(out);
        cli_die_error(name, &err);
    }
    cm_model_free(m);
    cli_output_close(out);
    return CLI_OK;
}

/* What a run holds, freed at exit on every path (cli_hold). */
typedef struct held {
    cli_held cli; /* first: see cli_hold */
    cm_reader *r;
    cm_writer *w;
    cm_npy *npy;
} held;

static void release(void *ctx)
{
    held *h = ctx;
    cm_writer_free(h->w);
    cm_npy_free(h->npy);
    cm_reader_free(h->r);
}

int main(int argc, char **argv)
{
    opts o = {.level = -1, .head = -1};
    cli_init(argv, "cm-cat");
    held *h = cli_hold(sizeof *h, release);
    cli_args_parse(&h->cli.a, argc, argv, usage, tail, NULL, 0, NULL, &own_settings, &o);
    const char *input = cli_one_input(argc, argv, h->cli.a.first);
    int cmt = o.format == FORMAT_CMT, npy = o.format == FORMAT_NPY || o.format == FORMAT_NPZ;
    cm_text_format fmt = cmt || npy ? CM_TEXT_CSV : (cm_text_format)o.format;
    if ((o.info || o.export) && (cmt || npy || o.head >= 0))
        cli_usage_error("--%s does not combine with --format=cmt or --head",
                        o.info ? "info" : "export");
    if (o.info && o.export)
        cli_usage_error("--info and --export: give one of them");

    const char *name = cli_in_name(input);
    FILE *in = h->cli.in = cli_open_in(input);
    cm_error err;
    cm_error_clear(&err);
    cm_reader *r = h->r = cm_reader_new(in, &err);
    if (!r && (o.info || o.export) && err.detail == CM_DETAIL_MODEL &&
        fseek(in, 0, SEEK_SET) == 0)
        return model_info(in, name, &o);
    if (!r)
        cli_die_error(name, &err);
    if (o.export)
        cli_usage_error("--export: %s is a stream, not a model file", name);
    const cm_schema *s = cm_reader_schema(r);

    cli_output *out = cli_output_open(o.co.output, cmt || npy, o.co.force);
    FILE *f = cli_output_file(out);
    if (npy && !o.info && !(h->npy = cm_npy_new(s, o.format == FORMAT_NPZ, &err))) {
        cli_output_abort(out);
        cli_die_error(name, &err);
    }
    if (cmt) {
        cm_writer_opts wo = {(int)o.level, CM_LAYOUT_AUTO, 1};
        if (!(h->w = cm_writer_new(f, s, &wo, &err)))
            cli_output_fail(out, &err);
    } else if (!o.info && o.header && !npy) {
        cm_text_header(f, s, fmt);
    }

    unsigned long long left = o.head >= 0 ? (unsigned long long)o.head : ~0ULL;
    cm_batch *b;
    int got = 0;
    /* a writer's thread is done with the file once it is freed */
    while (left > 0 && (got = cm_reader_next(r, &b, &err)) == 1) {
        size_t n = cm_batch_nrows(b);
        if (n > left)
            n = (size_t)left;
        left -= n;
        if (h->w) {
            /* --head on a stream: copy whole batches, cut the last one. */
            if (n < cm_batch_nrows(b))
                cm_batch_set_nrows(b, n);
            if (cm_writer_write(h->w, b, &err)) {
                cm_writer_free(h->w);
                h->w = NULL;
                cli_output_fail(out, &err);
            }
        } else if (h->npy) {
            if (n < cm_batch_nrows(b))
                cm_batch_set_nrows(b, n);
            if (cm_npy_add(h->npy, s, b, &err)) {
                cli_output_abort(out);
                cli_die_error(NULL, &err);
            }
        } else if (!o.info) {
            cm_text_rows(f, s, b, 0, n, fmt);
        }
        if (!h->w) /* a writer reports its own errors, errno and all */
            cli_output_check(out);
    }
    if (got < 0 || (h->w && cm_writer_finish(h->w, &err))) {
        cm_writer_free(h->w);
        h->w = NULL;
        if (got < 0) {
            cli_output_abort(out);
            cli_die_error(name, &err);
        }
        cli_output_fail(out, &err);
    }
    if (h->npy && cm_npy_finish(h->npy, s, f, &err))
        cli_output_fail(out, &err);
    if (o.info) {
        cm_stream_stats st;
        cm_reader_stats(r, &st);
        info(f, s, &st);
    }
    cm_writer_free(h->w);
    h->w = NULL;
    cli_output_close(out);
    return CLI_OK; /* release frees the rest */
}
