/*
 * Start-up: the first allocation of the process (which may come from the
 * dynamic loader or libc before any constructor ran) initialises hakmem.
 * Nothing here allocates, so a malloc during start-up cannot recurse.
 */
#include "counters.h"

_Atomic int hak_ready;
uintptr_t hak_free_key;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
    hak_decay_locks(0); /* first: a pass takes the heap and tier locks under it */
    hak_heap_fork_prepare();
    hak_slab_locks(0);
    hak_large_locks(0);
    hak_huge_locks(0);
    hak_region_locks(0);
    hak_counters_fork_prepare(); /* last: no other thread can change this one's caches now */
}

static void fork_parent(void)
{
    hak_region_locks(1);
    hak_huge_locks(1);
    hak_large_locks(1);
    hak_slab_locks(1);
    hak_heap_fork_parent();
    hak_decay_locks(1);
}

static void fork_child(void)
{
    hak_region_locks(2);
    hak_huge_locks(2);
    hak_large_locks(2);
    hak_slab_locks(2);
    hak_decay_locks(2);
    hak_counters_fork_child(); /* first: nothing may count into the parent's segment */
    hak_decay_fork_child();
    hak_os_membarrier_fork_child();
    hak_heap_fork_child();
}

static void init_once_body(void)
{
    hak_size_classes_init();
    hak_config_load();
    hak_os_random(&hak_free_key, sizeof(hak_free_key));
    hak_free_key |= 1; /* never NULL, never a valid block address */
    atomic_store_explicit(&hak_ready, 1, memory_order_release);
}

/* HAKMEM_STATS=1: the counter table at exit.  Here rather than in stats.c
 * so a static link that never calls hak_stats_print still has it. */
__attribute__((destructor)) static void stats_at_exit(void)
{
    if (hak_cfg.stats) hak_stats_print(stderr);
}

/* Registers the fork handlers before other libraries' constructors can
 * register theirs: handlers of theirs that allocate must run while hakmem's
 * locks are free (prepare handlers run in reverse order of registration). */
__attribute__((constructor(101))) static void init_at_load(void)
{
    hak_ensure_init();
}

void hak_init_slow(void)
{
    pthread_once(&init_once, init_once_body);
    /* Registering the fork handlers may allocate: do it once hakmem runs. */
    static _Atomic int atfork_done;
    int expected = 0;
    if (atomic_compare_exchange_strong(&atfork_done, &expected, 1))
        pthread_atfork(fork_prepare, fork_parent, fork_child);
}
