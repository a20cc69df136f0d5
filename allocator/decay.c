/*
 * Decay: hakmem gives free memory back to the OS with no call from the
 * program.  Each tier that caches free memory offers one release function
 * (struct hak_decay_tier below: "give back what has been free since before
 * a time"), and this file decides when to call it and with which cutoff:
 *
 *   decay     memory free for longer than HAKMEM_DECAY_MS, a little at a
 *             time while the program keeps working;
 *   idle      everything free, quiet threads' caches included, once no
 *             slow-path activity was seen for HAKMEM_IDLE_MS;
 *   pressure  everything free, when the kernel reports memory pressure
 *             (PSI) or the cgroup nears memory.high / memory.max.
 *
 * The passes run on one background thread, started lazily by the first
 * allocation slow path (never by a free: see hak_decay_start), or
 * (HAKMEM_BACKGROUND=0) piggy-backed on the Large/Huge slow paths.  The
 * Tiny/Mid rows also reclaim quiet threads' caches (slab.c).  The worker
 * sleeps with no timeout while nothing is cached, so a quiet process that
 * gave its memory back is never woken.
 * Time and pressure are read through two seams a test can replace.
 * docs/allocator.md ("Giving memory back") describes the interface.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"

/* The tiers that take part. */
static const struct hak_decay_tier {
    const char *name;
    size_t (*release)(uint64_t cutoff, enum hak_release_why why); /* bytes given back  */
    size_t (*cached)(void); /* bytes a release of everything would give back, read unlocked */
    size_t (*release_waiting)(uint64_t cutoff); /* between passes: quiet owners' emptied slabs */
} tiers[] = {
    {"tiny", hak_tiny_release, hak_tiny_cached, hak_tiny_release_waiting},
    {"mid", hak_mid_release, hak_mid_cached, hak_mid_release_waiting},
    {"large", hak_large_release, hak_large_cached, NULL},
    {"huge", hak_huge_release, hak_huge_cached, NULL},
};
#define NTIERS (sizeof(tiers) / sizeof(tiers[0]))

_Atomic int hak_decay_active; /* set by the tiers' slow paths, cleared by each pass */

static pthread_mutex_t pass_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_activity_ms; /* pass_lock */
static _Atomic uint64_t next_pass_ms; /* piggy-backed passes: not before this time */

/* ---- seams: the clock and the pressure source ----------------------------- */

/* CLOCK_MONOTONIC_COARSE: a few ns through the vDSO, precise to a tick,
 * which is plenty for timeouts counted in hundreds of milliseconds. */
static uint64_t os_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool os_pressure(void);
static uint64_t (*clock_source)(void) = os_clock_ms;
static bool (*pressure_source)(void) = os_pressure;

uint64_t hak_decay_now(void)
{
    return clock_source();
}

/* Test seams (not exported from libhakmem.so; tests link libhakmem.a). */
void hak_test_set_clock(uint64_t (*now_ms)(void))
{
    clock_source = now_ms ? now_ms : os_clock_ms;
}
void hak_test_set_pressure(bool (*under_pressure)(void))
{
    pressure_source = under_pressure ? under_pressure : os_pressure;
}

/* ---- memory pressure (pressure.c reads the kernel's files) ------------------ */

static _Atomic int pressure_pending; /* the PSI trigger fired */
static _Atomic int psi_fd = -1;      /* the worker's PSI trigger, or -1 */
static uint64_t next_pressure_read_ms;

/* The files are read at most once a second while passes run; with a PSI
 * trigger the worker polls, only the cgroup limits are read here. */
static bool os_pressure(void)
{
    uint64_t now = hak_decay_now();
    if (now < next_pressure_read_ms) return false;
    next_pressure_read_ms = now + 1000;
    return hak_pressure_read(atomic_load_explicit(&psi_fd, memory_order_relaxed) >= 0);
}

/* ---- one pass ------------------------------------------------------------------ */

static size_t cached_total(void)
{
    size_t n = 0;
    for (unsigned i = 0; i < NTIERS; i++) n += tiers[i].cached();
    return n;
}

/* How often passes run while something is cached: a quarter of the
 * shorter timeout, so memory goes back within 1.25x of it. */
static uint64_t pass_interval_ms(void)
{
    uint64_t t = (uint64_t)hak_cfg.decay_ms;
    if (hak_cfg.idle_ms && (uint64_t)hak_cfg.idle_ms < t) t = (uint64_t)hak_cfg.idle_ms;
    return t / 4 ? t / 4 : 1;
}

