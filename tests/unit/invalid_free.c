/*
 * Freeing a pointer hakmem did not hand out (including one inside a block),
 * freeing a block twice (in the same thread, from other threads, after the
 * block left the thread cache), writing a freed block, or reallocating a
 * freed block stops the process with SIGABRT and one line on stderr that
 * names the problem and the pointer, and never hangs.  A block freed twice
 * is never handed out twice: where the free itself does not stop the
 * process, the allocation that would hand it out again does.  Each case
 * runs in a forked child; the HAKMEM_CHECK=1 cases re-run this program with
 * the option set.
 */
#include "check.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

static char static_area[4096] __attribute__((aligned(64)));
static struct hak_api api;

enum bad_free {
    FREE_STACK,
    FREE_STATIC,
    FREE_MMAP,
    DOUBLE_FREE_TINY,
    DOUBLE_FREE_REMOTE,
    DOUBLE_FREE_LARGE,
    DOUBLE_FREE_CROSS_THREAD,
    INTERIOR_FREE_TINY,
    INTERIOR_FREE_MID,
    DOUBLE_FREE_AFTER_CACHE,
    REALLOC_FREED,
    DOUBLE_FREE_CLOBBERED_KEY,
    FREE_RELEASED_SUPERSLAB,
    DOUBLE_FREE_CLOBBERED_KEY_RETURNED,
    DOUBLE_FREE_LARGE_EVICTED,
    DOUBLE_FREE_IN_CACHE,
    WRITE_AFTER_FREE,
    DOUBLE_FREE_AFTER_DRAIN,
};

/* Allocates blocks of `size` until one allocation stops the process (it
 * would have handed out a block a second time); exits 0 if none did. */
static void allocate_until_caught(size_t size) {
    for (int i = 0; i < 4096; i++)
        if (!malloc(OPAQUE(size))) _exit(3);
}

/* Frees the block from another thread, so that the free takes the remote path. */
static void *free_from_other_thread(void *p) {
    free(p);
    return NULL;
}

/* Frees the block on a thread of its own, so the free is a remote one. */
static void free_on_new_thread(void *p) {
    pthread_t t;
    if (pthread_create(&t, NULL, free_from_other_thread, p) != 0) _exit(3);
    pthread_join(t, NULL);
}

static void report_pointer(int fd, void *p) {
    uintptr_t u = (uintptr_t)p;
    if (write(fd, &u, sizeof u) != sizeof u) _exit(3);
    close(fd);
}

/* Fills more than one SuperSlab with 48-byte blocks, frees them all and
 * exits: its SuperSlabs hold no live block afterwards. */
