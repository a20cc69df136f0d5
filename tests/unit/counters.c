/*
 * Counters agree with known operations, read back through the counter
 * segment reader (probes/counter_reader.c) as another process would:
 *   - N tiny mallocs/frees on one thread: hits + misses = N, one refill per
 *     miss, refill blocks cover the allocations, N frees into tls_sll;
 *   - frees from another thread show up as ss_remote;
 *   - allocations - frees = live blocks held, also across thread exit;
 *   - a separate process (hak counters PID) reads this process's totals
 *     while a thread works;
 *   - cache hits and cache frees, which readers derive from the caches,
 *     add up while a thread holds cached blocks, after it exits, and in a
 *     forked child, which counts from zero with the caches it inherited;
 *   - threads beyond the segment's slots lose no count once they exit;
 *   - a flush that takes another thread's cache leaves its first two
 *     blocks, and the derived count says so at once;
 *   - a thread that only frees takes no slot, unless it keeps freeing (a
 *     consumer): then it holds one until it exits;
 *   - the segment is a memfd, never a file in /dev/shm: a forked child that
 *     lives on gets its own, readable while it runs, and nothing of it is
 *     left after _exit() or SIGKILL.
 */
#include "check.h"

#ifndef HAKMEM_LINKED
int main(void)
{
    test_skip("counters exist only in hakmem builds");
}
#else

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "counter_reader.h"

static struct hak_reader *reader;
static unsigned ncounters;

struct snap {
    uint64_t v[256];
};

static void take(struct snap *s)
{
    REQUIRE(hak_reader_totals(reader, s->v));
}

static uint64_t get(const struct snap *s, const char *name)
{
    int i = hak_reader_counter_index(reader, name);
    REQUIRE(i >= 0);
    return s->v[i];
}

static int64_t delta(const struct snap *a, const struct snap *b, const char *name)
{
    return (int64_t)(get(b, name) - get(a, name));
}

static uint64_t allocs(const struct snap *s)
{
    return get(s, "tiny_alloc_hit") + get(s, "tiny_alloc_miss") + get(s, "mid_alloc_hit") +
           get(s, "mid_alloc_miss") + get(s, "large_alloc") + get(s, "huge_alloc");
}

static uint64_t frees(const struct snap *s)
{
    return get(s, "free_tls_sll") + get(s, "free_ss_remote") + get(s, "free_large") +
           get(s, "free_huge");
}

static int64_t live(const struct snap *s)
{
    return (int64_t)(allocs(s) - frees(s));
}

enum { N = 1000, CROSS = 500, HELD = 300 };
static void *blocks[N];

static void test_one_thread(void)
{
    struct snap a, b, c;
    hak_tiny_flush(); /* empty thread cache: every block must come from a refill */
    take(&a);
    for (int i = 0; i < N; i++) blocks[i] = malloc(OPAQUE(128)) /* 256 blocks a cache, fewer than N */;
    take(&b);
    for (int i = 0; i < N; i++) free(blocks[i]);
    take(&c);

    int64_t hits = delta(&a, &b, "tiny_alloc_hit"), misses = delta(&a, &b, "tiny_alloc_miss");
    int64_t refills = delta(&a, &b, "tiny_refill"), brought = delta(&a, &b, "tiny_refill_blocks");
    /* a decay worker's probe may send an allocation to the slow path while
     * the cache still holds blocks: that miss is counted as tiny_refill_tcache */
    int64_t served = delta(&a, &b, "tiny_refill_tcache");
    CHECKF(hits + misses == N, "hits %ld + misses %ld != %d", (long)hits, (long)misses, N);
    CHECKF(refills > 0 && refills + served == misses, "refills %ld + cache-served %ld, misses %ld",
           (long)refills, (long)served, (long)misses);
    /* every block came from a refill; what is left sits in the cache */
    CHECKF(brought >= N && brought - N < 512, "refill blocks %ld for %d allocations", (long)brought, N);
    CHECKF(delta(&b, &c, "free_tls_sll") == N, "tls_sll frees %ld",
           (long)delta(&b, &c, "free_tls_sll"));
    CHECK(delta(&b, &c, "free_ss_remote") == 0);
    /* the thread cache is bounded: the overflow went back to the slabs */
    CHECK(delta(&b, &c, "free_ss_local") > 0);
    CHECK(delta(&b, &c, "early_tcache_full") > 0);
}