/* Decides the trigger and cutoff of a pass and calls every tier; returns
 * the bytes still cached.  pass_lock held. */
static size_t decay_pass_locked(void)
{
    uint64_t now = hak_decay_now();
    HAK_COUNT(decay_passes);
    if (atomic_exchange_explicit(&hak_decay_active, 0, memory_order_relaxed))
        last_activity_ms = now;
    enum hak_release_why why = HAK_RELEASE_DECAY;
    uint64_t cutoff = now > (uint64_t)hak_cfg.decay_ms ? now - (uint64_t)hak_cfg.decay_ms : 0;
    if (atomic_exchange(&pressure_pending, 0) || (hak_cfg.pressure && pressure_source())) {
        HAK_COUNT(pressure_events);
        why = HAK_RELEASE_PRESSURE;
        cutoff = HAK_RELEASE_ALL;
    } else if (hak_cfg.idle_ms && now - last_activity_ms >= (uint64_t)hak_cfg.idle_ms) {
        why = HAK_RELEASE_IDLE;
        cutoff = HAK_RELEASE_ALL;
    }
    for (unsigned i = 0; i < NTIERS; i++) tiers[i].release(cutoff, why);
    next_pass_ms = now + pass_interval_ms();
    return cached_total();
}

/* The check between two passes (pass_lock held): what quiet owners' slabs
 * other threads emptied since gives back, with the last pass's cutoff. */
static void decay_check_locked(void)
{
    uint64_t now = hak_decay_now();
    uint64_t cutoff = now > (uint64_t)hak_cfg.decay_ms ? now - (uint64_t)hak_cfg.decay_ms : 0;
    for (unsigned i = 0; i < NTIERS; i++)
        if (tiers[i].release_waiting) tiers[i].release_waiting(cutoff);
}

/* A check now (tests drive it as they drive passes). */
void hak_test_decay_check(void)
{
    pthread_mutex_lock(&pass_lock);
    decay_check_locked();
    pthread_mutex_unlock(&pass_lock);
}

/* One pass now, whoever runs passes (tests drive decay with it). */
size_t hak_test_decay_pass(void)
{
    pthread_mutex_lock(&pass_lock);
    size_t left = decay_pass_locked();
    pthread_mutex_unlock(&pass_lock);
    return left;
}

/* HAKMEM_BACKGROUND=0 (or no worker could be started): a pass when one is
 * due, run by the Large/Huge slow path that noticed. */
static void decay_piggyback(void)
{
    if (hak_decay_now() < next_pass_ms || pthread_mutex_trylock(&pass_lock) != 0) return;
    if (hak_decay_now() >= next_pass_ms) decay_pass_locked();
    pthread_mutex_unlock(&pass_lock);
}

/* ---- the worker ------------------------------------------------------------------ */

enum { WORKER_NONE, WORKER_STARTING, WORKER_RUNNING, WORKER_FAILED };
static _Atomic int worker_state;
static _Atomic int worker_parked; /* asleep with no timeout: needs a wake-up */
static int wake_fd = -1;          /* eventfd the allocator writes to wake it */

/* Sleeps up to `timeout` ms (-1: until woken), on the PSI trigger too when
 * `psi`; a trigger that fired leaves pressure_pending set. */
static void worker_wait(int timeout, bool psi)
{
    struct pollfd fds[2] = {{.fd = wake_fd, .events = POLLIN}, {.fd = psi_fd, .events = POLLPRI}};
    int n = poll(fds, psi_fd >= 0 && psi ? 2 : 1, timeout);
    HAK_COUNT(decay_wakeups);
    if (n > 0 && (fds[0].revents & POLLIN)) {
        eventfd_t v;
        eventfd_read(wake_fd, &v);
    }
    if (n > 0 && (fds[1].revents & POLLPRI)) atomic_store(&pressure_pending, 1);
    if (n > 0 && (fds[1].revents & (POLLERR | POLLNVAL))) {
        close(psi_fd); /* the cgroup went away: fall back to reading avg10 */
        psi_fd = -1;
    }
}

/* Parks the worker when nothing is cached (true: it stays parked, to sleep
 * with no timeout).  A free that caches something after the look either
 * sees `parked` or is seen by it (both fenced, seq_cst). */
static bool park_if_nothing_cached(void)
{
    atomic_store(&worker_parked, 1);
    if (cached_total() == 0) return true;
    atomic_store(&worker_parked, 0);
    return false;
}

/* While something is cached: a pass, then three checks a quarter of the
 * interval apart (decay_check_locked), then the next pass. */
