/*
 * The counter segment reader (counter_reader.h).  Nothing in the shared
 * mapping is trusted after open: sizes and offsets come from the checked
 * copy in struct hak_reader, names from NUL-terminated copies, and the
 * seals on the memfd guarantee the mapping cannot be cut short under us.
 */
#include "counter_reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Far above what hakmem writes; they keep a forged header from making the
 * reader allocate or loop without end. */
#define MAX_SEGMENT_BYTES (1ull << 30)
#define MAX_COUNTERS 4096u
#define MAX_SLOTS 65536u
#define MAX_REGIONS (1u << 22)
#define MAX_CACHES 4096u

struct hak_reader {
    const char *map; /* the writer's bytes: only read at offsets checked against hdr */
    uint64_t *scratch; /* counter_count values: one slot as it is read */
    size_t map_size;
    struct hak_probe_header hdr;     /* copied and checked once, at open */
    struct hak_probe_counter *names; /* copies, each string NUL-terminated */
    uint32_t *class_sizes;           /* copies, cache_count of them */
    char build_id[sizeof(((struct hak_probe_header *)0)->build_id) + 1];
};

#define FAIL(...)                                                                              \
    do {                                                                                       \
        if (err && errlen) snprintf(err, errlen, __VA_ARGS__);                                 \
        goto fail;                                                                             \
    } while (0)

/* Whether `count` items of `elem` bytes from `off` fit in `size`, in a form
 * that cannot wrap. */
static bool fits(uint64_t off, uint64_t count, uint64_t elem, uint64_t size)
{
    return off <= size && (elem == 0 || count <= (size - off) / elem);
}

/* Checks the copied header (magic and version already checked) against
 * the mapping's size; NULL if it is sound, else what is wrong. */
static const char *header_problem(const struct hak_probe_header *h, uint64_t size)
{
    if (h->total_size > size) return "its header claims more bytes than the segment has";
    if (h->counter_count > MAX_COUNTERS || h->slot_count == 0 || h->slot_count > MAX_SLOTS ||
        h->region_capacity > MAX_REGIONS)
        return "implausible counter, slot or region count";
    /* the slots and the region table are read in place with 8-byte loads */
    if (h->slots_offset % 8 || h->slot_stride % 8 || h->regions_offset % 8)
        return "misaligned slots or region table";
    if (h->slot_stride < sizeof(struct hak_probe_slot) + (uint64_t)h->counter_count * 8)
        return "slot stride too small for its counters";
    /* the caches, read with 8-byte loads, must lie inside a slot after its counters */
    if (h->cache_offset % 8 || h->cache_offset < sizeof(struct hak_probe_slot) + (uint64_t)h->counter_count * 8 ||
        !fits(h->cache_offset, h->cache_count, sizeof(struct hak_probe_cache), h->slot_stride))
        return "thread caches outside their slot";
    if (h->cache_tiny > h->cache_count || h->hit_counter[0] >= h->counter_count ||
        h->hit_counter[1] >= h->counter_count || h->push_counter >= h->counter_count)
        return "derived counters out of range";
    if (h->cache_count > MAX_CACHES || h->class_sizes_offset % 4 ||
        !fits(h->class_sizes_offset, h->cache_count, sizeof(uint32_t), size))
        return "size-class table out of range";
    if (!fits(h->names_offset, h->counter_count, sizeof(struct hak_probe_counter), size) ||
        !fits(h->slots_offset, h->slot_count, h->slot_stride, size) ||
        !fits(h->regions_offset, h->region_capacity, sizeof(struct hak_probe_region), size))
        return "names, slots or region table run past the end of the segment";
    return NULL;
}

/* Copies the counter names out of the mapping, each string terminated. */
static struct hak_probe_counter *copy_names(const char *map, const struct hak_probe_header *h)
{
    struct hak_probe_counter *c = calloc(h->counter_count ? h->counter_count : 1, sizeof(*c));
    if (!c) return NULL;
    memcpy(c, map + h->names_offset, (size_t)h->counter_count * sizeof(*c));
    for (uint32_t i = 0; i < h->counter_count; i++) {
        c[i].name[HAK_PROBE_NAME_LEN - 1] = 0;
        c[i].group[HAK_PROBE_GROUP_LEN - 1] = 0;
        c[i].desc[HAK_PROBE_DESC_LEN - 1] = 0;
    }
    return c;
}

