/*
 * libFuzzer harness for the counter segment reader (probes/counter_reader.c):
 * arbitrary bytes become a sealed memfd, as hakmem's segment would be, and
 * every reader entry point runs on whatever opens.  AddressSanitizer turns
 * any read or write outside the mapping or the caller's buffers into a
 * crash.  `make fuzz` runs it long; tests/fuzz/test_segment_reader_fuzz.sh
 * briefly.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "counter_reader.h"

/* Buffers as a caller sizes them from what open reported; regions are
 * capped so a huge claimed capacity does not make each run allocate much. */
#define REGION_CAP 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("segment-fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) abort();
    if (size && write(fd, data, size) != (ssize_t)size) abort();
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) abort();
    char err[256];
    struct hak_reader *r = hak_reader_open_fd(fd, err, sizeof err);
    close(fd);
    if (!r) return 0;
    unsigned n = hak_reader_counter_count(r);
    uint64_t *totals = malloc((n ? n : 1) * sizeof(*totals));
    if (totals) hak_reader_totals(r, totals);
    free(totals);
    for (unsigned i = 0; i < n; i++) {
        const char *name = hak_reader_counter_name(r, i);
        (void)hak_reader_counter_index(r, name);
        (void)hak_reader_counter_group(r, i);
        (void)hak_reader_counter_desc(r, i);
    }
    (void)hak_reader_build_id(r);
    (void)hak_reader_slots_in_use(r);
    struct hak_probe_region regions[REGION_CAP];
    (void)hak_reader_regions(r, regions, REGION_CAP);
    hak_reader_close(r);
    return 0;
}