static void *worker_main(void *arg)
{
    (void)arg;
    if (hak_cfg.pressure) psi_fd = hak_pressure_trigger_open();
    pthread_mutex_lock(&pass_lock);
    last_activity_ms = hak_decay_now();
    pthread_mutex_unlock(&pass_lock);
    /* Started by an allocation, usually before anything is cached: the
     * first pass waits for the first free that caches something, as the
     * later ones do once everything went back (no probe of threads that
     * have nothing to give). */
    if (park_if_nothing_cached()) worker_wait(-1, true);
    atomic_store(&worker_parked, 0);
    for (;;) {
        pthread_mutex_lock(&pass_lock);
        size_t left = decay_pass_locked();
        pthread_mutex_unlock(&pass_lock);
        int timeout = (int)pass_interval_ms();
        if (!left && park_if_nothing_cached()) timeout = -1;
        int step = timeout / 4;
        for (int i = 0; i < 3 && step > 0 && !atomic_load(&pressure_pending); i++) {
            worker_wait(step, true);
            timeout -= step;
            pthread_mutex_lock(&pass_lock);
            decay_check_locked();
            pthread_mutex_unlock(&pass_lock);
        }
        if (!atomic_load(&pressure_pending)) worker_wait(timeout, left);
        atomic_store(&worker_parked, 0);
    }
    return NULL;
}

/* Starts the worker: detached (exit never waits for it), all signals
 * blocked (they belong to the program's threads), a small stack. */
static void worker_start(void)
{
    int expected = WORKER_NONE;
    if (!atomic_compare_exchange_strong(&worker_state, &expected, WORKER_STARTING)) return;
    if (wake_fd < 0) wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_attr_t attr;
    pthread_t t;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    bool ok = wake_fd >= 0 && pthread_attr_init(&attr) == 0;
    if (ok) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 128 * 1024);
        ok = pthread_create(&t, &attr, worker_main, NULL) == 0;
        pthread_attr_destroy(&attr);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (ok) HAK_COUNT(decay_worker_starts);
    atomic_store(&worker_state, ok ? WORKER_RUNNING : WORKER_FAILED);
}

/* Called by an allocation's slow path, outside every lock: starts the
 * worker the first time.  Never from a free: glibc frees the thread
 * vectors of cached thread stacks while it holds its stack-cache lock, and
 * pthread_create takes that lock, so a start from such a free would wait
 * on itself.  glibc allocates nothing under that lock, and every block a
 * free can cache was allocated first, so the worker is up before anything
 * is cached (a fork child's inherited blocks aside: see hak_decay_cached). */
void hak_decay_start(void)
{
    if (hak_cfg.decay_ms && hak_cfg.background &&
        atomic_load_explicit(&worker_state, memory_order_relaxed) == WORKER_NONE)
        worker_start();
}

/* Called by a tier, outside its lock, after a free left memory cached:
 * wakes the worker, or runs a due pass itself where there is none yet (a
 * fork child freeing what its parent allocated, before its own first
 * allocation's slow path starts one). */
void hak_decay_cached(void)
{
    if (!hak_cfg.decay_ms) return;
    int state = atomic_load_explicit(&worker_state, memory_order_relaxed);
    if (!hak_cfg.background || state == WORKER_FAILED || state == WORKER_NONE) {
        decay_piggyback();
        return;
    }
    atomic_thread_fence(memory_order_seq_cst); /* pairs with the worker's park-then-look */
    if (atomic_load_explicit(&worker_parked, memory_order_relaxed) &&
        atomic_exchange(&worker_parked, 0))
        eventfd_write(wake_fd, 1);
}

/* Large/Huge allocations start the worker, or without one run due
 * passes too. */
void hak_decay_alloc_slow(void)
{
    hak_decay_start();
    if (hak_cfg.decay_ms && (!hak_cfg.background || worker_state == WORKER_FAILED))
        decay_piggyback();
}

void hak_decay_locks(int op)
{
    if (op == 0) pthread_mutex_lock(&pass_lock);
    else if (op == 1) pthread_mutex_unlock(&pass_lock);
    else pthread_mutex_init(&pass_lock, NULL);
}

/* In a fork child the worker does not exist: the next allocation slow
 * path starts a new one, with descriptors of its own. */
void hak_decay_fork_child(void)
{
    if (atomic_load(&worker_state) != WORKER_FAILED) atomic_store(&worker_state, WORKER_NONE);
    atomic_store(&worker_parked, 0);
    if (wake_fd >= 0) close(wake_fd);
    if (psi_fd >= 0) close(psi_fd);
    wake_fd = -1;
    psi_fd = -1;
}
