/*
 * Footprint under load (docs/allocator.md, "Footprint"), each part in a child with its own
 * HAKMEM_* environment, the clock and the passes driven by hand (hak_test_set_clock,
 * hak_test_decay_pass), checked through counters and RSS against a baseline of the same run:
 *   - adapt: a thread's cache of a busy class grows, never past the class's bound, however long
 *     the load runs; once the class goes light while the thread keeps working, probes halve its
 *     capacity back to the floor and trim the cache (gauge and counters follow);
 *   - purge: with one block in 16 kept, a flush gives back the pages inside partly used slabs
 *     (Tiny and Mid), the kept blocks stay intact, and allocating again reuses the purged blocks
 *     (no new SuperSlab, no block handed out twice);
 *   - idle: the same pages go back with no call, by the idle pass, and a decay pass leaves a slab
 *     used since its cutoff alone;
 *   - exit: a thread that exits gives back its free slabs at once, not at some later refill;
 *   - exit_keep: a thread that exits with few free slabs (the tier's resident free slabs under
 *     2 MiB for Tiny) leaves their pages resident: the next thread's blocks of the size fault
 *     nothing in, and the slabs still go back with no call once they aged HAKMEM_DECAY_MS;
 *     exit_keep_mid: the same for 16 MiB of free Mid slabs (the Mid tier keeps up to 32 MiB);
 *   - quiet: a live thread that stopped calling the allocator has the slabs other threads emptied
 *     given back once it was quiet for a quarter of HAKMEM_DECAY_MS, not at once, and without
 *     waiting for HAKMEM_DECAY_MS; quiet_remote: the slabs other threads' frees empty after a
 *     probe found it quiet go back at the next pass; quiet_check: or at a check between passes,
 *     but only once a probe stands; orphan_remote: so do the orphaned Tiny slabs other threads'
 *     frees empty; orphan_remote_mid: orphaned Mid slabs they empty stay resident while the tier's
 *     resident free slabs total under 32 MiB (as an exit's), and only those beyond go back;
 *   - adopt: new threads adopt the exited threads' SuperSlabs that serve their classes, each its
 *     own, and map none;
 *   - resident: a refill takes a free slab of its own whose pages are still resident before it
 *     adopts an orphan with free blocks of the class (whose free pages the exit gave back);
 *   - carve: a refill whose active slab has only pages never touched left adopts an orphan with
 *     free blocks of the class on its free lists (resident memory) before it carves them;
 *   - loose_purged: a slab whose loose blocks (a cache's returns) a flush's purge gave back holds
 *     no resident free blocks: a refill that would carve pages never touched in it takes a
 *     partial slab's resident loose blocks instead;
 *   - claim: a refill claims one slab of an exited thread's SuperSlab, of its class, and leaves
 *     the SuperSlab's other slab to another thread's refill of that class (no SuperSlab mapped);
 *     a claimed slab's blocks go to the claimer's cache when it frees them, and the slab goes
 *     back to the orphan when the claimer exits, for the next claim; claim_front: the orphan that
 *     served a claim is the first the next claim looks at; claim_batch: one claim takes up to
 *     four slabs of the class from the orphan (one hold of the orphan lock), and the next claim
 *     comes once their blocks are used;
 *   - orphan_slots: a refill claims an orphan's slab of its class when that orphan came after the
 *     orphans' class index had no slot left (it is looked for on the orphan list), and one a
 *     remote free gave a free block when that orphan is not the list's head (the index has it);
 *   - remote_claim: a thread exits with a full slab of a class; refills of the class skip the
 *     orphans while none has a free block of it, and once another thread frees a block onto that
 *     slab, the next refill of the class claims it;
 *   - pool: while a live thread holds a slab of an exited thread's SuperSlab, another thread's
 *     refill of another class takes one of that SuperSlab's free slabs before mapping one;
 *   - partly: with no thread cache (HAKMEM_CHECK=1) and no free slab, the free pages inside partly
 *     used slabs still go back with no call (the decay worker runs until its idle pass);
 *   - orphan_age: the free pages inside an exited thread's partly used slabs stay resident while
 *     it was gone less than HAKMEM_DECAY_MS (a decay pass leaves them for the next threads'
 *     claims), and go back with no call once it was gone that long; claim_age: a slab a thread
 *     claimed and gave back at its exit ages from that exit, not from the first thread's;
 *   - lock_spins: the orphan lock, which claims take, spins before it sleeps (in a fork child too);
 *   - fork: a fork child's gauges hold what the child holds: its one thread's cache capacity (not
 *     the dead threads'), the SuperSlabs it inherited.
 */
#include "check.h"

#ifndef HAKMEM_LINKED
int main(void) {
    test_skip("footprint controls exist only in hakmem builds");
}
#else

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <stdbool.h>

void hak_test_set_clock(uint64_t (*now_ms)(void));
size_t hak_test_decay_pass(void);
bool hak_test_orphan_lock_spins(void);
void hak_test_decay_check(void);

#define KIB ((size_t)1 << 10)
/* A Mid slab's bytes (HAK_MID_SLAB_SHIFT) and pages. */
enum { MID_SLAB = 64 * 1024, MID_SLAB_PAGES = MID_SLAB / 4096 };
#define MIB ((size_t)1 << 20)

static uint64_t fake_ms = 1000000;
static uint64_t fake_clock(void) {
    return fake_ms;
}

/* ---- adapt ----------------------------------------------------------------------------- */

enum { HEAVY = 2000, WINDOWS = 8 };
static long long kept_after_load;

/* Frees n blocks of `size` into an emptied cache; returns how many the cache kept. */
static long long kept_of(size_t size, int n) {
    void **v = malloc((size_t)n * sizeof *v);
    REQUIRE(v != NULL);
    for (int i = 0; i < n; i++)
        REQUIRE((v[i] = malloc(OPAQUE(size))) != NULL);
    long long local0 = hak_counter("free_ss_local");
    for (int i = 0; i < n; i++)
        free(v[i]);
    long long kept = n - (hak_counter("free_ss_local") - local0);
    free(v);
    return kept;
}

static void *adapt_thread(void *arg) {
    (void)arg;
    /* a long, heavy load on 64-byte blocks: many refills and overflows */
    for (int round = 0; round < 200; round++)
        kept_of(64, HEAVY);
    kept_after_load = kept_of(64, HEAVY);
    set_stage(1);
    /* the thread keeps working, on 32-byte blocks only, one call per probe */
    for (int w = 0; w < WINDOWS; w++) {
        wait_stage(2 + 2 * w);
        free(malloc(OPAQUE((size_t)32)));
        set_stage(3 + 2 * w);
    }
    wait_stage(100);
    return NULL;
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000 */
static void part_adapt(void) {
    hak_test_set_clock(fake_clock);
    long long grows0 = hak_counter("tcache_grows");
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, adapt_thread, NULL) == 0);
    wait_stage(1);
    /* HAKMEM_TINY_CACHE_MAX unset: the 64-byte class is bounded at 32 KiB, 512 blocks, and
     * a cache that overflows again and again grows past 256 (the half its trim keeps) */
    CHECKF(kept_after_load > 256 && kept_after_load <= 512,
           "after a heavy load the 64-byte cache kept %lld blocks (more than 256, bound 512)",
           kept_after_load);
    CHECKF(hak_counter("tcache_grows") > grows0, "no cache grew under load");
    long long cap0 = hak_counter("tiny_tcache_cap"), shrinks0 = hak_counter("tcache_shrinks");
    long long trimmed0 = hak_counter("tcache_trimmed");
    for (int w = 0; w < WINDOWS; w++) {
        hak_test_decay_pass(); /* probes the thread: its next call closes a window */
        fake_ms += 100;
        set_stage(2 + 2 * w);
        wait_stage(3 + 2 * w);
    }
    long long cap1 = hak_counter("tiny_tcache_cap");
    CHECKF(hak_counter("tcache_shrinks") > shrinks0, "no cache shrank while its class was light");
    CHECKF(hak_counter("tcache_trimmed") > trimmed0, "a shrinking cache returned no block");
    /* the 64-byte class went from its grown size back to its floor of 8 blocks */
    CHECKF(cap0 - cap1 >= (kept_after_load - 8) * 64,
           "tiny_tcache_cap went from %lld to %lld bytes (the 64-byte cache held %lld blocks)", cap0,
           cap1, kept_after_load);
    set_stage(100);
    REQUIRE(pthread_join(t, NULL) == 0);
}

/* ---- purge ----------------------------------------------------------------------------- */

enum { KEEP_EVERY = 16 };

