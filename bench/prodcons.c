/*
 * prodcons: producer/consumer.  In each of `pairs` thread pairs, one thread allocates `blocks`
 * blocks of `block_size` bytes and passes them through a bounded single-producer single-consumer
 * queue of `queue` slots to another thread, which checks and frees them.  Every free is a remote
 * free (the block was allocated by another thread): the pattern of message passing, pipelines and
 * work queues.  The queue is lock-free (C11 atomics); a side that finds it full or empty yields.
 *
 *   baseline  before the threads start
 *   burst     every pair has finished (nothing is live)
 *   free      the same, marked for the collector's end snapshot
 *
 * Result: result bench=prodcons alloc=NAME ops=BLOCKS*PAIRS seconds=S ops_per_sec=N corrupt=N
 * where an op is one block allocated by the producer and freed by the consumer.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "flush.h"
#include "hakphase.h"

struct channel {
    _Alignas(64) _Atomic uint64_t head; /* next slot the consumer reads */
    _Alignas(64) _Atomic uint64_t tail; /* next slot the producer writes */
    _Alignas(64) void **slots;
    uint64_t size, blocks;
    size_t block_size;
    uint64_t corrupt;
};

static void *producer(void *arg) {
    struct channel *c = arg;
    for (uint64_t i = 0; i < c->blocks; i++) {
        uint64_t *p = malloc(c->block_size);
        if (!p)
            bench_fail("prodcons", "malloc returned NULL after %llu blocks", (unsigned long long)i);
        p[0] = i; /* the consumer checks the block it frees is the one sent */
        uint64_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed);
        while (tail - atomic_load_explicit(&c->head, memory_order_acquire) == c->size)
            sched_yield();
        c->slots[tail % c->size] = p;
        atomic_store_explicit(&c->tail, tail + 1, memory_order_release);
    }
    return NULL;
}

static void *consumer(void *arg) {
    struct channel *c = arg;
    uint64_t got = 0;
    for (;;) {
        uint64_t head = atomic_load_explicit(&c->head, memory_order_relaxed);
        uint64_t tail = atomic_load_explicit(&c->tail, memory_order_acquire);
        if (head == tail) {
            sched_yield();
            continue;
        }
        uint64_t *p = c->slots[head % c->size];
        atomic_store_explicit(&c->head, head + 1, memory_order_release);
        if (p[0] != got) c->corrupt++;
        free(p);
        if (++got == c->blocks) break;
    }
    return NULL;
}

int main(int argc, char **argv) {
    long long v[PRODCONS_PARAM_COUNT];
    bench_start(&prodcons_spec, v, argc, argv);

    size_t npairs = (size_t)v[PRODCONS_PAIRS];
    struct channel *ch = bench_map(npairs * sizeof *ch);
    pthread_t *th = bench_map(2 * npairs * sizeof *th);
    for (size_t i = 0; i < npairs; i++) {
        ch[i].size = (uint64_t)v[PRODCONS_QUEUE];
        ch[i].slots = bench_map(ch[i].size * sizeof(void *));
        ch[i].blocks = (uint64_t)v[PRODCONS_BLOCKS];
        ch[i].block_size = (size_t)v[PRODCONS_BLOCK_SIZE];
    }
    hak_phase_mark_live("baseline", 0);

    uint64_t start = bench_now_ns();
    for (size_t i = 0; i < npairs; i++) {
        if (pthread_create(&th[2 * i], NULL, consumer, &ch[i]) != 0 ||
            pthread_create(&th[2 * i + 1], NULL, producer, &ch[i]) != 0)
            bench_fail("prodcons", "cannot start threads");
    }
    for (size_t i = 0; i < 2 * npairs; i++)
        pthread_join(th[i], NULL);
    double seconds = (double)(bench_now_ns() - start) / 1e9;
    uint64_t corrupt = 0;
    for (size_t i = 0; i < npairs; i++)
        corrupt += ch[i].corrupt;
    bench_speed_end("prodcons", (uint64_t)v[PRODCONS_BLOCKS] * npairs, seconds, NULL, 0, corrupt,
                    "blocks arrived out of order");
    return 0;
}
