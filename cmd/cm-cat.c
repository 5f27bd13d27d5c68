/* cm-cat - print a cm stream as CSV, TSV or JSON lines, describe it, or
 * copy it as a stream again (to change its compression level). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: cm-cat [OPTION]... [FILE]\n"
    "Print the cm stream FILE (or standard input) as text.\n"
    "\n"
    "  -f, --format=FMT   csv (default), tsv, json (one object a line), or\n"
    "                     cmt (a cm stream again)\n"
    "  -n, --head=N       stop after N rows\n"
    "  -i, --info         describe the stream: schema, recipe, dictionaries,\n"
    "                     rows, batches and compression ratio; or a model file\n"
    "                     (a file, not standard input): all but its weights\n"
    "      --no-header    omit the CSV/TSV header line\n"
    "  -l, --level=N      deflate level 0-9 for -f cmt (default: CM_ZLEVEL or 1)\n"
    "  -o, --output=FILE  write to FILE, replaced only when complete\n"
    "  -F, --force        write a binary stream even to a terminal\n"
    "  -q, --quiet        no progress messages\n"
    "  -h, --help         show this help and exit\n"
    "  -V, --version      show the version and exit\n"
    "\n"
    "Exit status: 0 success, 1 bad or unreadable input, 2 usage error.\n"
    "See cm-cat(1) and cm-tensor(5).\n";

typedef struct opts {
    int info, header, level, cmt;
    cm_text_format fmt;
    unsigned long long head; /* 0: all rows */
    int has_head;
    const char *input;
    cli_common co;
} opts;

static void parse(int argc, char **argv, opts *o)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"head", required_argument, NULL, 'n'},
        {"info", no_argument, NULL, 'i'},
        {"no-header", no_argument, NULL, 'H'},
        {"level", required_argument, NULL, 'l'},
        {"output", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'F'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    int c;
    o->header = 1;
    o->level = -1;
    while ((c = getopt_long(argc, argv, "f:n:il:o:FqhV", longopts, NULL)) != -1) {
        if (cli_common_option(c, optarg, &o->co))
            continue;
        switch (c) {
        case 'f':
            if (strcmp(optarg, "cmt") == 0)
                o->cmt = 1;
            else if (cm_text_format_parse(optarg, &o->fmt))
                cli_usage_error("--format: '%s' is not one of csv, tsv, json, "
                                "cmt", optarg);
            else
                o->cmt = 0;
            break;
        case 'n':
            o->head = cli_parse_count("--head", optarg);
            o->has_head = 1;
            break;
        case 'i': o->info = 1; break;
        case 'H': o->header = 0; break;
        case 'l': o->level = cli_parse_level(optarg); break;
        default: cli_other_option(c, usage);
        }
    }
    o->input = cli_one_input(argc, argv);
    if (o->info && (o->cmt || o->has_head))
        cli_usage_error("--info does not combine with --format=cmt or --head");
}

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

/* --info on a model file: everything but its weights. */
static int model_info(FILE *in, const char *name, const char *output)
{
    cm_error err;
    cm_error_clear(&err);
    cm_model *m = cm_model_load(in, &err);
    if (!m)
        cli_die_error(name, &err);
    cli_output *out = cli_output_open(output, 0, 0);
    cm_model_describe(m, cli_output_file(out));
    cli_output_close(out);
    cm_model_free(m);
    if (in != stdin)
        fclose(in);
    return CLI_OK;
}

int main(int argc, char **argv)
{
    opts o = {0};
    cli_init(argv, "cm-cat");
    parse(argc, argv, &o);

    const char *name = cli_in_name(o.input);
    FILE *in = cli_open_in(o.input);
    cm_error err;
    cm_error_clear(&err);
    cm_reader *r = cm_reader_new(in, &err);
    if (!r && o.info && strstr(err.msg, "model file") && fseek(in, 0, SEEK_SET) == 0)
        return model_info(in, name, o.co.output);
    if (!r)
        cli_die_error(name, &err);
    const cm_schema *s = cm_reader_schema(r);

    cli_output *out = cli_output_open(o.co.output, o.cmt, o.co.force);
    FILE *f = cli_output_file(out);
    cm_writer *w = NULL;
    if (o.cmt) {
        cm_writer_opts wo = {o.level, CM_LAYOUT_AUTO, 1};
        if (!(w = cm_writer_new(f, s, &wo, &err)))
            cli_output_fail(out, &err);
    } else if (!o.info && o.header) {
        cm_text_header(f, s, o.fmt);
    }

    unsigned long long left = o.has_head ? o.head : ~0ULL;
    cm_batch *b;
    int got = 0;
    while (left > 0 && (got = cm_reader_next(r, &b, &err)) == 1) {
        size_t n = cm_batch_nrows(b);
        if (n > left)
            n = (size_t)left;
        left -= n;
        if (w) {
            /* --head on a stream: copy whole batches, cut the last one. */
            if (n < cm_batch_nrows(b))
                cm_batch_set_nrows(b, n);
            if (cm_writer_write(w, b, &err)) {
                cm_writer_free(w); /* its thread is done with the file */
                cli_output_fail(out, &err);
            }
        } else if (!o.info) {
            cm_text_rows(f, s, b, 0, n, o.fmt);
        }
        if (!w) /* a writer reports its own errors, errno and all */
            cli_output_check(out);
    }
    if (got < 0) {
        cm_writer_free(w);
        cli_output_abort(out);
        cli_die_error(name, &err);
    }
    if (w && cm_writer_finish(w, &err)) {
        cm_writer_free(w);
        cli_output_fail(out, &err);
    }
    if (o.info) {
        cm_stream_stats st;
        cm_reader_stats(r, &st);
        info(f, s, &st);
    }
    cm_writer_free(w);
    cm_reader_free(r);
    if (in != stdin)
        fclose(in);
    cli_output_close(out);
    return CLI_OK;
}
