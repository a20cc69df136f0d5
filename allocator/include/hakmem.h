/*
 * hakmem public API.
 *
 * hakmem replaces the C allocator (malloc, free, calloc, realloc, reallocarray,
 * posix_memalign, aligned_alloc, memalign, valloc, pvalloc, malloc_usable_size,
 * malloc_trim) when linked in (build/libhakmem.a) or preloaded
 * (LD_PRELOAD=build/libhakmem.so).  This header declares what hakmem adds on
 * top of the standard API: the flush calls that give cached memory back to
 * the operating system.
 *
 * A flush empties the calling thread's caches of a tier and the tier's
 * global caches (memory left behind by exited threads), then returns every
 * fully free slab, span and SuperSlab to the OS (MADV_DONTNEED or munmap),
 * so resident memory really drops.  Memory cached by other live threads is
 * left alone: each thread flushes its own caches.
 *
 * Every call returns the number of bytes given back to the OS.
 */
#ifndef HAKMEM_H
#define HAKMEM_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

size_t hak_tiny_flush(void);  /* blocks of 1 KiB and less (Tiny tier)      */
size_t hak_mid_flush(void);   /* blocks above 1 KiB up to 32 KiB (Mid tier) */
size_t hak_large_flush(void); /* spans above 32 KiB up to 1 MiB (Large)     */
size_t hak_flush_all(void);   /* all of the above                           */

/* Writes a table of every non-zero counter (name, group, value) to `out`;
 * HAKMEM_STATS=1 does the same to stderr at exit.  Builds made with
 * COUNTERS=0 print one line saying the counters are compiled out. */
void hak_stats_print(FILE *out);

/* Name of the tier that serves a request of `size` bytes:
 * "tiny", "mid", "large" or "huge". */
const char *hak_tier_of_size(size_t size);

#ifdef __cplusplus
}
#endif

#endif
