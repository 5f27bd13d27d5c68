/* script.c - the parts every picture's gnuplot script shares: the
 * terminal and output, strings and numbers as gnuplot reads them, and
 * time axes with ticks that suit their span. */
#include <math.h>
#include <string.h>

#include "plot/plot.h"

void plot_quote(FILE *out, const char *text)
{
    fputc('\'', out);
    for (const char *c = text; *c; c++) {
        if (*c == '\'')
            fputc('\'', out); /* '' is a quote inside '...' */
        if (*c != '\n' && *c != '\r')
            fputc(*c, out);
    }
    fputc('\'', out);
}

void plot_value(FILE *out, double v)
{
    char b[40];
    if (!isfinite(v)) {
        fputs("NaN", out); /* gnuplot leaves the point out */
        return;
    }
    cm_fmt_f64(b, sizeof b, v);
    fputs(b, out);
}

void plot_begin(const cm_plot *p, FILE *out, const char *title)
{
    fprintf(out, "set terminal %s\n", p->o.terminal);
    if (p->o.output) {
        fputs("set output ", out);
        plot_quote(out, p->o.output);
        fputc('\n', out);
    }
    /* 41000000, not 4.1e+07 */
    fputs("set encoding utf8\nset key top left\nset grid\nset rmargin 6\nset format y '%.10g'\n", out);
    if (!p->o.text)
        fputs("set style line 1 lc rgb '#1f4e79' lw 2\n"
              "set style line 2 lc rgb '#d9541a' lw 2\n"
              "set style line 3 lc rgb '#7f7f7f' lw 1\n"
              "set style line 4 lc rgb '#2e8b57' lw 2\n", out);
    else
        fputs("set style line 1 lw 1\nset style line 2 lw 1\nset style line 3 lw 1\n"
              "set style line 4 lw 1\n", out);
    const char *t = p->o.title ? p->o.title : title;
    if (t && *t) {
        fputs("set title ", out);
        plot_quote(out, t);
        fputc('\n', out);
    }
}

void plot_time_axis(const cm_plot *p, FILE *out, int64_t lo, int64_t hi)
{
    int64_t span = hi > lo ? hi - lo : 0; /* no points: lo > hi */
    int t = p->o.text;
    const char *fmt = span <= 2 * 86400    ? "%H:%M"
                    : span <= 20 * 86400   ? (t ? "%d/%Hh" : "%d %b %Hh")
                    : span <= 60 * 86400   ? (t ? "%d/%m" : "%d %b")
                    : span <= 3000 * 86400 ? (t ? "%m/%y" : "%b %y")
                                           : "%Y";
    fprintf(out, "set xdata time\nset timefmt '%%s'\nset format x '%s'\nset xlabel 'time'\n",
            fmt);
    /* ticks a round span apart, few enough that their labels do not
     * run into each other */
    static const int64_t every[] = {3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400,
                                    7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400,
                                    182 * 86400, 31556952, 2 * 31556952, 5 * 31556952,
                                    10 * 31556952, 25 * 31556952, 100 * INT64_C(31556952)};
    int most = t ? 7 : 8;
    for (size_t i = 0; i < sizeof every / sizeof *every; i++)
        if (span / every[i] < most) {
            fprintf(out, "set xtics %lld\n", (long long)every[i]);
            break;
        }
}