static void *free_all_remote(void *arg)
{
    void **v = arg;
    for (int i = 0; i < CROSS; i++) free(v[i]);
    return NULL;
}

static void test_remote_frees(void)
{
    struct snap a, b;
    for (int i = 0; i < CROSS; i++) blocks[i] = malloc(OPAQUE(100 + i % 800));
    take(&a);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, free_all_remote, blocks) == 0);
    pthread_join(t, NULL);
    take(&b);
    CHECKF(delta(&a, &b, "free_ss_remote") == CROSS, "ss_remote %ld of %d cross-thread frees",
           (long)delta(&a, &b, "free_ss_remote"), CROSS);
    /* the owner drains them on a later refill or flush (a decay pass may
     * drain some first, even before `b` is taken) */
    hak_flush_all();
    struct snap c;
    take(&c);
    CHECK(delta(&a, &c, "remote_drained") >= CROSS);
}

static void *alloc_and_exit(void *arg)
{
    void **v = arg;
    for (int i = 0; i < HELD; i++) v[i] = malloc(OPAQUE((size_t)(16 + (i * 97) % 40000)));
    return NULL;
}

static void test_live_blocks(void)
{
    struct snap a, b, c, d;
    take(&a);
    for (int i = 0; i < HELD; i++) blocks[i] = malloc(OPAQUE((size_t)(8 + i * 131 % 70000)));
    take(&b);
    CHECKF(live(&b) - live(&a) == HELD, "live delta %ld, held %d", (long)(live(&b) - live(&a)), HELD);
    for (int i = 0; i < HELD; i++) free(blocks[i]);
    take(&c);
    CHECK(live(&c) == live(&a));

    /* a thread allocates, exits (its slot folds into the retired slot) and
     * leaves its blocks to this one: the totals still add up */
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, alloc_and_exit, blocks) == 0);
    pthread_join(t, NULL);
    take(&d);
    CHECKF(live(&d) - live(&c) == HELD, "after thread exit: live delta %ld, held %d",
           (long)(live(&d) - live(&c)), HELD);
    for (int i = 0; i < HELD; i++) free(blocks[i]);
    take(&d);
    CHECK(live(&d) == live(&c));
}

/* A thread allocates, frees into its cache, allocates again from it, and
 * stops holding half of the blocks and a cache full of others: a reader
 * sees exact counts then, and after the thread's exit folded its slot. */
enum { HOLD = 200 };
struct holder {
    int go[2], parked[2];
    void *b[HOLD];
};

static void *holder_thread(void *arg)
{
    struct holder *h = arg;
    for (int i = 0; i < HOLD; i++) h->b[i] = malloc(OPAQUE((size_t)48));
    for (int i = 0; i < HOLD; i++) free(h->b[i]);
    for (int i = 0; i < HOLD; i++) h->b[i] = malloc(OPAQUE((size_t)48));
    for (int i = 0; i < HOLD / 2; i++) free(h->b[i]);
    char c = 'p';
    REQUIRE(write(h->parked[1], &c, 1) == 1);
    REQUIRE(read(h->go[0], &c, 1) == 1);
    for (int i = HOLD / 2; i < HOLD; i++) free(h->b[i]);
    return NULL;
}

