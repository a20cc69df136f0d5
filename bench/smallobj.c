/*
 * smallobj: a single-threaded small-object program.  It alternates two things real programs do:
 *
 *   - builds a binary tree of `depth` levels whose nodes carry a name string (16-64 B nodes and
 *     8-40 B strings), walks it, and tears it down: many same-sized objects that live together
 *     and die together (a parser's AST, a DOM);
 *   - bignum arithmetic: `numbers` additions and multiplications on digit arrays of 2-64 limbs,
 *     each result a fresh allocation and each operand freed once used: short-lived temporaries
 *     of varied sizes, like an interpreter's integers.
 *
 * `trees` rounds of both.  Every allocation is checked on the way out.
 *
 *   baseline  before the first round
 *   burst     the last round has run (nothing is live)
 *   free      the same, for the collector's end snapshot
 *
 * Result: result bench=smallobj alloc=NAME ops=N seconds=S ops_per_sec=N corrupt=N
 * where ops are allocations (each is freed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "flush.h"
#include "hakphase.h"

struct node {
    struct node *left, *right;
    char *name;
    uint32_t key;
};

static uint64_t allocs, corrupt;

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (!p) bench_fail("smallobj", "malloc(%zu) returned NULL", n);
    allocs++;
    return p;
}

static struct node *build(struct bench_rng *rng, int depth) {
    if (depth == 0) return NULL;
    struct node *n = xmalloc(sizeof *n);
    n->key = (uint32_t)bench_rng_next(rng);
    size_t len = (size_t)bench_rng_range(rng, 7, 39);
    n->name = xmalloc(len + 1);
    memset(n->name, 'a' + (int)(n->key % 26), len);
    n->name[len] = '\0';
    n->left = build(rng, depth - 1);
    n->right = build(rng, depth - 1);
    return n;
}

/* Checks and frees a tree; returns the sum of its name lengths so the walk is real work. */
static uint64_t teardown(struct node *n) {
    if (!n) return 0;
    uint64_t sum = teardown(n->left) + teardown(n->right);
    if (n->name[0] != 'a' + (int)(n->key % 26)) corrupt++;
    sum += strlen(n->name);
    free(n->name);
    free(n);
    return sum;
}

/* A little-endian number of `n` 32-bit limbs. */
struct big {
    uint32_t n;
    uint32_t limb[];
};

static struct big *big_new(uint32_t n) {
    struct big *b = xmalloc(sizeof *b + n * sizeof(uint32_t));
    b->n = n;
    return b;
}

static struct big *big_random(struct bench_rng *rng) {
    struct big *b = big_new((uint32_t)bench_rng_range(rng, 2, 32));
    for (uint32_t i = 0; i < b->n; i++)
        b->limb[i] = (uint32_t)bench_rng_next(rng);
    return b;
}

static struct big *big_add(const struct big *a, const struct big *b) {
    uint32_t n = (a->n > b->n ? a->n : b->n) + 1;
    struct big *r = big_new(n);
    uint64_t carry = 0;
    for (uint32_t i = 0; i < n; i++) {
        carry += (i < a->n ? a->limb[i] : 0) + (uint64_t)(i < b->n ? b->limb[i] : 0);
        r->limb[i] = (uint32_t)carry;
        carry >>= 32;
    }
    return r;
}

static struct big *big_mul(const struct big *a, const struct big *b) {
    struct big *r = big_new(a->n + b->n);
    memset(r->limb, 0, r->n * sizeof(uint32_t));
    for (uint32_t i = 0; i < a->n; i++) {
        uint64_t carry = 0;
        for (uint32_t j = 0; j < b->n; j++) {
            carry += (uint64_t)a->limb[i] * b->limb[j] + r->limb[i + j];
            r->limb[i + j] = (uint32_t)carry;
            carry >>= 32;
        }
        r->limb[i + b->n] = (uint32_t)carry;
    }
    return r;
}

/* Keeps a running accumulator, trimmed back to 64 limbs by replacing it with a fresh operand. */
static void arithmetic(struct bench_rng *rng, long long count) {
    struct big *acc = big_random(rng);
    for (long long i = 0; i < count; i++) {
        struct big *x = big_random(rng);
        struct big *r = (i & 3) == 0 && acc->n + x->n <= 64 ? big_mul(acc, x) : big_add(acc, x);
        if (r->n > 64) {
            free(r);
            r = big_random(rng);
        }
        free(x);
        free(acc);
        acc = r;
    }
    free(acc);
}

int main(int argc, char **argv) {
    long long v[SMALLOBJ_PARAM_COUNT];
    bench_start(&smallobj_spec, v, argc, argv);
    struct bench_rng rng;
    bench_rng_seed(&rng, (uint64_t)v[SMALLOBJ_SEED], 0);
    hak_phase_mark_live("baseline", 0);

    uint64_t start = bench_now_ns(), walked = 0;
    for (long long t = 0; t < v[SMALLOBJ_TREES]; t++) {
        struct node *root = build(&rng, (int)v[SMALLOBJ_DEPTH]);
        arithmetic(&rng, v[SMALLOBJ_NUMBERS] / v[SMALLOBJ_TREES]);
        walked += teardown(root);
    }
    double seconds = (double)(bench_now_ns() - start) / 1e9;
    bench_speed_end("smallobj", allocs, seconds, "walked", walked, corrupt,
                    "tree nodes were corrupted");
    return 0;
}
