/*
 * Flush adapters: "flush" means the preloaded allocator's own release call, found at run time with
 * dlsym so the benchmarks link against nothing but glibc.
 *
 *   hakmem    hak_flush_all()
 *   mimalloc  mi_collect(true)
 *   jemalloc  mallctl("thread.tcache.flush"), then mallctl("arena.<MALLCTL_ARENAS_ALL>.purge")
 *   tcmalloc  MallocExtension_MarkThreadIdle(), then MallocExtension_ReleaseFreeMemory()
 *   glibc     malloc_trim(0)
 *
 * Calls that act on the calling thread's caches (hakmem, mimalloc, jemalloc's tcache, tcmalloc's
 * thread cache) only empty that thread's: a benchmark that wants every cache emptied calls
 * bench_flush() on each of its threads.
 */
#ifndef HAK_BENCH_FLUSH_H
#define HAK_BENCH_FLUSH_H

#include <stddef.h>

/* Which allocator serves malloc in this process: "hakmem", "mimalloc", "jemalloc", "tcmalloc",
 * "glibc", or "unknown" (something else is preloaded; flush then does nothing). */
const char *bench_alloc_name(void);

/* The release call bench_flush() makes, as text ("mi_collect(true)"). */
const char *bench_flush_call(void);

/* Calls the allocator's release.  Returns the bytes it reports giving back, or 0 when the allocator
 * does not say (only hakmem does); *reported is set to 1 when the number is real. */
size_t bench_flush(int *reported);

#endif
