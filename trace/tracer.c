/*
 * libhaktrace.so: preloaded into a program by `hak trace`, it logs every allocation call
 * (trace/format.h) and passes it on to the next malloc in the link order.
 *
 * What keeps it safe inside a real program:
 * - the real functions come from dlsym(RTLD_NEXT); the calloc that dlsym itself makes is served
 *   from a static bootstrap buffer;
 * - a per-thread recursion guard: whatever allocates while a record is being made (dlsym,
 *   pthread_setspecific) goes straight to the real function, unrecorded;
 * - each thread appends to its own mmap'd buffer under a per-buffer spin flag that only the exit
 *   and fork paths ever contend for; a full buffer is written with one write(2) as a chunk;
 * - fork: the parent's buffers are written before the fork, the child opens its own file
 *   (OUT.PID) and drops the copies of the other threads' buffers; exec re-initialises the
 *   library and appends a new file header to the same file.
 * Nothing here calls malloc.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "format.h"

#define EXPORT __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))
#define BUF_PAYLOAD (32 * 1024) /* a chunk: small, so a crash loses little */

struct tbuf {
    struct tbuf *next; /* registry: every buffer ever made, never unlinked */
    atomic_int owned;  /* 1 while a live thread uses it */
    atomic_flag busy;  /* held while appending or writing */
    uint32_t tid;
    uint32_t records;
    uint64_t base_seq, base_ns, last_seq, last_ns;
    uint64_t last_addr;
    size_t used;
    uint8_t payload[BUF_PAYLOAD];
};

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static size_t (*real_usable_size)(void *);
static int (*real_malloc_trim)(size_t);
static int (*real_mallopt)(int, int);

static _Atomic(struct tbuf *) registry;
static atomic_uint_fast64_t next_seq;
static int out_fd = -1;
static int exiting; /* after the exit flush every record is written at once */
static pthread_key_t exit_key;
static int resolved;

static TLS struct tbuf *my_buf;
static TLS int in_hook;

/* dlsym's own calloc, before real_calloc is known. */
static _Alignas(16) uint8_t bootstrap[4096];
static size_t bootstrap_used;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One writev per chunk keeps the chunks of concurrent threads whole (O_APPEND); a short write
 * (disk full) leaves a torn chunk that the reader drops. */
static void write_chunk(const void *head, size_t head_len, const void *body, size_t body_len) {
    struct iovec iov[2] = {{(void *)head, head_len}, {(void *)body, body_len}};
    ssize_t w;
    do
        w = writev(out_fd, iov, body_len ? 2 : 1);
    while (w < 0 && errno == EINTR);
}

/* Writes b's records as one chunk and empties it; the caller holds b->busy. */
static void flush_locked(struct tbuf *b) {
    if (b->records == 0) return;
    struct trace_chunk_header h = {TRACE_CHUNK_MAGIC,
                                   (uint32_t)b->used,
                                   b->tid,
                                   b->records,
                                   b->base_seq,
                                   b->base_ns,
                                   trace_checksum(b->payload, b->used),
                                   0};
    int saved = errno;
    if (out_fd >= 0) write_chunk(&h, sizeof h, b->payload, b->used);
    errno = saved;
    b->used = 0;
    b->records = 0;
}

static void lock(struct tbuf *b) {
    while (atomic_flag_test_and_set_explicit(&b->busy, memory_order_acquire))
        sched_yield();
}

static void unlock(struct tbuf *b) {
    atomic_flag_clear_explicit(&b->busy, memory_order_release);
}

static void flush_all(void) {
    for (struct tbuf *b = atomic_load(&registry); b; b = b->next) {
        lock(b);
        flush_locked(b);
        unlock(b);
    }
}

static void thread_exit(void *arg) {
    struct tbuf *b = arg;
    in_hook++;
    lock(b);
    flush_locked(b);
    unlock(b);
    my_buf = NULL;
    atomic_store(&b->owned, 0);
    in_hook--;
}

