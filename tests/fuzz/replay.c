/* replay.c - a fuzz target without libFuzzer: every file of its corpus
 * and crasher directories fed to LLVMFuzzerTestOneInput once, a TAP line
 * each, as zstd's and jansson's regression drivers do.  A crash or a
 * sanitizer report (under make asan) fails the run. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

static int pick(const struct dirent *d)
{
    return d->d_name[0] != '.' && strcmp(d->d_name, "README");
}

int main(int argc, char **argv)
{
    /* the corpus and the crashers found, their paths from the build */
    const char *dirs[] = {CORPUS_DIR, CRASHERS_DIR};
    struct dirent **list[2] = {NULL, NULL};
    int count[2] = {0, 0}, total = 0;
    LLVMFuzzerInitialize(&argc, &argv);
    for (int k = 0; k < 2; k++) {
        count[k] = scandir(dirs[k], &list[k], pick, alphasort);
        total += count[k] > 0 ? count[k] : 0;
    }
    /* a corpus gone (a directory renamed, a bad merge) is a failure,
     * not a run of no checks */
    int empty = count[0] <= 0;
    printf("1..%d\n", total + empty);
    if (empty)
        printf("not ok 1 - the corpus %s has no inputs\n", dirs[0]);
    int n = empty;
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < count[k]; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dirs[k], list[k][i]->d_name);
            FILE *f = fopen(path, "rb");
            uint8_t *buf = NULL;
            size_t len = 0, cap = 0;
            for (; f;) {
                if (len == cap) {
                    uint8_t *more = realloc(buf, cap = cap ? 2 * cap : 65536);
                    if (!more)
                        break;
                    buf = more;
                }
                size_t got = fread(buf + len, 1, cap - len, f);
                if (!got)
                    break;
                len += got;
            }
            if (f)
                fclose(f);
            LLVMFuzzerTestOneInput(buf ? buf : (const uint8_t *)"", len);
            free(buf);
            printf("ok %d - %s %s\n", ++n, k ? "crasher" : "corpus", list[k][i]->d_name);
            fflush(stdout);
            free(list[k][i]);
        }
        free(list[k]);
    }
    return empty;
}
