/* expr.c - the expressions of --derive (clean/expr.h): a recursive-descent
 * parser, its depth bounded, that emits a postfix program, and a loop
 * over that program per row. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean/expr.h"

/* The deepest evaluation: per level of nesting at most a pending sum, a
 * pending product and a pending min/max argument, plus the top level's
 * sum and product and a leaf. */
#define STACK (3 * CM_EXPR_MAX_NEST + 3)

enum { OP_NUM, OP_VAR, OP_NEG, OP_ABS, OP_LOG, OP_EXP, OP_ADD, OP_SUB, OP_MUL, OP_DIV,
       OP_MIN, OP_MAX };

typedef struct op {
    uint32_t code, var;
    double num;
} op;

struct cm_expr {
    op *ops;
    size_t nops, cap; /* cap: one per byte of text, never outgrown */
    char **vars;
    size_t nvars, capvars;
};

/* ---- tokens -------------------------------------------------------------- */

enum { T_END, T_NUM, T_NAME, T_QUOTED, T_PLUS, T_MINUS, T_STAR, T_SLASH, T_LPAR, T_RPAR,
       T_COMMA, T_OTHER };

typedef struct tok {
    int kind;
    size_t at, len; /* bytes of the text */
    double num;     /* T_NUM */
} tok;

typedef struct parser {
    const char *s;
    size_t n;
    tok t;        /* the current token */
    size_t depth; /* values on the evaluation stack after the ops so far */
    int nest;     /* open parentheses and calls */
    cm_expr *e;
    cm_error *err;
} parser;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_word(char c)
{
    return is_alpha(c) || is_digit(c) || c == '.';
}

/* 1-based position in characters (UTF-8), as a person counts them. */
static size_t position(const parser *p, size_t at)
{
    size_t pos = 1;
    for (size_t i = 0; i < at; i++)
        pos += ((unsigned char)p->s[i] & 0xC0) != 0x80;
    return pos;
}

static cm_status fail_at(const parser *p, size_t at, const char *fmt, ...) CM_PRINTF(3, 4);

static cm_status fail_at(const parser *p, size_t at, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cm_fail(p->err, CM_ERR_ARG, "at %zu: %s", position(p, at), what);
}

static void quote(char *dst, size_t n, const char *s, size_t len)
{
    cm_quote_text(dst, n, s, len, 40);
}

/* The last 40 bytes or so of the text before at, for "after '...'". */
static void tail(const parser *p, size_t at, char *dst, size_t n)
{
    while (at && is_space(p->s[at - 1]))
        at--;
    size_t from = at > 40 ? at - 40 : 0;
    while (from < at && ((unsigned char)p->s[from] & 0xC0) == 0x80)
        from++;
    size_t k = from ? (size_t)snprintf(dst, n, "...") : 0;
    quote(dst + k, n - k, p->s + from, at - from);
}

/* "expected WHAT, found 'TOKEN'", or at the end "expected END after 'TEXT'". */
static cm_status expected(const parser *p, const char *what, const char *end)
{
    char q[200];
    if (p->t.kind == T_END) {
        tail(p, p->t.at, q, sizeof q);
        return fail_at(p, p->t.at, "expected %s after '%s'", end, q);
    }
    quote(q, sizeof q, p->s + p->t.at, p->t.len);
    return fail_at(p, p->t.at, "expected %s, found '%s'", what, q);
}

/* Length of a number: word characters, and a sign after its exponent's
 * 'e'; anything glued to it ("2x", "1.2.3") is part of it, and not a number. */
static size_t number_len(const parser *p, size_t i)
{
    size_t j = i + 1;
    while (j < p->n && (is_word(p->s[j]) ||
                        ((p->s[j] == '+' || p->s[j] == '-') && (p->s[j - 1] | 0x20) == 'e')))
        j++;
    return j - i;
}

static cm_status lex_number(parser *p, tok *t)
{
    char q[200];
    t->len = number_len(p, t->at);
    if (!cm_parse_num(p->s + t->at, t->len, '.', &t->num) && isfinite(t->num))
        return CM_OK;
    quote(q, sizeof q, p->s + t->at, t->len);
    if (cm_parse_num(p->s + t->at, t->len, '.', &t->num))
        return fail_at(p, t->at, "'%s' is not a number", q);
    return fail_at(p, t->at, "'%s' is out of range", q);
}