/* Allocates `bytes` of blocks of `size`, every byte written; frees all but every 16th. */
static void **burst_keep16(size_t size, size_t bytes, size_t *n_out) {
    size_t n = bytes / size;
    void **v = malloc(n * sizeof *v);
    REQUIRE(v != NULL);
    for (size_t i = 0; i < n; i++) {
        REQUIRE((v[i] = malloc(OPAQUE(size))) != NULL);
        memset(v[i], (int)(i & 0xff), size);
    }
    for (size_t i = 0; i < n; i++)
        if (i % KEEP_EVERY) {
            free(v[i]);
            v[i] = NULL;
        }
    *n_out = n;
    return v;
}

static void check_kept(void **v, size_t n, size_t size, const char *what) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i += KEEP_EVERY) {
        unsigned char *p = v[i];
        if (p[0] != (i & 0xff) || p[size - 1] != (i & 0xff)) bad++;
    }
    CHECKF(bad == 0, "%s: %zu kept blocks changed", what, bad);
}

/* Allocates the freed slots again: every block distinct from the kept ones and each other. */
static void refill_all(void **v, size_t n, size_t size) {
    for (size_t i = 0; i < n; i++)
        if (!v[i]) {
            REQUIRE((v[i] = malloc(OPAQUE(size))) != NULL);
            memset(v[i], (int)(i & 0xff), size);
        }
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char *p = v[i];
        if (p[0] != (i & 0xff) || p[size - 1] != (i & 0xff)) bad++; /* overwritten by a twin */
    }
    CHECKF(bad == 0, "%zu blocks of %zu B were handed out twice after a purge", bad, size);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000: the flush. */
static void part_purge(void) {
    static const size_t sizes[] = {1024, 4096};
    static const char *const counters[] = {"tiny_pages_purged", "mid_pages_purged"};
    for (int k = 0; k < 2; k++) {
        size_t size = sizes[k], n;
        hak_flush_all();
        long base = (long)(rss_bytes() / 1024);
        void **v = burst_keep16(size, 32 * MIB, &n);
        long before = (long)(rss_bytes() / 1024);
        long long purged0 = hak_counter(counters[k]);
        hak_flush_all();
        long after = (long)(rss_bytes() / 1024);
        long long purged = hak_counter(counters[k]) - purged0;
        /* 15 blocks in 16 are free: at least half of the burst's pages can go */
        CHECKF(purged * 4 >= (long long)(16 * KIB), "%zu B: %lld pages purged", size, purged);
        CHECKF(before - after >= (long)(16 * KIB),
               "%zu B: the flush gave back %ld KiB of the burst's %ld KiB", size, before - after,
               before - base);
        check_kept(v, n, size, size == 1024 ? "Tiny" : "Mid");
        long long mapped0 = hak_counter("superslabs_mapped");
        refill_all(v, n, size);
        CHECKF(hak_counter("superslabs_mapped") == mapped0,
               "%zu B: refilling the purged slots mapped %lld new SuperSlabs", size,
               hak_counter("superslabs_mapped") - mapped0);
    }
}

/* The same with no call: the idle pass purges; a decay pass spares recently used slabs. */
static void part_idle(void) {
    hak_test_set_clock(fake_clock);
    size_t n;
    void **v = burst_keep16(1024, 32 * MIB, &n);
    long long purged0 = hak_counter("tiny_pages_purged");
    hak_test_decay_pass(); /* a decay pass: every slab was used within HAKMEM_DECAY_MS */
    CHECKF(hak_counter("tiny_pages_purged") == purged0,
           "a decay pass purged %lld pages of slabs used just now",
           hak_counter("tiny_pages_purged") - purged0);
    long before = (long)(rss_bytes() / 1024);
    fake_ms += 20000; /* past HAKMEM_IDLE_MS with no activity */
    hak_test_decay_pass();
    hak_test_decay_pass(); /* the first reclaims the caches' probe, the second steals */
    long after = (long)(rss_bytes() / 1024);
    CHECKF(hak_counter("tiny_pages_purged") - purged0 >= (long long)(4 * KIB),
           "idle passes purged %lld pages", hak_counter("tiny_pages_purged") - purged0);
    CHECKF(before - after >= (long)(16 * KIB), "idle gave back %ld KiB", before - after);
    check_kept(v, n, 1024, "Tiny after idle");
    refill_all(v, n, 1024);
}

/* ---- exit ------------------------------------------------------------------------------ */

/* A thread's burst: n blocks of size bytes, written, then freed. */
struct burst { int n; size_t size; };

static void *fill_free_exit(void *arg) {
    const struct burst *b = arg;
    void **v = malloc((size_t)b->n * sizeof *v);
    REQUIRE(v != NULL);
    for (int i = 0; i < b->n; i++) {
        REQUIRE((v[i] = malloc(OPAQUE(b->size))) != NULL);
        memset(v[i], 1, b->size);
    }
    for (int i = 0; i < b->n; i++)
        free(v[i]);
    free(v);
    return NULL;
}

/* HAKMEM_BACKGROUND=0 HAKMEM_SS_KEEP=1024: the exited thread's empty SuperSlabs stay mapped
 * (orphaned), yet their pages go back when the thread exits. */
