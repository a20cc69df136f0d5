/*
 * The counter segment (layout in include/hakmem_probe.h): shared memory
 * holding the counter names, one slot of counters and thread caches per
 * live thread, slot 0 for threads that have exited, and the table of
 * address ranges hakmem owns.  Created on the first counted event as a sealed memfd that has no
 * path, so it vanishes with the process however it ends and nothing in the
 * environment can point it at a file (docs/counters.md).  Where it cannot
 * be created the same layout lives in private memory, so counting and the
 * exit dump still work.
 */
#if HAKMEM_COUNTERS

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "counters.h"
#include "hakmem_probe.h"

#define SLOT_COUNT 1024
#define REGION_CAPACITY 65536

/* The calling thread's slot: in the segment, or (beyond its slots) in
 * private memory that readers see only once the thread has exited. */
static HAK_TLS struct hak_probe_slot *my_slot;

static struct hak_probe_header *seg;
static size_t seg_size;
static int seg_fd = -1; /* the memfd readers find through /proc/PID/fd, or -1 */
static pthread_mutex_t seg_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct {
    const char *name, *group, *desc;
} counter_info[HAK_NUM_COUNTERS] = {
#define HAK_COUNTER(name, group, desc) {#name, #group, desc},
#include "counters.def"
#undef HAK_COUNTER
};

/* A slot: its header, the counter values, then the thread's caches. */
#define SLOT_CACHE_OFFSET hak_align_up(sizeof(struct hak_probe_slot) + HAK_NUM_COUNTERS * 8, 64)
#define SLOT_STRIDE hak_align_up(SLOT_CACHE_OFFSET + HAK_NUM_CLASSES * sizeof(struct hak_tcache), 64)
_Static_assert(sizeof(struct hak_tcache) == sizeof(struct hak_probe_cache) &&
                   offsetof(struct hak_tcache, pushes) == offsetof(struct hak_probe_cache, pushes) &&
                   offsetof(struct hak_tcache, limit) == offsetof(struct hak_probe_cache, limit) &&
                   offsetof(struct hak_tcache, cap) == offsetof(struct hak_probe_cache, cap) &&
                   offsetof(struct hak_tcache, taken) == offsetof(struct hak_probe_cache, taken),
               "struct hak_tcache is published as struct hak_probe_cache");

static inline struct hak_tcache *slot_caches(struct hak_probe_slot *s)
{
    return (struct hak_tcache *)((char *)s + SLOT_CACHE_OFFSET);
}

static inline struct hak_probe_slot *slot_at(uint32_t i)
{
    return (struct hak_probe_slot *)((char *)seg + seg->slots_offset + (size_t)i * seg->slot_stride);
}

static inline struct hak_probe_region *regions(void)
{
    return (struct hak_probe_region *)((char *)seg + seg->regions_offset);
}

/* Field 22 of /proc/self/stat: with the pid, it names this process even
 * after the pid is reused. */
static uint64_t process_start_ticks(void)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    return hak_probe_stat_start_ticks(buf);
}

/* Sets the sizes and offsets of the layout; returns the file size. */
static size_t segment_layout(struct hak_probe_header *h)
{
    size_t names = hak_align_up(sizeof(*h), 64);
    size_t stride = SLOT_STRIDE;
    size_t sizes = hak_align_up(names + HAK_NUM_COUNTERS * sizeof(struct hak_probe_counter), 64);
    size_t slots = hak_align_up(sizes + HAK_NUM_CLASSES * sizeof(uint32_t), 64);
    h->version = HAK_PROBE_VERSION;
    h->header_size = sizeof(*h);
    h->counter_count = HAK_NUM_COUNTERS;
    h->slot_count = SLOT_COUNT;
    h->slots_used = 1; /* slot 0, the retired threads' */
    h->slot_stride = (uint32_t)stride;
    h->region_capacity = REGION_CAPACITY;
    h->cache_offset = SLOT_CACHE_OFFSET;
    h->cache_count = HAK_NUM_CLASSES;
    h->cache_tiny = HAK_NUM_TINY;
    h->hit_counter[0] = HAK_CTR_tiny_alloc_hit;
    h->hit_counter[1] = HAK_CTR_mid_alloc_hit;
    h->push_counter = HAK_CTR_free_tls_sll;
    h->class_sizes_offset = (uint32_t)sizes;
    h->names_offset = names;
    h->slots_offset = slots;
    h->regions_offset = hak_align_up(slots + SLOT_COUNT * stride, 64);
    h->total_size = hak_align_up(h->regions_offset + REGION_CAPACITY * sizeof(struct hak_probe_region),
                                 HAK_PAGE);
    return h->total_size;
}

