/* cm-plot - pictures of cm's own outputs, drawn by gnuplot: the script
 * comes from lib/plot (its data inline), gnuplot draws it into a
 * temporary directory, and the picture goes to -o atomically. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

static const char usage[] =
    "Usage: cm-plot KIND [OPTION]... [FILE]\n"
    "Draw an output of cm (FILE, or standard input) with gnuplot, as PNG or SVG\n"
    "(by -o's extension) or as text in the terminal.  KIND is one of:\n"
    "  forecast   cm-predict --horizon, on the history of --history FILE\n"
    "  backtest   cm-predict --backtest (-l NAME=FILE for several models),\n"
    "             or its --forecasts over the actual values\n"
    "  history    cm-train --history: the loss by epoch, the best marked\n"
    "  tune       cm-tune --results: the score against each setting\n"
    "  predict    cm-predict: forecasts against actual values, residuals\n"
    "\n";
static const char tail[] =
    "\n"
    "Exit status: 0 success, 1 bad input or gnuplot failed, 2 usage error.\n"
    "See cm-plot(1).\n";

typedef struct opts {
    const char *size, *history, *series, *title;
    int text, script;
    cli_common co;
} opts;

/* W,H in pixels, each from 100 to 10000. */
static int size_bad(const char *v)
{
    unsigned w, h;
    char end;
    return sscanf(v, "%u,%u%c", &w, &h, &end) != 2 || w < 100 || h < 100 || w > 10000 ||
           h > 10000;
}

#define AT(f, U) CM_SET_AT(opts, f, U)
static const cm_setting own[] = {
    {.name = "size", .type = CM_SET_TEXT, .arg = "W,H", .dflt = "1000,600", .check = size_bad,
     .want = "two sizes in pixels such as 1000,600 (100 to 10000)",
     .help = "the picture's width and height in pixels", .offset = AT(size, const char *)},
    {.name = "text", .short_opt = 't', .type = CM_SET_FLAG,
     .help = "draw with characters on standard output, the\nterminal's size (the default "
     "on a terminal without -o)", .offset = AT(text, int)},
    {.name = "history", .type = CM_SET_TEXT, .arg = "FILE",
     .help = "forecast: the history it continues, a cm stream\nor a CSV cm-clean reads as it "
     "is", .offset = AT(history, const char *)},
    {.name = "series", .type = CM_SET_TEXT, .arg = "ID",
     .help = "forecast, backtest: the one series to draw, by its\nid (several ids joined "
     "with /)", .offset = AT(series, const char *)},
    {.name = "label", .short_opt = 'l', .type = CM_SET_TEXT, .flags = CM_SET_REPEAT,
     .arg = "NAME=FILE", .help = "backtest: a model's scores, NAME in the legend\n(repeat "
     "to compare models)", .offset = CM_SET_NOWHERE},
    {.name = "title", .type = CM_SET_TEXT, .arg = "TEXT",
     .help = "the title, instead of one made from the data", .offset = AT(title, const char *)},
    {.name = "script", .type = CM_SET_FLAG,
     .help = "print the gnuplot script (its data inline) instead\nof drawing", .offset =
     AT(script, int)},
    CLI_OPT_OUTPUT(opts, "the picture, OUT.png or OUT.svg, replaced only\nwhen complete"),
    CLI_OPT_QUIET(opts, "no messages but errors"),
};
#undef AT
static const cm_settings own_settings = CLI_TABLE(own);

/* What a run holds, freed at exit on every path (cli_hold): the plot,
 * and the temporary directory with what is in it. */
typedef struct held {
    cli_held cli; /* first: see cli_hold */
    cm_plot *p;
    char dir[256], script[300], picture[300], err[300];
} held;

static void release(void *ctx)
{
    held *h = ctx;
    cm_plot_free(h->p);
    if (*h->dir) {
        unlink(h->script);
        unlink(h->picture);
        unlink(h->err);
        rmdir(h->dir);
    }
}

/* The kinds, in the order of cm_plot_kind; the messages list them, and
 * shell completion reads them there. */
static const char *const kinds[] = {"forecast", "backtest", "history", "tune", "predict"};
#define NKINDS (sizeof kinds / sizeof *kinds)

