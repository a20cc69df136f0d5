/*
 * HAKMEM_* environment options: a value that does not parse is reported with
 * one warning line naming the variable and the default used, and the program
 * runs on; a valid value is accepted silently.  Each case re-runs this
 * program with the option set and its stderr captured.
 */
#include "check.h"

#include <sys/wait.h>

/* Allocation work across all tiers that the child does under each option. */
static int child_workload(void) {
    uint64_t rng = 5;
    void *live[512] = {0};
    for (int i = 0; i < 200000; i++) {
        int slot = (int)rng_below(&rng, 512);
        free(live[slot]);
        uint64_t r = rng_below(&rng, 1000);
        size_t n = r < 900   ? 1 + rng_below(&rng, 1024)
                   : r < 995 ? 1025 + rng_below(&rng, 31744)
                             : 32769 + rng_below(&rng, 2 << 20);
        live[slot] = malloc(n);
        if (!live[slot]) return 2;
        pattern_fill(live[slot], n < 64 ? n : 64, (uintptr_t)i);
    }
    for (int i = 0; i < 512; i++)
        free(live[i]);
    puts("child ok");
    return 0;
}

struct run {
    int status;
    char err[4096];
};

/* Runs this program with only `assignment` (and LD_PRELOAD, when set, so a
 * preloaded hakmem stays in place) in its environment. */
static void run_with(const char *assignment, struct run *r, const char *self) {
    static char preload[4096];
    const char *lp = getenv("LD_PRELOAD");
    if (lp) snprintf(preload, sizeof preload, "LD_PRELOAD=%s", lp);
    int errfd;
    pid_t pid = fork_capturing_stderr(&errfd);
    if (pid == 0) {
        char *env[] = {(char *)assignment, lp ? preload : NULL, NULL};
        execle(self, self, "--child", (char *)NULL, env);
        _exit(126);
    }
    wait_child_stderr(pid, errfd, r->err, sizeof r->err, &r->status);
}

static int exited_ok(int status) {
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--child") == 0) return child_workload();

    struct hak_api api;
    require_hakmem(&api);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE(n > 0);
    self[n] = 0;

    struct {
        const char *assignment;
        const char *var; /* named in a warning; NULL if none expected */
    } cases[] = {
        {"TEST_NO_HAKMEM_OPTIONS=1", NULL}, /* no options: silent */
        {"HAKMEM_TINY_CACHE_MAX=abc", "HAKMEM_TINY_CACHE_MAX"},
        {"HAKMEM_TINY_CACHE_MAX=12x", "HAKMEM_TINY_CACHE_MAX"},
        {"HAKMEM_TINY_USE_SUPERSLAB=0", NULL},
        {"HAKMEM_TINY_USE_SUPERSLAB=1", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run r;
        run_with(cases[i].assignment, &r, self);
        printf("%s: %s", cases[i].assignment, r.err[0] ? r.err : "(nothing on stderr)\n");
        CHECKF(exited_ok(r.status), "%s: child status %#x", cases[i].assignment, r.status);
        if (cases[i].var) {
            CHECKF(count_lines(r.err) == 1, "%s: want one warning line, got: %s",
                   cases[i].assignment, r.err);
            CHECKF(strstr(r.err, cases[i].var) != NULL, "%s: warning does not name %s",
                   cases[i].assignment, cases[i].var);
            CHECKF(strstr(r.err, "default") != NULL, "%s: warning does not mention the default",
                   cases[i].assignment);
        } else {
            CHECKF(r.err[0] == 0, "%s: unexpected stderr: %s", cases[i].assignment, r.err);
        }
    }
    return test_finish();
}