/* A quoted name, up to its closing quote; a doubled quote is one. */
static cm_status lex_quoted(parser *p, tok *t)
{
    char qc = p->s[t->at];
    size_t j = t->at + 1;
    for (;;) {
        if (j >= p->n)
            return fail_at(p, t->at, "unterminated name: no closing '%c'", qc);
        if (p->s[j] == qc && !(j + 1 < p->n && p->s[j + 1] == qc))
            break;
        j += p->s[j] == qc ? 2 : 1;
    }
    t->len = j + 1 - t->at;
    if (t->len == 2)
        return fail_at(p, t->at, "empty column name");
    if (!cm_utf8_valid(p->s + t->at + 1, t->len - 2))
        return fail_at(p, t->at, "column name is not valid UTF-8");
    return CM_OK;
}

static int punct(char c)
{
    switch (c) {
    case '+': return T_PLUS;
    case '-': return T_MINUS;
    case '*': return T_STAR;
    case '/': return T_SLASH;
    case '(': return T_LPAR;
    case ')': return T_RPAR;
    case ',': return T_COMMA;
    default: return T_OTHER;
    }
}

/* Moves p->t to the next token; a malformed one is an error here, where
 * it is, whatever the grammar expects. */
static cm_status next(parser *p)
{
    size_t i = p->t.at + p->t.len;
    while (i < p->n && is_space(p->s[i]))
        i++;
    tok t = {.kind = T_END, .at = i, .len = 0};
    cm_status st = CM_OK;
    if (i < p->n) {
        char c = p->s[i];
        t.len = 1;
        if (is_alpha(c)) {
            t.kind = T_NAME;
            while (i + t.len < p->n && is_word(p->s[i + t.len]))
                t.len++;
        } else if (is_digit(c) || c == '.') {
            t.kind = T_NUM;
            st = lex_number(p, &t);
        } else if (c == '"' || c == '`') {
            t.kind = T_QUOTED;
            st = lex_quoted(p, &t);
        } else if ((t.kind = punct(c)) == T_OTHER) {
            size_t k = cm_utf8_char(p->s + i, p->n - i);
            t.len = k ? k : 1;
        }
    }
    p->t = t;
    return st;
}

/* ---- the program ------------------------------------------------------------ */

static cm_status emit(parser *p, uint32_t code, uint32_t var, double num)
{
    cm_expr *e = p->e;
    /* Neither can happen (each op stands for a byte of its own; the nesting
     * bound holds the stack to STACK): the evaluator trusts both. */
    if (e->nops == e->cap)
        return cm_fail(p->err, CM_ERR_LIMIT, "expression too long");
    if (code == OP_NUM || code == OP_VAR) {
        if (++p->depth > STACK)
            return cm_fail(p->err, CM_ERR_LIMIT, "expression too deep");
    } else if (code >= OP_ADD) {
        p->depth--;
    }
    e->ops[e->nops++] = (op){.code = code, .var = var, .num = num};
    return CM_OK;
}

/* The column's name as written, without quotes, a doubled quote as one. */
static char *name_of(const parser *p, const tok *t)
{
    if (t->kind == T_NAME)
        return cm_strndup(p->s + t->at, t->len);
    const char *s = p->s + t->at + 1;
    size_t n = t->len - 2, k = 0;
    char *name = malloc(n + 1);
    if (!name)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        name[k++] = s[i];
        if (s[i] == s[-1])
            i++;
    }
    name[k] = '\0';
    return name;
}

static cm_status column(parser *p, const tok *t)
{
    cm_expr *e = p->e;
    char *name = name_of(p, t);
    if (!name)
        return cm_fail(p->err, CM_ERR_NOMEM, "out of memory");
    size_t i = 0;
    while (i < e->nvars && strcmp(e->vars[i], name))
        i++;
    if (i < e->nvars) {
        free(name);
    } else {
        size_t cap = cm_cap_for(e->capvars, i, 4);
        if (cap != e->capvars && cm_resize(&e->vars, e->capvars, cap, sizeof *e->vars, p->err)) {
            free(name);
            return CM_ERR_NOMEM;
        }
        e->capvars = cap;
        e->vars[e->nvars++] = name;
    }
    return emit(p, OP_VAR, (uint32_t)i, 0);
}