/* "forecast, backtest, ... or predict" into list[80] */
static const char *kind_list(char *list)
{
    size_t k = 0;
    for (size_t i = 0; i < NKINDS; i++)
        k += (size_t)snprintf(list + k, 80 - k, "%s%s",
                              i == 0 ? "" : i + 1 == NKINDS ? " or " : ", ", kinds[i]);
    return list;
}

static cm_plot_kind kind_of(const char *k)
{
    char list[80];
    for (size_t i = 0; i < NKINDS; i++)
        if (!strcmp(k, kinds[i]))
            return (cm_plot_kind)i;
    cli_usage_error("'%s' is not a kind of plot: %s", k, kind_list(list));
}

static void add(cm_plot *p, const char *path, const char *label)
{
    FILE *in = cli_open_in(path);
    cm_error err;
    cm_error_clear(&err);
    cm_status st = cm_plot_add(p, in, cli_in_name(path), label, &err);
    if (in != stdin)
        fclose(in);
    if (st == CM_ERR_ARG)
        cli_usage_error("%s", err.msg);
    if (st)
        cli_die_error(cli_in_name(path), &err);
}

/* The terminal's columns and rows, for a text plot. */
static void text_size(unsigned *cols, unsigned *rows)
{
    struct winsize ws;
    const char *c = getenv("COLUMNS"), *l = getenv("LINES");
    *cols = 80, *rows = 25;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20 && ws.ws_row >= 10) {
        *cols = ws.ws_col;
        *rows = ws.ws_row - 1;
    } else {
        if (c && atoi(c) >= 20)
            *cols = (unsigned)atoi(c);
        if (l && atoi(l) >= 10)
            *rows = (unsigned)atoi(l) - 1;
    }
}

/* gnuplot on the script; its first complaint, when it fails. */
static void draw(held *h)
{
    char *argv[] = {"gnuplot", h->script, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, h->err, O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_addclose(&fa, STDIN_FILENO);
    fflush(stdout);
    pid_t pid;
    int e = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e == ENOENT)
        cli_die("gnuplot is not installed: Debian's gnuplot-nox has it (apt-get install "
                "gnuplot-nox)");
    if (e)
        cli_die("gnuplot: %s", strerror(e));
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    char line[300] = "";
    FILE *f = fopen(h->err, "r");
    /* gnuplot names the line of the script and points at it: its message
     * is the last non-blank line */
    for (char buf[300]; f && fgets(buf, sizeof buf, f);)
        if (strspn(buf, " \t\n^") != strlen(buf))
            snprintf(line, sizeof line, "%s", buf);
    if (f)
        fclose(f);
    line[strcspn(line, "\n")] = '\0';
    if (!WIFEXITED(status) || WEXITSTATUS(status))
        cli_die("gnuplot failed: %s", *line ? line : "no message");
}

/* The picture gnuplot made, copied to -o (which appears when complete);
 * in text, without the form feed gnuplot puts before it. */
static void deliver(held *h, const char *output, int text)
{
    FILE *in = fopen(h->picture, "rb");
    if (!in)
        cli_die("gnuplot made no picture");
    cli_output *out = cli_output_open(output, !text, 1);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (!text || buf[i] != '\f')
                buf[k++] = buf[i];
        fwrite(buf, 1, k, cli_output_file(out));
    }
    int bad = ferror(in);
    fclose(in);
    if (bad) {
        cli_output_abort(out);
        cli_die("%s: read failed", h->picture);
    }
    cli_output_close(out);
}

