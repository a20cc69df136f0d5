/*
 * The counter segment reader (counter_reader.h).
 */
#include "counter_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct hak_reader {
    const struct hak_probe_header *h;
    size_t size;
    char path[512];
};

void hak_reader_path_for_pid(pid_t pid, const char *tmpl, char *out, size_t cap)
{
    if (!tmpl || !*tmpl) tmpl = getenv("HAKMEM_COUNTERS_PATH");
    if (!tmpl || !*tmpl || !strcmp(tmpl, "off")) tmpl = "/dev/shm/hakmem-%p.seg";
    hak_probe_expand_path(tmpl, pid, out, cap);
}

/* Undoes a half-done open; the caller has written the reason into err. */
static struct hak_reader *fail(int fd, void *map, size_t size)
{
    if (map) munmap(map, size);
    if (fd >= 0) close(fd);
    return NULL;
}

#define FAIL(fd, map, size, ...)                                                               \
    do {                                                                                       \
        if (err && errlen) snprintf(err, errlen, __VA_ARGS__);                                 \
        return fail(fd, map, size);                                                            \
    } while (0)

struct hak_reader *hak_reader_open(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) FAIL(-1, NULL, 0, "%s: no counter segment (%s)", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(struct hak_probe_header))
        FAIL(fd, NULL, 0, "%s: truncated counter segment (%ld bytes, smaller than its header)",
             path, (long)st.st_size);
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        FAIL(fd, NULL, 0, "%s: cannot map the counter segment (%s)", path, strerror(errno));
    const struct hak_probe_header *h = map;
    if (memcmp(h->magic, HAK_PROBE_MAGIC, 8) != 0)
        FAIL(fd, map, size, "%s: not a hakmem counter segment (bad magic)", path);
    if (h->version != HAK_PROBE_VERSION || h->header_size != sizeof(*h))
        FAIL(fd, map, size, "%s: counter segment version %u, this reader understands version %d",
             path, h->version, HAK_PROBE_VERSION);
    if (h->total_size > size ||
        h->regions_offset + (uint64_t)h->region_capacity * sizeof(struct hak_probe_region) > size ||
        h->slots_offset + (uint64_t)h->slot_count * h->slot_stride > size ||
        h->names_offset + (uint64_t)h->counter_count * sizeof(struct hak_probe_counter) > size ||
        h->slot_stride < sizeof(struct hak_probe_slot) + h->counter_count * 8ull)
        FAIL(fd, map, size, "%s: truncated counter segment (%zu bytes, its header says %llu)", path,
             size, (unsigned long long)h->total_size);
    close(fd);
    struct hak_reader *r = calloc(1, sizeof(*r));
    if (!r) FAIL(-1, map, size, "%s: out of memory", path);
    r->h = h;
    r->size = size;
    snprintf(r->path, sizeof(r->path), "%s", path);
    return r;
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
    const struct hak_probe_header *h = r->h;
    if (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) != HAK_PROBE_LIVE) return false;
    if (kill((pid_t)h->pid, 0) != 0 && errno == ESRCH) return false;
    uint64_t ticks = start_ticks_of((pid_t)h->pid);
    return ticks == 0 || h->start_ticks == 0 || ticks == h->start_ticks;
}

struct hak_reader *hak_reader_open_pid(pid_t pid, const char *tmpl, char *err, size_t errlen)
{
    char path[512];
    hak_reader_path_for_pid(pid, tmpl, path, sizeof(path));
    struct hak_reader *r = hak_reader_open(path, err, errlen);
    if (!r) return NULL;
    if (r->h->pid != pid) {
        if (err) snprintf(err, errlen, "%s: segment belongs to pid %ld, not %d", path,
                          (long)r->h->pid, (int)pid);
        hak_reader_close(r);
        return NULL;
    }
    if (!hak_reader_alive(r)) {
        if (err) snprintf(err, errlen, "%s: stale counter segment: process %d is not running", path,
                          (int)pid);
        hak_reader_close(r);
        return NULL;
    }
    return r;
}

void hak_reader_close(struct hak_reader *r)
{
    if (!r) return;
    munmap((void *)r->h, r->size);
    free(r);
}

const struct hak_probe_header *hak_reader_header(const struct hak_reader *r)
{
    return r->h;
}

unsigned hak_reader_counter_count(const struct hak_reader *r)
{
    return r->h->counter_count;
}

static const struct hak_probe_counter *names(const struct hak_reader *r)
{
    return (const struct hak_probe_counter *)((const char *)r->h + r->h->names_offset);
}

const char *hak_reader_counter_name(const struct hak_reader *r, unsigned i)
{
    return i < r->h->counter_count ? names(r)[i].name : NULL;
}

const char *hak_reader_counter_group(const struct hak_reader *r, unsigned i)
{
    return i < r->h->counter_count ? names(r)[i].group : NULL;
}

int hak_reader_counter_index(const struct hak_reader *r, const char *name)
{
    for (unsigned i = 0; i < r->h->counter_count; i++)
        if (strncmp(names(r)[i].name, name, HAK_PROBE_NAME_LEN) == 0) return (int)i;
    return -1;
}

bool hak_reader_totals(const struct hak_reader *r, uint64_t *out)
{
    const struct hak_probe_header *h = r->h;
    for (int attempt = 0; attempt < 100000; attempt++) {
        uint64_t before = __atomic_load_n(&h->fold_seq, __ATOMIC_ACQUIRE);
        if (before & 1) continue;
        memset(out, 0, h->counter_count * sizeof(uint64_t));
        for (uint32_t s = 0; s < h->slot_count; s++) {
            const struct hak_probe_slot *slot =
                (const void *)((const char *)h + h->slots_offset + (size_t)s * h->slot_stride);
            for (uint32_t c = 0; c < h->counter_count; c++)
                out[c] += __atomic_load_n(&slot->values[c], __ATOMIC_RELAXED);
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE); /* the slot reads happen before the re-check */
        if (__atomic_load_n(&h->fold_seq, __ATOMIC_RELAXED) == before) return true;
    }
    return false;
}

long hak_reader_regions(const struct hak_reader *r, struct hak_probe_region *out, size_t cap)
{
    const struct hak_probe_header *h = r->h;
    const struct hak_probe_region *table = (const void *)((const char *)h + h->regions_offset);
    for (int attempt = 0; attempt < 100000; attempt++) {
        uint64_t before = __atomic_load_n(&h->region_seq, __ATOMIC_ACQUIRE);
        if (before & 1) continue;
        uint32_t n = __atomic_load_n(&h->region_count, __ATOMIC_ACQUIRE);
        if (n > h->region_capacity) continue;
        memcpy(out, table, (n < cap ? n : cap) * sizeof(*out));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&h->region_seq, __ATOMIC_RELAXED) == before) return n;
    }
    return -1;
}

const char *hak_reader_tier_name(uint32_t tier)
{
    static const char *const names[] = {"tiny", "mid", "large", "huge"};
    return tier < 4 ? names[tier] : "unknown";
}