struct hak_reader *hak_reader_open_fd(int fd, char *err, size_t errlen)
{
    struct hak_reader *r = NULL;
    void *map = MAP_FAILED;
    uint64_t size = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) FAIL("cannot stat the counter segment (%s)", strerror(errno));
    if (!S_ISREG(st.st_mode)) FAIL("the counter segment is not a regular file");
    if (geteuid() != 0 && st.st_uid != geteuid())
        FAIL("the counter segment belongs to uid %u, not to this user", (unsigned)st.st_uid);
    /* Without F_SEAL_SHRINK the writer could truncate it under our mapping (SIGBUS). */
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0 || !(seals & F_SEAL_SHRINK))
        FAIL("the counter segment is not sealed against truncation; refusing to map it");
    size = (uint64_t)st.st_size;
    if (size < sizeof(struct hak_probe_header) || size > MAX_SEGMENT_BYTES)
        FAIL("counter segment of %llu bytes: not a size hakmem writes", (unsigned long long)size);
    map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) FAIL("cannot map the counter segment (%s)", strerror(errno));
    r = calloc(1, sizeof(*r));
    if (!r) FAIL("out of memory");
    memcpy(&r->hdr, map, sizeof(r->hdr));
    if (memcmp(r->hdr.magic, HAK_PROBE_MAGIC, 8) != 0)
        FAIL("not a hakmem counter segment (bad magic)");
    if (r->hdr.version != HAK_PROBE_VERSION || r->hdr.header_size != sizeof(r->hdr))
        FAIL("counter segment version %u, this reader understands version %d", r->hdr.version,
             HAK_PROBE_VERSION);
    const char *problem = header_problem(&r->hdr, size);
    if (problem) FAIL("bad counter segment: %s", problem);
    r->map = map;
    r->map_size = (size_t)size;
    r->names = copy_names(map, &r->hdr);
    r->scratch = calloc(r->hdr.counter_count ? r->hdr.counter_count : 1, sizeof(uint64_t));
    r->class_sizes = calloc(r->hdr.cache_count ? r->hdr.cache_count : 1, sizeof(uint32_t));
    if (!r->names || !r->scratch || !r->class_sizes) FAIL("out of memory");
    memcpy(r->class_sizes, (const char *)map + r->hdr.class_sizes_offset,
           (size_t)r->hdr.cache_count * sizeof(uint32_t));
    memcpy(r->build_id, r->hdr.build_id, sizeof(r->hdr.build_id));
    r->build_id[sizeof(r->hdr.build_id)] = 0;
    return r;
fail:
    if (map != MAP_FAILED) munmap(map, (size_t)size);
    if (r) free(r->names);
    if (r) free(r->scratch);
    if (r) free(r->class_sizes);
    free(r);
    return NULL;
}

/* The start time of a process, field 22 of /proc/PID/stat, or 0. */
static uint64_t start_ticks_of(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    return hak_probe_stat_start_ticks(buf);
}

bool hak_reader_alive(const struct hak_reader *r)
{
    const struct hak_probe_header *live = (const void *)r->map;
    if (__atomic_load_n(&live->state, __ATOMIC_ACQUIRE) != HAK_PROBE_LIVE) return false;
    pid_t pid = (pid_t)r->hdr.pid;
    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH)) return false;
    uint64_t ticks = start_ticks_of(pid);
    return ticks == 0 || r->hdr.start_ticks == 0 || ticks == r->hdr.start_ticks;
}

/* Whether a /proc/PID/fd link target names hakmem's memfd ("/memfd:NAME",
 * with " (deleted)" after it on most kernels). */
static bool is_segment_link(const char *target)
{
    static const char prefix[] = "/memfd:" HAK_PROBE_MEMFD_NAME;
    size_t n = sizeof(prefix) - 1;
    return strncmp(target, prefix, n) == 0 && (target[n] == 0 || target[n] == ' ');
}

