/* test_expr.c - the expressions of --derive (clean/expr.h): values worked
 * out by hand, every error with its exact message, random expressions
 * against a recursive evaluator written here, and hostile text. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clean/expr.h"
#include "tap.h"

/* ---- evaluating against a fixed row ------------------------------------------ */

typedef struct binding {
    const char *name;
    double v;
    int valid;
} binding;

static const binding row[] = {
    {"a", 1.5, 1},        {"b", -2, 1},         {"z", 0, 1},
    {"m", 5, 0},          {"inf", INFINITY, 1}, {"CO(GT)", 2.5, 1},
    {"Wind Speed", 3, 1}, {"PM2.5", 12, 1},     {"max", 7, 1},
    {"log", 100, 1},      {"exp", 10, 1},       {"say \"hi\"", 4, 1},
    {"a`b", 6, 1},        {"x.y", 0.25, 1},     {"é", 9, 1},
};
#define NROW (sizeof row / sizeof *row)

static const binding *lookup(const char *name)
{
    for (size_t i = 0; i < NROW; i++)
        if (!strcmp(row[i].name, name))
            return &row[i];
    return NULL;
}

enum { BAD_PARSE = -1, NO_COLUMN = -2 };

/* 1 with *v set, 0 missing, or one of the codes above. */
static int run(const char *text, double *v)
{
    cm_error err;
    cm_expr *e = cm_expr_parse(text, &err);
    if (!e)
        return BAD_PARSE;
    double vals[NROW];
    uint8_t valid[NROW];
    int ok = NO_COLUMN;
    size_t n = cm_expr_nvars(e);
    for (size_t i = 0; i < n; i++) {
        const binding *b = lookup(cm_expr_var(e, i));
        if (!b)
            goto out;
        vals[i] = b->v;
        valid[i] = (uint8_t)b->valid;
    }
    *v = cm_expr_eval(e, vals, valid, &ok);
out:
    cm_expr_free(e);
    return ok;
}

static int is(const char *text, double want)
{
    double v = 0;
    return run(text, &v) == 1 && !memcmp(&v, &want, sizeof v);
}

static int missing(const char *text)
{
    double v = 0;
    return run(text, &v) == 0;
}

/* ---- values ---------------------------------------------------------------------- */

static void test_precedence(void)
{
    CHECK(is("1-2-3", -4), "1-2-3 is -4: minus is left-associative");
    CHECK(is("2*3+4*5", 26), "2*3+4*5 is 26");
    CHECK(is("2+3*4", 14), "2+3*4 is 14: products first");
    CHECK(is("-2*-3", 6), "-2*-3 is 6: unary minus binds tightest");
    CHECK(is("8/2/2", 2), "8/2/2 is 2: division is left-associative");
    CHECK(is("8/4*2", 4), "8/4*2 is 4");
    CHECK(is("2-3+4", 3), "2-3+4 is 3");
    CHECK(is("(2+3)*4", 20), "(2+3)*4 is 20");
    CHECK(is("2*(3+4)", 14), "2*(3+4) is 14");
    CHECK(is("10-(2-3)", 11), "10-(2-3) is 11");
    CHECK(is("((((7))))", 7), "redundant parentheses");
    CHECK(is("- -2", 2) && is("--2", 2) && is("1 - -1", 2), "minus signs in a row");
    CHECK(is("-(1+2)*2", -6), "-(1+2)*2 is -6");
    CHECK(is(" \t1\n+\r2 ", 3), "whitespace of every kind between tokens");
    CHECK(is("1+2*3-4/2", 5), "1+2*3-4/2 is 5");
    CHECK(is("0.1+0.2", 0.1 + 0.2) && !is("0.1+0.2", 0.3), "0.1+0.2 as doubles add");
}

static void test_numbers(void)
{
    CHECK(is("273.15", 273.15), "273.15");
    CHECK(is("1e3", 1000) && is("1E3", 1000), "1e3");
    CHECK(is(".5", 0.5), ".5");
    CHECK(is("3.", 3), "3.");
    CHECK(is("1e-2", 0.01) && is("2.5e+1", 25), "signed exponents");
    CHECK(is("1e-3*1000", 1e-3 * 1000), "an exponent's sign is not an operator");
    CHECK(is("2e3-1", 1999), "a minus after a number's exponent digits is one");
    CHECK(is("12345678901234567890123", 12345678901234567890123.0), "more than 19 digits");
    CHECK(is("1e-400", 0), "underflow to zero is a number");
}