static void part_exit(void) {
    long base = (long)(rss_bytes() / 1024);
    long long dec0 = hak_counter("bytes_decommitted");
    pthread_t t;
    /* 48 MiB: beyond what the Mid tier's exits keep (32 MiB) */
    REQUIRE(pthread_create(&t, NULL, fill_free_exit, &(struct burst){24 * 1024, 2048}) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    long grown = (long)(rss_bytes() / 1024) - base;
    CHECKF(hak_counter("bytes_decommitted") - dec0 >= (long long)(8 * MIB),
           "the exiting thread gave back %lld bytes of its 48 MiB",
           hak_counter("bytes_decommitted") - dec0);
    /* the exit keeps a SuperSlab's free slabs while the Mid tier's resident ones total under
     * 32 MiB (exit_keep_bytes): at most 32 MiB and one SuperSlab's */
    CHECKF(grown < 38 * 1024, "RSS grew %ld KiB over a thread that freed 48 MiB and exited",
           grown);
    /* the Tiny tier keeps 2 MiB: 16 MiB of Tiny blocks leave at most 2 MiB and one SuperSlab's */
    base = (long)(rss_bytes() / 1024);
    REQUIRE(pthread_create(&t, NULL, fill_free_exit, &(struct burst){64 * 1024, 256}) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    grown = (long)(rss_bytes() / 1024) - base;
    CHECKF(grown < 4 * 1024, "RSS grew %ld KiB over a thread that freed 16 MiB of Tiny blocks "
           "and exited", grown);
}

/* ---- mid_slab -------------------------------------------------------------------------- */

/* HAKMEM_CHECK=1 (no thread cache: each free goes back to its slab) HAKMEM_BACKGROUND=0: Mid
 * slabs are 64 KiB, two blocks of the 32 KiB class, so freeing all but the first two of sixteen
 * such blocks frees whole slabs (seven, the carving one kept) that any class can reuse; with
 * 256 KiB slabs the eight blocks 8..15 share the carving slab and nothing is freed. */
static void part_mid_slab(void) {
    enum { N = 16, SIZE = 32 * 1024 };
    void *v[N];
    for (int i = 0; i < N; i++) {
        REQUIRE((v[i] = malloc(OPAQUE((size_t)SIZE))) != NULL);
        memset(v[i], 7, SIZE);
    }
    long long cached0 = hak_counter("mid_cached");
    for (int i = 2; i < N; i++)
        free(v[i]);
    long long freed = hak_counter("mid_cached") - cached0;
    CHECKF(freed >= (long long)(6 * MID_SLAB),
           "%lld bytes of free Mid slabs after freeing 14 of 16 32 KiB blocks", freed);
    void *w[4];
    for (int i = 0; i < 4; i++) /* another class takes the free slabs: nothing mapped */
        REQUIRE((w[i] = malloc(OPAQUE((size_t)20 * 1024))) != NULL);
    CHECKF(hak_counter("mid_cached") < cached0 + freed, "the 20 KiB class reused no free slab");
    for (int i = 0; i < 4; i++)
        free(w[i]);
    free(v[0]);
    free(v[1]);
}

/* ---- exit_keep ------------------------------------------------------------------------- */

enum { KEEP_N = 512, KEEP_SIZE = 1024 }; /* 512 KiB of Tiny blocks: eight slabs */

/* Fills and frees n blocks of `size`; returns the minor page faults of the fill, in the thread. */
static void *fill_free_count_faults(int n, size_t size) {
    void **v = malloc((size_t)n * sizeof *v);
    REQUIRE(v != NULL);
    struct rusage r0, r1;
    REQUIRE(getrusage(RUSAGE_THREAD, &r0) == 0);
    for (int i = 0; i < n; i++) {
        REQUIRE((v[i] = malloc(OPAQUE(size))) != NULL);
        memset(v[i], 1, size);
    }
    REQUIRE(getrusage(RUSAGE_THREAD, &r1) == 0);
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return (void *)(intptr_t)(r1.ru_minflt - r0.ru_minflt);
}

static void *fill_free_faults(void *arg) {
    (void)arg;
    return fill_free_count_faults(KEEP_N, KEEP_SIZE);
}

/* Bytes given back so far: pages decommitted and SuperSlabs unmapped. */
static long long given_back(void) {
    return hak_counter("bytes_decommitted") + hak_counter("bytes_munmapped");
}

/* A thread runs `fill` (fills and frees `bytes`, returns its faults) and exits; nothing may go
 * back at once; a second one's fill must fault fewer than a quarter of the pages in; a decay
 * pass 20 s later must give back at least half of them.  The clock driven by hand. */
static void check_exit_keeps(void *(*fill)(void *), long long bytes, const char *what) {
    hak_test_set_clock(fake_clock);
    void *faults;
    pthread_t t;
    long long back0 = given_back();
    REQUIRE(pthread_create(&t, NULL, fill, NULL) == 0);
    REQUIRE(pthread_join(t, &faults) == 0);
    CHECKF(given_back() == back0, "a thread that exited with %s of free slabs gave back %lld bytes "
           "at once", what, given_back() - back0);
    back0 = given_back();
    REQUIRE(pthread_create(&t, NULL, fill, NULL) == 0);
    REQUIRE(pthread_join(t, &faults) == 0);
    CHECKF((intptr_t)faults < bytes / 4096 / 4,
           "the next thread faulted %ld pages in for the %s an exited thread left free",
           (long)(intptr_t)faults, what);
    fake_ms += 20000;
    hak_test_decay_pass();
    CHECKF(given_back() - back0 >= bytes / 2,
           "a decay pass gave back %lld bytes of the %s of free slabs exited threads left 20 s ago",
           given_back() - back0, what);
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000. */
static void part_exit_keep(void) {
    check_exit_keeps(fill_free_faults, (long long)KEEP_N * KEEP_SIZE, "512 KiB");
}

/* ---- exit_keep_mid --------------------------------------------------------------------- */

enum { KEEP_MID_N = 8 * 1024, KEEP_MID_SIZE = 2048 }; /* 16 MiB of Mid blocks */

static void *fill_free_mid_faults(void *arg) {
    (void)arg;
    return fill_free_count_faults(KEEP_MID_N, KEEP_MID_SIZE);
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000 HAKMEM_SS_KEEP=1024 (a thread's
 * emptied SuperSlabs stay mapped): a thread that exits with 16 MiB of free Mid slabs (the tier's
 * resident free slabs under 32 MiB) leaves their pages resident, the next thread's 16 MiB fault
 * nothing in, and the slabs still go back with no call once they aged HAKMEM_DECAY_MS. */
static void part_exit_keep_mid(void) {
    check_exit_keeps(fill_free_mid_faults, (long long)KEEP_MID_N * KEEP_MID_SIZE, "16 MiB");
}

/* ---- orphan age ------------------------------------------------------------------------ */

static void **aged_v;
static size_t aged_n;

static void *keep16_exit(void *arg) {
    (void)arg;
    aged_v = burst_keep16(4096, 16 * MIB, &aged_n);
    set_stage(1);
    wait_stage(2); /* its slabs were last used long before it exits */
    return NULL;
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000: a thread exits 20 s after it last
 * used its Mid slabs, leaving one block in 16 of them.  A decay pass leaves the free pages of
 * those orphaned slabs alone while they were orphaned less than HAKMEM_DECAY_MS ago (the next
 * threads would fault them in again), and gives them back once they stayed unclaimed that long. */
/* Runs fn in a thread that stops at stage 1 until the clock moved 20 s, then exits; runs a decay
 * pass 5 s after the exit and returns the Mid pages it purged. */
static long long exit_late_then_pass(void *(*fn)(void *), void *arg) {
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, fn, arg) == 0);
    wait_stage(1);
    fake_ms += 20000;
    set_stage(2);
    REQUIRE(pthread_join(t, NULL) == 0);
    long long purged0 = hak_counter("mid_pages_purged");
    fake_ms += 5000;
    hak_test_decay_pass();
    return hak_counter("mid_pages_purged") - purged0;
}

static void part_orphan_age(void) {
    hak_test_set_clock(fake_clock);
    long long early = exit_late_then_pass(keep16_exit, NULL);
    long long purged0 = hak_counter("mid_pages_purged");
    long before = (long)(rss_bytes() / 1024);
    fake_ms += 6000; /* orphaned 11 s ago */
    hak_test_decay_pass();
    long after = (long)(rss_bytes() / 1024);
    long long late = hak_counter("mid_pages_purged") - purged0;
    CHECKF(early == 0, "a decay pass purged %lld pages of slabs orphaned 5 s ago", early);
    /* 15 pages in 16 hold only free blocks: 15 MiB of the 16 */
    CHECKF(late * 4 >= (long long)(8 * KIB), "%lld pages purged once orphaned past the cutoff", late);
    CHECKF(before - after >= (long)(8 * KIB), "the late pass gave back %ld KiB", before - after);
    check_kept(aged_v, aged_n, 4096, "Mid after the orphan's purge");
    for (size_t i = 0; i < aged_n; i++)
        free(aged_v[i]);
    free(aged_v);
}

static void *keep16_exit_now(void *arg) {
    (void)arg;
    aged_v = burst_keep16(4096, 4 * MIB, &aged_n);
    return NULL;
}

static void *claim_then_wait(void *arg) {
    void *b = malloc(OPAQUE((size_t)4096)); /* claims one of the orphan's slabs */
    REQUIRE(b != NULL);
    *(void **)arg = b;
    set_stage(1);
    wait_stage(2);
    free(b);
    return NULL; /* the claimed slab goes back to its orphan */
}

/* Resident pages of the Mid slab that holds p. */
static int slab_resident_pages(void *p) {
    unsigned char vec[MID_SLAB_PAGES];
    void *base = (void *)((uintptr_t)p & ~(uintptr_t)(MID_SLAB - 1));
    REQUIRE(mincore(base, MID_SLAB, vec) == 0);
    int n = 0;
    for (int i = 0; i < MID_SLAB_PAGES; i++)
        n += vec[i] & 1;
    return n;
}

/* Same environment: a slab a thread claimed from an orphan and gave back when it exited, 20 s
 * later, ages from that exit: the pass that purges the orphan's other slabs (orphaned 25 s ago)
 * leaves its free pages resident. */
static void part_claim_age(void) {
    hak_test_set_clock(fake_clock);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, keep16_exit_now, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    void *b = NULL;
    long long purged = exit_late_then_pass(claim_then_wait, &b);
    CHECKF(purged >= 256, "%lld pages purged of the slabs orphaned 25 s ago", purged);
    int resident = slab_resident_pages(b);
    CHECKF(resident >= MID_SLAB_PAGES * 3 / 4,
           "%d of %d pages resident in the slab given back 5 s ago", resident, MID_SLAB_PAGES);
    check_kept(aged_v, aged_n, 4096, "Mid after the orphan's purge");
    for (size_t i = 0; i < aged_n; i++)
        free(aged_v[i]);
    free(aged_v);
}

/* ---- quiet ----------------------------------------------------------------------------- */

static void **quiet_blocks;
enum { QUIET_N = 4096, QUIET_SIZE = 2048 };

/* Fills quiet_blocks with QUIET_N blocks of QUIET_SIZE (8 MiB of Mid slabs). */
static void quiet_fill(void) {
    quiet_blocks = malloc(QUIET_N * sizeof *quiet_blocks);
    REQUIRE(quiet_blocks != NULL);
    for (int i = 0; i < QUIET_N; i++) {
        REQUIRE((quiet_blocks[i] = malloc(OPAQUE((size_t)QUIET_SIZE))) != NULL);
        memset(quiet_blocks[i], 3, QUIET_SIZE);
    }
}

static void *quiet_thread(void *arg) {
    (void)arg;
    quiet_fill();
    set_stage(1);
    wait_stage(2); /* quiet: blocked, no allocator call */
    for (int i = 0; i < 100; i++)
        free(malloc(OPAQUE((size_t)QUIET_SIZE)));
    return NULL;
}

/* Lets quiet_thread finish and exit. */
static void quiet_thread_done(pthread_t t) {
    set_stage(2);
    REQUIRE(pthread_join(t, NULL) == 0);
    free(quiet_blocks);
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000 */
static void part_quiet(void) {
    hak_test_set_clock(fake_clock);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, quiet_thread, NULL) == 0);
    wait_stage(1);
    for (int i = 0; i < QUIET_N; i++)
        free(quiet_blocks[i]); /* remote frees: only a pass or the owner drains them */
    long before = (long)(rss_bytes() / 1024);
    hak_test_decay_pass(); /* drains, frees the slabs, probes the thread */
    fake_ms += 100;
    hak_test_decay_pass(); /* quiet for 100 ms only: a thread may just wait for a CPU */
    long mid = (long)(rss_bytes() / 1024);
    fake_ms += 3000;
    hak_test_decay_pass(); /* quiet past HAKMEM_DECAY_MS / 4, well before HAKMEM_DECAY_MS */
    long after = (long)(rss_bytes() / 1024);
    CHECKF(before - mid < 1024, "%ld KiB given back 100 ms into the thread's quiet spell",
           before - mid);
    CHECKF(before - after >= 6 * 1024,
           "a quiet thread's emptied slabs: %ld KiB given back of 8 MiB, 3.1 s after", before - after);
    quiet_thread_done(t);
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000: the thread is probed while its
 * blocks are still live and stays quiet; the slabs that other threads' frees empty after that
 * go back at the next pass, 100 ms later, not a quarter of HAKMEM_DECAY_MS later (Larson's main
 * thread waiting for its workers). */
static void part_quiet_remote(void) {
    hak_test_set_clock(fake_clock);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, quiet_thread, NULL) == 0);
    wait_stage(1);
    hak_test_decay_pass(); /* probes the thread: nothing of its is free yet */
    fake_ms += 100;
    for (int i = 0; i < QUIET_N; i++)
        free(quiet_blocks[i]); /* remote frees */
    long before = (long)(rss_bytes() / 1024);
    hak_test_decay_pass(); /* drains them: the slabs they emptied go */
    long after = (long)(rss_bytes() / 1024);
    CHECKF(before - after >= 6 * 1024,
           "slabs emptied by other threads after the probe: %ld KiB given back of 8 MiB",
           before - after);
    quiet_thread_done(t);
}

/* Same environment: between two passes a check gives back what a pass would of a quiet thread's
 * slabs that other threads' frees emptied, once a pass's probe stands: Larson's main thread loses
 * its slabs a quarter of a pass interval after the probe, before its workers carve many more.  A
 * check with no probe standing leaves the thread's slabs alone: nothing says it is quiet. */
static void part_quiet_check(void) {
    hak_test_set_clock(fake_clock);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, quiet_thread, NULL) == 0);
    wait_stage(1);
    for (int i = 0; i < QUIET_N / 2; i++)
        free(quiet_blocks[i]); /* remote frees, before any probe */
    long before = (long)(rss_bytes() / 1024);
    hak_test_decay_check();
    long unprobed = (long)(rss_bytes() / 1024);
    hak_test_decay_pass(); /* probes the thread */
    fake_ms += 20;
    for (int i = QUIET_N / 2; i < QUIET_N; i++)
        free(quiet_blocks[i]); /* remote frees after the probe */
    long mid = (long)(rss_bytes() / 1024);
    hak_test_decay_check();
    long after = (long)(rss_bytes() / 1024);
    CHECKF(before - unprobed < 1024, "a check with no probe standing gave back %ld KiB",
           before - unprobed);
    CHECKF(mid - after >= 3 * 1024,
           "a check 20 ms after the probe: %ld KiB given back of the 4 MiB emptied since", mid - after);
    quiet_thread_done(t);
}

