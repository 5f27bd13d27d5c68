/* tap.h - a minimal TAP producer for the C unit tests: one `ok N - name`
 * line per check, counted by scripts/run-tests. */
#ifndef CM_TAP_H
#define CM_TAP_H

#include <stdint.h>
#include <stdio.h>

static int tap_n, tap_failed;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        int ok_ = (cond) != 0;                                                \
        printf("%sok %d - ", ok_ ? "" : "not ", ++tap_n);                     \
        printf(__VA_ARGS__);                                                  \
        printf("\n");                                                         \
        if (!ok_) {                                                           \
            printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
            tap_failed++;                                                     \
        }                                                                     \
    } while (0)

/* A check that cannot run here: TAP's SKIP directive, counted as passed. */
#define tap_skip(...)                                                         \
    do {                                                                      \
        printf("ok %d # SKIP ", ++tap_n);                                     \
        printf(__VA_ARGS__);                                                  \
        printf("\n");                                                         \
    } while (0)

/* splitmix64: a seeded, platform-independent source of test data. */
static inline uint64_t tap_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static inline int tap_done(void)
{
    printf("1..%d\n", tap_n);
    fflush(stdout);
    return tap_failed ? 1 : 0;
}

#endif