static void segment_fill(struct hak_probe_header *h)
{
    size_t names = h->names_offset;
    h->pid = getpid();
    h->start_ticks = process_start_ticks();
    h->state = HAK_PROBE_LIVE;
    strncpy(h->build_id, HAKMEM_BUILD_ID, sizeof(h->build_id) - 1);
    struct hak_probe_counter *c = (struct hak_probe_counter *)((char *)h + names);
    for (unsigned i = 0; i < HAK_NUM_COUNTERS; i++) {
        strncpy(c[i].name, counter_info[i].name, HAK_PROBE_NAME_LEN - 1);
        strncpy(c[i].group, counter_info[i].group, HAK_PROBE_GROUP_LEN - 1);
        strncpy(c[i].desc, counter_info[i].desc, HAK_PROBE_DESC_LEN - 1);
    }
    /* the size classes are set up at init, before any thread gets a slot */
    memcpy((char *)h + h->class_sizes_offset, hak_class_size, sizeof(hak_class_size));
    __atomic_store_n(&h->fold_seq, 0, __ATOMIC_RELAXED);
}

/* At normal exit, and before a fatal abort, readers learn the process is
 * gone; the mapping stays for the exit dump. */
void hak_counters_mark_exited(void)
{
    if (seg) __atomic_store_n(&seg->state, HAK_PROBE_EXITED, __ATOMIC_RELEASE);
}

__attribute__((destructor)) static void mark_exited_at_exit(void)
{
    hak_counters_mark_exited();
}

/* Readers look for it among the descriptors from here up, out of the way of
 * programs that expect the low numbers to be theirs. */
#define SEGMENT_FD_FLOOR 600

/* A memfd of `size` bytes that can no longer shrink or grow (so a reader's
 * mapping can never run past its end), or -1.  It lives on the kernel's
 * internal shm mount: a full /dev/shm does not concern it. */