/* ---- the grammar --------------------------------------------------------- */

static cm_status expr(parser *p);

/* Past the '(' of a group or a call, counting the level. */
static cm_status open_paren(parser *p)
{
    if (++p->nest > CM_EXPR_MAX_NEST)
        return fail_at(p, p->t.at, "nested deeper than %d levels", CM_EXPR_MAX_NEST);
    return next(p);
}

static cm_status close_paren(parser *p)
{
    p->nest--;
    return next(p);
}

static const struct {
    const char *name;
    uint32_t code;
    int fold; /* min and max: two or more arguments, folded from the left */
} funcs[] = {{"abs", OP_ABS, 0}, {"min", OP_MIN, 1}, {"max", OP_MAX, 1},
             {"log", OP_LOG, 0}, {"exp", OP_EXP, 0}};

/* f(args), p->t on its '('. */
static cm_status call(parser *p, const tok *f)
{
    size_t k = 0, nf = sizeof funcs / sizeof *funcs;
    while (k < nf && !(strlen(funcs[k].name) == f->len &&
                       !memcmp(funcs[k].name, p->s + f->at, f->len)))
        k++;
    if (k == nf) {
        char q[200];
        quote(q, sizeof q, p->s + f->at, f->len);
        return fail_at(p, f->at, "unknown function '%s' (known: abs, min, max, log, exp)", q);
    }
    cm_status st;
    if ((st = open_paren(p)) || (st = expr(p)))
        return st;
    size_t nargs = 1;
    while (funcs[k].fold && p->t.kind == T_COMMA) {
        if ((st = next(p)) || (st = expr(p)) || (st = emit(p, funcs[k].code, 0, 0)))
            return st;
        nargs++;
    }
    if (p->t.kind == T_COMMA)
        return fail_at(p, p->t.at, "expected ')': %s takes one argument", funcs[k].name);
    if (p->t.kind == T_RPAR && funcs[k].fold && nargs < 2)
        return fail_at(p, p->t.at, "expected ',': %s takes two or more arguments",
                       funcs[k].name);
    if (p->t.kind != T_RPAR)
        return funcs[k].fold ? expected(p, "an operator, ',' or ')'", "',' or ')'")
                             : expected(p, "an operator or ')'", "')'");
    if (!funcs[k].fold && (st = emit(p, funcs[k].code, 0, 0)))
        return st;
    return close_paren(p);
}

static cm_status primary(parser *p)
{
    tok t = p->t;
    cm_status st;
    switch (t.kind) {
    case T_NUM:
        return (st = emit(p, OP_NUM, 0, t.num)) ? st : next(p);
    case T_QUOTED:
        return (st = column(p, &t)) ? st : next(p);
    case T_NAME:
        if ((st = next(p)))
            return st;
        return p->t.kind == T_LPAR ? call(p, &t) : column(p, &t);
    case T_LPAR:
        if ((st = open_paren(p)) || (st = expr(p)))
            return st;
        if (p->t.kind != T_RPAR)
            return expected(p, "an operator or ')'", "')'");
        return close_paren(p);
    default:
        return expected(p, "a number, a column or '('", "a number, a column or '('");
    }
}

/* Minus signs in a row are counted, not recursed into: "----x" is one
 * level, however long. */
static cm_status unary(parser *p)
{
    size_t negs = 0;
    cm_status st;
    for (; p->t.kind == T_MINUS; negs++)
        if ((st = next(p)))
            return st;
    if ((st = primary(p)))
        return st;
    while (negs--)
        if ((st = emit(p, OP_NEG, 0, 0)))
            return st;
    return CM_OK;
}

static cm_status term(parser *p)
{
    cm_status st = unary(p);
    while (!st && (p->t.kind == T_STAR || p->t.kind == T_SLASH)) {
        uint32_t code = p->t.kind == T_STAR ? OP_MUL : OP_DIV;
        if (!(st = next(p)) && !(st = unary(p)))
            st = emit(p, code, 0, 0);
    }
    return st;
}