static void test_functions(void)
{
    CHECK(is("abs(-3)", 3) && is("abs(b)", 2) && is("abs(3)", 3), "abs");
    CHECK(is("min(3, 1)", 1) && is("max(3, 1)", 3), "min and max of two");
    CHECK(is("min(3, 1, 2)", 1) && is("min(4, 5, 2, 3)", 2), "min of 3 and 4");
    CHECK(is("max(3, 1, 2, 5, 4)", 5) && is("max(1, 9, 2)", 9), "max of 3 and 5");
    CHECK(is("min(a, b)", -2) && is("max(a, b, z)", 1.5), "min and max of columns");
    CHECK(is("log(1)", 0) && is("log(10)", log(10.0)), "log");
    CHECK(is("exp(0)", 1) && is("exp(1)", exp(1.0)), "exp");
    CHECK(is("log(exp(2))", log(exp(2.0))), "log(exp(2))");
    CHECK(is("max (1, 2)", 2) && is("abs\t( -1 )", 1), "space before a call's '('");
    CHECK(is("2*max(1, 2)+1", 5), "a call inside arithmetic");
    CHECK(is("max(1+2, 2*2, 10/4)", 4), "arguments are expressions");
    CHECK(is("min(0, -0)", 0.0) && is("min(-0, 0)", -0.0) && is("max(-0, 0)", -0.0),
          "min and max keep the first of equal arguments");
    CHECK(is("exp(-1000)", 0), "exp underflowing to zero is a number");
}

static void test_missing(void)
{
    CHECK(missing("m"), "a missing column is missing");
    CHECK(missing("m + 1") && missing("0 * m") && missing("min(m, 1)"),
          "a missing column makes the whole result missing");
    CHECK(missing("inf") && missing("min(inf, 1)"), "a column that is not finite is missing");
    CHECK(missing("1/0") && missing("0/0") && missing("a/(b-b)") && missing("1/-0"),
          "division by zero is missing");
    CHECK(missing("log(0)") && missing("log(-1)") && missing("log(z)*0"),
          "log of a number <= 0 is missing");
    CHECK(missing("exp(1000)") && missing("exp(1000)*0"), "exp overflowing is missing");
    CHECK(missing("min(exp(1000), 1)"), "an intermediate overflow is missing");
    CHECK(missing("1e308*10") && missing("-1e308-1e308") && missing("1e308/1e-308"),
          "arithmetic overflowing is missing");
    CHECK(missing("1e308+1e308-1e308"),
          "no reassociation rescues an overflow");

    cm_error err;
    cm_expr *e = cm_expr_parse("a + b", &err);
    double v[2] = {1, 2};
    uint8_t ok2[2] = {1, 0};
    int ok = -1;
    double r = cm_expr_eval(e, v, NULL, &ok);
    CHECK(ok == 1 && r == 3, "valid NULL: every column present");
    r = cm_expr_eval(e, v, ok2, &ok);
    CHECK(ok == 0 && r == 0, "missing: 0 and *ok 0");
    cm_expr_free(e);
}

static void test_names(void)
{
    CHECK(is("\"CO(GT)\" * 2", 5), "double-quoted name with parentheses");
    CHECK(is("`Wind Speed` + 1", 4), "backquoted name with a space");
    CHECK(is("`CO(GT)` * `Wind Speed`", 7.5), "backquotes around either");
    CHECK(is("\"say \"\"hi\"\"\"", 4), "a doubled double quote is one");
    CHECK(is("`a``b`", 6) && is("\"a`b\"", 6), "a backquote, doubled or in double quotes");
    CHECK(is("PM2.5 / 2", 6) && is("x.y*4", 1), "names with dots");
    CHECK(is("\"é\" + 1", 10), "a name in UTF-8");
    CHECK(is("max + 1", 8), "a function's name alone is a column");
    CHECK(is("max(max, 1)", 7), "max of the column max");
    CHECK(is("log - exp", 90) && is("log(log)", log(100.0)), "log and exp as columns");
    CHECK(is("\"max\" + 1", 8), "a quoted function name is a column");
    CHECK(run("nope + 1", &(double){0}) == NO_COLUMN, "an unknown column is the caller's to report");

    cm_error err;
    cm_expr *e = cm_expr_parse("a + b * a + `a` + \"b\" + `Wind Speed`", &err);
    CHECK(e && cm_expr_nvars(e) == 3, "each column listed once");
    CHECK(e && !strcmp(cm_expr_var(e, 0), "a") && !strcmp(cm_expr_var(e, 1), "b") &&
              !strcmp(cm_expr_var(e, 2), "Wind Speed") && !cm_expr_var(e, 3),
          "in order of first use, without quotes");
    cm_expr_free(e);
    e = cm_expr_parse("1 + 2", &err);
    CHECK(e && cm_expr_nvars(e) == 0, "no columns");
    cm_expr_free(e);
}

