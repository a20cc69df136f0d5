/*
 * The counter segment reader (probes/counter_reader.c) against segments
 * written by someone else: what hak counters and hak record rely on when
 * the process they read is hostile or broken.
 *   - a sound segment reads back exactly what was written;
 *   - a header changed after open (more counters, slots elsewhere, more
 *     regions) changes nothing the reader writes or reads;
 *   - offsets and counts that wrap past 2^64 are refused;
 *   - a segment not sealed against truncation is refused, and a sealed one
 *     cannot be cut short under the reader;
 *   - a FIFO or a directory is refused at once, without blocking;
 *   - names without a terminator come back terminated;
 *   - the counts derived from a slot's caches are added, and a slot whose
 *     seq stays odd makes the read fail instead of hanging it;
 *   - the caches per size class (hak counters --classes) sum the live
 *     threads' capacities and cached blocks with each class's size.
 */
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "counter_reader.h"

enum { COUNTERS = 3, SLOTS = 4, REGIONS = 8, CACHES = 2 };

/* A small segment in the layout hakmem writes, with known values. */
struct fake {
    char *bytes;
    size_t size;
};

static struct fake fake_segment(void)
{
    struct hak_probe_header h = {0};
    memcpy(h.magic, HAK_PROBE_MAGIC, 8);
    h.version = HAK_PROBE_VERSION;
    h.header_size = sizeof h;
    h.counter_count = COUNTERS;
    h.slot_count = SLOTS;
    h.slots_used = SLOTS;
    h.cache_offset = sizeof(struct hak_probe_slot) + COUNTERS * 8;
    h.cache_count = CACHES;
    h.cache_tiny = 1;
    h.hit_counter[0] = 0;
    h.hit_counter[1] = 1;
    h.push_counter = 2;
    h.class_sizes_offset = 256; /* between the header and the names */
    h.slot_stride = (uint32_t)(h.cache_offset + CACHES * sizeof(struct hak_probe_cache));
    h.region_capacity = REGIONS;
    h.names_offset = 512;
    h.slots_offset = h.names_offset + COUNTERS * sizeof(struct hak_probe_counter);
    h.regions_offset = h.slots_offset + SLOTS * h.slot_stride;
    h.total_size = h.regions_offset + REGIONS * sizeof(struct hak_probe_region);
    h.pid = 1;
    h.region_count = 2;
    h.state = HAK_PROBE_LIVE;
    memset(h.build_id, 'b', sizeof h.build_id); /* no terminator */
    struct fake f = {calloc(1, h.total_size), h.total_size};
    REQUIRE(f.bytes && sizeof h <= h.class_sizes_offset);
    memcpy(f.bytes, &h, sizeof h);
    uint32_t *sizes = (void *)(f.bytes + h.class_sizes_offset);
    sizes[0] = 48, sizes[1] = 3072;
    struct hak_probe_counter *c = (void *)(f.bytes + h.names_offset);
    snprintf(c[0].name, sizeof c[0].name, "alpha");
    snprintf(c[1].name, sizeof c[1].name, "beta");
    memset(c[2].name, 'n', sizeof c[2].name); /* no terminator */
    for (uint32_t s = 0; s < SLOTS; s++) {
        struct hak_probe_slot *slot = (void *)(f.bytes + h.slots_offset + s * h.slot_stride);
        for (uint32_t i = 0; i < COUNTERS; i++) slot->values[i] = (i + 1) * 10 + s;
    }
    struct hak_probe_region *reg = (void *)(f.bytes + h.regions_offset);
    reg[0] = (struct hak_probe_region){0x10000, 4096, HAK_PROBE_TIER_TINY, 0};
    reg[1] = (struct hak_probe_region){0x20000, 8192, HAK_PROBE_TIER_MID, 0};
    return f;
}

static struct hak_probe_header *hdr(struct fake *f)
{
    return (struct hak_probe_header *)f->bytes;
}

/* A memfd holding `f`, sealed as hakmem seals its segment when `sealed`. */
static int segment_fd(const struct fake *f, bool sealed)
{
    int fd = memfd_create("test-segment", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, f->bytes, f->size) == (ssize_t)f->size);
    if (sealed) REQUIRE(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
    return fd;
}