static cm_status expr(parser *p)
{
    cm_status st = term(p);
    while (!st && (p->t.kind == T_PLUS || p->t.kind == T_MINUS)) {
        uint32_t code = p->t.kind == T_PLUS ? OP_ADD : OP_SUB;
        if (!(st = next(p)) && !(st = term(p)))
            st = emit(p, code, 0, 0);
    }
    return st;
}

static cm_status compile(parser *p)
{
    cm_status st = next(p);
    if (st)
        return st;
    if (p->t.kind == T_END)
        return fail_at(p, 0, "empty expression");
    if ((st = expr(p)))
        return st;
    if (p->t.kind == T_RPAR)
        return fail_at(p, p->t.at, "')' without a matching '('");
    if (p->t.kind != T_END)
        return expected(p, "an operator", "an operator");
    return CM_OK;
}

cm_expr *cm_expr_parse(const char *text, cm_error *err)
{
    size_t n = 0;
    while (n <= CM_MAX_NAME && text[n])
        n++;
    if (n > CM_MAX_NAME) {
        cm_fail_as(err, CM_ERR_LIMIT, CM_DETAIL_TOO_LONG, "expression longer than %u bytes",
                   (unsigned)CM_MAX_NAME);
        return NULL;
    }
    cm_expr *e = calloc(1, sizeof *e);
    if (e)
        e->ops = malloc((n ? n : 1) * sizeof *e->ops);
    if (!e || !e->ops) {
        free(e);
        cm_fail(err, CM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    e->cap = n;
    parser p = {.s = text, .n = n, .e = e, .err = err};
    if (compile(&p)) {
        cm_expr_free(e);
        return NULL;
    }
    return e;
}

void cm_expr_free(cm_expr *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nvars; i++)
        free(e->vars[i]);
    free(e->vars);
    free(e->ops);
    free(e);
}

size_t cm_expr_nvars(const cm_expr *e)
{
    return e->nvars;
}

const char *cm_expr_var(const cm_expr *e, size_t i)
{
    return i < e->nvars ? e->vars[i] : NULL;
}

/* ---- evaluation ---------------------------------------------------------- */

/* Every value on the stack is finite: columns and literals are checked
 * as they come in, and each operation that can leave the finite numbers
 * is checked where it does (the cases that `break` to the test below;
 * division by zero among them, as inf or nan). */
double cm_expr_eval(const cm_expr *e, const double *vars, const uint8_t *valid, int *ok)
{
    double st[STACK], x;
    size_t sp = 0;
    *ok = 0;
    for (const op *o = e->ops, *end = e->ops + e->nops; o < end; o++) {
        switch (o->code) {
        case OP_NUM: st[sp++] = o->num; continue;
        case OP_VAR:
            if ((valid && !valid[o->var]) || !isfinite(vars[o->var]))
                return 0;
            st[sp++] = vars[o->var];
            continue;
        case OP_NEG: st[sp - 1] = -st[sp - 1]; continue;
        case OP_ABS: st[sp - 1] = fabs(st[sp - 1]); continue;
        case OP_LOG:
            if (!(st[sp - 1] > 0))
                return 0;
            st[sp - 1] = log(st[sp - 1]);
            continue;
        case OP_MIN:
            sp--;
            if (st[sp] < st[sp - 1])
                st[sp - 1] = st[sp];
            continue;
        case OP_MAX:
            sp--;
            if (st[sp] > st[sp - 1])
                st[sp - 1] = st[sp];
            continue;
        case OP_EXP: x = exp(st[sp - 1]); break;
        case OP_ADD: sp--; x = st[sp - 1] + st[sp]; break;
        case OP_SUB: sp--; x = st[sp - 1] - st[sp]; break;
        case OP_MUL: sp--; x = st[sp - 1] * st[sp]; break;
        case OP_DIV: sp--; x = st[sp - 1] / st[sp]; break; /* x/0: inf or nan */
        default: return 0;
        }
        if (!isfinite(x))
            return 0;
        st[sp - 1] = x;
    }
    *ok = 1;
    return st[0];
}
