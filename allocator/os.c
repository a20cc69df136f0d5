/*
 * OS layer: every mmap, munmap and madvise of hakmem goes through here, so
 * the rest of the allocator never talks to the kernel about memory.
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"

#define COUNT_OS(name, n) HAK_COUNT_ADD(name, n)

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

/* Maps `size` bytes of fresh, zeroed, page-aligned anonymous memory. */
void *hak_os_map(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    COUNT_OS(bytes_mmapped, size);
    return p;
}

/* Maps a memfd shared (the counter segment), or returns NULL. */
void *hak_os_map_shared(int fd, size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Maps `size` bytes aligned to `align` (a power of two above the page
 * size).  The kernel places mappings top-down, so the range just below the
 * previous aligned mapping is tried first (one system call when it is
 * free); otherwise it over-maps and trims both ends. */
void *hak_os_map_aligned(size_t size, size_t align)
{
    static _Atomic uintptr_t next_hint;
    if (size > SIZE_MAX - align) return NULL;
    uintptr_t hint = atomic_load_explicit(&next_hint, memory_order_relaxed);
    if (hint > size && ((hint - size) & (align - 1)) == 0) {
        void *p = mmap((void *)(hint - size), size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED && ((uintptr_t)p & (align - 1)) == 0) {
            atomic_store_explicit(&next_hint, (uintptr_t)p, memory_order_relaxed);
            COUNT_OS(bytes_mmapped, size);
            return p;
        }
        if (p != MAP_FAILED) munmap(p, size);
    }
    size_t span = size + align;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    char *p = (char *)hak_align_up((uintptr_t)raw, align);
    size_t head = (size_t)(p - raw);
    size_t tail = span - head - size;
    if (head) munmap(raw, head);
    if (tail) munmap(p + size, tail);
    atomic_store_explicit(&next_hint, (uintptr_t)p, memory_order_relaxed);
    COUNT_OS(bytes_mmapped, size);
    return p;
}

void hak_os_unmap(void *p, size_t size)
{
    if (p && size && munmap(p, size) == 0) COUNT_OS(bytes_munmapped, size);
}

/* Gives the pages back now (RSS drops); they read as zero when touched
 * again.  MADV_FREE would leave them counted in Rss until memory pressure. */
void hak_os_decommit(void *p, size_t size)
{
    if (p && size && madvise(p, size, MADV_DONTNEED) == 0) COUNT_OS(bytes_decommitted, size);
}

/* Names a region in /proc/PID/maps where the kernel allows it; kernels
 * without anonymous VMA names answer EINVAL once and are not asked again. */
void hak_os_name(void *p, size_t size, const char *name)
{
    static _Atomic int unsupported;
    if (atomic_load_explicit(&unsupported, memory_order_relaxed)) return;
    int saved = errno;
    if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, size, (unsigned long)name) != 0)
        atomic_store_explicit(&unsupported, 1, memory_order_relaxed);
    errno = saved;
}

/* Fills `buf` with random bytes without allocating (getrandom, else the clock). */
void hak_os_random(void *buf, size_t n)
{
    long got = syscall(SYS_getrandom, buf, n, 0);
    if (got == (long)n) return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uintptr_t)buf;
    unsigned char *out = buf;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = (unsigned char)x;
    }
}

/* ---- membarrier -------------------------------------------------------- */

enum { MB_CMD_QUERY = 0, MB_CMD_PRIVATE_EXPEDITED = 1 << 3, MB_CMD_REGISTER_PRIVATE_EXPEDITED = 1 << 4 };
enum { MB_UNKNOWN, MB_READY, MB_MISSING };
static _Atomic int membarrier_state;
static bool membarrier_forced_off; /* test seam */

/* Test seam: pretend the kernel has no membarrier (the fallback path). */
void hak_test_set_membarrier(bool available)
{
    membarrier_forced_off = !available;
}

bool hak_os_membarrier(void)
{
    if (membarrier_forced_off) return false;
    int state = atomic_load_explicit(&membarrier_state, memory_order_acquire);
    if (state == MB_UNKNOWN) {
        /* QUERY lists the commands; registering is needed once per process */
        long cmds = syscall(SYS_membarrier, MB_CMD_QUERY, 0, 0);
        bool ok = cmds >= 0 && (cmds & MB_CMD_PRIVATE_EXPEDITED) &&
                  syscall(SYS_membarrier, MB_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
        if (!ok) HAK_COUNT(membarrier_missing);
        state = ok ? MB_READY : MB_MISSING;
        atomic_store_explicit(&membarrier_state, state, memory_order_release);
    }
    return state == MB_READY && syscall(SYS_membarrier, MB_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
}

bool hak_os_membarrier_missing(void)
{
    return membarrier_forced_off || atomic_load(&membarrier_state) == MB_MISSING;
}

/* A fork child is a new process for membarrier: register again when needed. */
void hak_os_membarrier_fork_child(void)
{
    if (atomic_load(&membarrier_state) == MB_READY) atomic_store(&membarrier_state, MB_UNKNOWN);
}