static void test_derived_counts(void)
{
    struct holder h;
    REQUIRE(pipe(h.go) == 0 && pipe(h.parked) == 0);
    struct snap a, b, c;
    take(&a);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, holder_thread, &h) == 0);
    char x;
    REQUIRE(read(h.parked[0], &x, 1) == 1);
    take(&b); /* the thread is parked holding blocks in its cache */
    int64_t hits = delta(&a, &b, "tiny_alloc_hit"), misses = delta(&a, &b, "tiny_alloc_miss");
    CHECKF(hits + misses == 2 * HOLD, "parked: hits %ld + misses %ld != %d", (long)hits,
           (long)misses, 2 * HOLD);
    CHECKF(hits > 0 && misses > 0, "parked: hits %ld, misses %ld", (long)hits, (long)misses);
    CHECKF(delta(&a, &b, "free_tls_sll") == HOLD + HOLD / 2, "parked: tls_sll frees %ld of %d",
           (long)delta(&a, &b, "free_tls_sll"), HOLD + HOLD / 2);
    CHECKF(live(&b) - live(&a) == HOLD / 2, "parked: live delta %ld, held %d",
           (long)(live(&b) - live(&a)), HOLD / 2);
    REQUIRE(write(h.go[1], "g", 1) == 1);
    pthread_join(t, NULL);
    take(&c); /* its slot is folded into the retired one */
    CHECKF(live(&c) == live(&a), "after exit: live delta %ld", (long)(live(&c) - live(&a)));
    CHECKF(delta(&a, &c, "tiny_alloc_hit") == hits && delta(&a, &c, "free_tls_sll") == 2 * HOLD,
           "after exit: hits %ld (parked %ld), tls_sll frees %ld",
           (long)delta(&a, &c, "tiny_alloc_hit"), (long)hits, (long)delta(&a, &c, "free_tls_sll"));
    close(h.go[0]), close(h.go[1]), close(h.parked[0]), close(h.parked[1]);
}

/* A forked child counts from zero (its reader's own allocations aside),
 * with the blocks this thread cached: its first allocations of their size
 * come from that cache, and no refill brings in others.  They are cache
 * hits, or slow-path allocations the cache served where a decay worker's
 * probe stood (the child's, started by the reader's allocations, or the
 * parent's at fork); answering one may trim the cache. */
static void test_fork_counts(void)
{
    enum { CACHED = 6 };
    void *b[CACHED];
    struct snap parent;
    take(&parent);
    uint64_t parent_hits = get(&parent, "tiny_alloc_hit"), parent_sll = get(&parent, "free_tls_sll");
    REQUIRE(parent_hits > 1000 && parent_sll > 1000);
    for (int i = 0; i < CACHED; i++) b[i] = malloc(OPAQUE((size_t)72));
    for (int i = 0; i < CACHED; i++) free(b[i]);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        char err[600];
        struct hak_reader *r = hak_reader_open_pid(getpid(), err, sizeof err);
        if (!r) _exit(10);
        uint64_t v0[256], v1[256];
        if (!hak_reader_totals(r, v0)) _exit(11);
        int hit = hak_reader_counter_index(r, "tiny_alloc_hit");
        int miss = hak_reader_counter_index(r, "tiny_alloc_miss");
        int sll = hak_reader_counter_index(r, "free_tls_sll");
        int served = hak_reader_counter_index(r, "tiny_refill_tcache");
        int brought = hak_reader_counter_index(r, "tiny_refill_blocks");
        if (v0[hit] >= parent_hits / 2 || v0[sll] >= parent_sll / 2) _exit(12);
        for (int i = 0; i < CACHED; i++) b[i] = malloc(OPAQUE((size_t)72));
        if (!hak_reader_totals(r, v1)) _exit(11);
        /* the inherited cache */
        if (v1[hit] - v0[hit] + v1[miss] - v0[miss] != CACHED ||
            v1[miss] - v0[miss] != v1[served] - v0[served] || v1[brought] != v0[brought])
            _exit(13);
        for (int i = 0; i < CACHED; i++) free(b[i]);
        if (!hak_reader_totals(r, v1) || v1[sll] - v0[sll] != CACHED) _exit(14);
        _exit(0);
    }
    int st;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "child: %d (10 no reader, 11 read failed, 12 not from zero, 13 cache not inherited, "
           "14 frees miscounted)",
           WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static unsigned slots_in_use(void);

/* More threads alive at once than the segment has slots: those without
 * one keep their counts and caches in private memory, folded in when they
 * exit, so the totals are exact again once they are gone.  (Mid blocks:
 * glibc's own per-thread allocations are Tiny.) */
enum { MANY = 1100, EACH = 4 };
static pthread_barrier_t many_parked, many_go;

static void *many_thread(void *arg)
{
    (void)arg;
    void *b[EACH];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < EACH; i++) b[i] = malloc(OPAQUE((size_t)5000));
        for (int i = 0; i < EACH; i++) free(b[i]);
    }
    pthread_barrier_wait(&many_parked); /* every thread alive at once */
    pthread_barrier_wait(&many_go);
    return NULL;
}

