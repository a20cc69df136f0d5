/*
 * The CPU-time split for hak bench --perf (time_split.h).
 */
#include "time_split.h"

#include "scratch_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int time_split_open(struct time_split *ts, char *why, size_t why_len) {
    memset(ts, 0, sizeof *ts);
    if (scratch_dir_make(ts->dir, sizeof ts->dir, "perf") != 0) {
        snprintf(why, why_len, "--perf: cannot create a directory under /tmp for the samples");
        return -1;
    }
    snprintf(ts->data, sizeof ts->data, "%s/perf.data", ts->dir);
    /* perf exits 0 on success only; its complaint (not installed, perf_event_paranoid) is the
     * reason given. */
    char cmd[512], line[256] = "";
    snprintf(cmd, sizeof cmd, "perf record -q -e cpu-clock -o %s/probe.data true 2>&1", ts->dir);
    FILE *p = popen(cmd, "r");
    int rc = -1;
    if (p) {
        while (fgets(line, sizeof line, p) && (line[0] == '\n' || line[0] == ' ')) {
        }
        char rest[256];
        while (fgets(rest, sizeof rest, p)) {
        }
        rc = pclose(p);
    }
    snprintf(cmd, sizeof cmd, "%s/probe.data", ts->dir);
    unlink(cmd);
    if (rc != 0) {
        line[strcspn(line, "\n")] = '\0';
        if (rc == 127 << 8 || strstr(line, "not found"))
            snprintf(why, why_len, "--perf needs perf (scripts/install-deps.sh installs linux-perf)");
        else
            snprintf(why, why_len, "--perf: perf record -e cpu-clock does not work here: %.120s",
                     line[0] ? line : "no reason given");
        time_split_close(ts);
        return -1;
    }
    return 0;
}

void time_split_wrap(struct time_split *ts, const char *preload, char **argv, char **out) {
    unlink(ts->data);
    /* -B: no build-id cache, whose filling at the end of each run costs more than the run */
    static const char *const perf[] = {"env", "-u",        "LD_PRELOAD", "perf", "record", "-q", "-B",
                                       "-e",  "cpu-clock", "-c",         NULL,   "-o",     NULL, "--"};
    static char period[16];
    snprintf(period, sizeof period, "%d", TIME_SPLIT_PERIOD_NS);
    int n = 0;
    for (size_t i = 0; i < sizeof perf / sizeof perf[0]; i++)
        out[n++] = (char *)(i == 10 ? period : i == 12 ? ts->data : perf[i]);
    if (preload && preload[0]) {
        snprintf(ts->preload_arg, sizeof ts->preload_arg, "LD_PRELOAD=%s", preload);
        out[n++] = "env";
        out[n++] = ts->preload_arg;
    }
    for (int i = 0; argv[i]; i++)
        out[n++] = argv[i];
    out[n] = NULL;
}

/* The file name perf shows for a path: its last component, symbolic links followed. */
static void dso_name(const char *path, char *out, size_t len) {
    char real[HAK_ALLOC_PATH_MAX];
    const char *p = realpath(path, real) ? real : path;
    const char *slash = strrchr(p, '/');
    snprintf(out, len, "%.255s", slash ? slash + 1 : p);
}

/* glibc's allocator, inside libc.so.6: its entry points and the internals they call.  perf
 * names some with their version ("cfree@GLIBC_2.2.5") or glibc's internal alias ("__GI_"). */
static int glibc_malloc_symbol(const char *name) {
    char sym[128];
    if (!strncmp(name, "__GI_", 5)) name += 5;
    snprintf(sym, sizeof sym, "%.*s", (int)strcspn(name, "@"), name);
    static const char *const exact[] = {
        "malloc",        "free",           "calloc",        "realloc",       "cfree",
        "memalign",      "aligned_alloc",  "posix_memalign", "valloc",        "pvalloc",
        "reallocarray",  "malloc_usable_size", "sysmalloc",  "systrim",       "unlink_chunk",
        "malloc_consolidate", "munmap_chunk", "mremap_chunk", "malloc_trim", "arena_get2",
        "tcache_init",   "new_heap",       "alloc_new_heap", "shrink_heap",  "heap_trim",
        "_mid_memalign", NULL};
    for (int i = 0; exact[i]; i++)
        if (!strcmp(sym, exact[i])) return 1;
    return !strncmp(sym, "_int_", 5) || !strncmp(sym, "__libc_malloc", 13) ||
           !strncmp(sym, "__libc_free", 11) || !strncmp(sym, "__libc_calloc", 13) ||
           !strncmp(sym, "__libc_realloc", 14) || !strncmp(sym, "__libc_memalign", 15) ||
           !strncmp(sym, "__malloc_", 9) || !strncmp(sym, "malloc_", 7) ||
           !strncmp(sym, "tcache_", 7) || !strncmp(sym, "arena_", 6);
}

/* Trims the blanks around s in place. */
static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n')) s[--n] = '\0';
    return s;
}

int time_split_read(struct time_split *ts, const char *preload, struct time_split_samples *out) {
    memset(out, 0, sizeof *out);
    if (access(ts->data, R_OK) != 0) return -1;
    char alloc_dso[256] = "";
    if (preload && preload[0]) dso_name(preload, alloc_dso, sizeof alloc_dso);
    /* one line a symbol: "  12.34% ; 567 ; libfoo.so ; [.] name" */
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "perf report -i %s --stdio -q --no-children -n --sort dso,sym -t ';' 2>/dev/null",
             ts->data);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[1024];
    while (fgets(line, sizeof line, p)) {
        char *field[4], *save = NULL, *tok = strtok_r(line, ";", &save);
        int k = 0;
        for (; tok && k < 4; tok = strtok_r(NULL, ";", &save))
            field[k++] = trim(tok);
        if (k < 4) continue;
        double n = strtod(field[1], NULL);
        const char *dso = field[2], *sym = field[3];
        if (n <= 0) continue;
        out->total += n;
        int kernel = !strncmp(sym, "[k]", 3) || !strcmp(dso, "[kernel.kallsyms]");
        if (sym[0] == '[' && sym[1] && sym[2] == ']') sym = trim((char *)sym + 3);
        if (kernel)
            out->kernel += n;
        else if (alloc_dso[0] ? !strcmp(dso, alloc_dso)
                              : (!strncmp(dso, "libc.so", 7) || !strncmp(dso, "libc-", 5)) &&
                                    glibc_malloc_symbol(sym))
            out->alloc += n;
    }
    int rc = pclose(p);
    return rc == 0 && out->total > 0 ? 0 : -1;
}

void time_split_close(struct time_split *ts) {
    scratch_dir_remove(ts->dir);
}
