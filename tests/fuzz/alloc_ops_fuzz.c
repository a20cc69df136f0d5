/*
 * libFuzzer harness: the input bytes are a sequence of allocator operations
 * (malloc, calloc, realloc, free, memalign, posix_memalign, aligned_alloc of
 * sizes across all four tiers, frees on another thread, flushes,
 * malloc_usable_size).  A shadow table of the live blocks checks after each
 * operation that no two live blocks overlap, alignment holds, the usable
 * size covers the request, and the pattern written at allocation survives
 * until free or realloc (which keeps the prefix).
 *
 * The allocator's sources are compiled into this binary (with coverage and
 * UBSan, not ASan, which would replace malloc), so hakmem serves every
 * allocation of the process, libFuzzer's own included: the harness calls
 * the standard names and hakmem's exported flush calls, and keeps its
 * shadow table in static arrays so it never allocates for itself.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>

#include "check.h"
#include "hakmem.h"

#define MAX_LIVE 64

struct block {
    unsigned char *p;
    size_t size;   /* requested */
    size_t usable; /* malloc_usable_size at allocation */
    size_t align;
    uintptr_t seed;
};

static struct block live[MAX_LIVE];
static unsigned nlive;
static uintptr_t next_seed = 1;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "alloc_ops_fuzz: " __VA_ARGS__);                                           \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

/* ---- the other thread: frees and flushes handed to it one at a time ---- */

static sem_t work_ready, work_done;
static void *work_ptr;
static int work_flush;

/* sem_wait returns early, with EINTR, when a signal handler runs on this
 * thread (libFuzzer's SIGALRM timer, taken by any thread): waiting again
 * keeps one free per request (a spurious return freed the last block a
 * second time). */
static void wait_sem(sem_t *s) {
    while (sem_wait(s) != 0)
        if (errno != EINTR) FAIL("sem_wait: %s", strerror(errno));
}

static void *worker(void *arg) {
    (void)arg;
    for (;;) {
        wait_sem(&work_ready);
        if (work_flush) hak_flush_all();
        else free(work_ptr);
        sem_post(&work_done);
    }
    return NULL;
}

static void on_worker(void *p, int flush) {
    static pthread_t tid;
    if (!tid) {
        sem_init(&work_ready, 0, 0);
        sem_init(&work_done, 0, 0);
        if (pthread_create(&tid, NULL, worker, NULL) != 0) FAIL("pthread_create failed");
    }
    work_ptr = p;
    work_flush = flush;
    sem_post(&work_ready);
    wait_sem(&work_done);
}

/* ---- shadow table ---------------------------------------------------------- */

/* A block of `size` bytes got `p`: check it against the request and every
 * live block, fill it with its pattern and record it. */
static void track(void *p, size_t size, size_t align, int zeroed) {
    if (!p) return; /* a request hakmem may refuse (huge sizes) */
    unsigned char *b = p;
    size_t usable = malloc_usable_size(p);
    if (usable < size) FAIL("usable size %zu < requested %zu at %p", usable, size, p);
    if ((uintptr_t)p % align) FAIL("%p is not %zu-aligned", p, align);
    if (zeroed && size) {
        size_t step = size > 65536 ? 4093 : 1;
        for (size_t i = 0; i < size; i += step)
            if (b[i]) FAIL("calloc(%zu) byte %zu is %#x at %p", size, i, b[i], p);
        if (b[size - 1]) FAIL("calloc(%zu) last byte is set at %p", size, p);
    }
    for (unsigned i = 0; i < nlive; i++) {
        struct block *o = &live[i];
        if (b < o->p + o->usable && o->p < b + usable)
            FAIL("[%p, +%zu) overlaps live [%p, +%zu)", p, usable, (void *)o->p, o->usable);
    }
    struct block *n = &live[nlive++];
    *n = (struct block){b, size, usable, align, next_seed++};
    pattern_fill(b, size, n->seed);
}

static void verify(const struct block *k, const char *when) {
    size_t bad = pattern_check(k->p, k->size, k->seed);
    if (bad != SIZE_MAX)
        FAIL("%s: block %p (%zu bytes) changed at offset %zu", when, (void *)k->p, k->size, bad);
}

/* After realloc to `keep` bytes or more: the bytes pattern_fill wrote below
 * `keep` in the old block of `old` bytes are unchanged. */
static void verify_prefix(const unsigned char *q, size_t old, size_t keep, uintptr_t seed) {
    for (size_t i = 0; i < keep;) {
        if (q[i] != pattern_byte(seed, i)) FAIL("realloc changed byte %zu of %zu at %p", i, keep, (void *)q);
        if (old <= PATTERN_FULL_LIMIT || i < 255 || i >= old - 256) i++;
        else if (i == 255) i = 256;
        else i = i + 512 < old - 256 ? i + 512 : old - 256;
    }
}