static void test_threads_beyond_slots(void)
{
    static pthread_t t[MANY];
    struct snap a, b;
    take(&a);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    REQUIRE(pthread_barrier_init(&many_parked, NULL, MANY + 1) == 0);
    REQUIRE(pthread_barrier_init(&many_go, NULL, MANY + 1) == 0);
    for (int i = 0; i < MANY; i++) REQUIRE(pthread_create(&t[i], &attr, many_thread, NULL) == 0);
    pthread_barrier_wait(&many_parked);
    unsigned in_use = slots_in_use();
    pthread_barrier_wait(&many_go);
    for (int i = 0; i < MANY; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&many_parked);
    pthread_barrier_destroy(&many_go);
    pthread_attr_destroy(&attr);
    take(&b);
    CHECKF(in_use >= 1000, "%u slots in use with %d threads alive", in_use, MANY);
    int64_t mid = delta(&a, &b, "mid_alloc_hit") + delta(&a, &b, "mid_alloc_miss");
    CHECKF(mid == 2 * MANY * EACH, "%d threads: %ld Mid allocations of %d (hits %ld)", MANY,
           (long)mid, 2 * MANY * EACH, (long)delta(&a, &b, "mid_alloc_hit"));
    CHECKF(delta(&a, &b, "mid_alloc_hit") >= MANY * EACH, "Mid hits %ld",
           (long)delta(&a, &b, "mid_alloc_hit"));
}

static volatile int worker_stop;
static void *busy_worker(void *arg)
{
    (void)arg;
    void *keep[64] = {0};
    for (unsigned i = 0; !worker_stop; i++) {
        free(keep[i % 64]);
        keep[i % 64] = malloc(OPAQUE((size_t)(16 + i % 500)));
    }
    for (int i = 0; i < 64; i++) free(keep[i]);
    return NULL;
}

static void test_external_reader(void)
{
    const char *dir = getenv("TEST_BUILD_DIR");
    char hak[512], cmd[600], line[256];
    snprintf(hak, sizeof hak, "%s/bin/hak", dir ? dir : "build");
    /* make test builds hak before it runs the tests: a missing one is a broken build */
    if (access(hak, X_OK) != 0) {
        fprintf(stderr, "%s is missing: run make\n", hak);
        exit(1);
    }
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, busy_worker, NULL) == 0);
    usleep(100 * 1000);
    snprintf(cmd, sizeof cmd, "%s counters %d", hak, (int)getpid());
    FILE *p = popen(cmd, "r");
    REQUIRE(p);
    unsigned long long hits = 0;
    int lines = 0;
    while (fgets(line, sizeof line, p)) {
        char group[64], name[64];
        unsigned long long v;
        if (sscanf(line, "%63s %63s %llu", group, name, &v) == 3) {
            lines++;
            if (!strcmp(name, "tiny_alloc_hit")) hits = v;
        }
    }
    int rc = pclose(p);
    worker_stop = 1;
    pthread_join(t, NULL);
    struct snap after;
    take(&after);
    CHECKF(rc == 0, "hak counters exited %d", rc);
    CHECK(lines > 5);
    CHECKF(hits > 0 && hits <= get(&after, "tiny_alloc_hit"), "external read %llu, now %llu", hits,
           (unsigned long long)get(&after, "tiny_alloc_hit"));
}

/* Threads that only free hold no slot: slots in use stay put however many
 * come and go, and their frees are still counted. */
static unsigned slots_in_use(void)
{
    return hak_reader_slots_in_use(reader);
}

static void *free_one(void *p)
{
    free(p);
    return NULL;
}

static void test_free_only_threads(void)
{
    enum { THREADS = 64 };
    unsigned before = slots_in_use();
    struct snap a, b;
    take(&a);
    for (int i = 0; i < THREADS; i++) {
        pthread_t t;
        REQUIRE(pthread_create(&t, NULL, free_one, malloc(OPAQUE((size_t)200))) == 0);
        pthread_join(t, NULL);
    }
    take(&b);
    CHECKF(slots_in_use() <= before, "slots in use %u before, %u after", before, slots_in_use());
    CHECKF(delta(&a, &b, "free_ss_remote") == THREADS, "remote frees %ld of %d",
           (long)delta(&a, &b, "free_ss_remote"), THREADS);
}

