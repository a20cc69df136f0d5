/*
 * Relay lanes for the stress tests: each lane's thread hands its work to a new thread and exits,
 * generation after generation; the last thread of a lane reports here, and main waits for every
 * lane's last thread and joins it.
 */
#ifndef HAK_TEST_RELAY_H
#define HAK_TEST_RELAY_H

#include <pthread.h>

#include "check.h"

struct relay {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* done changed */
    int done;
    pthread_t *last; /* the lanes' last threads, in the order they finished */
};

#define RELAY_INIT(last_threads)                                                                   \
    { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, (last_threads) }

/* Called by a lane's last thread before it returns. */
static inline void relay_lane_finished(struct relay *r) {
    pthread_mutex_lock(&r->lock);
    r->last[r->done++] = pthread_self();
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* Waits until all lanes have finished, then joins their last threads. */
static inline void relay_join_all(struct relay *r, int lanes) {
    pthread_mutex_lock(&r->lock);
    while (r->done < lanes)
        pthread_cond_wait(&r->cond, &r->lock);
    pthread_mutex_unlock(&r->lock);
    for (int i = 0; i < lanes; i++)
        REQUIRE(pthread_join(r->last[i], NULL) == 0);
}

#endif
