/*
 * libFuzzer harness for the /proc text parsers (probes/smaps.c): smaps, smaps_rollup and statm
 * text, and the pagemap reader with hakmem's region list.  On an old or odd kernel these files say
 * what they say; the collector must survive them.
 *
 * Input: two bytes pick how many region records (16 bytes each: start, size; the tier in the low
 * bits of size) follow for classification and pagemap, then the text, which is parsed as smaps,
 * as a rollup and as statm, and whose bytes also serve as the pagemap file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "smaps.h"

/* A memory file holding bytes, for the readers that take a descriptor. */
static int memory_file(const char *name, const uint8_t *data, size_t size) {
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) abort();
    if (size && write(fd, data, size) != (ssize_t)size) abort();
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t nreg = data[0] % 8;
    data++, size--;
    if (size < nreg * 16) nreg = size / 16;
    struct hak_probe_region regions[8];
    memset(regions, 0, sizeof regions);
    for (size_t i = 0; i < nreg; i++) {
        uint64_t start, len;
        memcpy(&start, data + 16 * i, 8);
        memcpy(&len, data + 16 * i + 8, 8);
        regions[i].start = start >> 8; /* keep most regions below the end of the address space */
        regions[i].size = (len >> 40) + 1;
        regions[i].tier = (uint32_t)(len & 7);
    }
    data += nreg * 16, size -= nreg * 16;
    hak_regions_sort(regions, nreg);

    struct hak_smaps s = {0};
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    hak_smaps_parse(&s, text, size);
    hak_smaps_classify(&s, nreg ? regions : NULL, nreg);
    struct hak_smaps_fields sum;
    hak_smaps_sum(&s, &sum);
    for (size_t i = 0; i < s.count; i++)
        if ((unsigned)s.maps[i].cls >= HAK_MAP_CLASS_COUNT || !s.maps[i].path) abort();
    hak_smaps_free(&s);

    struct hak_smaps_source src = {.rollup_fd = memory_file("rollup", data, size),
                                   .smaps_fd = memory_file("smaps", data, size),
                                   .statm_fd = memory_file("statm", data, size),
                                   .pagemap_fd = memory_file("pagemap", data, size),
                                   .page_kb = 4};
    struct hak_smaps_fields f;
    hak_smaps_read_rollup(&src, &f);
    if (hak_smaps_read_statm(&src, &f) == 0 && f.anonymous > f.rss) abort();
    struct hak_smaps again = {0};
    hak_smaps_read(&src, &again);
    hak_smaps_free(&again);
    struct hak_tier_rss tiers[4];
    hak_smaps_tier_rss(&src, regions, nreg, tiers);
    hak_smaps_close(&src);
    return 0;
}