/* ---- orphan_remote --------------------------------------------------------------------- */

static void **remote_blocks;
static size_t remote_n, remote_size;

static void *fill_exit(void *arg) {
    (void)arg;
    remote_blocks = malloc(remote_n * sizeof *remote_blocks);
    REQUIRE(remote_blocks != NULL);
    for (size_t i = 0; i < remote_n; i++) {
        REQUIRE((remote_blocks[i] = malloc(OPAQUE(remote_size))) != NULL);
        memset(remote_blocks[i], 3, remote_size);
    }
    return NULL; /* exits with all of them live: its slabs are orphaned full */
}

/* A thread exits leaving `mib` MiB of `size`-byte blocks, which this thread then frees onto the
 * orphaned slabs; returns the KiB the next decay pass gave back. */
static long orphan_remote_pass(size_t mib, size_t size) {
    remote_n = mib * MIB / size;
    remote_size = size;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, fill_exit, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    fake_ms += 100;
    for (size_t i = 0; i < remote_n; i++)
        free(remote_blocks[i]); /* remote frees onto orphaned slabs */
    free(remote_blocks);
    long before = (long)(rss_bytes() / 1024);
    hak_test_decay_pass();
    return before - (long)(rss_bytes() / 1024);
}

/* Same environment: the orphaned Tiny slabs other threads' frees empty go back at the next decay
 * pass, not HAKMEM_DECAY_MS after: their owner is gone, and the next threads claim the orphans'
 * resident blocks first. */
static void part_orphan_remote(void) {
    hak_test_set_clock(fake_clock);
    long back = orphan_remote_pass(8, 512);
    CHECKF(back >= 6 * 1024, "orphaned Tiny slabs emptied by other threads: %ld KiB given back of 8 MiB",
           back);
}

/* Same environment: orphaned Mid slabs that other threads' frees empty stay resident for the
 * next threads' claims while the tier's resident free slabs total under 32 MiB, as an exit's
 * free slabs do; beyond that the next decay pass gives them back.  40 MiB emptied: at least 24
 * MiB stay, at least 6 MiB go. */
static void part_orphan_remote_mid(void) {
    hak_test_set_clock(fake_clock);
    long back = orphan_remote_pass(40, 2048);
    long long cached = hak_counter("mid_cached");
    CHECKF(back >= 6 * 1024, "orphaned Mid slabs emptied beyond 32 MiB: %ld KiB given back of 40 MiB",
           back);
    CHECKF(cached >= 24 * (long long)MIB,
           "orphaned Mid slabs emptied by other threads: %lld KiB of free slabs left resident",
           cached / 1024);
}

/* ---- adopt ---------------------------------------------------------------------------- */

/* Four threads, each using seven Mid classes of its own (256 KiB of slabs each, so one SuperSlab
 * each), exit leaving one block per run: four orphans, the last orphaned first on the list.  Four
 * new threads, all alive at once, each need the free blocks of one orphan; a thread adopts the
 * orphan that serves its classes, so none maps a SuperSlab (taking orphans in list order, the
 * first thread would take all four and the three others would map fresh ones). */
enum { ADOPT_THREADS = 4, ADOPT_CLASSES = 7, ADOPT_RUN = 256 * 1024 };
static const size_t adopt_size[ADOPT_THREADS][ADOPT_CLASSES] = {
    {2304, 2560, 2816, 3072, 3328, 3584, 3840},
    {4096, 4608, 5120, 5632, 6144, 6656, 7168},
    {7680, 8192, 9216, 10240, 11264, 12288, 13312},
    {14336, 15360, 16384, 18432, 20480, 22528, 24576},
};
static void *adopt_kept[ADOPT_THREADS][ADOPT_CLASSES];
static void *adopt_block[ADOPT_THREADS][ADOPT_RUN / 2304];

/* wave 0: fill one run per class, keep its first block; wave 1: fill the rest of it */
struct adopt_arg {
    int t, wave;
};

