/*
 * expr.h - arithmetic over a row's numeric columns, for cm-clean's
 * --derive NAME=EXPR: compiled once into a flat postfix program, then
 * evaluated per row with no allocation and no recursion.
 *
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/') unary)*
 *   unary   := '-'* primary
 *   primary := NUMBER | COLUMN | FUNC '(' args ')' | '(' expr ')'
 *   FUNC    := abs | log | exp (one argument) | min | max (two or more)
 *
 * Operators are left-associative with the usual precedence; spaces, tabs
 * and line ends may go between any two tokens.  A NUMBER is digits with
 * an optional '.' fraction and exponent, read by cm_parse_num: 273.15,
 * 1e3, .5, 3., 2.5E-3 (no sign: "-2" is a minus and 2); letters glued to
 * it ("2x", "1.2.3") make it no number, an error.
 * A COLUMN is an identifier, [A-Za-z_][A-Za-z0-9_.]* (PM2.5), or any
 * name in double quotes or backquotes ("CO(GT)", `Wind Speed`), where a
 * doubled quote stands for itself ("say ""hi""").  A function's name
 * not followed by '(' is a column (`max - min`); a quoted name always is.
 *
 * Evaluation does exactly the operations as written, in order, so a
 * result is the same bits on every machine.  Its result is missing when
 * a column read is missing or not finite, on division by zero, log of a
 * number <= 0, or any intermediate result that is not finite (exp(1000),
 * 1e308 * 10): a value out is always finite.  min and max keep the
 * first of equal arguments (min(0, -0) is 0).
 */
#ifndef CM_CLEAN_EXPR_H
#define CM_CLEAN_EXPR_H

#include "common/common.h"

/* Parentheses and function calls nest at most this deep; it bounds the
 * evaluator's stack (3 values per level). */
#define CM_EXPR_MAX_NEST 32

typedef struct cm_expr cm_expr;

/*
 * Compiles text (at most CM_MAX_NAME bytes).  NULL on failure, with
 * CM_ERR_ARG and a message that starts with the 1-based position in
 * characters, "at 9: expected ',' or ')' after 'max(a, b'", for the
 * caller to prefix with the derived column's name; CM_ERR_LIMIT (detail
 * CM_DETAIL_TOO_LONG) for a longer text; CM_ERR_NOMEM.
 */
cm_expr *cm_expr_parse(const char *text, cm_error *err);
void cm_expr_free(cm_expr *e);

/* The distinct columns the expression reads, in order of first use: the
 * order of cm_expr_eval's vars.  Names are as in the header, quotes
 * undone; NULL past the last. */
size_t cm_expr_nvars(const cm_expr *e);
const char *cm_expr_var(const cm_expr *e, size_t i);

/* The value for one row: vars[i] and valid[i] (valid NULL: all present)
 * for cm_expr_var(e, i).  *ok 0 and 0 returned when missing. */
double cm_expr_eval(const cm_expr *e, const double *vars, const uint8_t *valid, int *ok);

#endif