/* Opens `f` as a sealed segment; returns the reader or NULL with err set. */
static struct hak_reader *open_fake(struct fake *f, char *err, size_t errlen)
{
    int fd = segment_fd(f, true);
    struct hak_reader *r = hak_reader_open_fd(fd, err, errlen);
    close(fd);
    return r;
}

static void test_sound_segment(void)
{
    struct fake f = fake_segment();
    char err[300];
    struct hak_reader *r = open_fake(&f, err, sizeof err);
    CHECKF(r != NULL, "sound segment refused: %s", err);
    REQUIRE(r);
    CHECK(hak_reader_counter_count(r) == COUNTERS);
    CHECK(hak_reader_counter_index(r, "beta") == 1);
    CHECKF(strlen(hak_reader_counter_name(r, 2)) < HAK_PROBE_NAME_LEN, "name not terminated");
    CHECKF(strlen(hak_reader_build_id(r)) == sizeof(hdr(&f)->build_id), "build id %zu bytes",
           strlen(hak_reader_build_id(r)));
    uint64_t v[COUNTERS];
    REQUIRE(hak_reader_totals(r, v));
    for (uint32_t i = 0; i < COUNTERS; i++)
        CHECKF(v[i] == (i + 1) * 10 * SLOTS + 0 + 1 + 2 + 3, "counter %u: %llu", i,
               (unsigned long long)v[i]);
    struct hak_probe_region reg[REGIONS];
    CHECK(hak_reader_regions(r, reg, REGIONS) == 2);
    CHECK(reg[1].start == 0x20000 && reg[1].size == 8192);
    hak_reader_close(r);
    free(f.bytes);
}

/* The writer rewrites its header after the reader opened it. */
static void test_header_changed_after_open(void)
{
    struct fake f = fake_segment();
    int fd = segment_fd(&f, true);
    char err[300];
    struct hak_reader *r = hak_reader_open_fd(fd, err, sizeof err);
    REQUIRE(r);
    struct hak_probe_header *live = mmap(NULL, f.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REQUIRE(live != MAP_FAILED);
    live->counter_count = 100000;
    live->slot_count = 1u << 30;
    live->slots_offset = UINT64_MAX - 7;
    live->region_count = 1u << 30; /* above the capacity copied at open */
    live->region_capacity = 1u << 30;
    /* the caller's buffer is sized for what hak_reader_counter_count said at open */
    uint64_t v[COUNTERS + 4];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) v[i] = 0xdeadbeef;
    CHECK(hak_reader_counter_count(r) == COUNTERS);
    CHECK(hak_reader_totals(r, v));
    for (size_t i = COUNTERS; i < sizeof v / sizeof v[0]; i++)
        CHECKF(v[i] == 0xdeadbeef, "totals wrote past its %d counters (index %zu)", COUNTERS, i);
    CHECKF(v[0] == 10 * SLOTS + 6, "totals read from the forged slots: %llu",
           (unsigned long long)v[0]);
    struct hak_probe_region reg[REGIONS];
    CHECK(hak_reader_regions(r, reg, REGIONS) == -1); /* a count above capacity is never used */
    live->region_count = REGIONS;
    CHECK(hak_reader_regions(r, reg, 1) == REGIONS); /* copies at most cap */
    munmap(live, f.size);
    hak_reader_close(r);
    close(fd);
    free(f.bytes);
}

/* Each forged header is refused with one line, and nothing is read. */
static void refused(const char *what, void (*forge)(struct hak_probe_header *))
{
    struct fake f = fake_segment();
    forge(hdr(&f));
    char err[300] = "";
    struct hak_reader *r = open_fake(&f, err, sizeof err);
    CHECKF(r == NULL, "%s: accepted", what);
    CHECKF(err[0] && !strchr(err, '\n'), "%s: message '%s'", what, err);
    hak_reader_close(r);
    free(f.bytes);
}

