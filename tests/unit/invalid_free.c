/*
 * Freeing a pointer hakmem did not hand out, or freeing a small block twice,
 * stops the process with SIGABRT and one line on stderr that names the
 * problem and the pointer.  Each case runs in a forked child.
 */
#include "check.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

static char static_area[4096] __attribute__((aligned(64)));

enum bad_free {
    FREE_STACK,
    FREE_STATIC,
    FREE_MMAP,
    DOUBLE_FREE_TINY,
    DOUBLE_FREE_REMOTE,
    DOUBLE_FREE_LARGE
};

/* Frees the block once from another thread; the child frees it again from
 * that thread too, so both frees take the remote path. */
static void *free_from_other_thread(void *p) {
    free(p);
    return NULL;
}

struct child_result {
    int status;
    char err[4096];
    uintptr_t ptr; /* the pointer freed */
};

/* Runs one bad free in a child; the child reports its pointer through a pipe
 * before freeing it, and its stderr is collected into r->err. */
static void run_child(enum bad_free kind, struct child_result *r) {
    int errfd, ptrpipe[2];
    REQUIRE(pipe(ptrpipe) == 0);
    pid_t pid = fork_capturing_stderr(&errfd);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        alarm(20);
        close(ptrpipe[0]);
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
        case DOUBLE_FREE_REMOTE: {
            p = malloc(OPAQUE((size_t)48));
            pthread_t t;
            if (!p || pthread_create(&t, NULL, free_from_other_thread, p) != 0) _exit(3);
            pthread_join(t, NULL);
            uintptr_t u = (uintptr_t)p;
            if (write(ptrpipe[1], &u, sizeof u) != sizeof u) _exit(3);
            close(ptrpipe[1]);
            if (pthread_create(&t, NULL, free_from_other_thread, p) != 0) _exit(3);
            pthread_join(t, NULL);
            _exit(0); /* not reached when the double free is caught */
        }
        case DOUBLE_FREE_LARGE:
            p = malloc(OPAQUE((size_t)100000));
            if (!p) _exit(3);
            free(p);
            break;
        }
        uintptr_t u = (uintptr_t)p;
        if (write(ptrpipe[1], &u, sizeof u) != sizeof u) _exit(3);
        close(ptrpipe[1]);
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

static void check_case(const char *what, enum bad_free kind, const char *needle) {
    struct child_result r;
    run_child(kind, &r);
    int aborted = WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGABRT;
    CHECKF(aborted, "%s: child did not die of SIGABRT (%s %d); stderr: %s", what,
           WIFSIGNALED(r.status) ? "signal" : "exit",
           WIFSIGNALED(r.status) ? WTERMSIG(r.status) : WEXITSTATUS(r.status), r.err);
    CHECKF(strstr(r.err, needle) != NULL, "%s: stderr lacks \"%s\": %s", what, needle, r.err);
    CHECKF(r.ptr != 0 && mentions_pointer(r.err, r.ptr), "%s: stderr lacks the pointer %#lx: %s",
           what, (unsigned long)r.ptr, r.err);
    CHECKF(count_lines(r.err) == 1, "%s: want one line on stderr, got: %s", what, r.err);
    printf("%-16s -> %s", what, r.err[0] ? r.err : "(nothing on stderr)\n");
}

int main(void) {
    struct hak_api api;
    require_hakmem(&api);
    check_case("stack pointer", FREE_STACK, "invalid pointer");
    check_case("static pointer", FREE_STATIC, "invalid pointer");
    check_case("mmap'd page", FREE_MMAP, "invalid pointer");
    check_case("tiny double free", DOUBLE_FREE_TINY, "double free");
    check_case("remote double free", DOUBLE_FREE_REMOTE, "double free");
    check_case("large double free", DOUBLE_FREE_LARGE, "double free");

    /* the parent's heap is untouched by all this */
    void *p = malloc(32);
    CHECK(p != NULL);
    free(p);
    return test_finish();
}
