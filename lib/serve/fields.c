/* fields.c - a JSON object of raw fields to the names and values, as
 * text, that a replay of the model's recipe reads: what cm-predict reads
 * from NAME=VALUE arguments, so that the server and the terminal agree. */
#include <stdlib.h>
#include <string.h>

#include "serve/serve.h"

int cm_json_fields_init(cm_json_fields *f, size_t n)
{
    f->names = calloc(n + 1, sizeof *f->names);
    f->values = calloc(n + 1, sizeof *f->values);
    f->text = calloc(n + 1, 32);
    f->n = 0;
    return f->names && f->values && f->text ? 0 : -1;
}

void cm_json_fields_free(cm_json_fields *f)
{
    free(f->names);
    free(f->values);
    free(f->text);
    memset(f, 0, sizeof *f);
}

int cm_json_fields_read(json_t *obj, const cm_predictor *p, cm_json_fields *f, char *msg,
                        size_t msgn, char *field, size_t fieldn)
{
    char decimal = p ? cm_predictor_decimal(p) : '.';
    const char *key;
    json_t *v;
    f->n = 0;
    json_object_foreach(obj, key, v) {
        size_t k = f->n;
        if (json_is_null(v))
            continue; /* missing, as an empty CSV field */
        f->names[k] = key;
        if (json_is_string(v)) {
            f->values[k] = json_string_value(v);
        } else if (json_is_integer(v)) {
            snprintf(f->text + 32 * k, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            f->values[k] = f->text + 32 * k;
        } else if (json_is_real(v)) {
            /* a raw field as the training CSV wrote numbers: a comma there,
             * a comma here (derived inputs are always read with a dot) */
            char *t = f->text + 32 * k, *dot;
            cm_fmt_f64(t, 32, json_real_value(v));
            if (decimal == ',' && (dot = strchr(t, '.')) && cm_predictor_is_field(p, key))
                *dot = ',';
            f->values[k] = t;
        } else {
            snprintf(msg, msgn, "%s: not a number or a string", key);
            snprintf(field, fieldn, "%s", key);
            return -1;
        }
        f->n++;
    }
    return 0;
}