/* A thread that keeps freeing other threads' blocks without allocating (a
 * consumer) gets a slot of its own after a few dozen frees, so its counts
 * stop going through the shared slot; it gives the slot back at exit, and
 * every free is counted once either way. */
enum { CONSUMED = 1000 };
static void *consumed[CONSUMED];
static pthread_mutex_t consume_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t consume_cond = PTHREAD_COND_INITIALIZER;
static int consume_stage;

static void *consume_all(void *arg)
{
    (void)arg;
    for (int i = 0; i < CONSUMED; i++)
        free(consumed[i]);
    pthread_mutex_lock(&consume_lock);
    consume_stage = 1;
    pthread_cond_broadcast(&consume_cond);
    while (consume_stage != 2) pthread_cond_wait(&consume_cond, &consume_lock);
    pthread_mutex_unlock(&consume_lock);
    return NULL;
}

static void test_consumer_gets_slot(void)
{
    for (int i = 0; i < CONSUMED; i++)
        REQUIRE((consumed[i] = malloc(OPAQUE((size_t)64))) != NULL);
    unsigned before = slots_in_use();
    struct snap a, b, c;
    take(&a);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, consume_all, NULL) == 0);
    pthread_mutex_lock(&consume_lock);
    while (consume_stage != 1) pthread_cond_wait(&consume_cond, &consume_lock);
    pthread_mutex_unlock(&consume_lock);
    take(&b);
    unsigned during = slots_in_use();
    pthread_mutex_lock(&consume_lock);
    consume_stage = 2;
    pthread_cond_broadcast(&consume_cond);
    pthread_mutex_unlock(&consume_lock);
    pthread_join(t, NULL);
    take(&c);
    CHECKF(during == before + 1, "slots in use %u before the consumer, %u while it waits", before,
           during);
    CHECKF(delta(&a, &b, "free_ss_remote") == CONSUMED, "remote frees %ld of %d while it lives",
           (long)delta(&a, &b, "free_ss_remote"), CONSUMED);
    CHECKF(delta(&a, &c, "free_ss_remote") == CONSUMED, "remote frees %ld of %d after its exit",
           (long)delta(&a, &c, "free_ss_remote"), CONSUMED);
    CHECKF(slots_in_use() <= before, "slots in use %u before, %u after its exit", before,
           slots_in_use());
}

/* A key destructor that re-arms itself allocates in the last destructor
 * round, after hakmem's own exit handler ran: the heap made then must still
 * be taken back once the thread is gone (its SuperSlabs orphaned, its slot
 * folded), not held forever. */
enum { LATE_THREADS = 100 };
static pthread_key_t late_key;
static __thread int late_round;
static void *late_blocks[LATE_THREADS];
static int late_count;

static void late_dtor(void *arg)
{
    (void)arg;
    if (++late_round < 4) {
        pthread_setspecific(late_key, (void *)1);
        return;
    }
    late_blocks[late_count++] = malloc(OPAQUE((size_t)40)); /* threads run one at a time */
}

static void *late_thread(void *arg)
{
    (void)arg;
    free(malloc(OPAQUE((size_t)40)));
    pthread_setspecific(late_key, (void *)1);
    return NULL;
}

static void test_late_destructor(void)
{
    REQUIRE(pthread_key_create(&late_key, late_dtor) == 0);
    unsigned slots_before = slots_in_use();
    for (int i = 0; i < LATE_THREADS; i++) {
        pthread_t t;
        REQUIRE(pthread_create(&t, NULL, late_thread, NULL) == 0);
        pthread_join(t, NULL);
    }
    CHECK(late_count == LATE_THREADS);
    for (int i = 0; i < late_count; i++) free(late_blocks[i]);
    hak_flush_all();
    struct snap s;
    take(&s);
    /* one SuperSlab per late heap would be 200 MiB; a handful is left */
    CHECKF(get(&s, "held_tiny") < (16u << 20), "held_tiny %llu MiB after %d late heaps",
           (unsigned long long)get(&s, "held_tiny") >> 20, LATE_THREADS);
    CHECKF(slots_in_use() <= slots_before, "slots in use %u, before %u", slots_in_use(),
           slots_before);
}

