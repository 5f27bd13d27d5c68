/* fuzz_request.c - an HTTP request to cm-serve without the socket: the
 * first line its path (cm_serve_path, as routing reads it), the rest its
 * body, posted to a model (cm_serve_post: JSON, fields through the
 * recipe, a forecast's history and future, or observations kept as the
 * model's history, which later forecasts read) and the answer dumped as
 * the server would send it. */
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "serve/serve.h"

static cm_registry *reg;
static char path[64];

static void gone(void)
{
    cm_registry_free(reg);
    unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    cm_error err;
    /* a history in memory, bounded: inputs add to it one after another */
    cm_live_opts live = {.max_series = 100};
    cm_model *m = fuzz_model();
    snprintf(path, sizeof path, "/tmp/cm-fuzz-request.XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f || cm_model_save(m, f, &err) || fclose(f) || !(reg = cm_registry_new(&live)) ||
        cm_registry_add(reg, "m", path, &err))
        abort();
    cm_model_free(m);
    atexit(gone);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const uint8_t *nl = memchr(data, '\n', n);
    size_t plen = nl ? (size_t)(nl - data) : n;
    char *url = malloc(plen + 1), name[CM_MAX_NAME + 1];
    if (!url)
        return 0;
    memcpy(url, data, plen);
    url[plen] = '\0';
    int ep = cm_serve_path(url, name);
    cm_served *s = ep == EP_PREDICT || ep == EP_FORECAST || ep == EP_OBSERVE
                       ? cm_registry_get(reg, name)
                       : NULL;
    if (s) {
        json_t *out = NULL;
        int code;
        const char *body = nl ? (const char *)nl + 1 : "";
        cm_serve_post(s, ep, body, nl ? n - plen - 1 : 0, 1000, 1000, &code, &out);
        char *text = out ? json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
        free(text);
        json_decref(out);
        cm_served_release(s);
    }
    free(url);
    return 0;
}
