/*
 * The collector's parsers on known input: smaps and smaps_rollup text, the mapping classifier
 * against a region list (including mappings the kernel merged), the totals of a walk, and the
 * phase protocol's lines.  Also reads this process's own smaps to check the per-mapping sum
 * against the rollup on a live address space.
 */
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "phase_reader.h"
#include "smaps.h"

static const char smaps_text[] =
    "55d0c5a9e000-55d0c5aa0000 r-xp 00002000 08:01 1234                       /usr/bin/prog\n"
    "Size:                  8 kB\n"
    "Rss:                   8 kB\n"
    "Pss:                   4 kB\n"
    "Private_Dirty:         0 kB\n"
    "Anonymous:             0 kB\n"
    "LazyFree:              0 kB\n"
    "AnonHugePages:         0 kB\n"
    "Swap:                  0 kB\n"
    "VmFlags: rd ex mr mw me dw\n"
    "55d0c5aa0000-55d0c5aa1000 rw-p 00004000 08:01 1234                       /usr/bin/prog\n"
    "Size:                  4 kB\n"
    "Rss:                   4 kB\n"
    "Anonymous:             4 kB\n"
    "55d0c6000000-55d0c6100000 rw-p 00000000 00:00 0                          [heap]\n"
    "Size:               1024 kB\n"
    "Rss:                 512 kB\n"
    "Pss:                 512 kB\n"
    "Private_Dirty:       512 kB\n"
    "Anonymous:           512 kB\n"
    /* Three regions merged into one mapping: 2 MiB tiny, 2 MiB mid, 1 MiB not hakmem's. */
    "7f0000000000-7f0000500000 rw-p 00000000 00:00 0 \n"
    "Size:               5120 kB\n"
    "Rss:                3000 kB\n"
    "Pss:                3000 kB\n"
    "Private_Dirty:      2900 kB\n"
    "Anonymous:          3000 kB\n"
    "LazyFree:            100 kB\n"
    "AnonHugePages:      2048 kB\n"
    "Swap:                 12 kB\n"
    /* A mapping mostly not hakmem's: one 64 KiB large region in 1 MiB. */
    "7f0000600000-7f0000700000 rw-p 00000000 00:00 0 \n"
    "Size:               1024 kB\n"
    "Rss:                  64 kB\n"
    "7f0000800000-7f0000900000 rw-p 00000000 00:00 0 \n"
    "Size:               1024 kB\n"
    "Rss:                1024 kB\n"
    "7f0001000000-7f0001001000 r--s 00000000 00:1a 77                         "
    "/memfd:hakmem-counters (deleted)\n"
    "Size:                  4 kB\n"
    "Rss:                   4 kB\n"
    "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
    "Size:                132 kB\n"
    "Rss:                  16 kB\n"
    "7ffd00100000-7ffd00102000 r-xp 00000000 00:00 0                          [vdso]\n"
    "Size:                  8 kB\n"
    "Rss:                   4 kB\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"
    "Size:                  4 kB\n"
    "Rss:                   0 kB\n";