/* The file the segment used to be, for a pid: it must never appear. */
static int shm_file_exists(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/hakmem-%d.seg", (int)pid);
    return access(path, F_OK) == 0;
}

static void *child_keep[64];

/* Forks a child that lives past `ms`, allocates, is read from here, and
 * then either _exit()s or is killed; nothing of it may be left. */
static void child_leaves_nothing(int ms, bool killed)
{
    int ready[2], done[2];
    REQUIRE(pipe(ready) == 0 && pipe(done) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        usleep((useconds_t)ms * 1000);
        for (int i = 0; i < 64; i++) child_keep[i] = malloc(OPAQUE((size_t)24000)); /* refills */
        (void)!write(ready[1], "x", 1);
        char c;
        (void)!read(done[0], &c, 1);
        _exit(0);
    }
    char x;
    REQUIRE(read(ready[0], &x, 1) == 1);
    char err[600];
    struct hak_reader *r = hak_reader_open_pid(pid, err, sizeof err);
    CHECKF(r != NULL, "live child not readable: %s", err);
    if (r) {
        CHECKF(hak_reader_header(r)->pid == pid, "child's reader shows pid %lld",
               (long long)hak_reader_header(r)->pid);
        hak_reader_close(r);
    }
    CHECKF(!shm_file_exists(pid), "child %d has a segment file in /dev/shm", (int)pid);
    if (killed) kill(pid, SIGKILL);
    else (void)!write(done[1], "x", 1);
    int st;
    waitpid(pid, &st, 0);
    CHECK(killed ? WIFSIGNALED(st) : WIFEXITED(st));
    CHECKF(!shm_file_exists(pid), "%s child %d left a segment file", killed ? "killed" : "exited",
           (int)pid);
    r = hak_reader_open_pid(pid, err, sizeof err);
    CHECK(r == NULL);
    CHECKF(strstr(err, "no such process") != NULL, "message: %s", err);
    hak_reader_close(r);
    close(ready[0]), close(ready[1]), close(done[0]), close(done[1]);
}

static void test_segment_lifetime(void)
{
    CHECKF(!shm_file_exists(getpid()), "this process has a segment file in /dev/shm");
    child_leaves_nothing(0, false);
    child_leaves_nothing(150, false); /* past the 100 ms an earlier design waited */
    child_leaves_nothing(150, true);

    /* a child that execs leaves nothing either */
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(!shm_file_exists(pid));
}

/* The blocks all threads cache of the class of `size`, as a reader derives
 * them (cap less room, per slot), and the capacity of those caches. */
static uint64_t class_cached_cap(size_t size, uint64_t *capacity)
{
    unsigned n = hak_reader_class_count(reader), cls = n;
    for (unsigned c = 0; c < n && cls == n; c++)
        if (hak_reader_class_size(reader, c) >= size) cls = c;
    REQUIRE(cls < n);
    struct hak_reader_class *out = calloc(n, sizeof *out);
    REQUIRE(out != NULL);
    REQUIRE(hak_reader_classes(reader, out));
    uint64_t cached = out[cls].cached;
    if (capacity) *capacity = out[cls].capacity;
    free(out);
    return cached;
}

static uint64_t class_cached(size_t size)
{
    return class_cached_cap(size, NULL);
}

static pthread_barrier_t keeper_parked, keeper_go;
static int keeper_fill; /* blocks the keeper frees once it has answered */

/* Caches twelve blocks of a Tiny class no other thread here uses, then
 * waits while the main thread takes its cache; holds 48 more, which it
 * frees once it has answered. */
static void *keeper_thread(void *arg)
{
    (void)arg;
    void *held[48], *b[12];
    for (int i = 0; i < 48; i++) held[i] = malloc(OPAQUE((size_t)700));
    for (int i = 0; i < 12; i++) b[i] = malloc(OPAQUE((size_t)700));
    for (int i = 0; i < 12; i++) free(b[i]);
    pthread_barrier_wait(&keeper_parked);
    pthread_barrier_wait(&keeper_go);
    free(malloc(OPAQUE((size_t)700))); /* answers the probe, from the blocks left */
    pthread_barrier_wait(&keeper_parked);
    pthread_barrier_wait(&keeper_go);
    int i = 0;
    for (; i < keeper_fill && i < 48; i++) free(held[i]);
    pthread_barrier_wait(&keeper_parked);
    pthread_barrier_wait(&keeper_go);
    for (; i < 48; i++) free(held[i]);
    return NULL;
}