static int segment_memfd(size_t size)
{
    int fd = memfd_create(HAK_PROBE_MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -1;
    if (ftruncate(fd, (off_t)size) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
        close(fd);
        return -1;
    }
    int high = fcntl(fd, F_DUPFD_CLOEXEC, SEGMENT_FD_FLOOR);
    if (high < 0) return fd;
    close(fd);
    return high;
}

/* Creates the segment: a shared memfd when `shared` and the option allow,
 * else private memory.  seg_lock held. */
static void segment_create(bool shared)
{
    struct hak_probe_header layout = {0};
    size_t size = segment_layout(&layout);
    void *mem = NULL;
    if (shared && hak_cfg.counters_shared) {
        int fd = segment_memfd(size);
        if (fd >= 0) {
            mem = hak_os_map_shared(fd, size);
            if (mem) seg_fd = fd;
            else close(fd);
        }
    }
    if (!mem) mem = hak_os_map(size);
    if (!mem) return;
    struct hak_probe_header *h = mem;
    *h = layout;
    segment_fill(h);
    memcpy(h->magic, HAK_PROBE_MAGIC, 8); /* last: a reader sees a whole header */
    seg_size = size;
    __atomic_store_n(&seg, h, __ATOMIC_RELEASE);
}

/* Creates the segment on first use.  Nothing here counts through a slot,
 * so the OS calls it makes cannot recurse into it. */
void hak_counters_ensure_segment(void)
{
    if (__atomic_load_n(&seg, __ATOMIC_ACQUIRE)) return;
    pthread_mutex_lock(&seg_lock);
    if (!seg) segment_create(true);
    pthread_mutex_unlock(&seg_lock);
}

/* Events of a thread without a slot of its own go to slot 0, atomically. */
void hak_counters_add_shared(unsigned id, uint64_t n)
{
    struct hak_probe_header *h = __atomic_load_n(&seg, __ATOMIC_ACQUIRE);
    if (h) __atomic_fetch_add(&slot_at(0)->values[id], n, __ATOMIC_RELAXED);
}

static bool slot_is_private(const struct hak_probe_slot *s)
{
    return (const char *)s < (const char *)seg || (const char *)s >= (const char *)seg + seg_size;
}

/* Gives the calling thread (which is creating its heap) a slot of its own:
 * its counters and its caches (empty: a slot is zeroed when it is freed).
 * Without a segment the caches stay in own_cache and nothing is derived
 * from them. */
uint64_t *hak_counters_attach(void)
{
    static uint64_t no_segment[HAK_NUM_COUNTERS];
    if (hak_ctr) return hak_ctr;
    hak_counters_ensure_segment();
    hak_tls.caches = hak_tls.own_cache;
    if (!seg) return hak_ctr = no_segment;
    struct hak_probe_slot *s = NULL;
    for (uint32_t i = 1; i < SLOT_COUNT && !s; i++) {
        uint32_t expected = 0;
        if (__atomic_compare_exchange_n(&slot_at(i)->in_use, &expected, 1, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            s = slot_at(i);
            /* readers reach the slot before its thread counts anything */
            uint32_t used = __atomic_load_n(&seg->slots_used, __ATOMIC_RELAXED);
            while (used <= i && !__atomic_compare_exchange_n(&seg->slots_used, &used, i + 1, false,
                                                             __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
            }
        }
    }
    if (!s) s = hak_os_map(SLOT_STRIDE); /* zeroed; folded into slot 0 at exit */
    if (!s) return hak_ctr = no_segment;
    s->tid = (int32_t)syscall(SYS_gettid);
    my_slot = s;
    hak_tls.caches = slot_caches(s);
    hak_tls.cache_ctr = s->values;
    hak_tls.cache_seq = &s->seq;
    return hak_ctr = s->values;
}

/* Moves a slot's values into slot 0, with the counts derived from its
 * caches, and zeroes it for the next thread: at thread exit, when the
 * caches are empty. */
static void slot_fold(struct hak_probe_slot *s)
{
    uint64_t v[HAK_NUM_COUNTERS] = {0}, scratch[HAK_NUM_COUNTERS];
    struct hak_probe_slot *retired = slot_at(0);
    pthread_mutex_lock(&seg_lock);
    __atomic_fetch_add(&seg->fold_seq, 1, __ATOMIC_ACQ_REL);
    hak_probe_slot_read(seg, s, v, scratch); /* its own thread, not changing it */
    for (unsigned i = 0; i < HAK_NUM_COUNTERS; i++) {
        __atomic_fetch_add(&retired->values[i], v[i], __ATOMIC_RELAXED);
        s->values[i] = 0;
    }
    memset(slot_caches(s), 0, HAK_NUM_CLASSES * sizeof(struct hak_tcache));
    __atomic_fetch_add(&seg->fold_seq, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&seg_lock);
}

/* Thread exit (its caches emptied): the slot's values move into slot 0
 * and the slot is freed; later events of the thread go to slot 0. */
void hak_counters_detach(void)
{
    struct hak_probe_slot *s = my_slot;
    hak_ctr = NULL;
    my_slot = NULL;
    hak_tls.caches = hak_tls.own_cache;
    memset(hak_tls.own_cache, 0, sizeof(hak_tls.own_cache));
    hak_tls.cache_ctr = NULL;
    hak_tls.cache_seq = NULL;
    if (!s || !seg) return;
    slot_fold(s);
    if (slot_is_private(s)) hak_os_unmap(s, SLOT_STRIDE);
    else __atomic_store_n(&s->in_use, 0, __ATOMIC_RELEASE);
}

/* The region table as this process sees it, in private memory: the shared
 * table mirrors it, and a forked child rebuilds its own from it (the
 * parent keeps changing the shared one while the child starts). */
static struct hak_probe_region *region_shadow;
static uint32_t region_shadow_count;

/* Copies the private table into the shared one (region_lock held). */
static void publish_regions(uint32_t changed, bool moved)
{
    if (!seg) return;
    __atomic_fetch_add(&seg->region_seq, 1, __ATOMIC_ACQ_REL);
    if (changed < region_shadow_count || moved) regions()[changed] = region_shadow[changed];
    seg->region_count = region_shadow_count;
    __atomic_fetch_add(&seg->region_seq, 1, __ATOMIC_ACQ_REL);
}

/* The forking thread's caches as they were at fork: the child cannot read
 * them from the parent's slot, which the parent keeps changing after fork
 * returns there.  Taken in the prepare handler, under every heap's lock. */
static struct hak_tcache fork_caches[HAK_NUM_CLASSES];

void hak_counters_fork_prepare(void)
{
    if (hak_tls.caches) memcpy(fork_caches, hak_tls.caches, sizeof(fork_caches));
}

/* In the child: the caches of the forking thread go into its new slot,
 * with nothing pushed or hit yet (the child counts from zero). */
static void fork_caches_adopt(void)
{
    bool fast = hak_tls.fast_cache != hak_tcache_none;
    for (unsigned c = 0; c < HAK_NUM_CLASSES; c++) {
        struct hak_tcache *tc = &hak_tls.caches[c];
        tc->head = fork_caches[c].head;
        tc->cap = fork_caches[c].cap;
        tc->pushes = tc->limit = 0;
        /* what a reclaimer took (not yet room in the parent) is room here */
        hak_tcache_room(&hak_tls, c,
                        (int64_t)(fork_caches[c].limit - fork_caches[c].pushes + fork_caches[c].taken));
    }
    if (fast) hak_tls.fast_cache = hak_tls.caches;
}

/* The child of fork must not count into its parent's segment: it gets a
 * memfd of its own, with the surviving thread's slot and caches and the
 * regions it inherited.  Events start from zero; gauges (a "Gauge:"
 * description) carry the parent's sums, since the child holds what the
 * parent held (the heap's fork handler then takes out the dead threads'
 * cache capacities).  Nothing outlives the child, so it needs no delay
 * before publishing. */
void hak_counters_fork_child(void)
{
    pthread_mutex_init(&seg_lock, NULL);
    if (seg_fd >= 0) close(seg_fd); /* the parent's, which readers of the child must not find */
    seg_fd = -1;
    struct hak_probe_header *parent = seg;
    if (!parent) return;
    uint64_t gauges[HAK_NUM_COUNTERS] = {0};
    for (unsigned i = 0; i < HAK_NUM_COUNTERS; i++)
        if (!strncmp(counter_info[i].desc, "Gauge:", 6))
            for (uint32_t k = 0; k < parent->slots_used && k < SLOT_COUNT; k++)
                gauges[i] += slot_at(k)->values[i];
    bool had_slot = hak_ctr != NULL;
    if (my_slot && slot_is_private(my_slot)) hak_os_unmap(my_slot, SLOT_STRIDE);
    seg = NULL;
    hak_ctr = NULL;
    my_slot = NULL;
    hak_tls.cache_ctr = NULL;
    hak_tls.cache_seq = NULL;
    hak_os_unmap(parent, seg_size);
    segment_create(true);
    if (seg && region_shadow) {
        memcpy(regions(), region_shadow, region_shadow_count * sizeof(*region_shadow));
        seg->region_count = region_shadow_count;
    }
    if (seg) memcpy(slot_at(0)->values, gauges, sizeof gauges);
    if (had_slot) {
        hak_counters_attach();
        fork_caches_adopt();
    }
}

/* Publishes a region hakmem now owns; the region map's lock is held. */
void hak_counters_region_add(struct hak_segment *s, void *base, size_t size)
{
    hak_counters_ensure_segment();
    if (!region_shadow) region_shadow = hak_os_map(REGION_CAPACITY * sizeof(*region_shadow));
    if (!region_shadow || region_shadow_count >= REGION_CAPACITY) {
        s->region_slot = UINT32_MAX;
        return;
    }
    uint32_t i = region_shadow_count++;
    region_shadow[i] = (struct hak_probe_region){(uintptr_t)base, size, s->tier, 0};
    s->region_slot = i;
    publish_regions(i, false);
}

/* Withdraws a region; the last entry moves into its place.  Every region
 * starts with its segment header, so the moved entry's header is found at
 * its start address. */
void hak_counters_region_remove(struct hak_segment *s)
{
    uint32_t i = s->region_slot;
    if (!region_shadow || i >= region_shadow_count) return;
    uint32_t last = --region_shadow_count;
    if (i != last) {
        region_shadow[i] = region_shadow[last];
        ((struct hak_segment *)(uintptr_t)region_shadow[i].start)->region_slot = i;
    }
    publish_regions(i, i != last);
}

/* Sums every slot into `out` (used by the exit dump). */
void hak_counters_totals(uint64_t out[HAK_NUM_COUNTERS])
{
    memset(out, 0, HAK_NUM_COUNTERS * sizeof(uint64_t));
    if (!seg) {
        if (hak_ctr) memcpy(out, hak_ctr, HAK_NUM_COUNTERS * sizeof(uint64_t));
        return;
    }
    uint64_t scratch[HAK_NUM_COUNTERS];
    for (;;) {
        uint64_t before = __atomic_load_n(&seg->fold_seq, __ATOMIC_ACQUIRE);
        if (before & 1) continue;
        memset(out, 0, HAK_NUM_COUNTERS * sizeof(uint64_t));
        /* a slot whose thread is changing it is read again (a slot left
         * odd, by a signal handler that interrupted its thread, is skipped) */
        uint32_t used = __atomic_load_n(&seg->slots_used, __ATOMIC_ACQUIRE);
        for (uint32_t i = 0; i < used && i < SLOT_COUNT; i++)
            for (int tries = 0; tries < 100000 && !hak_probe_slot_read(seg, slot_at(i), out, scratch);
                 tries++) {
            }
        __atomic_thread_fence(__ATOMIC_ACQUIRE); /* the slot reads happen before the re-check */
        if (__atomic_load_n(&seg->fold_seq, __ATOMIC_RELAXED) == before) return;
    }
}

const char *hak_counter_name(unsigned i)
{
    return counter_info[i].name;
}
const char *hak_counter_group(unsigned i)
{
    return counter_info[i].group;
}
int hak_counters_shared_fd(void)
{
    return seg ? seg_fd : -1;
}

#endif