/* ---- errors ----------------------------------------------------------------------- */

static const char *error_of(const char *text, cm_status *st)
{
    static cm_error err;
    cm_error_clear(&err);
    cm_expr *e = cm_expr_parse(text, &err);
    if (e) {
        cm_expr_free(e);
        return "(parsed)";
    }
    *st = err.status;
    return err.msg;
}

static void refused(const char *text, const char *msg)
{
    cm_status st = CM_OK;
    const char *got = error_of(text, &st);
    CHECK(st == CM_ERR_ARG && !strcmp(got, msg), "%s: %s", text, msg);
    if (strcmp(got, msg))
        printf("#   got: %s\n", got);
}

static void test_errors(void)
{
    refused("", "at 1: empty expression");
    refused("  \t ", "at 1: empty expression");
    refused("1 +", "at 4: expected a number, a column or '(' after '1 +'");
    refused("1 + ", "at 5: expected a number, a column or '(' after '1 +'");
    refused("max(a, b", "at 9: expected ',' or ')' after 'max(a, b'");
    refused("abs(a", "at 6: expected ')' after 'abs(a'");
    refused("(1 + 2", "at 7: expected ')' after '(1 + 2'");
    refused("(", "at 2: expected a number, a column or '(' after '('");
    refused("((((", "at 5: expected a number, a column or '(' after '(((('");
    refused("1 + 2)", "at 6: ')' without a matching '('");
    refused(")", "at 1: expected a number, a column or '(', found ')'");
    refused("()", "at 2: expected a number, a column or '(', found ')'");
    refused("1 2", "at 3: expected an operator, found '2'");
    refused("a b", "at 3: expected an operator, found 'b'");
    refused("(1 2)", "at 4: expected an operator or ')', found '2'");
    refused("abs(1 2)", "at 7: expected an operator or ')', found '2'");
    refused("max(1 2)", "at 7: expected an operator, ',' or ')', found '2'");
    refused("1 , 2", "at 3: expected an operator, found ','");
    refused("(1, 2)", "at 3: expected an operator or ')', found ','");
    refused("2(3)", "at 2: expected an operator, found '('");
    refused("\"max\"(1)", "at 6: expected an operator, found '('");
    refused("1 # 2", "at 3: expected an operator, found '#'");
    refused("#", "at 1: expected a number, a column or '(', found '#'");
    refused("+1", "at 1: expected a number, a column or '(', found '+'");
    refused("1 * * 2", "at 5: expected a number, a column or '(', found '*'");
    refused("\"é\" + ¤", "at 7: expected a number, a column or '(', found '¤'");
    refused("1 + \x01", "at 5: expected a number, a column or '(', found '\\x01'");
    refused("sqrt(x)", "at 1: unknown function 'sqrt' (known: abs, min, max, log, exp)");
    refused("2 * sqrt (x)", "at 5: unknown function 'sqrt' (known: abs, min, max, log, exp)");
    refused("Max(1, 2)", "at 1: unknown function 'Max' (known: abs, min, max, log, exp)");
    refused("abs(1, 2)", "at 6: expected ')': abs takes one argument");
    refused("log(1, 2)", "at 6: expected ')': log takes one argument");
    refused("exp(1,)", "at 6: expected ')': exp takes one argument");
    refused("max(1)", "at 6: expected ',': max takes two or more arguments");
    refused("min( a )", "at 8: expected ',': min takes two or more arguments");
    refused("abs()", "at 5: expected a number, a column or '(', found ')'");
    refused("max(1, )", "at 8: expected a number, a column or '(', found ')'");
    refused("max(1,,2)", "at 7: expected a number, a column or '(', found ','");
    refused("1.2.3", "at 1: '1.2.3' is not a number");
    refused("x * 1.2.3", "at 5: '1.2.3' is not a number");
    refused("2x", "at 1: '2x' is not a number");
    refused("1e", "at 1: '1e' is not a number");
    refused("1e+", "at 1: '1e+' is not a number");
    refused(".", "at 1: '.' is not a number");
    refused("1 + .e5", "at 5: '.e5' is not a number");
    refused("1e999", "at 1: '1e999' is out of range");
    refused("2 * 1e400", "at 5: '1e400' is out of range");
    refused("\"CO(GT)", "at 1: unterminated name: no closing '\"'");
    refused("a + `b", "at 5: unterminated name: no closing '`'");
    refused("\"a\"\"", "at 1: unterminated name: no closing '\"'");
    refused("\"\" + 1", "at 1: empty column name");
    refused("1 + ``", "at 5: empty column name");
    refused("\"\xff\"", "at 1: column name is not valid UTF-8");
    refused("1 2.2.2", "at 3: '2.2.2' is not a number");
}