static void test_smaps_parse(void) {
    struct hak_smaps s;
    memset(&s, 0, sizeof s);
    char *text = strdup(smaps_text);
    size_t n = hak_smaps_parse(&s, text, strlen(text));
    CHECKF(n == 10, "%zu mappings", n);
    REQUIRE(n == 10);
    CHECK(s.maps[0].start == 0x55d0c5a9e000ull && s.maps[0].end == 0x55d0c5aa0000ull);
    CHECK(strcmp(s.maps[0].perms, "r-xp") == 0);
    CHECK(s.maps[0].offset == 0x2000 && s.maps[0].inode == 1234);
    CHECK(strcmp(s.maps[0].dev, "08:01") == 0);
    CHECK(strcmp(s.maps[0].path, "/usr/bin/prog") == 0);
    CHECK(s.maps[0].f.pss == 4 && s.maps[0].f.rss == 8 && s.maps[0].f.size == 8);
    CHECK(s.maps[3].f.lazyfree == 100 && s.maps[3].f.anon_huge == 2048 && s.maps[3].f.swap == 12);
    CHECK(s.maps[3].f.private_dirty == 2900);
    CHECK(strcmp(s.maps[3].path, "") == 0);
    CHECK(s.maps[9].start == 0xffffffffff600000ull);

    /* Classes from path and permissions alone. */
    const char *want[] = {"code", "data", "heap",  "anon",    "anon",
                          "anon", "counters", "stack", "special", "special"};
    for (size_t i = 0; i < n; i++)
        CHECKF(strcmp(hak_map_class_name(s.maps[i].cls), want[i]) == 0, "mapping %zu is %s, not %s",
               i, hak_map_class_name(s.maps[i].cls), want[i]);

    /* Against a region list (unsorted, as a segment may hold it). */
    struct hak_probe_region regions[] = {
        {0x7f0000200000ull, 2 << 20, HAK_PROBE_TIER_MID, 0},
        {0x7f0000000000ull, 2 << 20, HAK_PROBE_TIER_TINY, 0},
        {0x7f0000600000ull, 64 << 10, HAK_PROBE_TIER_LARGE, 0},
        {0x7f0000800000ull, 1 << 20, HAK_PROBE_TIER_HUGE, 0},
        {0x7f0000400000ull, 16 << 10, HAK_PROBE_TIER_MID, 0},
    };
    size_t nr = sizeof regions / sizeof regions[0];
    hak_regions_sort(regions, nr);
    for (size_t i = 1; i < nr; i++)
        CHECK(regions[i - 1].start < regions[i].start);
    hak_smaps_classify(&s, regions, nr);
    /* 2 MiB tiny + 2 MiB + 16 KiB mid: mid covers most, and hakmem more than half. */
    CHECKF(s.maps[3].cls == HAK_MAP_MID, "merged mapping is %s", hak_map_class_name(s.maps[3].cls));
    CHECKF(s.maps[3].hakmem_kb == 4096 + 16, "merged mapping: %llu KiB hakmem's",
           (unsigned long long)s.maps[3].hakmem_kb);
    /* 64 KiB of 1 MiB: still anonymous memory, with the hakmem part said. */
    CHECK(s.maps[4].cls == HAK_MAP_ANON && s.maps[4].hakmem_kb == 64);
    CHECK(s.maps[5].cls == HAK_MAP_HUGE && s.maps[5].hakmem_kb == 1024);
    /* File-backed and special mappings are never hakmem's, and others are untouched. */
    CHECK(s.maps[2].cls == HAK_MAP_HEAP && s.maps[2].hakmem_kb == 0);
    CHECK(s.maps[6].cls == HAK_MAP_COUNTERS && s.maps[6].hakmem_kb == 0);
    /* No regions (another allocator): nothing is hakmem's. */
    hak_smaps_parse(&s, strdup(smaps_text), strlen(smaps_text)); /* parsing consumes the text */
    hak_smaps_classify(&s, NULL, 0);
    for (size_t i = 0; i < n; i++)
        CHECK(s.maps[i].cls > HAK_MAP_HUGE && s.maps[i].hakmem_kb == 0);

    struct hak_smaps_fields sum;
    hak_smaps_sum(&s, &sum);
    CHECKF(sum.rss == 8 + 4 + 512 + 3000 + 64 + 1024 + 4 + 16 + 4, "sum of Rss %llu",
           (unsigned long long)sum.rss);
    CHECK(sum.lazyfree == 100 && sum.swap == 12 && sum.anonymous == 4 + 512 + 3000);
    hak_smaps_free(&s);

    struct hak_smaps_fields f;
    hak_smaps_parse_fields("Rss:   10 kB\nPss:  7 kB\nPss_Dirty: 99 kB\nAnonymous: 5 kB\n"
                           "LazyFree: 2 kB\nAnonHugePages: 0 kB\nSwap: 1 kB\nSwapPss: 50 kB\n",
                           &f);
    CHECK(f.rss == 10 && f.pss == 7 && f.anonymous == 5 && f.lazyfree == 2 && f.swap == 1);
}