static void *fill_and_exit(void *arg) {
    enum { N = 60000 }; /* 2.9 MB of blocks: past the first 2 MiB SuperSlab */
    void **v = mmap(NULL, N * sizeof *v, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (v == MAP_FAILED) _exit(3);
    for (int i = 0; i < N; i++)
        if (!(v[i] = malloc(OPAQUE((size_t)48)))) _exit(3);
    ((void **)arg)[0] = v[0];
    ((void **)arg)[1] = v[N - 1];
    for (int i = 0; i < N; i++)
        free(v[i]);
    munmap(v, N * sizeof *v);
    return NULL;
}

/* Runs one bad free and returns the pointer it freed (when it returns at
 * all: the bad free should stop the process).  `ptrfd` receives the
 * pointer before the bad call. */
static void *bad_free_case(enum bad_free kind, int ptrfd) {
    void *p, *keep[512];
    switch (kind) {
    case DOUBLE_FREE_CROSS_THREAD: {
        /* p, q, p from other threads: the second push of p is not at the list
         * head, so the remote list becomes a cycle; the owner's drain (the
         * flush) must stop the process, not loop */
        p = malloc(OPAQUE((size_t)48));
        void *q = malloc(OPAQUE((size_t)48));
        if (!p || !q) _exit(3);
        free_on_new_thread(p);
        free_on_new_thread(q);
        report_pointer(ptrfd, p);
        free_on_new_thread(p);
        api.tiny_flush();
        return p;
    }
    case INTERIOR_FREE_TINY:
    case INTERIOR_FREE_MID: {
        size_t size = kind == INTERIOR_FREE_TINY ? 48 : 5000, inside = size == 48 ? 16 : 1024;
        p = malloc(OPAQUE(size));
        if (!p) _exit(3);
        report_pointer(ptrfd, (char *)p + inside);
        free(OPAQUE((char *)p + inside));
        return p;
    }
    case DOUBLE_FREE_AFTER_CACHE:
        /* p is freed first; the 256 frees after it overflow the thread cache
         * (256 blocks of this class), whose oldest half, p with it, goes back
         * to the slab, and the flush returns the rest.  Every other block
         * stays allocated so the slab is not released.  A block of another
         * class ends the flush's hold on the caches (the first free after
         * it takes the slow path, which sees a block back in its slab), so
         * the second free puts p in the cache, which hands it out; the
         * refill that takes it from the slab again must stop the process. */
        p = malloc(OPAQUE((size_t)64));
        for (int i = 0; i < 511; i++)
            if (!(keep[i] = malloc(OPAQUE((size_t)64)))) _exit(3);
        free(p);
        for (int i = 0; i < 511; i += 2)
            free(keep[i]);
        api.tiny_flush();
        free(malloc(OPAQUE((size_t)500)));
        report_pointer(ptrfd, p);
        free(OPAQUE(p));
        allocate_until_caught(64);
        return p;
    case DOUBLE_FREE_AFTER_DRAIN:
        /* p freed by another thread, and the flush drains it back to its
         * slab's free list (`pin` keeps the slab assigned); the owner then
         * frees it again, and its cache hands it out */
        keep[0] = malloc(OPAQUE((size_t)48));
        p = malloc(OPAQUE((size_t)48));
        if (!keep[0] || !p) _exit(3);
        free_on_new_thread(p);
        api.tiny_flush();
        free(malloc(OPAQUE((size_t)500))); /* as in DOUBLE_FREE_AFTER_CACHE */
        report_pointer(ptrfd, p);
        free(OPAQUE(p));
        allocate_until_caught(48);
        return p;
    case DOUBLE_FREE_IN_CACHE: {
        /* p, q, p: p does not head the cache at its second free, so the
         * cache holds it twice; the third pop would hand it out again */
        p = malloc(OPAQUE((size_t)32));
        void *q = malloc(OPAQUE((size_t)32));
        if (!p || !q) _exit(3);
        free(p);
        free(q);
        report_pointer(ptrfd, p);
        free(OPAQUE(p));
        allocate_until_caught(32);
        return p;
    }
    case WRITE_AFTER_FREE:
        /* the program writes a cached block's second word after its free */
        p = malloc(OPAQUE((size_t)32));
        if (!p) _exit(3);
        free(p);
        report_pointer(ptrfd, p);
        ((void *volatile *)p)[1] = (void *)0x1234;
        allocate_until_caught(32);
        return p;
    case REALLOC_FREED:
        p = malloc(OPAQUE((size_t)100));
        if (!p) _exit(3);
        free(p);
        report_pointer(ptrfd, p);
        p = realloc(OPAQUE(p), 90); /* fits in place: would return p */
        if (p) memset(p, 0, 90);
        return p;
    case DOUBLE_FREE_CLOBBERED_KEY:
        /* a use after free overwrites the block's second word, then the
         * block, heading the cache, is freed again */
        p = malloc(OPAQUE((size_t)32));
        if (!p) _exit(3);
        free(p);
        ((void *volatile *)p)[1] = NULL;
        report_pointer(ptrfd, p);
        free(OPAQUE(p));
        return p;
    case DOUBLE_FREE_CLOBBERED_KEY_RETURNED: {
        /* as above, but q freed in between, so p does not head the cache
         * and its second free is taken; the flush returns the cache, which
         * holds p twice, to the slab, and the second return finds its bit
         * clear */
        p = malloc(OPAQUE((size_t)32));
        void *q = malloc(OPAQUE((size_t)32));
        if (!p || !q) _exit(3);
        free(p);
        free(q);
        ((void *volatile *)p)[1] = NULL;
        report_pointer(ptrfd, p);
        free(OPAQUE(p));
        api.tiny_flush();
        return p;
    }
    case FREE_RELEASED_SUPERSLAB: {
        /* a block of a SuperSlab the flush gave back to the OS: its address
         * is no longer hakmem's */
        pthread_t t;
        void *first_last[2];
        if (pthread_create(&t, NULL, fill_and_exit, first_last) != 0) _exit(3);
        pthread_join(t, NULL);
        api.flush_all();
        /* the exit kept one empty SuperSlab (HAKMEM_SS_KEEP) and unmapped
         * the other: take the block whose page is gone */
        p = first_last[0];
        if (msync((void *)((uintptr_t)p & ~(uintptr_t)4095), 1, MS_ASYNC) == 0) p = first_last[1];
        if (msync((void *)((uintptr_t)p & ~(uintptr_t)4095), 1, MS_ASYNC) == 0) _exit(3);
        report_pointer(ptrfd, p);
        free(OPAQUE(p));
        return p;
    }
    default:
        _exit(3);
    }
}

struct child_result {
    int status;
    char err[4096];
    uintptr_t ptr; /* the pointer freed */
};

/* Runs one bad free in a child (re-running this program with HAKMEM_CHECK=1
 * when `checked`); the child reports its pointer through a pipe before
 * freeing it, and its stderr is collected into r->err. */
static void run_child(enum bad_free kind, int checked, struct child_result *r) {
    int errfd, ptrpipe[2];
    REQUIRE(pipe(ptrpipe) == 0);
    pid_t pid = fork_capturing_stderr(&errfd);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        alarm(20);
        close(ptrpipe[0]);
        if (checked) {
            char kind_arg[16], fd_arg[16];
            snprintf(kind_arg, sizeof kind_arg, "%d", (int)kind);
            snprintf(fd_arg, sizeof fd_arg, "%d", ptrpipe[1]);
            /* a preloaded hakmem stays preloaded */
            static char preload[4096];
            const char *lib = getenv("LD_PRELOAD");
            snprintf(preload, sizeof preload, "LD_PRELOAD=%s", lib ? lib : "");
            char *env[] = {"HAKMEM_CHECK=1", "HAKMEM_COUNTERS_SHARED=0", lib ? preload : NULL, NULL};
            execle("/proc/self/exe", "invalid_free", "--case", kind_arg, fd_arg, (char *)NULL, env);
            _exit(4);
        }
        char stack_area[256];
        void *p = NULL;
        switch (kind) {
        case FREE_STACK:
            memset(stack_area, 1, sizeof stack_area);
            p = stack_area + 64;
            break;
        case FREE_STATIC:
            p = static_area + 256;
            break;
        case FREE_MMAP:
            p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) _exit(3);
            break;
        case DOUBLE_FREE_TINY:
            p = malloc(OPAQUE((size_t)32));
            if (!p) _exit(3);
            free(p);
            break;
        case DOUBLE_FREE_REMOTE:
            if (!(p = malloc(OPAQUE((size_t)48)))) _exit(3);
            free_on_new_thread(p);
            report_pointer(ptrpipe[1], p);
            free_on_new_thread(p);
            _exit(0); /* not reached when the double free is caught */
        case DOUBLE_FREE_LARGE:
            p = malloc(OPAQUE((size_t)100000));
            if (!p) _exit(3);
            free(p);
            break;
        case DOUBLE_FREE_LARGE_EVICTED: {
            /* 16 spans freed, twice the thread cache's 8 entries: the first
             * goes back to its segment (kept mapped by `pin`), where its
             * second free finds a page no span holds */
            void *pin = malloc(OPAQUE((size_t)100000)), *spans[16];
            if (!pin) _exit(3);
            for (int i = 0; i < 16; i++)
                if (!(spans[i] = malloc(OPAQUE((size_t)100000)))) _exit(3);
            for (int i = 0; i < 16; i++) free(spans[i]);
            p = spans[0];
            break;
        }
        default:
            bad_free_case(kind, ptrpipe[1]);
            _exit(0); /* not reached when the bad call is caught */
        }
        report_pointer(ptrpipe[1], p);
        free(OPAQUE(p));
        _exit(0); /* not reached when the bad free is caught */
    }
    close(ptrpipe[1]);
    r->ptr = 0;
    if (read(ptrpipe[0], &r->ptr, sizeof r->ptr) != sizeof r->ptr) r->ptr = 0;
    close(ptrpipe[0]);
    wait_child_stderr(pid, errfd, r->err, sizeof r->err, &r->status);
}