/* This thread's buffer: a dead thread's, or a new mapping. */
static struct tbuf *thread_buf(void) {
    if (my_buf) return my_buf;
    struct tbuf *b;
    for (b = atomic_load(&registry); b; b = b->next) {
        int free_slot = 0;
        if (atomic_compare_exchange_strong(&b->owned, &free_slot, 1)) break;
    }
    if (!b) {
        b = mmap(NULL, sizeof *b, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (b == MAP_FAILED) return NULL;
        atomic_store(&b->owned, 1);
        atomic_flag_clear(&b->busy);
        struct tbuf *head = atomic_load(&registry);
        do
            b->next = head;
        while (!atomic_compare_exchange_weak(&registry, &head, b));
    }
    b->tid = (uint32_t)syscall(SYS_gettid);
    b->records = 0;
    b->used = 0;
    my_buf = b;
    pthread_setspecific(exit_key, b); /* may allocate: we are inside the guard */
    return b;
}

static uint8_t *put_addr(struct tbuf *b, uint8_t *p, uint64_t addr) {
    p = trace_put_varint(p, trace_zigzag((int64_t)(addr - b->last_addr)));
    b->last_addr = addr;
    return p;
}

/* Appends one record to this thread's buffer (fields: sizes plain, addresses delta). */
static void record(unsigned kind, uint64_t align, uint64_t old, uint64_t size, uint64_t result) {
    if (out_fd < 0 || in_hook) return;
    in_hook++;
    int saved = errno;
    struct tbuf *b = thread_buf();
    if (b) {
        lock(b);
        uint64_t seq = atomic_fetch_add(&next_seq, 1), ns = now_ns();
        if (b->used + TRACE_RECORD_MAX > BUF_PAYLOAD) flush_locked(b);
        if (b->records == 0) {
            b->base_seq = b->last_seq = seq;
            b->base_ns = b->last_ns = ns;
            b->last_addr = 0;
        }
        uint8_t *p = b->payload + b->used;
        *p++ = (uint8_t)kind;
        p = trace_put_varint(p, seq - b->last_seq);
        p = trace_put_varint(p, ns >= b->last_ns ? ns - b->last_ns : 0);
        b->last_seq = seq;
        if (ns > b->last_ns) b->last_ns = ns;
        switch (kind) {
        case TRACE_FREE:
        case TRACE_USABLE_SIZE:
            p = put_addr(b, p, old);
            break;
        case TRACE_RESIDENT:
            p = put_addr(b, p, old);
            p = trace_put_varint(p, size);
            break;
        case TRACE_MALLOC:
        case TRACE_CALLOC:
            p = trace_put_varint(p, size);
            p = put_addr(b, p, result);
            break;
        case TRACE_UNSUPPORTED:
            p = trace_put_varint(p, align); /* the call */
            p = trace_put_varint(p, size);
            break;
        case TRACE_REALLOC:
            p = put_addr(b, p, old);
            p = trace_put_varint(p, size);
            p = put_addr(b, p, result);
            break;
        default:
            p = trace_put_varint(p, align);
            p = trace_put_varint(p, size);
            p = put_addr(b, p, result);
        }
        b->used = (size_t)(p - b->payload);
        b->records++;
        if (exiting) flush_locked(b);
        unlock(b);
    }
    errno = saved;
    in_hook--;
}

static void write_header(uint32_t flags) {
    struct trace_file_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, TRACE_MAGIC, 8);
    h.version = TRACE_VERSION;
    h.header_bytes = sizeof h;
    h.pid = (uint32_t)getpid();
    h.ppid = (uint32_t)getppid();
    h.flags = flags;
    h.start_ns = now_ns();
    write_chunk(&h, sizeof h, NULL, 0);
}

/* Opens this process's trace file: HAK_TRACE_OUT for the command hak trace started (its parent
 * is HAK_TRACE_PARENT_PID, before and after an exec), OUT.PID for every other process. */