/* This process: the sum of its mappings equals its rollup (nothing moves while we read). */
static void test_own_smaps(void) {
    struct hak_smaps_source src;
    REQUIRE(hak_smaps_open(&src, getpid()) == 0);
    struct hak_smaps s;
    memset(&s, 0, sizeof s);
    struct hak_smaps_fields rollup, sum, statm;
    /* The first pass grows the read buffers (this process's own RSS); the second moves nothing. */
    for (int pass = 0; pass < 2; pass++) {
        REQUIRE(hak_smaps_read(&src, &s) == 0);
        REQUIRE(hak_smaps_read_rollup(&src, &rollup) == 0);
    }
    REQUIRE(hak_smaps_read_statm(&src, &statm) == 0);
    hak_smaps_sum(&s, &sum);
    CHECKF(s.count > 5, "%zu mappings", s.count);
    CHECKF(sum.rss == rollup.rss, "mappings sum to %llu KiB, rollup says %llu KiB",
           (unsigned long long)sum.rss, (unsigned long long)rollup.rss);
    CHECK(sum.anonymous == rollup.anonymous);
    /* statm comes from counters the kernel updates in batches: close, not equal. */
    CHECKF(statm.rss > rollup.rss / 2 && statm.rss < rollup.rss * 2, "statm %llu, rollup %llu",
           (unsigned long long)statm.rss, (unsigned long long)rollup.rss);
    /* pagemap: two "regions" of 1 MiB, one with half its pages touched, one untouched. */
    size_t mib = 1 << 20;
    char *a = mmap(NULL, 2 * mib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(a != MAP_FAILED);
    madvise(a, 2 * mib, MADV_NOHUGEPAGE);
    memset(a, 1, mib / 2);
    struct hak_probe_region regions[2] = {{(uintptr_t)a, mib, HAK_PROBE_TIER_MID, 0},
                                          {(uintptr_t)a + mib, mib, HAK_PROBE_TIER_LARGE, 0}};
    struct hak_tier_rss tiers[4];
    if (hak_smaps_tier_rss(&src, regions, 2, tiers) == 0) {
        CHECKF(tiers[HAK_PROBE_TIER_MID].rss_kb == 512, "mid resident %llu KiB",
               (unsigned long long)tiers[HAK_PROBE_TIER_MID].rss_kb);
        CHECK(tiers[HAK_PROBE_TIER_MID].mapped_kb == 1024 &&
              tiers[HAK_PROBE_TIER_MID].regions == 1);
        CHECK(tiers[HAK_PROBE_TIER_LARGE].rss_kb == 0 && tiers[HAK_PROBE_TIER_LARGE].regions == 1);
        CHECK(tiers[HAK_PROBE_TIER_TINY].regions == 0 && tiers[HAK_PROBE_TIER_TINY].rss_kb == 0);
    } else {
        printf("pagemap not readable here: tier RSS not checked\n");
    }
    munmap(a, 2 * mib);

    int stack = 0;
    for (size_t i = 0; i < s.count; i++)
        stack += s.maps[i].cls == HAK_MAP_STACK;
    CHECK(stack == 1);
    hak_smaps_free(&s);
    hak_smaps_close(&src);
}

static void test_phase_parse(void) {
    struct hak_phase_msg m;
    CHECK(hak_phase_parse("hello 1 pid=42 bench=battle ack=1", &m) == HAK_PHASE_HELLO);
    CHECK(m.version == 1 && m.pid == 42 && m.ack == 1 && strcmp(m.name, "battle") == 0);
    /* 2^32 + 1 is no version 1; a pid that does not fit is left out. */
    CHECK(hak_phase_parse("hello 4294967297 pid=1", &m) == HAK_PHASE_BAD);
    CHECK(hak_phase_parse("hello x", &m) == HAK_PHASE_BAD);
    CHECK(hak_phase_parse("hello 1 pid=99999999999999999999 ack=01", &m) == HAK_PHASE_HELLO);
    CHECK(m.version == 1 && m.pid == 0);
    CHECK(hak_phase_parse("mark 3 123456789 burst live_bytes=4096", &m) == HAK_PHASE_MARK);
    CHECK(m.seq == 3 && m.t_ns == 123456789 && m.has_live && m.live_bytes == 4096);
    CHECK(strcmp(m.name, "burst") == 0);
    CHECK(hak_phase_parse("mark 4 5 idle", &m) == HAK_PHASE_MARK && !m.has_live);
    CHECK(hak_phase_parse("result 5 6 ops_per_sec 1234.500", &m) == HAK_PHASE_RESULT);
    CHECK(m.number == 1234.5 && strcmp(m.value, "1234.500") == 0);
    CHECK(hak_phase_parse("result 6 7 ratio nan", &m) == HAK_PHASE_RESULT && isnan(m.number));
    CHECK(hak_phase_parse("result 6 7 ratio 12abc", &m) == HAK_PHASE_BAD);
    CHECK(hak_phase_parse("mark x 7 burst", &m) == HAK_PHASE_BAD);
    CHECK(hak_phase_parse("mark 1 7 bad/name", &m) == HAK_PHASE_BAD);
    CHECK(hak_phase_parse("mark 1 7", &m) == HAK_PHASE_BAD);
    /* A time beyond int64_t would overflow the collector's t_ns - start. */
    CHECK(hak_phase_parse("mark 1 9223372036854775808 burst", &m) == HAK_PHASE_BAD);
    CHECK(hak_phase_parse("result 1 18446744073709551615 k 1", &m) == HAK_PHASE_BAD);
    CHECK(hak_phase_parse("mark 1 9223372036854775807 burst", &m) == HAK_PHASE_MARK);
    CHECK(hak_phase_parse("ack 3", &m) == HAK_PHASE_BAD);
    CHECK(hak_phase_parse("", &m) == HAK_PHASE_BAD);

    /* Lines split across reads, and a last line without its newline at end of file. */
    int fds[2];
    REQUIRE(pipe2(fds, O_NONBLOCK) == 0);
    struct hak_phase_reader r;
    hak_phase_reader_init(&r, fds[0]);
    const char part1[] = "hello 1 pid=1 bench=x ack=0\nmark 1 10 base";
    const char part2[] = "line\nresult 2 20 k 5";
    REQUIRE(write(fds[1], part1, sizeof part1 - 1) == (ssize_t)(sizeof part1 - 1));
    CHECK(hak_phase_reader_fill(&r) == 1);
    CHECK(hak_phase_reader_fill(&r) == 0); /* nothing more yet: no block, no end of file */
    CHECK(hak_phase_reader_next(&r, &m) == 1 && m.kind == HAK_PHASE_HELLO);
    CHECK(hak_phase_reader_next(&r, &m) == 0);
    REQUIRE(write(fds[1], part2, sizeof part2 - 1) == (ssize_t)(sizeof part2 - 1));
    close(fds[1]);
    while (hak_phase_reader_fill(&r) > 0) {
    }
    CHECK(r.eof);
    CHECK(hak_phase_reader_next(&r, &m) == 1 && m.kind == HAK_PHASE_MARK &&
          strcmp(m.name, "baseline") == 0);
    CHECK(hak_phase_reader_next(&r, &m) == 1 && m.kind == HAK_PHASE_RESULT && m.number == 5);
    CHECK(hak_phase_reader_next(&r, &m) == 0);
    close(fds[0]);
}

int main(void) {
    test_smaps_parse();
    test_own_smaps();
    test_phase_parse();
    return test_finish();
}