/* True when `text` holds a 0x... number equal to ptr. */
static int mentions_pointer(const char *text, uintptr_t ptr) {
    for (const char *s = strstr(text, "0x"); s; s = strstr(s + 2, "0x")) {
        if ((uintptr_t)strtoull(s, NULL, 16) == ptr) return 1;
    }
    return 0;
}

static void check_case_in(const char *what, enum bad_free kind, const char *needle, int checked) {
    struct child_result r;
    run_child(kind, checked, &r);
    int aborted = WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGABRT;
    CHECKF(aborted, "%s: child did not die of SIGABRT (%s %d); stderr: %s", what,
           WIFSIGNALED(r.status) ? "signal" : "exit",
           WIFSIGNALED(r.status) ? WTERMSIG(r.status) : WEXITSTATUS(r.status), r.err);
    CHECKF(strstr(r.err, needle) != NULL, "%s: stderr lacks \"%s\": %s", what, needle, r.err);
    CHECKF(r.ptr != 0 && mentions_pointer(r.err, r.ptr), "%s: stderr lacks the pointer %#lx: %s",
           what, (unsigned long)r.ptr, r.err);
    CHECKF(count_lines(r.err) == 1, "%s: want one line on stderr, got: %s", what, r.err);
    printf("%-28s -> %s", what, r.err[0] ? r.err : "(nothing on stderr)\n");
}