/* A flush takes another thread's cached blocks behind the first two of
 * each Tiny class: the derived count falls to 2 at once (through the
 * cache's `taken`: the owner's own fields are left to it), and the
 * capacity stays.  The owner's next call turns what was taken into room:
 * its cache then fills to its whole capacity, with no overflow. */
static void test_reclaim_leaves_two(void)
{
    pthread_t t;
    uint64_t others; /* the capacity of the other threads' caches of the class */
    class_cached_cap(700, &others);
    REQUIRE(pthread_barrier_init(&keeper_parked, NULL, 2) == 0);
    REQUIRE(pthread_barrier_init(&keeper_go, NULL, 2) == 0);
    REQUIRE(pthread_create(&t, NULL, keeper_thread, NULL) == 0);
    pthread_barrier_wait(&keeper_parked);
    uint64_t cap_before, cap_after, cap_answered;
    uint64_t before = class_cached_cap(700, &cap_before);
    hak_flush_all();
    uint64_t after = class_cached_cap(700, &cap_after);
    pthread_barrier_wait(&keeper_go);
    pthread_barrier_wait(&keeper_parked);
    uint64_t answered = class_cached_cap(700, &cap_answered); /* what was taken became room */
    uint64_t cap = cap_answered - others; /* the keeper's */
    keeper_fill = cap > 2 ? (int)(cap - 2) : 0;
    struct snap s0, s1;
    take(&s0);
    pthread_barrier_wait(&keeper_go);
    pthread_barrier_wait(&keeper_parked);
    uint64_t filled = class_cached(700);
    take(&s1);
    pthread_barrier_wait(&keeper_go);
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECKF(answered == 2, "cached blocks of the class after the owner's next call: %lu (2 expected)",
           (unsigned long)answered);
    CHECKF(before >= 12 && after == 2, "cached blocks of the class: %lu before a flush, %lu after (2 expected)",
           (unsigned long)before, (unsigned long)after);
    /* the capacities stay: they add up to the tiny_tcache_cap gauge */
    CHECKF(cap_after == cap_before, "capacity of the class %lu before the flush, %lu after",
           (unsigned long)cap_before, (unsigned long)cap_after);
    int64_t overflows = delta(&s0, &s1, "early_tcache_full");
    CHECKF(cap >= 12 && cap <= 50 && filled == cap && overflows == 0,
           "the owner's cache of capacity %lu holds %lu blocks after %d more frees, %ld overflows "
           "(full, none expected)",
           (unsigned long)cap, (unsigned long)filled, keeper_fill, (long)overflows);
    CHECKF(class_cached(700) == 0, "%lu cached after the thread exited", (unsigned long)class_cached(700));
    pthread_barrier_destroy(&keeper_parked);
    pthread_barrier_destroy(&keeper_go);
}

int main(void)
{
    void *first = malloc(16); /* the segment is created with the first heap */
    free(first);
    /* A cached Huge free starts the decay worker, whose thread keeps one block
     * (its TLS) for good: start it before any live-block count is taken. */
    free(malloc(4 << 20));
    char err[600];
    reader = hak_reader_open_pid(getpid(), err, sizeof err);
    if (!reader) {
        fprintf(stderr, "cannot read own segment: %s\n", err);
        return 1;
    }
    ncounters = hak_reader_counter_count(reader);
    REQUIRE(ncounters <= 256);
    test_one_thread();
    test_remote_frees();
    test_live_blocks();
    test_derived_counts();
    test_fork_counts();
    test_threads_beyond_slots();
    test_external_reader();
    test_free_only_threads();
    test_consumer_gets_slot();
    test_late_destructor();
    test_segment_lifetime();
    test_reclaim_leaves_two();
    hak_reader_close(reader);
    return test_finish();
}
#endif
