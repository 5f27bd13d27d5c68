/* rng.c - the one source of randomness in cm: explicit state, seeded by
 * the user's --seed, the same sequence on every platform (libc's rand()
 * is neither). */
#include "common/common.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

void cm_rng_seed(cm_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t cm_rng_next(cm_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double cm_rng_unit(cm_rng *r)
{
    return (double)(cm_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t cm_rng_below(cm_rng *r, uint64_t n)
{
    /* Lemire's method would be faster; rejection keeps it obviously fair. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = cm_rng_next(r);
    while (x >= limit);
    return x % n;
}