struct hak_reader *hak_reader_open_pid(pid_t pid, char *err, size_t errlen)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT && err) snprintf(err, errlen, "no such process %d", (int)pid);
        else if (err)
            snprintf(err, errlen, "process %d: cannot read %s (%s); run as its user or root",
                     (int)pid, dir, strerror(errno));
        return NULL;
    }
    char why[400] = "";
    struct hak_reader *found = NULL;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char target[256];
        ssize_t n = readlinkat(dirfd(d), e->d_name, target, sizeof target - 1);
        if (n <= 0) continue;
        target[n] = 0;
        if (!is_segment_link(target)) continue;
        /* O_NONBLOCK: should the descriptor have become a FIFO since, open must not wait */
        int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            snprintf(why, sizeof why, "cannot open %s/%s (%s)", dir, e->d_name, strerror(errno));
            continue;
        }
        struct hak_reader *r = hak_reader_open_fd(fd, why, sizeof why);
        close(fd);
        /* a child just forked may still hold its parent's segment */
        if (r && r->hdr.pid != pid) {
            snprintf(why, sizeof why, "the segment there belongs to pid %lld", (long long)r->hdr.pid);
            hak_reader_close(r);
        } else if (r && !hak_reader_alive(r)) {
            snprintf(why, sizeof why, "its counter segment says it has exited");
            hak_reader_close(r);
        } else if (r) {
            found = r;
        }
    }
    closedir(d);
    if (!found && err) {
        if (why[0]) snprintf(err, errlen, "process %d: %s", (int)pid, why);
        else
            snprintf(err, errlen,
                     "process %d does not use hakmem (no counter segment; or it runs with "
                     "HAKMEM_COUNTERS_SHARED=0)",
                     (int)pid);
    }
    return found;
}

void hak_reader_close(struct hak_reader *r)
{
    if (!r) return;
    munmap((void *)r->map, r->map_size);
    free(r->names);
    free(r->scratch);
    free(r->class_sizes);
    free(r);
}

const struct hak_probe_header *hak_reader_header(const struct hak_reader *r)
{
    return &r->hdr;
}

const char *hak_reader_build_id(const struct hak_reader *r)
{
    return r->build_id;
}

unsigned hak_reader_counter_count(const struct hak_reader *r)
{
    return r->hdr.counter_count;
}

const char *hak_reader_counter_name(const struct hak_reader *r, unsigned i)
{
    return i < r->hdr.counter_count ? r->names[i].name : NULL;
}

const char *hak_reader_counter_group(const struct hak_reader *r, unsigned i)
{
    return i < r->hdr.counter_count ? r->names[i].group : NULL;
}

const char *hak_reader_counter_desc(const struct hak_reader *r, unsigned i)
{
    return i < r->hdr.counter_count ? r->names[i].desc : NULL;
}

int hak_reader_counter_index(const struct hak_reader *r, const char *name)
{
    for (unsigned i = 0; i < r->hdr.counter_count; i++)
        if (strcmp(r->names[i].name, name) == 0) return (int)i;
    return -1;
}

/* How many slots to read: those taken at some time (slots_used, which only
 * grows), never more than the header copied at open allows. */
static uint32_t slots_to_read(const struct hak_reader *r)
{
    const struct hak_probe_header *live = (const void *)r->map;
    uint32_t used = __atomic_load_n(&live->slots_used, __ATOMIC_ACQUIRE);
    return used < r->hdr.slot_count ? used : r->hdr.slot_count;
}

static const struct hak_probe_slot *slot_at(const struct hak_reader *r, uint32_t s)
{
    return (const void *)(r->map + r->hdr.slots_offset + (size_t)s * r->hdr.slot_stride);
}

bool hak_reader_totals(const struct hak_reader *r, uint64_t *out)
{
    const struct hak_probe_header *live = (const void *)r->map;
    uint32_t n = r->hdr.counter_count;
    int slot_retries = 1000;
    for (int attempt = 0; attempt < 100000; attempt++) {
        uint64_t before = __atomic_load_n(&live->fold_seq, __ATOMIC_ACQUIRE);
        if (before & 1) continue;
        memset(out, 0, n * sizeof(uint64_t));
        /* a slot whose thread is changing a cache is read again, after
         * letting it run; a slot left odd (a stopped writer, a forged
         * segment) uses up the budget and the read fails, not hangs */
        uint32_t used = slots_to_read(r);
        for (uint32_t s = 0; s < used; s++)
            while (!hak_probe_slot_read(&r->hdr, slot_at(r, s), out, r->scratch)) {
                if (--slot_retries == 0) return false;
                sched_yield();
            }
        __atomic_thread_fence(__ATOMIC_ACQUIRE); /* the slot reads happen before the re-check */
        if (__atomic_load_n(&live->fold_seq, __ATOMIC_RELAXED) == before) return true;
    }
    return false;
}