static void *adopt_thread(void *arg) {
    struct adopt_arg *a = arg;
    wait_stage(10 * a->wave + a->t);
    for (int k = 0; k < ADOPT_CLASSES; k++) {
        size_t size = adopt_size[a->t][k];
        int n = (int)(ADOPT_RUN / size) - 1;
        if (a->wave == 0) REQUIRE((adopt_kept[a->t][k] = malloc(OPAQUE(size))) != NULL);
        for (int i = 0; i < n; i++) {
            REQUIRE((adopt_block[a->t][i] = malloc(OPAQUE(size))) != NULL);
            memset(adopt_block[a->t][i], 5, 64);
        }
        for (int i = 0; i < n; i++)
            free(adopt_block[a->t][i]);
    }
    set_stage(10 * a->wave + a->t + 1);
    wait_stage(10 * a->wave + 5 + a->t); /* exit in order, all alive until then */
    return NULL;
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000 */
static void part_adopt(void) {
    struct adopt_arg args[2][ADOPT_THREADS];
    pthread_t th[ADOPT_THREADS];
    long long fresh[2];
    for (int w = 0; w < 2; w++) {
        long long fresh0 = hak_counter("mid_refill_fresh_ss");
        set_stage(10 * w); /* before the threads start: set later, it could undo their stages */
        for (int t = 0; t < ADOPT_THREADS; t++) {
            args[w][t] = (struct adopt_arg){t, w};
            REQUIRE(pthread_create(&th[t], NULL, adopt_thread, &args[w][t]) == 0);
        }
        wait_stage(10 * w + ADOPT_THREADS);
        fresh[w] = hak_counter("mid_refill_fresh_ss") - fresh0;
        for (int t = 0; t < ADOPT_THREADS; t++) {
            set_stage(10 * w + 5 + t);
            REQUIRE(pthread_join(th[t], NULL) == 0);
        }
    }
    CHECKF(fresh[0] >= ADOPT_THREADS, "the first threads mapped %lld SuperSlabs", fresh[0]);
    CHECKF(fresh[1] == 0, "threads that could adopt the exited threads' SuperSlabs mapped %lld",
           fresh[1]);
    for (int t = 0; t < ADOPT_THREADS; t++)
        for (int k = 0; k < ADOPT_CLASSES; k++)
            free(adopt_kept[t][k]);
}

/* ---- resident --------------------------------------------------------------------------- */

enum { RES_KEPT_SIZE = 3072, RES_FREE_SIZE = 5120, RES_RUNS = 4, RES_RUN = MID_SLAB };
static void *res_kept;

/* Fills a run of one Mid class and keeps its first block: the orphan it leaves has free
 * blocks of that class. */
static void *res_orphan_thread(void *arg) {
    (void)arg;
    enum { N = RES_RUN / RES_KEPT_SIZE };
    static void *v[N];
    for (int i = 0; i < N; i++)
        REQUIRE((v[i] = malloc(OPAQUE((size_t)RES_KEPT_SIZE))) != NULL);
    res_kept = v[0];
    for (int i = 1; i < N; i++)
        free(v[i]);
    return NULL;
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000 */
static void part_resident(void) {
    /* runs of another class, written and freed: all but the newest blocks leave the cache, so
     * at least one run is a free slab of this thread with its pages resident */
    enum { N = RES_RUNS * (RES_RUN / RES_FREE_SIZE) };
    void **v = malloc(N * sizeof *v);
    REQUIRE(v != NULL);
    for (int i = 0; i < N; i++) {
        REQUIRE((v[i] = malloc(OPAQUE((size_t)RES_FREE_SIZE))) != NULL);
        memset(v[i], 9, RES_FREE_SIZE);
    }
    for (int i = 0; i < N; i++)
        free(v[i]);
    free(v);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, res_orphan_thread, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    long long adopt0 = hak_counter("mid_refill_adopt"), slab0 = hak_counter("mid_refill_fresh_slab");
    void *p = malloc(OPAQUE((size_t)RES_KEPT_SIZE));
    REQUIRE(p != NULL);
    CHECKF(hak_counter("mid_refill_adopt") == adopt0,
           "a refill adopted an orphan while a resident free slab of its own was there");
    CHECKF(hak_counter("mid_refill_fresh_slab") - slab0 == 1,
           "the refill took %lld free slabs of its own", hak_counter("mid_refill_fresh_slab") - slab0);
    free(p);
    free(res_kept); /* a remote free onto the orphan */
}

/* ---- carve ----------------------------------------------------------------------------- */

enum { CARVE_SIZE = 2048, CARVE_RUN = MID_SLAB / CARVE_SIZE };
static void *carve_kept;

/* Fills a slab of the class and frees all but its first block: its orphan has 31 free blocks
 * of the class on a slab's free list. */
static void *carve_orphan_thread(void *arg) {
    (void)arg;
    static void *v[CARVE_RUN];
    for (int i = 0; i < CARVE_RUN; i++)
        REQUIRE((v[i] = malloc(OPAQUE((size_t)CARVE_SIZE))) != NULL);
    carve_kept = v[0];
    for (int i = 1; i < CARVE_RUN; i++)
        free(v[i]);
    return NULL;
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000 */
static void part_carve(void) {
    enum { N = 32 };
    static void *mine[N];
    mine[0] = malloc(OPAQUE((size_t)CARVE_SIZE)); /* a fresh run: all but one block uncarved */
    REQUIRE(mine[0] != NULL);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, carve_orphan_thread, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    long long adopt0 = hak_counter("mid_refill_adopt");
    int in_orphan = 0;
    for (int i = 1; i < N; i++) {
        REQUIRE((mine[i] = malloc(OPAQUE((size_t)CARVE_SIZE))) != NULL);
        in_orphan += ((uintptr_t)mine[i] >> 21) == ((uintptr_t)carve_kept >> 21);
    }
    CHECKF(hak_counter("mid_refill_adopt") - adopt0 == 1,
           "%lld refills adopted an orphan with free blocks of their class",
           hak_counter("mid_refill_adopt") - adopt0);
    CHECKF(in_orphan >= N / 2, "%d of %d blocks came from the exited thread's SuperSlab", in_orphan,
           N - 1);
    for (int i = 0; i < N; i++)
        free(mine[i]);
    free(carve_kept);
}

/* ---- loose_purged ---------------------------------------------------------------------- */

enum { LP_SIZE = 2048, LP_RUN = MID_SLAB / LP_SIZE, LP_N = LP_RUN + LP_RUN / 4 };

/* Which 64 KiB slab a block lies in, and its index there. */
static uintptr_t lp_slab(const void *p) { return (uintptr_t)p / MID_SLAB; }
static unsigned lp_index(const void *p) { return (unsigned)((uintptr_t)p % MID_SLAB / LP_SIZE); }

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000 */
static void part_loose_purged(void) {
    /* a full slab B and the first quarter of the next, A, the slab refills carve from */
    static void *v[LP_N];
    for (int i = 0; i < LP_N; i++)
        REQUIRE((v[i] = malloc(OPAQUE((size_t)LP_SIZE))) != NULL);
    uintptr_t b = lp_slab(v[0]), a = lp_slab(v[LP_N - 1]);
    REQUIRE(a != b);
    /* B keeps one block of each page: its free blocks stay resident, loose after the flush;
     * A keeps the two blocks of its first page: all its free blocks' pages go back */
    int kept_b = 0;
    for (int i = 0; i < LP_N; i++) {
        bool keep = lp_slab(v[i]) == b ? lp_index(v[i]) % 2 == 0
                                       : lp_slab(v[i]) != a || lp_index(v[i]) < 2;
        kept_b += keep && lp_slab(v[i]) == b;
        if (!keep) {
            free(v[i]);
            v[i] = NULL;
        }
    }
    REQUIRE(kept_b == LP_RUN / 2);
    long long purged0 = hak_counter("mid_pages_purged");
    hak_flush_all();
    CHECKF(hak_counter("mid_pages_purged") - purged0 >= 2,
           "the flush purged %lld pages of the slabs' free blocks",
           hak_counter("mid_pages_purged") - purged0);
    /* A would carve pages never touched and holds free blocks only on pages given back: the
     * refill takes B's resident free blocks, not A's, which would fault their pages in again */
    void *p = malloc(OPAQUE((size_t)LP_SIZE));
    REQUIRE(p != NULL);
    CHECKF(lp_slab(p) == b,
           "a refill took a block of the slab whose free pages were given back, not one of the "
           "slab with resident free blocks");
    free(p);
    for (int i = 0; i < LP_N; i++)
        free(v[i]);
}

/* ---- claim ----------------------------------------------------------------------------- */

/* A thread fills one slab of each of two Mid classes and keeps the first block of each: its
 * SuperSlab is orphaned with two slabs whose free lists hold the rest. */
enum { CLAIM_X = 3072, CLAIM_Y = 5120, SLAB_MID = MID_SLAB };
static void *claim_kept[2];

static void *claim_orphan_thread(void *arg) {
    (void)arg;
    static const size_t size[2] = {CLAIM_X, CLAIM_Y};
    static void *v[SLAB_MID / CLAIM_X];
    for (int k = 0; k < 2; k++) {
        int n = (int)(SLAB_MID / size[k]);
        for (int i = 0; i < n; i++)
            REQUIRE((v[i] = malloc(OPAQUE(size[k]))) != NULL);
        claim_kept[k] = v[0];
        for (int i = 1; i < n; i++)
            free(v[i]);
    }
    return NULL;
}

static bool same_slab(const void *a, const void *b) {
    return (uintptr_t)a / SLAB_MID == (uintptr_t)b / SLAB_MID;
}

static void *claim_x;
static void *claim_x_thread(void *arg);

/* Runs `orphan` in a thread to its exit, then starts a thread that takes a block of class X
 * (claim_x_thread) and waits until it has; returns mid_refill_fresh_ss from before the latter. */
static long long orphan_then_claim_x(void *(*orphan)(void *), pthread_t *claimer) {
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, orphan, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    long long fresh0 = hak_counter("mid_refill_fresh_ss");
    REQUIRE(pthread_create(claimer, NULL, claim_x_thread, NULL) == 0);
    wait_stage(1);
    return fresh0;
}

/* Takes a block of class X while the orphan's class-Y slab waits, and holds it until stage 2. */
static void *claim_x_thread(void *arg) {
    (void)arg;
    REQUIRE((claim_x = malloc(OPAQUE((size_t)CLAIM_X))) != NULL);
    set_stage(1);
    wait_stage(2);
    return NULL; /* exits with claim_x live: its slab is orphaned again */
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000: a thread's refill claims one slab
 * of an exited thread's SuperSlab, of its class, and the SuperSlab's other slab stays there for
 * another thread's refill of its own class, with no SuperSlab mapped; a claimed slab's blocks
 * are the claimer's own (a free goes to its cache), and go back to the orphan when the claimer
 * exits. */
static void part_claim(void) {
    pthread_t t;
    long long claimed0 = hak_counter("slabs_claimed");
    long long fresh0 = orphan_then_claim_x(claim_orphan_thread, &t);
    void *y = malloc(OPAQUE((size_t)CLAIM_Y));
    REQUIRE(y != NULL);
    CHECKF(same_slab(claim_x, claim_kept[0]), "the thread's class-X block %p is not in the orphan's "
           "class-X slab (%p)", claim_x, claim_kept[0]);
    CHECKF(same_slab(y, claim_kept[1]), "the class-Y block %p is not in the orphan's class-Y slab "
           "(%p), claimed by another thread meanwhile", y, claim_kept[1]);
    CHECKF(hak_counter("mid_refill_fresh_ss") == fresh0, "%lld SuperSlabs mapped",
           hak_counter("mid_refill_fresh_ss") - fresh0);
    CHECKF(hak_counter("slabs_claimed") - claimed0 == 2, "%lld slabs claimed, not 2",
           hak_counter("slabs_claimed") - claimed0);
    free(y); /* the claimer's own block: onto its cache, handed out again next */
    void *again = malloc(OPAQUE((size_t)CLAIM_Y));
    CHECKF(again == y, "a block of a claimed slab freed by its claimer came back as %p, not %p",
           again, y);
    set_stage(2);
    REQUIRE(pthread_join(t, NULL) == 0);
    void *x = malloc(OPAQUE((size_t)CLAIM_X));
    REQUIRE(x != NULL);
    CHECKF(same_slab(x, claim_kept[0]), "the class-X slab of a claimer that exited was not claimed "
           "again: block %p, slab of %p", x, claim_kept[0]);
    CHECKF(hak_counter("mid_refill_fresh_ss") == fresh0, "%lld SuperSlabs mapped",
           hak_counter("mid_refill_fresh_ss") - fresh0);
    free(x);
    free(claim_x);
    free(again);
    free(claim_kept[0]);
    free(claim_kept[1]);
}

/* ---- claim_batch ----------------------------------------------------------------------- */

/* An exited thread's SuperSlab holds BATCH_SLABS slabs of class X, each with its first block
 * live and the rest on its free list; a claim takes up to CLAIM_BATCH of them under one hold of
 * the orphan lock (slab.c, orphan_take_slab). */
enum { BATCH_SLABS = 6, CLAIM_BATCH = 4, BATCH_RUN = SLAB_MID / CLAIM_X };
static void *batch_kept[BATCH_SLABS];
static long long batch_adopts[2], batch_claims[2];
static int batch_outside;

static void *batch_orphan_thread(void *arg) {
    (void)arg;
    static void *v[BATCH_SLABS * BATCH_RUN];
    for (int i = 0; i < BATCH_SLABS * BATCH_RUN; i++)
        REQUIRE((v[i] = malloc(OPAQUE((size_t)CLAIM_X))) != NULL);
    for (int k = 0, i = 0; i < BATCH_SLABS * BATCH_RUN; i++) {
        bool first = k < BATCH_SLABS && (i == 0 || !same_slab(v[i], batch_kept[k - 1]));
        if (first) batch_kept[k++] = v[i];
        else free(v[i]);
    }
    return NULL;
}

/* Takes every free block of the first claim's slabs, then one more. */
static void *batch_claim_thread(void *arg) {
    (void)arg;
    enum { N = CLAIM_BATCH * (BATCH_RUN - 1) };
    static void *v[N + 1];
    long long adopt0 = hak_counter("mid_refill_adopt"), claimed0 = hak_counter("slabs_claimed");
    for (int i = 0; i < N; i++) {
        REQUIRE((v[i] = malloc(OPAQUE((size_t)CLAIM_X))) != NULL);
        bool in = false;
        for (int k = 0; k < BATCH_SLABS; k++)
            in |= same_slab(v[i], batch_kept[k]);
        batch_outside += !in;
    }
    batch_adopts[0] = hak_counter("mid_refill_adopt") - adopt0;
    batch_claims[0] = hak_counter("slabs_claimed") - claimed0;
    REQUIRE((v[N] = malloc(OPAQUE((size_t)CLAIM_X))) != NULL);
    batch_adopts[1] = hak_counter("mid_refill_adopt") - adopt0;
    batch_claims[1] = hak_counter("slabs_claimed") - claimed0;
    for (int i = 0; i <= N; i++)
        free(v[i]);
    return NULL;
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000: a new thread's first refill of X
 * claims four of the exited thread's six slabs of X at once, and takes all their free blocks
 * before it claims again (the other two, in one claim): when threads come and go, claims one
 * slab at a time took the orphan lock for each, and the next wave's threads queued on it. */
static void part_claim_batch(void) {
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, batch_orphan_thread, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    for (int k = 0; k < BATCH_SLABS; k++)
        REQUIRE(batch_kept[k] != NULL);
    REQUIRE(pthread_create(&t, NULL, batch_claim_thread, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECKF(batch_outside == 0, "%d of %d blocks came from outside the exited thread's slabs",
           batch_outside, CLAIM_BATCH * (BATCH_RUN - 1));
    CHECKF(batch_adopts[0] == 1 && batch_claims[0] == CLAIM_BATCH,
           "the blocks of %d slabs took %lld claims of %lld slabs, not one of %d", CLAIM_BATCH,
           batch_adopts[0], batch_claims[0], CLAIM_BATCH);
    CHECKF(batch_adopts[1] == 2 && batch_claims[1] == BATCH_SLABS,
           "with the claimed slabs used up, %lld claims of %lld slabs in all, not 2 of %d",
           batch_adopts[1], batch_claims[1], BATCH_SLABS);
    for (int k = 0; k < BATCH_SLABS; k++)
        free(batch_kept[k]);
}

/* ---- claim_front ----------------------------------------------------------------------- */

static void *front_b_kept, *front_x, *front_y;

/* Orphan A: claim_orphan_thread's slabs of X and Y, its thread alive until stage 3 (so that B's
 * thread cannot claim them); exits first, at stage 3. */
static void *front_a_thread(void *arg) {
    claim_orphan_thread(arg);
    set_stage(1);
    wait_stage(3);
    return NULL;
}

/* Orphan B: a slab of class Y of its own, first block kept; exits after A, so B is orphaned
 * later and comes first on the orphan list (stage 4). */
static void *front_b_thread(void *arg) {
    (void)arg;
    static void *v[SLAB_MID / CLAIM_Y];
    int n = (int)(SLAB_MID / CLAIM_Y);
    for (int i = 0; i < n; i++)
        REQUIRE((v[i] = malloc(OPAQUE((size_t)CLAIM_Y))) != NULL);
    front_b_kept = v[0];
    for (int i = 1; i < n; i++)
        free(v[i]);
    set_stage(2);
    wait_stage(4);
    return NULL;
}

static void *claim_x_then_y_thread(void *arg) {
    (void)arg;
    REQUIRE((front_x = malloc(OPAQUE((size_t)CLAIM_X))) != NULL);
    REQUIRE((front_y = malloc(OPAQUE((size_t)CLAIM_Y))) != NULL);
    return NULL;
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000: orphan A holds free blocks of
 * classes X and Y, orphan B (orphaned later, so first on the list) of class Y only.  A new
 * thread's refill of X claims A's slab, and A moves to the head of the list: its next refill,
 * of Y, claims A's class-Y slab, not B's (an orphan that served a claim is looked at first). */
static void part_claim_front(void) {
    pthread_t a, b, t;
    REQUIRE(pthread_create(&a, NULL, front_a_thread, NULL) == 0);
    wait_stage(1);
    REQUIRE(pthread_create(&b, NULL, front_b_thread, NULL) == 0);
    wait_stage(2);
    set_stage(3); /* A exits first, then B */
    REQUIRE(pthread_join(a, NULL) == 0);
    set_stage(4);
    REQUIRE(pthread_join(b, NULL) == 0);
    REQUIRE(pthread_create(&t, NULL, claim_x_then_y_thread, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECKF(same_slab(front_x, claim_kept[0]), "the class-X block %p is not in orphan A's class-X "
           "slab (%p)", front_x, claim_kept[0]);
    CHECKF(same_slab(front_y, claim_kept[1]), "the class-Y block %p is not in orphan A's class-Y "
           "slab (%p; orphan B's is %p): the orphan that served the claim was not looked at first",
           front_y, claim_kept[1], front_b_kept);
}

/* ---- lock_spins ------------------------------------------------------------------------ */

/* The orphan lock, which every claim takes, spins a while before it sleeps: a refill that slept
 * on it handed its core to another thread, so thread churn's bursts overlapped more (its peak
 * live bytes grew by a sixth) and took more context switches.  So in a fork child, whose lock
 * is made anew. */
static void part_lock_spins(void) {
    CHECKF(hak_test_orphan_lock_spins(), "the orphan lock sleeps at once when taken");
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(hak_test_orphan_lock_spins() ? 0 : 1);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "in a fork child the orphan lock sleeps at once when taken");
}

/* ---- remote_claim ---------------------------------------------------------------------- */

static void *remote_claim_v[SLAB_MID / CLAIM_X];

/* Fills one slab of class X and exits with every block live: its orphan has no free block. */
static void *fill_slab_exit(void *arg) {
    (void)arg;
    for (size_t i = 0; i < SLAB_MID / CLAIM_X; i++)
        REQUIRE((remote_claim_v[i] = malloc(OPAQUE((size_t)CLAIM_X))) != NULL);
    return NULL;
}

static void *alloc_x_thread(void *arg) {
    *(void **)arg = malloc(OPAQUE((size_t)CLAIM_X));
    return NULL;
}

static void *alloc_y_thread(void *arg) {
    *(void **)arg = malloc(OPAQUE((size_t)CLAIM_Y));
    return NULL;
}

/* HAKMEM_CHECK=1 (no thread cache: one block a refill) HAKMEM_DECAY_MS=0: a thread exits with a
 * full slab of class X; while no orphan has a free block of X, refills of X skip the orphan list; once this
 * thread frees one of those blocks (a remote free onto the orphan), the next thread's refill of X
 * claims that slab instead of carving one of its own. */
static void part_remote_claim(void) {
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, fill_slab_exit, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    void *before = NULL, *after = NULL;
    REQUIRE(pthread_create(&t, NULL, alloc_x_thread, &before) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    REQUIRE(before != NULL);
    CHECKF(!same_slab(before, remote_claim_v[0]),
           "a refill took a block %p from the exited thread's full slab (%p)", before,
           remote_claim_v[0]);
    long long claimed0 = hak_counter("slabs_claimed");
    void *freed = remote_claim_v[5];
    free(freed);
    REQUIRE(pthread_create(&t, NULL, alloc_x_thread, &after) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECKF(after == freed, "the next refill of the class got %p, not the block %p freed onto the "
           "exited thread's slab", after, freed);
    CHECKF(hak_counter("slabs_claimed") - claimed0 == 1, "%lld slabs claimed, not 1",
           hak_counter("slabs_claimed") - claimed0);
    free(before);
    free(after);
    for (size_t i = 0; i < SLAB_MID / CLAIM_X; i++)
        if (i != 5) free(remote_claim_v[i]);
}

/* ---- orphan_slots ---------------------------------------------------------------------- */

/* More orphans than the class index has slots (256): thread SLOTS_LATE's orphan has none. */
enum { SLOTS_THREADS = 300, SLOTS_LATE = SLOTS_THREADS - 2 };
static void *slots_kept[SLOTS_THREADS];
static void *slots_y[SLAB_MID / CLAIM_Y];

/* Fills a slab from its own SuperSlab (every thread before it is alive, so it claims no other's)
 * and exits at stage k + 2: thread 0 a slab of class Y, every block kept; thread SLOTS_LATE one
 * of class X, all its blocks freed but one; the others one of X, every block kept, so theirs
 * serve no claim. */
static void *slots_thread(void *arg) {
    int k = (int)(intptr_t)arg;
    void *v[SLAB_MID / CLAIM_X];
    size_t size = k == 0 ? CLAIM_Y : CLAIM_X;
    int n = (int)(SLAB_MID / size);
    for (int i = 0; i < n; i++)
        REQUIRE((v[i] = malloc(OPAQUE(size))) != NULL);
    slots_kept[k] = v[0];
    if (k == 0) memcpy(slots_y, v, sizeof slots_y);
    if (k == SLOTS_LATE)
        for (int i = 1; i < n; i++)
            free(v[i]);
    set_stage(1);
    wait_stage(k + 2);
    return NULL;
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000: 300 threads exit one by one, each
 * leaving an orphan.  Only thread SLOTS_LATE's has free blocks of class X, and it joined the list
 * after the index's slots were all taken, behind the head: a new thread's refill of X claims its
 * slab.  A block of the first orphan's full class-Y slab freed here then (a remote free) is what
 * the next refill of Y takes, found through the index (that orphan is not the list's head). */
static void part_orphan_slots(void) {
    static pthread_t t[SLOTS_THREADS];
    pthread_attr_t attr;
    REQUIRE(pthread_attr_init(&attr) == 0);
    REQUIRE(pthread_attr_setstacksize(&attr, 256 * KIB) == 0);
    for (int k = 0; k < SLOTS_THREADS; k++) {
        REQUIRE(pthread_create(&t[k], &attr, slots_thread, (void *)(intptr_t)k) == 0);
        wait_stage(1); /* one at a time */
        set_stage(0);
    }
    for (int k = 0; k < SLOTS_THREADS; k++) {
        set_stage(k + 2);
        REQUIRE(pthread_join(t[k], NULL) == 0);
    }
    void *x = NULL, *y = NULL;
    REQUIRE(pthread_create(&t[0], NULL, alloc_x_thread, &x) == 0);
    REQUIRE(pthread_join(t[0], NULL) == 0);
    CHECKF(same_slab(x, slots_kept[SLOTS_LATE]), "the refill of class X got %p, not a block of "
           "the slab (%p) of the orphan that has no slot in the class index", x,
           slots_kept[SLOTS_LATE]);
    void *freed = slots_y[5];
    free(freed);
    REQUIRE(pthread_create(&t[0], NULL, alloc_y_thread, &y) == 0);
    REQUIRE(pthread_join(t[0], NULL) == 0);
    CHECKF(same_slab(y, freed), "the refill of class Y got %p, not a block of the orphaned slab "
           "(%p) that a remote free gave a free block", y, freed);
    pthread_attr_destroy(&attr);
}

/* ---- pool ------------------------------------------------------------------------------ */

enum { POOL_Z = 4096 };

/* Keeps one block of class X in a full slab and frees a full slab of class Z: the orphan has
 * an orphaned slab and free slabs. */
static void *pool_orphan_thread(void *arg) {
    (void)arg;
    enum { NX = SLAB_MID / CLAIM_X, NZ = SLAB_MID / POOL_Z };
    static void *v[NX > NZ ? NX : NZ];
    for (int i = 0; i < NX; i++)
        REQUIRE((v[i] = malloc(OPAQUE((size_t)CLAIM_X))) != NULL);
    claim_kept[0] = v[0];
    for (int i = 1; i < NX; i++)
        free(v[i]);
    for (int i = 0; i < NZ; i++) {
        REQUIRE((v[i] = malloc(OPAQUE((size_t)POOL_Z))) != NULL);
        memset(v[i], 7, POOL_Z);
    }
    for (int i = 0; i < NZ; i++)
        free(v[i]);
    return NULL;
}

/* HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=10000: while a live thread holds the
 * orphan's class-X slab, another thread's refill of a class the orphan has no slab of takes one
 * of the orphan's free slabs, before any SuperSlab is mapped. */
static void part_pool(void) {
    pthread_t u;
    long long fresh0 = orphan_then_claim_x(pool_orphan_thread, &u);
    void *y = malloc(OPAQUE((size_t)CLAIM_Y));
    REQUIRE(y != NULL);
    CHECKF(same_slab(claim_x, claim_kept[0]), "the thread's class-X block %p is not in the orphan's "
           "slab (%p)", claim_x, claim_kept[0]);
    CHECKF((uintptr_t)y >> 21 == (uintptr_t)claim_kept[0] >> 21,
           "the class-Y block %p is not in the exited thread's SuperSlab (%p)", y, claim_kept[0]);
    CHECKF(hak_counter("mid_refill_fresh_ss") == fresh0, "%lld SuperSlabs mapped",
           hak_counter("mid_refill_fresh_ss") - fresh0);
    set_stage(2);
    REQUIRE(pthread_join(u, NULL) == 0);
    free(y);
    free(claim_x);
    free(claim_kept[0]);
}

/* ---- partly ---------------------------------------------------------------------------- */

/* HAKMEM_CHECK=1 HAKMEM_IDLE_MS=200 HAKMEM_DECAY_MS=60000 with the worker: every free block sits
 * inside a slab that keeps one block in 16, no slab is free and no thread caches anything (the
 * caches are off), so only the pages inside partly used slabs are there to give back.  The test
 * waits for them (polling a counter, bounded only to fail a broken build), making no call. */
static long rss_kb_no_alloc(void) {
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY);
    REQUIRE(fd >= 0);
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    REQUIRE(len > 0);
    buf[len] = 0;
    long size = 0, res = 0;
    REQUIRE(sscanf(buf, "%ld %ld", &size, &res) == 2);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void part_partly(void) {
    size_t n;
    hak_counter("tiny_pages_purged"); /* the reader's own buffer exists before the burst */
    void **v = burst_keep16(1024, 8 * MIB, &n);
    long long purged0 = hak_counter("tiny_pages_purged");
    /* RSS is read with no allocation: stdio's buffer, freed, would leave a free slab (and wake
     * decay itself) */
    long before = rss_kb_no_alloc(), after = before;
    /* 3 pages in 4 hold only free blocks: 6 MiB of the burst's 8 */
    for (int ms = 0; ms < 30000 && before - after < (long)(4 * KIB); ms += 20) {
        usleep(20000);
        after = rss_kb_no_alloc();
    }
    CHECKF(hak_counter("tiny_pages_purged") - purged0 >= 1024,
           "%lld pages purged with no call in 30 s", hak_counter("tiny_pages_purged") - purged0);
    CHECKF(before - after >= (long)(4 * KIB), "RSS fell by %ld KiB", before - after);
    check_kept(v, n, 1024, "Tiny after the idle pass");
}

/* ---- fork ------------------------------------------------------------------------------ */

static long long caps_gauge(void) {
    return hak_counter("tiny_tcache_cap") + hak_counter("mid_tcache_cap");
}

static long long main_caps; /* the gauges before the thread's first call: the main thread's */

static void *grow_and_wait(void *arg) {
    (void)arg;
    main_caps = caps_gauge();
    for (int round = 0; round < 20; round++) {
        kept_of(64, HEAVY);
        kept_of(4096, 64);
    }
    set_stage(1);
    wait_stage(2);
    return NULL;
}

/* HAKMEM_BACKGROUND=0 (no probe changes a capacity meanwhile). */
static void part_fork(void) {
    free(malloc(OPAQUE((size_t)64)));
    hak_counter("held_tiny"); /* the reader's buffer exists before the thread reads */
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, grow_and_wait, NULL) == 0);
    wait_stage(1);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork(); /* the main thread made no call since the thread read main_caps */
    REQUIRE(pid >= 0);
    if (pid == 0) {
        long long got[3] = {caps_gauge(), hak_counter("held_tiny"), hak_counter("tiny_cached")};
        _exit(write(fds[1], got, sizeof got) == (ssize_t)sizeof got ? 0 : 1);
    }
    long long got[3] = {0, 0, 0};
    REQUIRE(read(fds[0], got, sizeof got) == (ssize_t)sizeof got);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    long long both = caps_gauge(), held = hak_counter("held_tiny");
    CHECKF(both > main_caps, "the thread's caches grew nothing (%lld, main thread %lld)", both, main_caps);
    CHECKF(got[0] == main_caps,
           "capacity gauges in the child %lld, its one thread's %lld (parent's threads %lld)", got[0],
           main_caps, both);
    CHECKF(got[1] > 0 && got[1] <= held, "held_tiny in the child %lld, in the parent %lld", got[1], held);
    CHECKF(got[2] >= 0, "tiny_cached in the child %lld", got[2]);
    set_stage(2);
    REQUIRE(pthread_join(t, NULL) == 0);
}

int main(int argc, char **argv) {
    if (argc == 2) {
        if (!strcmp(argv[1], "adapt")) part_adapt();
        else if (!strcmp(argv[1], "purge")) part_purge();
        else if (!strcmp(argv[1], "idle")) part_idle();
        else if (!strcmp(argv[1], "exit")) part_exit();
        else if (!strcmp(argv[1], "exit_keep")) part_exit_keep();
        else if (!strcmp(argv[1], "exit_keep_mid")) part_exit_keep_mid();
        else if (!strcmp(argv[1], "remote_claim")) part_remote_claim();
        else if (!strcmp(argv[1], "quiet")) part_quiet();
        else if (!strcmp(argv[1], "orphan_age")) part_orphan_age();
        else if (!strcmp(argv[1], "claim_age")) part_claim_age();
        else if (!strcmp(argv[1], "adopt")) part_adopt();
        else if (!strcmp(argv[1], "resident")) part_resident();
        else if (!strcmp(argv[1], "carve")) part_carve();
        else if (!strcmp(argv[1], "claim")) part_claim();
        else if (!strcmp(argv[1], "pool")) part_pool();
        else if (!strcmp(argv[1], "partly")) part_partly();
        else if (!strcmp(argv[1], "fork")) part_fork();
        else if (!strcmp(argv[1], "quiet_remote")) part_quiet_remote();
        else if (!strcmp(argv[1], "orphan_remote")) part_orphan_remote();
        else if (!strcmp(argv[1], "orphan_remote_mid")) part_orphan_remote_mid();
        else if (!strcmp(argv[1], "claim_front")) part_claim_front();
        else if (!strcmp(argv[1], "claim_batch")) part_claim_batch();
        else if (!strcmp(argv[1], "lock_spins")) part_lock_spins();
        else if (!strcmp(argv[1], "orphan_slots")) part_orphan_slots();
        else if (!strcmp(argv[1], "quiet_check")) part_quiet_check();
        else if (!strcmp(argv[1], "mid_slab")) part_mid_slab();
        else if (!strcmp(argv[1], "loose_purged")) part_loose_purged();
        else return 2;
        return test_finish();
    }
    hak_counter("flush_calls"); /* skips here when counters are compiled out */
    static const char *const manual[] = {"HAKMEM_DECAY_MS=10000", "HAKMEM_IDLE_MS=0",
                                         "HAKMEM_BACKGROUND=0", "HAKMEM_PRESSURE=0",
                                         "HAKMEM_COUNTERS_SHARED=0", NULL};
    static const char *const idle[] = {"HAKMEM_DECAY_MS=10000", "HAKMEM_IDLE_MS=3000",
                                       "HAKMEM_BACKGROUND=0", "HAKMEM_PRESSURE=0",
                                       "HAKMEM_COUNTERS_SHARED=0", NULL};
    static const char *const keep[] = {"HAKMEM_BACKGROUND=0", "HAKMEM_SS_KEEP=1024",
                                       "HAKMEM_COUNTERS_SHARED=0", NULL};
    /* empty SuperSlabs stay mapped: their free slabs are the exit's to keep or give back */
    static const char *const keep_mid[] = {"HAKMEM_DECAY_MS=10000", "HAKMEM_IDLE_MS=0",
                                           "HAKMEM_BACKGROUND=0", "HAKMEM_PRESSURE=0",
                                           "HAKMEM_SS_KEEP=1024", "HAKMEM_COUNTERS_SHARED=0", NULL};
    /* no decay pass, whose collection of the orphans would note their classes anew */
    static const char *const checked_no_decay[] = {"HAKMEM_CHECK=1", "HAKMEM_DECAY_MS=0",
                                                   "HAKMEM_BACKGROUND=0", "HAKMEM_PRESSURE=0",
                                                   "HAKMEM_COUNTERS_SHARED=0", NULL};
    static const char *const checked[] = {"HAKMEM_CHECK=1", "HAKMEM_DECAY_MS=10000",
                                          "HAKMEM_IDLE_MS=0", "HAKMEM_BACKGROUND=0",
                                          "HAKMEM_PRESSURE=0", "HAKMEM_COUNTERS_SHARED=0", NULL};
    static const char *const worker[] = {"HAKMEM_CHECK=1", "HAKMEM_DECAY_MS=60000",
                                         "HAKMEM_IDLE_MS=200", "HAKMEM_PRESSURE=0",
                                         "HAKMEM_COUNTERS_SHARED=0", NULL};
    static const char *const parts[] = {"adapt", "purge", "idle",  "exit", "quiet",  "adopt",
                                        "resident", "carve", "claim", "pool", "partly", "fork",
                                        "orphan_age", "claim_age", "quiet_remote",
                                        "orphan_remote", "exit_keep", "mid_slab", "exit_keep_mid",
                                        "remote_claim", "quiet_check", "orphan_remote_mid",
                                        "claim_front", "lock_spins", "loose_purged",
                                        "orphan_slots", "claim_batch"};
    const char *const *envs[] = {manual, manual, idle,   keep,   manual, manual,
                                 manual, manual, manual, manual, worker, manual,
                                 manual, manual, manual, manual, manual, checked, keep_mid,
                                 checked_no_decay, manual, manual, manual, manual, manual,
                                 manual, manual};
    char self[4096], err[8192];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE(len > 0);
    self[len] = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        int rc = run_part(self, parts[i], envs[i], err, sizeof err);
        printf("part %s: exit %d\n%s", parts[i], rc, err);
        CHECKF(rc == 0, "part %s failed (exit %d)", parts[i], rc);
    }
    return test_finish();
}
#endif
