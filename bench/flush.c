/*
 * Flush adapters (flush.h): detect the preloaded allocator by the symbols it exports and call its
 * release function through a pointer looked up with dlsym.
 */
#include "flush.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* jemalloc's MALLCTL_ARENAS_ALL: "arena.4096.purge" purges every arena (jemalloc >= 5). */
#define JEMALLOC_ARENAS_ALL "4096"

typedef size_t (*hakmem_flush_fn)(void);
typedef void (*mi_collect_fn)(bool force);
typedef int (*mallctl_fn)(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
typedef void (*tc_void_fn)(void);
typedef int (*malloc_trim_fn)(size_t pad);

static struct {
    const char *name;
    const char *call;
    hakmem_flush_fn hakmem_flush;
    mi_collect_fn mi_collect;
    mallctl_fn mallctl;
    tc_void_fn tc_idle, tc_release;
    malloc_trim_fn trim;
} adapter;

static pthread_once_t adapter_once = PTHREAD_ONCE_INIT;

/* dlsym returns void *; converting it to a function pointer is what POSIX guarantees works. */
#define LOOKUP(type, symbol) ((type)(uintptr_t)dlsym(RTLD_DEFAULT, symbol))

/* True when malloc resolves into glibc itself (nothing preloaded replaces it). */
static int malloc_is_glibc(void) {
    Dl_info info;
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    if (!m || !dladdr(m, &info) || !info.dli_fname) return 0;
    const char *base = strrchr(info.dli_fname, '/');
    base = base ? base + 1 : info.dli_fname;
    return strncmp(base, "libc.so", 7) == 0 || strncmp(base, "libc-", 5) == 0;
}

static void adapter_detect(void) {
    /* hakmem first: it also exports malloc_trim. */
    if ((adapter.hakmem_flush = LOOKUP(hakmem_flush_fn, "hak_flush_all"))) {
        adapter.name = "hakmem";
        adapter.call = "hak_flush_all()";
    } else if ((adapter.mi_collect = LOOKUP(mi_collect_fn, "mi_collect"))) {
        adapter.name = "mimalloc";
        adapter.call = "mi_collect(true)";
    } else if ((adapter.mallctl = LOOKUP(mallctl_fn, "mallctl"))) {
        adapter.name = "jemalloc";
        adapter.call =
            "mallctl(thread.tcache.flush) + mallctl(arena." JEMALLOC_ARENAS_ALL ".purge)";
    } else if ((adapter.tc_release = LOOKUP(tc_void_fn, "MallocExtension_ReleaseFreeMemory"))) {
        adapter.name = "tcmalloc";
        adapter.tc_idle = LOOKUP(tc_void_fn, "MallocExtension_MarkThreadIdle");
        adapter.call =
            adapter.tc_idle
                ? "MallocExtension_MarkThreadIdle() + MallocExtension_ReleaseFreeMemory()"
                : "MallocExtension_ReleaseFreeMemory()";
    } else if (malloc_is_glibc() && (adapter.trim = LOOKUP(malloc_trim_fn, "malloc_trim"))) {
        adapter.name = "glibc";
        adapter.call = "malloc_trim(0)";
    } else {
        adapter.name = "unknown";
        adapter.call = "none (unrecognised allocator)";
    }
}

const char *bench_alloc_name(void) {
    pthread_once(&adapter_once, adapter_detect);
    return adapter.name;
}

const char *bench_flush_call(void) {
    pthread_once(&adapter_once, adapter_detect);
    return adapter.call;
}

size_t bench_flush(int *reported) {
    pthread_once(&adapter_once, adapter_detect);
    *reported = 0;
    if (adapter.hakmem_flush) {
        *reported = 1;
        return adapter.hakmem_flush();
    }
    if (adapter.mi_collect) {
        adapter.mi_collect(true);
    } else if (adapter.mallctl) {
        adapter.mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
        adapter.mallctl("arena." JEMALLOC_ARENAS_ALL ".purge", NULL, NULL, NULL, 0);
    } else if (adapter.tc_release) {
        if (adapter.tc_idle) adapter.tc_idle();
        adapter.tc_release();
    } else if (adapter.trim) {
        adapter.trim(0);
    }
    return 0;
}
