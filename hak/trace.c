/*
 * hak trace: record a program's allocations (`hak trace -o FILE -- CMD...`) with the preloaded
 * tracer build/libhaktrace.so, and summarise a trace (`hak trace info FILE`).  The format and the
 * tracer are described in docs/traces.md; the work is in trace/.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allocators.h"
#include "hak.h"
#include "launcher.h"
#include "reader.h"

static void trace_usage(FILE *out) {
    fprintf(out, "usage: hak trace [-o FILE] -- CMD [ARGS...]   record CMD's allocations\n"
                 "       hak trace info FILE...                 summarise traces\n"
                 "  -o FILE   the trace (default hak.trace); children's traces are FILE.PID\n");
}

/* Calls fn for every FILE.PID next to FILE (the traces of the traced program's children). */
static int for_each_child_trace(const char *file, void (*fn)(const char *path)) {
    char dir_buf[4096], base_buf[4096];
    snprintf(dir_buf, sizeof dir_buf, "%s", file);
    snprintf(base_buf, sizeof base_buf, "%s", file);
    const char *dir = dirname(dir_buf), *base = basename(base_buf);
    size_t blen = strlen(base);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *name = e->d_name;
        if (strncmp(name, base, blen) != 0 || name[blen] != '.' || !name[blen + 1]) continue;
        if (strspn(name + blen + 1, "0123456789") != strlen(name + blen + 1)) continue;
        n++;
        if (fn) {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", dir, name);
            fn(path);
        }
    }
    closedir(d);
    return n;
}

static void remove_file(const char *path) {
    unlink(path);
}

static int trace_record(const char *out, char **argv) {
    char exe[4096], lib[4200], parent[32];
    if (hak_exe_dir(exe, sizeof exe) != 0) {
        fprintf(stderr, "hak trace: cannot find the directory of the hak binary\n");
        return 1;
    }
    snprintf(lib, sizeof lib, "%s/../libhaktrace.so", exe);
    if (access(lib, R_OK) != 0) {
        fprintf(stderr, "hak trace: the tracer %s is missing (run make)\n", lib);
        return 1;
    }
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "hak trace: cannot write %s: %s\n", out, strerror(errno));
        return 1;
    }
    close(fd);
    for_each_child_trace(out, remove_file); /* a previous run's children */
    /* The tracer writes FILE from the process whose parent we are, FILE.PID from the others. */
    snprintf(parent, sizeof parent, "%d", (int)getpid());
    setenv("HAK_TRACE_OUT", out, 1);
    setenv("HAK_TRACE_PARENT_PID", parent, 1);
    struct hak_launch_opts lo = {
        .argv = argv, .preload = lib, .phase_fd = -1, .ack_fd = -1, .stdout_fd = -1};
    struct hak_launch l;
    int status = 0;
    if (hak_launch_start(&l, &lo) != 0) {
        fprintf(stderr, "hak trace: cannot start %s: %s\n", argv[0], strerror(errno));
        return 1;
    }
    int exec_errno = hak_launch_go(&l, &status);
    if (exec_errno) {
        fprintf(stderr, "hak trace: cannot run %s: %s\n", argv[0], strerror(exec_errno));
        return 127;
    }
    signal(SIGINT, SIG_IGN); /* ^C goes to the program; we wait to say where its trace is */
    while (waitpid(l.pid, &status, 0) < 0 && errno == EINTR) {
    }
    int children = for_each_child_trace(out, NULL);
    fprintf(stderr, "hak trace: %s", out);
    if (children)
        fprintf(stderr, " and %d child trace%s %s.PID", children, children > 1 ? "s" : "", out);
    if (WIFSIGNALED(status)) {
        fprintf(stderr, " (%s was killed by signal %d)\n", argv[0], WTERMSIG(status));
        return 128 + WTERMSIG(status);
    }
    fprintf(stderr, "\n");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static void print_info(const char *path, const struct trace *t) {
    printf("%s\n", path);
    printf("  process: pid %u, parent %u%s%s\n", t->pid, t->ppid,
           t->flags & TRACE_FLAG_FORKED ? ", forked" : "",
           t->images > 1 ? " (and exec'd again)" : "");
    printf("  processes: %d (this trace and %d child trace%s next to it)\n",
           1 + for_each_child_trace(path, NULL), for_each_child_trace(path, NULL),
           for_each_child_trace(path, NULL) == 1 ? "" : "s");
    printf("  operations: %zu\n", t->count);
    for (unsigned k = 1; k < TRACE_KIND_COUNT; k++)
        if (t->kinds[k])
            printf("    %-18s %llu\n", trace_kind_name(k), (unsigned long long)t->kinds[k]);
    printf("  threads: %u\n", t->nthreads);
    printf("  duration: %.6f s\n", (double)t->duration_ns / 1e9);
    printf("  peak live bytes: %llu\n", (unsigned long long)t->peak_live);
    printf("  live bytes at the end: %llu\n", (unsigned long long)t->final_live);
    printf("  sizes (bytes asked for, by power of two):\n");
    for (unsigned k = 0; k < 65; k++) {
        if (!t->size_hist[k]) continue;
        if (k == 0)
            printf("    %-22s %llu\n", "0", (unsigned long long)t->size_hist[k]);
        else {
            char range[48];
            snprintf(range, sizeof range, "%llu..%llu", 1ULL << (k - 1),
                     k == 64 ? ~0ULL : (1ULL << k) - 1);
            printf("    %-22s %llu\n", range, (unsigned long long)t->size_hist[k]);
        }
    }
    trace_print_unsupported(stdout, "  ", t);
    if (t->failed) printf("  failed calls: %llu\n", (unsigned long long)t->failed);
    if (t->unknown_frees) {
        const struct trace_record *r = &t->rec[t->first_unknown];
        printf("  frees of blocks the trace never allocated: %llu (%s); first: record %zu, "
               "thread %u, %s(0x%llx)\n",
               (unsigned long long)t->unknown_frees,
               t->flags & TRACE_FLAG_FORKED ? "blocks inherited across the fork"
                                            : "the program's own bug",
               t->first_unknown, r->tid, trace_kind_name(r->kind), (unsigned long long)r->addr);
    }
    if (t->reused_live)
        printf("  blocks handed out again while live (a free not seen): %llu\n",
               (unsigned long long)t->reused_live);
}

static int trace_info(int argc, char **argv) {
    if (argc < 1) {
        fprintf(stderr, "hak trace info: no trace file given\n");
        return 2;
    }
    int rc = 0;
    for (int i = 0; i < argc; i++) {
        struct trace t;
        char err[512];
        if (trace_read_file(argv[i], &t, err, sizeof err) != 0) {
            fprintf(stderr, "hak trace info: %s\n", err);
            rc = 1;
            continue;
        }
        if (t.note[0]) fprintf(stderr, "hak trace info: note: %s\n", t.note);
        trace_plan(&t);
        print_info(argv[i], &t);
        trace_free(&t);
    }
    return rc;
}

int cmd_trace(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "info") == 0) return trace_info(argc - 2, argv + 2);
    const char *out = "hak.trace";
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            trace_usage(stdout);
            return 0;
        }
        if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc) {
            out = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "hak trace: unknown option '%s'\n", argv[i]);
            trace_usage(stderr);
            return 2;
        } else {
            break; /* the command, without -- */
        }
    }
    if (i >= argc) {
        fprintf(stderr, "hak trace: no command given\n");
        trace_usage(stderr);
        return 2;
    }
    return trace_record(out, argv + i);
}