/* "at N: expected ... after '...TAIL'": the last 40 bytes before the end,
 * trailing spaces left out. */
static void test_error_tail(void)
{
    char text[400], want[200];
    strcpy(text, "x");
    for (int i = 0; i < 50; i++)
        strcat(text, " + x");
    strcat(text, " *  ");
    size_t n = strlen(text);
    snprintf(want, sizeof want, "at %zu: expected a number, a column or '(' after '...%.40s'",
             n + 1, text + n - 2 - 40);
    refused(text, want);
}

static char *repeat(const char *unit, size_t times, const char *mid, const char *close)
{
    size_t u = strlen(unit), c = strlen(close), m = strlen(mid);
    char *s = malloc(times * (u + c) + m + 1), *p = s;
    for (size_t i = 0; i < times; i++, p += u)
        memcpy(p, unit, u);
    memcpy(p, mid, m);
    p += m;
    for (size_t i = 0; i < times; i++, p += c)
        memcpy(p, close, c);
    *p = '\0';
    return s;
}

static void test_limits(void)
{
    char *s = repeat("(", CM_EXPR_MAX_NEST, "1", ")");
    CHECK(is(s, 1), "%d levels of parentheses", CM_EXPR_MAX_NEST);
    free(s);
    s = repeat("(", CM_EXPR_MAX_NEST + 1, "1", ")");
    refused(s, "at 33: nested deeper than 32 levels");
    free(s);
    s = repeat("abs(", CM_EXPR_MAX_NEST + 1, "1", ")");
    refused(s, "at 132: nested deeper than 32 levels");
    free(s);
    s = repeat("(", 4096, "", "");
    refused(s, "at 33: nested deeper than 32 levels");
    free(s);

    /* The deepest stack the grammar allows: at every level a pending sum,
     * product and min/max argument (under the sanitizers an evaluator
     * stack too small would show here). */
    s = repeat("max(1, 1+1*", CM_EXPR_MAX_NEST, "1", ")");
    char *t = malloc(strlen(s) + 5);
    sprintf(t, "1+1*%s", s);
    CHECK(is(t, CM_EXPR_MAX_NEST + 2), "the deepest evaluation: %zu bytes", strlen(t));
    free(s);
    free(t);

    s = repeat("-", 4000, "1", "");
    CHECK(is(s, 1), "4000 minus signs in a row: not nesting");
    free(s);

    s = repeat("a", CM_MAX_NAME, "", "");
    cm_error err;
    cm_expr *e = cm_expr_parse(s, &err);
    CHECK(e && strlen(cm_expr_var(e, 0)) == CM_MAX_NAME, "a text of 4096 bytes");
    cm_expr_free(e);
    free(s);
    s = repeat("a", CM_MAX_NAME + 1, "", "");
    e = cm_expr_parse(s, &err);
    CHECK(!e && err.status == CM_ERR_LIMIT && err.detail == CM_DETAIL_TOO_LONG &&
              !strcmp(err.msg, "expression longer than 4096 bytes"),
          "a text of 4097 bytes: %s", err.msg);
    free(s);
}