unsigned hak_reader_slots_in_use(const struct hak_reader *r)
{
    unsigned n = 0;
    uint32_t used = slots_to_read(r);
    for (uint32_t s = 1; s < used; s++)
        n += __atomic_load_n(&slot_at(r, s)->in_use, __ATOMIC_ACQUIRE) != 0;
    return n;
}

long hak_reader_regions(const struct hak_reader *r, struct hak_probe_region *out, size_t cap)
{
    const struct hak_probe_header *live = (const void *)r->map;
    const char *table = r->map + r->hdr.regions_offset;
    for (int attempt = 0; attempt < 100000; attempt++) {
        uint64_t before = __atomic_load_n(&live->region_seq, __ATOMIC_ACQUIRE);
        if (before & 1) continue;
        uint32_t n = __atomic_load_n(&live->region_count, __ATOMIC_ACQUIRE);
        if (n > r->hdr.region_capacity) continue; /* mid-update, or forged */
        memcpy(out, table, (n < cap ? n : cap) * sizeof(*out));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&live->region_seq, __ATOMIC_RELAXED) == before) return n;
    }
    return -1;
}

const char *hak_reader_tier_name(uint32_t tier)
{
    static const char *const names[] = {
#define HAK_TIER(upper, lower) #lower,
#include "tiers.def"
#undef HAK_TIER
    };
    return tier < sizeof names / sizeof names[0] ? names[tier] : "unknown";
}

unsigned hak_reader_class_count(const struct hak_reader *r)
{
    return r->hdr.cache_count;
}

uint32_t hak_reader_class_size(const struct hak_reader *r, unsigned cls)
{
    return cls < r->hdr.cache_count ? r->class_sizes[cls] : 0;
}

/* One slot's caches added to out, if its seq stayed even and unchanged
 * while they were read (as hak_probe_slot_read does for the counters). */
static bool slot_caches(const struct hak_reader *r, const struct hak_probe_slot *s,
                        struct hak_reader_class *out, struct hak_reader_class *scratch)
{
    uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
    if (seq & 1) return false;
    const struct hak_probe_cache *tc =
        (const struct hak_probe_cache *)((const char *)s + r->hdr.cache_offset);
    for (uint32_t i = 0; i < r->hdr.cache_count; i++) {
        uint64_t cap = __atomic_load_n(&tc[i].cap, __ATOMIC_RELAXED);
        uint64_t room = __atomic_load_n(&tc[i].limit, __ATOMIC_RELAXED) -
                        __atomic_load_n(&tc[i].pushes, __ATOMIC_RELAXED) +
                        __atomic_load_n(&tc[i].taken, __ATOMIC_RELAXED);
        scratch[i].threads = cap != 0;
        scratch[i].capacity = cap;
        /* blocks in the cache: its cap less the room left and what a
         * reclaimer took (a forged or torn set is clamped, never negative) */
        scratch[i].cached = room <= cap ? cap - room : 0;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != seq) return false;
    for (uint32_t i = 0; i < r->hdr.cache_count; i++) {
        out[i].threads += scratch[i].threads;
        out[i].capacity += scratch[i].capacity;
        out[i].cached += scratch[i].cached;
    }
    return true;
}

bool hak_reader_classes(const struct hak_reader *r, struct hak_reader_class *out)
{
    uint32_t n = r->hdr.cache_count;
    struct hak_reader_class *scratch = calloc(n ? n : 1, sizeof(*scratch));
    if (!scratch) return false;
    int retries = 1000;
    bool ok = true;
    memset(out, 0, n * sizeof(*out));
    uint32_t used = slots_to_read(r);
    for (uint32_t s = 1; s < used && ok; s++) {
        const struct hak_probe_slot *slot = slot_at(r, s);
        if (!__atomic_load_n(&slot->in_use, __ATOMIC_ACQUIRE)) continue;
        while (!slot_caches(r, slot, out, scratch))
            if (--retries == 0) {
                ok = false;
                break;
            }
            else
                sched_yield();
    }
    free(scratch);
    return ok;
}