static void names_wrap(struct hak_probe_header *h)
{
    h->names_offset = UINT64_MAX - 16;
}
static void slots_wrap(struct hak_probe_header *h)
{
    /* slot_count * stride wraps back into range when added to the offset */
    h->slot_stride = 1u << 31;
    h->slot_count = 1u << 16;
    h->slots_offset = UINT64_MAX - (1ull << 40);
}
static void regions_wrap(struct hak_probe_header *h)
{
    h->regions_offset = (uint64_t)0 - 24 * (uint64_t)h->region_capacity + 8;
}
static void too_big_total(struct hak_probe_header *h)
{
    h->total_size = UINT64_MAX;
}
static void stride_too_small(struct hak_probe_header *h)
{
    h->counter_count = COUNTERS + 1;
}
static void misaligned(struct hak_probe_header *h)
{
    h->slots_offset += 4;
}
static void bad_magic(struct hak_probe_header *h)
{
    h->magic[0] = 'X';
}
static void newer_version(struct hak_probe_header *h)
{
    h->version = HAK_PROBE_VERSION + 1;
}

static void caches_outside_slot(struct hak_probe_header *h)
{
    h->cache_count = CACHES + 1;
}
static void derived_out_of_range(struct hak_probe_header *h)
{
    h->hit_counter[1] = COUNTERS;
}

static void class_sizes_past_end(struct hak_probe_header *h)
{
    h->class_sizes_offset = (uint32_t)h->total_size - 4;
}

static void test_forged_headers(void)
{
    refused("size-class table past the end", class_sizes_past_end);
    refused("caches past the slot's end", caches_outside_slot);
    refused("derived counter id past the counters", derived_out_of_range);
    refused("names offset near 2^64", names_wrap);
    refused("slots wrapping past 2^64", slots_wrap);
    refused("regions wrapping past 2^64", regions_wrap);
    refused("total size beyond the file", too_big_total);
    refused("stride smaller than its counters", stride_too_small);
    refused("misaligned slots", misaligned);
    refused("bad magic", bad_magic);
    refused("newer version", newer_version);
}

/* Caches in slot 2: their pushes add to the push counter, the limits of
 * the Tiny cache to hit counter 0 and of the Mid one to hit counter 1. */