/* ---- random expressions against a recursive evaluator ----------------------------- */

enum { N_NUM, N_VAR, N_NEG, N_ADD, N_SUB, N_MUL, N_DIV, N_ABS, N_LOG, N_EXP, N_MIN, N_MAX };

typedef struct node {
    int kind, lit, var, nkid;
    struct node *kid[4];
} node;

static const struct {
    const char *text;
    double v;
} lits[] = {{"0", 0},   {"1", 1},         {"2.5", 2.5}, {".5", .5},     {"273.15", 273.15},
            {"1e3", 1e3}, {"3", 3},       {"0.1", 0.1}, {"1e-3", 1e-3}, {"7.", 7.},
            {"1E2", 1E2}, {"1e300", 1e300}};
#define NLITS (sizeof lits / sizeof *lits)

static const char *const var_text[3] = {"x", "\"y z\"", "max"};
static const char *const var_name[3] = {"x", "y z", "max"};

typedef struct gen {
    uint64_t rng;
    node pool[512];
    size_t used;
    char text[8192];
    size_t len;
} gen;

static size_t pick(gen *g, size_t n)
{
    return (size_t)(tap_rand(&g->rng) % n);
}

static node *tree(gen *g, int depth)
{
    node *n = &g->pool[g->used++];
    memset(n, 0, sizeof *n);
    if (depth == 0 || pick(g, 10) < 3) {
        n->kind = pick(g, 2) ? N_VAR : N_NUM;
        n->lit = (int)pick(g, NLITS);
        n->var = (int)pick(g, 3);
        return n;
    }
    n->kind = N_NEG + (int)pick(g, N_MAX - N_NEG + 1);
    n->nkid = n->kind == N_NEG || n->kind == N_ABS || n->kind == N_LOG || n->kind == N_EXP ? 1
              : n->kind >= N_MIN ? 2 + (int)pick(g, 2)
                                 : 2;
    for (int i = 0; i < n->nkid; i++)
        n->kid[i] = tree(g, depth - 1);
    return n;
}

static void put(gen *g, const char *s)
{
    size_t k = strlen(s);
    memcpy(g->text + g->len, s, k);
    g->len += k;
    g->text[g->len] = '\0';
}

static void space(gen *g)
{
    static const char *const ws[] = {"", "", "", " ", "  ", "\t", "\n"};
    put(g, ws[pick(g, sizeof ws / sizeof *ws)]);
}

static int prec(const node *n)
{
    switch (n->kind) {
    case N_ADD: case N_SUB: return 1;
    case N_MUL: case N_DIV: return 2;
    case N_NEG: return 3;
    default: return 4;
    }
}

static void print(gen *g, const node *n, int paren);

static void print_kid(gen *g, const node *k, int need)
{
    print(g, k, need || pick(g, 10) == 0);
}

/* Parentheses only where precedence and left associativity need them,
 * and some more at random. */
static void print(gen *g, const node *n, int paren)
{
    static const char *const ops = "+-*/";
    static const char *const fn[] = {"abs", "log", "exp", "min", "max"};
    if (paren)
        put(g, "("), space(g);
    switch (n->kind) {
    case N_NUM: put(g, lits[n->lit].text); break;
    case N_VAR: put(g, var_text[n->var]); break;
    case N_NEG:
        put(g, "-"), space(g);
        print_kid(g, n->kid[0], prec(n->kid[0]) < 3);
        break;
    case N_ADD: case N_SUB: case N_MUL: case N_DIV: {
        char op[2] = {ops[n->kind - N_ADD], '\0'};
        print_kid(g, n->kid[0], prec(n->kid[0]) < prec(n));
        space(g), put(g, op), space(g);
        print_kid(g, n->kid[1], prec(n->kid[1]) <= prec(n));
        break;
    }
    default:
        put(g, fn[n->kind - N_ABS]), space(g), put(g, "("), space(g);
        for (int i = 0; i < n->nkid; i++) {
            if (i)
                space(g), put(g, ","), space(g);
            print_kid(g, n->kid[i], 0);
        }
        space(g), put(g, ")");
    }
    space(g);
    if (paren)
        put(g, ")"), space(g);
}