static void open_output(uint32_t flags) {
    const char *out = getenv("HAK_TRACE_OUT"), *parent = getenv("HAK_TRACE_PARENT_PID");
    if (!out || !*out) return;
    char path[4096];
    if (!(flags & TRACE_FLAG_FORKED) && parent && atoi(parent) == (int)getppid())
        snprintf(path, sizeof path, "%s", out);
    else
        snprintf(path, sizeof path, "%s.%d", out, (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    if (flags & TRACE_FLAG_FORKED) (void)ftruncate(fd, 0); /* a recycled pid's stale file */
    if (fd < 3) { /* keep clear of the descriptors the program expects to own */
        int moved = fcntl(fd, F_DUPFD_CLOEXEC, 64);
        close(fd);
        fd = moved;
    }
    out_fd = fd;
    write_header(flags);
}

static void before_fork(void) {
    in_hook++;
    flush_all();
}

static void after_fork_parent(void) {
    in_hook--;
}

static void after_fork_child(void) {
    /* The other threads do not exist here; their buffers hold the parent's records. */
    for (struct tbuf *b = atomic_load(&registry); b; b = b->next) {
        atomic_flag_clear(&b->busy);
        b->records = 0;
        b->used = 0;
        if (b != my_buf) atomic_store(&b->owned, 0);
    }
    if (my_buf) my_buf->tid = (uint32_t)syscall(SYS_gettid);
    if (out_fd >= 0) close(out_fd);
    out_fd = -1;
    open_output(TRACE_FLAG_FORKED);
    in_hook--;
}

static void resolve(void) {
    if (resolved) return;
    resolved = 1;
    in_hook++;
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_free = dlsym(RTLD_NEXT, "free");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
    real_valloc = dlsym(RTLD_NEXT, "valloc");
    real_pvalloc = dlsym(RTLD_NEXT, "pvalloc");
    real_usable_size = dlsym(RTLD_NEXT, "malloc_usable_size");
    real_malloc_trim = dlsym(RTLD_NEXT, "malloc_trim");
    real_mallopt = dlsym(RTLD_NEXT, "mallopt");
    in_hook--;
}

__attribute__((constructor)) static void tracer_init(void) {
    resolve();
    in_hook++;
    pthread_key_create(&exit_key, thread_exit);
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    open_output(0);
    in_hook--;
}

__attribute__((destructor)) static void tracer_fini(void) {
    in_hook++;
    flush_all();
    exiting = 1; /* frees made by later destructors are written one by one */
    in_hook--;
}

static int is_bootstrap(const void *p) {
    return (const uint8_t *)p >= bootstrap && (const uint8_t *)p < bootstrap + sizeof bootstrap;
}

/* Before a large block is freed or reallocated: how many bytes of its pages are resident, which is
 * how much of it the program wrote (a replay touches as many; a program such as sort uses only
 * part of a big buffer).  mincore over the whole pages inside the block. */
static void record_resident(void *p) {
    if (out_fd < 0 || in_hook || !real_usable_size) return;
    size_t size = real_usable_size(p);
    if (size < TRACE_RESIDENT_MIN) return;
    const uintptr_t page = 4096;
    uintptr_t begin = ((uintptr_t)p + page - 1) & ~(page - 1),
              end = ((uintptr_t)p + size) & ~(page - 1);
    uint64_t resident = 0;
    unsigned char vec[1024];
    int saved = errno;
    for (uintptr_t at = begin; at < end; at += sizeof vec * page) {
        size_t pages = (end - at) / page < sizeof vec ? (end - at) / page : sizeof vec;
        if (mincore((void *)at, pages * page, vec) != 0) break;
        for (size_t i = 0; i < pages; i++)
            resident += vec[i] & 1;
    }
    errno = saved;
    record(TRACE_RESIDENT, 0, (uintptr_t)p, resident * page, 0);
}

EXPORT void *malloc(size_t size) {
    if (!real_malloc) resolve();
    void *p = real_malloc(size);
    record(TRACE_MALLOC, 0, 0, size, (uintptr_t)p);
    return p;
}

EXPORT void *calloc(size_t n, size_t size) {
    if (!real_calloc) { /* dlsym is asking, from inside resolve() */
        size_t bytes = (n * size + 15) & ~(size_t)15;
        if (bytes > sizeof bootstrap - bootstrap_used) return NULL;
        void *p = bootstrap + bootstrap_used;
        bootstrap_used += bytes;
        return p;
    }
    void *p = real_calloc(n, size);
    record(TRACE_CALLOC, 0, 0, (uint64_t)n * size, (uintptr_t)p);
    return p;
}

EXPORT void *realloc(void *old, size_t size) {
    if (!real_realloc) resolve();
    if (is_bootstrap(old)) {
        void *p = malloc(size);
        if (p) memcpy(p, old, size < 64 ? size : 64);
        return p;
    }
    if (old) record_resident(old);
    void *p = real_realloc(old, size);
    record(TRACE_REALLOC, 0, (uintptr_t)old, size, (uintptr_t)p);
    return p;
}

EXPORT void *reallocarray(void *old, size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, n * size);
}

EXPORT void free(void *p) {
    if (!p || is_bootstrap(p)) return;
    if (!real_free) resolve();
    record_resident(p);
    record(TRACE_FREE, 0, (uintptr_t)p, 0, 0);
    real_free(p);
}

EXPORT int posix_memalign(void **out, size_t align, size_t size) {
    if (!real_posix_memalign) resolve();
    int rc = real_posix_memalign(out, align, size);
    record(TRACE_POSIX_MEMALIGN, align, 0, size, rc == 0 ? (uintptr_t)*out : 0);
    return rc;
}

EXPORT void *aligned_alloc(size_t align, size_t size) {
    if (!real_aligned_alloc) resolve();
    void *p = real_aligned_alloc(align, size);
    record(TRACE_ALIGNED_ALLOC, align, 0, size, (uintptr_t)p);
    return p;
}

EXPORT void *memalign(size_t align, size_t size) {
    if (!real_memalign) resolve();
    void *p = real_memalign(align, size);
    record(TRACE_MEMALIGN, align, 0, size, (uintptr_t)p);
    return p;
}

EXPORT void *valloc(size_t size) {
    if (!real_valloc) resolve();
    void *p = real_valloc(size);
    record(TRACE_VALLOC, (uint64_t)sysconf(_SC_PAGESIZE), 0, size, (uintptr_t)p);
    return p;
}

EXPORT void *pvalloc(size_t size) {
    if (!real_pvalloc) resolve();
    void *p = real_pvalloc(size);
    record(TRACE_PVALLOC, (uint64_t)sysconf(_SC_PAGESIZE), 0, size, (uintptr_t)p);
    return p;
}

EXPORT size_t malloc_usable_size(void *p) {
    if (!real_usable_size) resolve();
    if (!p || is_bootstrap(p)) return 0;
    record(TRACE_USABLE_SIZE, 0, (uintptr_t)p, 0, 0);
    return real_usable_size(p);
}

/* Calls a replay cannot make are counted (TRACE_UNSUPPORTED), so that `hak trace info` and the
 * replay can say what the trace leaves out. */
static void record_unsupported(enum trace_call call, uint64_t bytes) {
    record(TRACE_UNSUPPORTED, call, 0, bytes, 0);
}

EXPORT int malloc_trim(size_t pad) {
    if (!real_malloc_trim) resolve();
    record_unsupported(TRACE_CALL_MALLOC_TRIM, pad);
    return real_malloc_trim ? real_malloc_trim(pad) : 0;
}

EXPORT int mallopt(int param, int value) {
    if (!real_mallopt) resolve();
    record_unsupported(TRACE_CALL_MALLOPT, (uint64_t)(unsigned)param);
    return real_mallopt ? real_mallopt(param, value) : 0;
}

/* The program's own mappings, made through the C library's wrappers (the allocator's mappings
 * inside the C library do not come through here).  Straight system calls: no dlsym, which could
 * itself map memory. */
static void *map_anywhere(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    if (flags & MAP_ANONYMOUS && r != -1) record_unsupported(TRACE_CALL_MMAP, len);
    return (void *)r;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    return map_anywhere(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    return map_anywhere(addr, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len) {
    int r = (int)syscall(SYS_munmap, addr, len);
    if (r == 0) record_unsupported(TRACE_CALL_MUNMAP, len);
    return r;
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...) {
    void *new_addr = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        new_addr = va_arg(ap, void *);
        va_end(ap);
    }
    long r = syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
    if (r != -1) record_unsupported(TRACE_CALL_MREMAP, new_len);
    return (void *)r;
}