static void test_derived_counts(void)
{
    struct fake f = fake_segment();
    struct hak_probe_header *h = hdr(&f);
    struct hak_probe_slot *slot = (void *)(f.bytes + h->slots_offset + 2 * h->slot_stride);
    struct hak_probe_cache *tc = (void *)((char *)slot + h->cache_offset);
    tc[0].pushes = 5, tc[0].limit = 7;
    tc[1].pushes = 11, tc[1].limit = 13;
    int fd = segment_fd(&f, true);
    char err[300];
    struct hak_reader *r = hak_reader_open_fd(fd, err, sizeof err);
    REQUIRE(r);
    uint64_t v[COUNTERS];
    REQUIRE(hak_reader_totals(r, v));
    CHECKF(v[0] == 10 * SLOTS + 6 + 7 && v[1] == 20 * SLOTS + 6 + 13 && v[2] == 30 * SLOTS + 6 + 16,
           "derived: %llu %llu %llu", (unsigned long long)v[0], (unsigned long long)v[1],
           (unsigned long long)v[2]);
    /* the slot's thread stopped inside a change: no half-read sum, no hang */
    char *live = mmap(NULL, f.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REQUIRE(live != MAP_FAILED);
    struct hak_probe_slot *ls = (void *)(live + h->slots_offset + 2 * h->slot_stride);
    alarm(20);
    __atomic_store_n(&ls->seq, 1, __ATOMIC_RELEASE);
    CHECK(!hak_reader_totals(r, v));
    __atomic_store_n(&ls->seq, 2, __ATOMIC_RELEASE);
    CHECK(hak_reader_totals(r, v) && v[2] == 30 * SLOTS + 6 + 16);
    alarm(0);
    munmap(live, f.size);
    hak_reader_close(r);
    close(fd);
    free(f.bytes);
}

/* The caches per class: slots 1 and 2 are live threads, slot 3 a freed
 * slot with stale bytes (not counted); a cache holds cap - (limit - pushes)
 * blocks. */
static void test_classes(void)
{
    struct fake f = fake_segment();
    struct hak_probe_header *h = hdr(&f);
    for (uint32_t s = 1; s < SLOTS; s++) {
        struct hak_probe_slot *slot = (void *)(f.bytes + h->slots_offset + s * h->slot_stride);
        struct hak_probe_cache *tc = (void *)((char *)slot + h->cache_offset);
        slot->in_use = s < 3;
        /* class 0: cap 16, room 10 -> 6 cached in each slot; class 1 only in
         * slot 2: cap 8, room 1 -> 7 cached */
        tc[0].cap = 16, tc[0].pushes = 100 * s, tc[0].limit = 100 * s + 10;
        if (s >= 2) tc[1].cap = 8, tc[1].pushes = 40, tc[1].limit = 41;
    }
    char err[300];
    struct hak_reader *r = open_fake(&f, err, sizeof err);
    REQUIRE(r);
    CHECK(hak_reader_class_count(r) == CACHES);
    CHECK(hak_reader_class_size(r, 0) == 48 && hak_reader_class_size(r, 1) == 3072);
    CHECK(hak_reader_class_size(r, CACHES) == 0);
    struct hak_reader_class c[CACHES];
    REQUIRE(hak_reader_classes(r, c));
    CHECKF(c[0].threads == 2 && c[0].capacity == 32 && c[0].cached == 12,
           "class 0: %llu threads, capacity %llu, cached %llu", (unsigned long long)c[0].threads,
           (unsigned long long)c[0].capacity, (unsigned long long)c[0].cached);
    CHECKF(c[1].threads == 1 && c[1].capacity == 8 && c[1].cached == 7,
           "class 1: %llu threads, capacity %llu, cached %llu", (unsigned long long)c[1].threads,
           (unsigned long long)c[1].capacity, (unsigned long long)c[1].cached);
    hak_reader_close(r);
    free(f.bytes);
}

static void test_truncation(void)
{
    struct fake f = fake_segment();
    char err[300] = "";
    /* unsealed: its writer could truncate it under the mapping, so no mapping */
    int fd = segment_fd(&f, false);
    struct hak_reader *r = hak_reader_open_fd(fd, err, sizeof err);
    CHECKF(r == NULL && strstr(err, "sealed"), "unsealed segment: %s", r ? "accepted" : err);
    hak_reader_close(r);
    close(fd);
    /* a plain file cannot be sealed at all */
    char path[] = "/tmp/hakmem-segment-XXXXXX";
    fd = mkstemp(path);
    REQUIRE(fd >= 0);
    unlink(path);
    REQUIRE(write(fd, f.bytes, f.size) == (ssize_t)f.size);
    r = hak_reader_open_fd(fd, err, sizeof err);
    CHECKF(r == NULL, "plain file accepted");
    hak_reader_close(r);
    close(fd);
    /* sealed: the writer cannot shrink it, and reads after the attempt are whole */
    fd = segment_fd(&f, true);
    r = hak_reader_open_fd(fd, err, sizeof err);
    REQUIRE(r);
    CHECK(ftruncate(fd, 0) != 0);
    uint64_t v[COUNTERS];
    CHECK(hak_reader_totals(r, v));
    hak_reader_close(r);
    close(fd);
    free(f.bytes);
}

static void test_not_regular(void)
{
    char err[300] = "";
    alarm(20); /* a reader that blocks fails the test instead of hanging it */
    char dir[] = "/tmp/hakmem-fifo-XXXXXX";
    REQUIRE(mkdtemp(dir));
    char fifo[64];
    snprintf(fifo, sizeof fifo, "%s/f", dir);
    REQUIRE(mkfifo(fifo, 0600) == 0);
    int fd = open(fifo, O_RDONLY | O_NONBLOCK);
    REQUIRE(fd >= 0);
    struct hak_reader *r = hak_reader_open_fd(fd, err, sizeof err);
    CHECKF(r == NULL && strstr(err, "regular"), "FIFO: %s", r ? "accepted" : err);
    close(fd);
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    REQUIRE(fd >= 0);
    r = hak_reader_open_fd(fd, err, sizeof err);
    CHECKF(r == NULL && strstr(err, "regular"), "directory: %s", r ? "accepted" : err);
    close(fd);
    unlink(fifo);
    rmdir(dir);
    alarm(0);
}

int main(void)
{
    test_sound_segment();
    test_header_changed_after_open();
    test_forged_headers();
    test_derived_counts();
    test_classes();
    test_truncation();
    test_not_regular();
    return test_finish();
}