int main(int argc, char **argv)
{
    opts o = {0};
    cli_init(argv, "cm-plot");
    held *h = cli_hold(sizeof *h, release);
    cli_args_parse(&h->cli.a, argc, argv, usage, tail, NULL, 0, NULL, &own_settings, &o);
    int first = h->cli.a.first;
    char list[80];
    if (first >= argc)
        cli_usage_error("no kind of plot: %s", kind_list(list));
    cm_plot_kind kind = kind_of(argv[first]);
    const cm_kv *mine = h->cli.a.own;
    size_t labels = 0;
    for (size_t i = 0; i < cm_kv_count(mine); i++)
        labels += !strncmp(cm_kv_key(mine, i), "label.", 6);
    if (argc - first > 2)
        cli_usage_error("one input at most (-l NAME=FILE for several backtests)");
    const char *input = argc - first == 2 ? argv[first + 1] : NULL;
    if (labels && kind != CM_PLOT_BACKTEST)
        cli_usage_error("--label: for backtest scores alone");
    if (o.history && kind != CM_PLOT_FORECAST)
        cli_usage_error("--history: for a forecast alone");
    if (o.series && kind != CM_PLOT_FORECAST && kind != CM_PLOT_BACKTEST)
        cli_usage_error("--series: for a forecast or backtest forecasts alone");

    /* where the picture goes: a file by its extension, or the terminal */
    const char *out = o.co.output, *ext = out ? strrchr(out, '.') : NULL;
    int text = o.text || (!out && !o.script && isatty(STDOUT_FILENO));
    if (o.text && out)
        cli_usage_error("-t draws on standard output; -o writes a file: give one");
    if (!text && !o.script && !out)
        cli_usage_error("no picture to write: give -o OUT.png or OUT.svg, or -t to draw "
                        "with characters");
    if (out && (!ext || (strcmp(ext, ".png") && strcmp(ext, ".svg"))))
        cli_usage_error("-o: '%s': the format comes from the extension, .png or .svg", out);
    char term[120];
    unsigned w, hgt;
    if (text) {
        text_size(&w, &hgt);
        snprintf(term, sizeof term, "dumb size %u,%u noenhanced", w, hgt);
    } else {
        sscanf(o.size, "%u,%u", &w, &hgt);
        snprintf(term, sizeof term, "%s size %u,%u noenhanced font 'sans,%u'",
                 ext && !strcmp(ext, ".svg") ? "svg" : "pngcairo", w, hgt, w >= 800 ? 11 : 9);
    }
    if (!o.script) {
        const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(h->dir, sizeof h->dir, "%s/cm-plot.XXXXXX", tmp);
        if (!mkdtemp(h->dir)) {
            int e = errno;
            h->dir[0] = '\0';
            cli_die("%s: %s", tmp, strerror(e));
        }
        snprintf(h->picture, sizeof h->picture, "%s/picture%s", h->dir, text ? ".txt" : ext);
    }
    cm_plot_opts po = {kind, term, o.script ? out : *h->picture ? h->picture : NULL, o.title,
                       o.series, text};
    cm_error err;
    cm_error_clear(&err);
    cm_plot *p = h->p = cm_plot_new(&po, &err);
    if (!p)
        cli_die_error(NULL, &err);
    for (size_t i = 0; i < cm_kv_count(mine); i++) {
        const char *v = cm_kv_value(mine, i), *eq = strchr(v, '=');
        if (strncmp(cm_kv_key(mine, i), "label.", 6))
            continue;
        if (!eq || eq == v || !eq[1])
            cli_usage_error("--label: '%s' is not NAME=FILE", v);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - v < 127 ? eq - v : 127), v);
        add(p, eq + 1, name);
    }
    if (!labels || input)
        add(p, input, NULL);
    if (o.history) {
        FILE *in = cli_open_in(o.history);
        cm_status st = cm_plot_history(p, in, cli_in_name(o.history), &err);
        if (in != stdin)
            fclose(in);
        if (st)
            cli_die_error(cli_in_name(o.history), &err);
    }

    if (o.script) {
        if (cm_plot_script(p, stdout, &err) == CM_ERR_ARG)
            cli_usage_error("%s", err.msg);
        if (err.status)
            cli_die_error(NULL, &err);
        cli_stdout_flush();
        return CLI_OK;
    }
    snprintf(h->script, sizeof h->script, "%s/script.gp", h->dir);
    snprintf(h->err, sizeof h->err, "%s/gnuplot.err", h->dir);
    FILE *s = fopen(h->script, "w");
    if (!s)
        cli_die("%s: %s", h->script, strerror(errno));
    cm_status st = cm_plot_script(p, s, &err);
    if (fclose(s) && !st)
        cli_die("%s: write failed", h->script);
    if (st == CM_ERR_ARG)
        cli_usage_error("%s", err.msg);
    if (st)
        cli_die_error(NULL, &err);
    draw(h);
    deliver(h, text ? "-" : out, text);
    return CLI_OK;
}