static struct block untrack(unsigned i) {
    struct block k = live[i];
    live[i] = live[--nlive];
    return k;
}

/* ---- input decoding ----------------------------------------------------------- */

struct input {
    const uint8_t *d;
    size_t n;
};

static unsigned take(struct input *in, unsigned bytes) {
    unsigned v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        v = v << 8 | (in->n ? *in->d : 0);
        if (in->n) in->d++, in->n--;
    }
    return v;
}

/* A size in one of the four tiers: Tiny, Mid, Large, Huge (up to 3 MiB). */
static size_t take_size(struct input *in) {
    unsigned sel = take(in, 1), r = take(in, 2);
    switch (sel & 3) {
    case 0: return r % 1025;
    case 1: return 1025 + r % (32768 - 1024);
    case 2: return 32769 + (size_t)r * 16 % ((1 << 20) - 32768);
    default: return ((size_t)1 << 20) + 1 + (size_t)r * 32 % (2 << 20);
    }
}

static size_t take_align(struct input *in) {
    return (size_t)16 << (take(in, 1) % 13); /* 16 B .. 64 KiB */
}

enum op { OP_MALLOC, OP_CALLOC, OP_REALLOC, OP_FREE, OP_MEMALIGN, OP_POSIX_MEMALIGN,
          OP_ALIGNED_ALLOC, OP_REMOTE_FREE, OP_FLUSH, OP_USABLE, OP_COUNT };

static void run_op(struct input *in) {
    unsigned op = take(in, 1) % OP_COUNT;
    unsigned pick = take(in, 1);
    if (nlive == MAX_LIVE && op <= OP_ALIGNED_ALLOC && op != OP_REALLOC && op != OP_FREE)
        op = OP_FREE;
    if (!nlive && (op == OP_REALLOC || op == OP_FREE || op == OP_REMOTE_FREE || op == OP_USABLE))
        op = OP_MALLOC;
    unsigned i = nlive ? pick % nlive : 0;
    switch (op) {
    case OP_MALLOC: {
        size_t n = take_size(in);
        track(malloc(n), n, 16, 0);
        break;
    }
    case OP_CALLOC: {
        size_t n = take_size(in), k = 1 + take(in, 1) % 4;
        track(calloc(k, n / k), n / k * k, 16, 1);
        break;
    }
    case OP_REALLOC: {
        size_t n = take_size(in);
        struct block k = live[i];
        verify(&k, "before realloc");
        unsigned char *q = realloc(k.p, n);
        if (!q && n) break; /* refused: the old block stays */
        untrack(i);
        if (!n) break;
        verify_prefix(q, k.size, k.size < n ? k.size : n, k.seed);
        track(q, n, 16, 0);
        break;
    }
    case OP_FREE: {
        struct block k = untrack(i);
        verify(&k, "before free");
        free(k.p);
        break;
    }
    case OP_MEMALIGN: {
        size_t a = take_align(in), n = take_size(in);
        track(memalign(a, n), n, a, 0);
        break;
    }
    case OP_POSIX_MEMALIGN: {
        size_t a = take_align(in), n = take_size(in);
        void *p = NULL;
        if (posix_memalign(&p, a, n) == 0) track(p, n, a, 0);
        break;
    }
    case OP_ALIGNED_ALLOC: {
        size_t a = take_align(in), n = take_size(in);
        track(aligned_alloc(a, n), n, a, 0);
        break;
    }
    case OP_REMOTE_FREE: {
        struct block k = untrack(i);
        verify(&k, "before remote free");
        on_worker(k.p, 0);
        break;
    }
    case OP_FLUSH:
        switch (pick % 5) {
        case 0: hak_tiny_flush(); break;
        case 1: hak_mid_flush(); break;
        case 2: hak_large_flush(); break;
        case 3: hak_flush_all(); break;
        default: on_worker(NULL, 1); break;
        }
        break;
    case OP_USABLE:
        if (malloc_usable_size(live[i].p) != live[i].usable)
            FAIL("malloc_usable_size(%p) changed from %zu", (void *)live[i].p, live[i].usable);
        verify(&live[i], "usable size");
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct input in = {data, size};
    for (unsigned ops = 0; in.n && ops < 4096; ops++)
        run_op(&in);
    while (nlive) {
        struct block k = untrack(nlive - 1);
        verify(&k, "at the end");
        free(k.p);
    }
    return 0;
}