static void check_case(const char *what, enum bad_free kind, const char *needle) {
    check_case_in(what, kind, needle, 0);
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--case") == 0) { /* a HAKMEM_CHECK=1 child */
        alarm(20);
        require_hakmem(&api);
        bad_free_case((enum bad_free)atoi(argv[2]), atoi(argv[3]));
        return 0;
    }
    require_hakmem(&api);
    check_case("stack pointer", FREE_STACK, "invalid pointer");
    check_case("static pointer", FREE_STATIC, "invalid pointer");
    check_case("mmap'd page", FREE_MMAP, "invalid pointer");
    check_case("tiny double free", DOUBLE_FREE_TINY, "double free");
    check_case("remote double free", DOUBLE_FREE_REMOTE, "double free");
    check_case("large double free", DOUBLE_FREE_LARGE, "double free");
    check_case("large double free, out of the cache", DOUBLE_FREE_LARGE_EVICTED,
               "free(): double free");
    check_case("cross-thread double free", DOUBLE_FREE_CROSS_THREAD, "free(): double free");
    check_case("tiny interior free", INTERIOR_FREE_TINY, "free(): invalid pointer");
    check_case("mid interior free", INTERIOR_FREE_MID, "free(): invalid pointer");
    /* caught by the refill (malloc), or by the free if a decay pass holds
     * the caches at that moment */
    check_case("double free after cache", DOUBLE_FREE_AFTER_CACHE, "double free");
    check_case("double free after a drain", DOUBLE_FREE_AFTER_DRAIN, "double free");
    check_case("double free in the cache", DOUBLE_FREE_IN_CACHE,
               "malloc(): double free (or write after free) of");
    check_case("write after free", WRITE_AFTER_FREE,
               "malloc(): double free (or write after free) of");
    check_case("realloc of a freed block", REALLOC_FREED, "realloc(): freed pointer");
    check_case("block of a released SuperSlab", FREE_RELEASED_SUPERSLAB, "free(): invalid pointer");

    check_case("clobbered key", DOUBLE_FREE_CLOBBERED_KEY, "free(): double free");
    check_case_in("HAKMEM_CHECK=1 clobbered key", DOUBLE_FREE_CLOBBERED_KEY, "free(): double free", 1);
    check_case("clobbered key, back in its slab", DOUBLE_FREE_CLOBBERED_KEY_RETURNED,
               "free(): double free");

    /* the parent's heap is untouched by all this */
    void *p = malloc(32);
    CHECK(p != NULL);
    free(p);
    return test_finish();
}