/* The semantics of clean/expr.h, recursively: 0 when missing. */
static int reference(const node *n, const double *x, const uint8_t *valid, double *out)
{
    double a[4];
    for (int i = 0; i < n->nkid; i++)
        if (!reference(n->kid[i], x, valid, &a[i]))
            return 0;
    double v;
    switch (n->kind) {
    case N_NUM: v = lits[n->lit].v; break;
    case N_VAR:
        if (!valid[n->var])
            return 0;
        v = x[n->var];
        break;
    case N_NEG: v = -a[0]; break;
    case N_ADD: v = a[0] + a[1]; break;
    case N_SUB: v = a[0] - a[1]; break;
    case N_MUL: v = a[0] * a[1]; break;
    case N_DIV:
        if (a[1] == 0)
            return 0;
        v = a[0] / a[1];
        break;
    case N_ABS: v = fabs(a[0]); break;
    case N_LOG:
        if (a[0] <= 0)
            return 0;
        v = log(a[0]);
        break;
    case N_EXP: v = exp(a[0]); break;
    case N_MIN:
    case N_MAX:
        v = a[0];
        for (int i = 1; i < n->nkid; i++)
            if (n->kind == N_MIN ? a[i] < v : a[i] > v)
                v = a[i];
        break;
    default: return 0;
    }
    if (!isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static void uses(const node *n, int *used)
{
    if (n->kind == N_VAR)
        used[n->var] = 1;
    for (int i = 0; i < n->nkid; i++)
        uses(n->kid[i], used);
}

static double random_value(gen *g)
{
    static const double some[] = {0, -0.0, 1, -1, 2, 0.5, 1e300, -1e300, 700, 1e-300};
    if (pick(g, 3))
        return some[pick(g, sizeof some / sizeof *some)];
    return ((double)pick(g, 2000001) - 1000000) / 1000;
}

/* One random expression: 1 when it parses to the tree's columns and
 * agrees with the reference, bit for bit, on a few rows. */
static int one_random(gen *g, int *values, int *missings)
{
    g->used = 0;
    g->len = 0;
    g->text[0] = '\0';
    node *root = tree(g, 1 + (int)pick(g, 4));
    space(g);
    print(g, root, 0);
    cm_error err;
    cm_expr *e = cm_expr_parse(g->text, &err);
    if (!e) {
        printf("#   %s: %s\n", g->text, err.msg);
        return 0;
    }
    int used[3] = {0}, slot[3] = {-1, -1, -1}, good = 1;
    uses(root, used);
    size_t nv = cm_expr_nvars(e), nused = (size_t)(used[0] + used[1] + used[2]);
    for (size_t i = 0; i < nv; i++)
        for (int k = 0; k < 3; k++)
            if (!strcmp(cm_expr_var(e, i), var_name[k]))
                slot[k] = (int)i;
    for (int k = 0; k < 3; k++)
        good &= used[k] == (slot[k] >= 0);
    good &= nv == nused;
    for (int r = 0; r < 4 && good; r++) {
        double x[3], vars[3] = {0};
        uint8_t valid[3], vvalid[3] = {0};
        for (int k = 0; k < 3; k++) {
            x[k] = random_value(g);
            valid[k] = pick(g, 8) != 0;
            if (slot[k] >= 0)
                vars[slot[k]] = x[k], vvalid[slot[k]] = valid[k];
        }
        double want = 0, got;
        int ok, want_ok = reference(root, x, valid, &want);
        got = cm_expr_eval(e, vars, vvalid, &ok);
        good &= ok == want_ok && (!ok || !memcmp(&got, &want, sizeof got));
        *values += ok;
        *missings += !ok;
        if (!good)
            printf("#   %s: x=%.17g y=%.17g max=%.17g: %.17g (%d), want %.17g (%d)\n",
                   g->text, x[0], x[1], x[2], got, ok, want, want_ok);
    }
    if (!good && nv != nused)
        printf("#   %s: %zu columns, want %zu\n", g->text, nv, nused);
    cm_expr_free(e);
    return good;
}

static void test_random(void)
{
    gen *g = calloc(1, sizeof *g);
    g->rng = 20240607;
    int agree = 0, values = 0, missings = 0, n = 500;
    for (int i = 0; i < n; i++)
        agree += one_random(g, &values, &missings);
    CHECK(agree == n, "%d of %d random expressions agree with the reference", agree, n);
    CHECK(values > 200 && missings > 200, "both values (%d) and missing (%d) among them", values,
          missings);
    free(g);
}

/* ---- hostile text ---------------------------------------------------------------- */

/* Parses s (copied to memory of exactly its size, so that the sanitizers
 * see a read past the NUL); 1 parsed, 0 refused with a message, -1 wrong. */
static int hostile(const char *s, size_t n)
{
    char *copy = malloc(n + 1);
    memcpy(copy, s, n);
    copy[n] = '\0';
    cm_error err;
    cm_error_clear(&err);
    cm_expr *e = cm_expr_parse(copy, &err);
    int r = 0;
    if (e) {
        double vals[64];
        uint8_t valid[64];
        size_t nv = cm_expr_nvars(e);
        for (size_t i = 0; i < 64; i++)
            vals[i] = (double)i - 3, valid[i] = i % 5 != 4;
        int ok;
        double v = nv <= 64 ? cm_expr_eval(e, vals, valid, &ok) : 0;
        r = nv > 64 || !ok || isfinite(v) ? 1 : -1;
        cm_expr_free(e);
    } else {
        r = err.status == CM_ERR_ARG && err.msg[0] ? 0 : -1;
    }
    free(copy);
    return r;
}

static void test_hostile(void)
{
    uint64_t rng = 77;
    char buf[300];
    int wrong = 0, parsed = 0, refusedn = 0;
    for (int i = 0; i < 3000; i++) {
        size_t n = (size_t)(tap_rand(&rng) % 200);
        for (size_t k = 0; k < n; k++)
            buf[k] = (char)(1 + tap_rand(&rng) % 255);
        int r = hostile(buf, n);
        wrong += r < 0;
    }
    CHECK(wrong == 0, "binary junk: refused with a message, never a crash");

    static const char *const toks[] = {"(", ")", ",", "+", "-", "*", "/", "x", "max", "abs",
                                       "log", "1", "1e", ".", "\"", "`", " ", "2.5", "\"a b\"",
                                       "e-", "min", "exp", "é", "\xc3", "0", "1e9"};
    for (int i = 0; i < 20000; i++) {
        size_t n = 0, k = tap_rand(&rng) % 30;
        for (size_t j = 0; j < k; j++) {
            const char *t = toks[tap_rand(&rng) % (sizeof toks / sizeof *toks)];
            size_t len = strlen(t);
            memcpy(buf + n, t, len);
            n += len;
        }
        int r = hostile(buf, n);
        wrong += r < 0;
        parsed += r == 1;
        refusedn += r == 0;
    }
    CHECK(wrong == 0 && parsed > 100 && refusedn > 100,
          "token soup: %d parsed, %d refused, %d wrong", parsed, refusedn, wrong);

    static const char *const worst[] = {"(", "\"", "`", "\"\"\"", "max(", "max(1,",
                                        "1e-", "-", "abs(", "1+"};
    for (size_t i = 0; i < sizeof worst / sizeof *worst; i++)
        wrong += hostile(worst[i], strlen(worst[i])) != 0;
    char *s = malloc(CM_MAX_NAME + 1);
    memset(s, '"', CM_MAX_NAME - 1);
    wrong += hostile(s, CM_MAX_NAME - 1) != 0; /* one quote left open */
    memset(s, '`', CM_MAX_NAME);
    wrong += hostile(s, CM_MAX_NAME) != 1;     /* a name of 2047 backquotes */
    memset(s, '9', CM_MAX_NAME);
    s[CM_MAX_NAME - 1] = '.';
    wrong += hostile(s, CM_MAX_NAME) != 0;     /* too many digits to read */
    free(s);
    CHECK(wrong == 0, "texts that end too soon, and long ones at the limit");
}

int main(void)
{
    test_precedence();
    test_numbers();
    test_functions();
    test_missing();
    test_names();
    test_errors();
    test_error_tail();
    test_limits();
    test_random();
    test_hostile();
    return tap_done();
}
