/* settings.h - for the C tests and fuzz targets: settings written as
 * "key=value key=value", as a program would hand them to a stage (values
 * in their normal form: seconds, yes/no). */
#ifndef CM_TEST_SETTINGS_H
#define CM_TEST_SETTINGS_H

#include <stdio.h>
#include <string.h>

#include "cm.h"

static inline cm_kv *settings(const char *text)
{
    cm_kv *kv = cm_kv_new();
    char buf[512], *save = NULL;
    snprintf(buf, sizeof buf, "%s", text);
    for (char *kvp = strtok_r(buf, " ", &save); kvp; kvp = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(kvp, '=');
        *eq = '\0';
        cm_kv_set(kv, kvp, eq + 1, NULL);
    }
    return kv;
}

#endif
