/*
 * Cross-thread frees: producer threads allocate blocks of every tier, fill
 * them with a pattern derived from address and size, and pass them in
 * batches through a queue to consumer threads, which check the pattern and
 * free them.  Producers also free some blocks themselves, so local and remote
 * frees mix on the same slabs.
 */
#include "check.h"

#include <pthread.h>

#define PRODUCERS 2
#define CONSUMERS 2
#define BATCH 32
#define QUEUE_CAP 32

struct block {
    void *ptr;
    size_t size;
};

struct batch {
    struct block b[BATCH];
    int n;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    struct batch *items[QUEUE_CAP];
    int head, count, producers_left;
} queue = {PTHREAD_MUTEX_INITIALIZER,
           PTHREAD_COND_INITIALIZER,
           PTHREAD_COND_INITIALIZER,
           {0},
           0,
           0,
           PRODUCERS};

static long blocks_per_producer;
static long bad_blocks, consumed;

static void queue_push(struct batch *b) {
    pthread_mutex_lock(&queue.lock);
    while (queue.count == QUEUE_CAP)
        pthread_cond_wait(&queue.not_full, &queue.lock);
    queue.items[(queue.head + queue.count) % QUEUE_CAP] = b;
    queue.count++;
    pthread_cond_signal(&queue.not_empty);
    pthread_mutex_unlock(&queue.lock);
}

/* Returns NULL once every producer is done and the queue is drained. */
static struct batch *queue_pop(void) {
    pthread_mutex_lock(&queue.lock);
    while (queue.count == 0 && queue.producers_left > 0)
        pthread_cond_wait(&queue.not_empty, &queue.lock);
    struct batch *b = NULL;
    if (queue.count > 0) {
        b = queue.items[queue.head];
        queue.head = (queue.head + 1) % QUEUE_CAP;
        queue.count--;
        pthread_cond_signal(&queue.not_full);
    }
    pthread_mutex_unlock(&queue.lock);
    return b;
}

static size_t block_size(uint64_t *rng) {
    uint64_t r = rng_below(rng, 1000);
    if (r < 700) return 1 + rng_below(rng, 1024);                  /* tiny */
    if (r < 950) return 1025 + rng_below(rng, 32768 - 1024);       /* mid */
    if (r < 998) return 32769 + rng_below(rng, (1 << 20) - 32768); /* large */
    return (1 << 20) + 1 + rng_below(rng, 3 << 20);                /* huge */
}

static uintptr_t seed_of(const struct block *b) {
    return (uintptr_t)b->ptr ^ (b->size * 0x100000001b3ULL);
}

static void *producer(void *arg) {
    uint64_t rng = (uintptr_t)arg;
    struct batch *cur = NULL;
    for (long i = 0; i < blocks_per_producer; i++) {
        struct block b = {.size = block_size(&rng)};
        b.ptr = malloc(b.size);
        REQUIRE(b.ptr != NULL);
        pattern_fill(b.ptr, b.size, seed_of(&b));
        if (rng_below(&rng, 8) == 0) { /* some die young, freed right here */
            if (pattern_check(b.ptr, b.size, seed_of(&b)) != SIZE_MAX)
                __atomic_add_fetch(&bad_blocks, 1, __ATOMIC_RELAXED);
            free(b.ptr);
            continue;
        }
        if (!cur) {
            cur = malloc(sizeof *cur); /* the batch itself is freed remotely too */
            REQUIRE(cur != NULL);
            cur->n = 0;
        }
        cur->b[cur->n++] = b;
        if (cur->n == BATCH) {
            queue_push(cur);
            cur = NULL;
        }
    }
    if (cur) queue_push(cur);
    pthread_mutex_lock(&queue.lock);
    queue.producers_left--;
    pthread_cond_broadcast(&queue.not_empty);
    pthread_mutex_unlock(&queue.lock);
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    struct batch *b;
    long n = 0, bad = 0;
    while ((b = queue_pop()) != NULL) {
        for (int i = 0; i < b->n; i++) {
            size_t off = pattern_check(b->b[i].ptr, b->b[i].size, seed_of(&b->b[i]));
            if (off != SIZE_MAX && bad++ < 5)
                fprintf(stderr, "block %p size %zu corrupted at offset %zu\n", b->b[i].ptr,
                        b->b[i].size, off);
            free(b->b[i].ptr);
            n++;
        }
        free(b);
    }
    __atomic_add_fetch(&consumed, n, __ATOMIC_RELAXED);
    __atomic_add_fetch(&bad_blocks, bad, __ATOMIC_RELAXED);
    return NULL;
}

int main(void) {
    blocks_per_producer = test_scale(300000);
    pthread_t p[PRODUCERS], c[CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++)
        REQUIRE(pthread_create(&c[i], NULL, consumer, NULL) == 0);
    for (int i = 0; i < PRODUCERS; i++)
        REQUIRE(pthread_create(&p[i], NULL, producer, (void *)(uintptr_t)(i * 7 + 1)) == 0);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(p[i], NULL);
    for (int i = 0; i < CONSUMERS; i++)
        pthread_join(c[i], NULL);
    printf("%ld blocks passed between threads, %ld corrupted\n", consumed, bad_blocks);
    CHECK(consumed > blocks_per_producer);
    CHECK(bad_blocks == 0);
    return test_finish();
}
