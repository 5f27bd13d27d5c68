/* test_json.c - the JSON reader (common/jsonin.c) that takes XGBoost's
 * model apart: values and paths, escapes and surrogate pairs, numbers read
 * exactly, and text that is not JSON refused with where, never a crash:
 * truncations of a valid document, nesting past the cap. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tap.h"

static cm_jv *parse(const char *text, cm_error *err)
{
    return cm_jv_parse(text, strlen(text), err);
}

static void test_values(void)
{
    cm_error err;
    const char *doc = " {\"learner\": {\"base_score\": \"5E-1\", \"trees\": [{\"left\": [1, -1, "
                      "-1], \"cond\": [0.1, 1.5E2, -2.75e-3], \"ok\": true}]}, \"n\": null,"
                      " \"s\": \"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\", \"e\": [], \"o\": {}} ";
    cm_jv *v = parse(doc, &err);
    CHECK(v && v->type == CM_J_OBJ && v->n == 5, "an object of five members");
    const cm_jv *trees = cm_jv_path(v, "learner", "trees", NULL);
    CHECK(trees && trees->type == CM_J_ARR && trees->n == 1, "a path through objects");
    const cm_jv *cond = trees ? cm_jv_get(&trees->item[0], "cond") : NULL;
    CHECK(cond && cond->n == 3 && cond->item[0].num == 0.1 && cond->item[1].num == 150 &&
              cond->item[2].num == -2.75e-3,
          "numbers read exactly as strtod would (0.1, 1.5E2, -2.75e-3)");
    const cm_jv *left = trees ? cm_jv_get(&trees->item[0], "left") : NULL;
    CHECK(left && left->item[1].num == -1, "negative integers");
    const cm_jv *ok = trees ? cm_jv_get(&trees->item[0], "ok") : NULL;
    CHECK(ok && ok->type == CM_J_BOOL && ok->num == 1, "true is a bool of 1");
    const cm_jv *s = cm_jv_get(v, "s");
    CHECK(s && s->type == CM_J_STR && !strcmp(s->str, "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80"),
          "escapes, \\u00e9 and a surrogate pair as UTF-8");
    CHECK(cm_jv_get(v, "n") && cm_jv_get(v, "n")->type == CM_J_NULL, "null");
    CHECK(cm_jv_get(v, "e")->n == 0 && cm_jv_get(v, "o")->type == CM_J_OBJ, "empty array and object");
    CHECK(!cm_jv_get(v, "missing") && !cm_jv_path(v, "learner", "nope", "deeper", NULL) &&
              !cm_jv_get(cond, "x"),
          "a missing key, a path through one, a key of an array: NULL");
    /* every truncation of the document is refused, none crashes */
    size_t n = strlen(doc), refused = 0;
    for (size_t k = 0; k < n; k++) {
        cm_jv *t = cm_jv_parse(doc, k, &err);
        refused += !t && err.status == CM_ERR_CORRUPT;
        cm_jv_free(t);
    }
    CHECK(refused == n - 1 || refused == n, "every truncation but the one losing only the last "
          "space is refused (%zu of %zu)", refused, n);
    cm_jv_free(v);
}

static void test_bad(void)
{
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"", "JSON: an unexpected end at byte 0"},
        {"[1,]", "JSON: an unexpected character at byte 3"},
        {"{\"a\" 1}", "JSON: no ':' after a member's name at byte 5"},
        {"{1: 2}", "JSON: a member without a name at byte 1"},
        {"[1 2]", "JSON: no ',' or ']' after a value at byte 3"},
        {"01", "JSON: a bad number at byte 0"},
        {"1.", "JSON: a bad number at byte 0"},
        {"\"a\x01\"", "JSON: a control character in a string at byte 2"},
        {"\"\\u12g4\"", "JSON: a bad \\u escape at byte 6"},
        {"[1] x", "JSON: text after the value at byte 4"},
        {"nul", "JSON: an unexpected character at byte 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cm_error err;
        cm_jv *v = parse(cases[i].text, &err);
        CHECK(!v && err.status == CM_ERR_CORRUPT && !strcmp(err.msg, cases[i].msg),
              "refused: '%s' (%s)", cases[i].text, v ? "parsed" : err.msg);
        cm_jv_free(v);
    }
    char deep[200];
    memset(deep, '[', sizeof deep);
    cm_error err;
    cm_jv *v = cm_jv_parse(deep, sizeof deep, &err);
    CHECK(!v && !strcmp(err.msg, "JSON: nesting too deep at byte 65"),
          "200 nested arrays: refused at the cap of 64 (%s)", v ? "parsed" : err.msg);
    const char *lone = "\"\\ud83d!\"";
    v = parse(lone, &err);
    CHECK(v && !strcmp(v->str, "\xef\xbf\xbd!"), "a lone surrogate becomes U+FFFD");
    cm_jv_free(v);
}

int main(void)
{
    test_values();
    test_bad();
    return tap_done();
}
