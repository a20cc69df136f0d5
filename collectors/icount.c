/*
 * Instruction counting for hak bench --icount (icount.h).
 */
#include "icount.h"

#include "scratch_dir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 0 when the shell command exits 0 (its output thrown away).  perf exits 0 with "<not
 * supported>" where there is no PMU, so its probe greps for a count. */
static int works(const char *cmd) {
    char line[256];
    snprintf(line, sizeof line, "(%s) >/dev/null 2>&1", cmd);
    return system(line) == 0 ? 0 : -1;
}

/* "--LL=SIZE,WAYS,LINE" for this CPU's L2 from sysfs, into buf; "" when sysfs does not say or
 * valgrind could not simulate that shape (its sets must be a power of two). */
static void l2_shape(char *buf, size_t len, char *words, size_t words_len) {
    static const char *const files[3] = {"size", "ways_of_associativity", "coherency_line_size"};
    unsigned long v[3];
    buf[0] = '\0';
    snprintf(words, words_len, "valgrind's default last level");
    for (int i = 0; i < 3; i++) {
        char path[96], text[32];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index2/%s", files[i]);
        FILE *f = fopen(path, "r");
        if (!f) return;
        char *got = fgets(text, sizeof text, f);
        fclose(f);
        if (!got) return;
        char *end;
        v[i] = strtoul(text, &end, 10);
        if (*end == 'K') v[i] *= 1024;
        if (v[i] == 0) return;
    }
    unsigned long sets = v[0] / (v[1] * v[2]);
    if (sets == 0 || (sets & (sets - 1)) || sets * v[1] * v[2] != v[0]) return;
    snprintf(buf, len, "--LL=%lu,%lu,%lu", v[0], v[1], v[2]);
    snprintf(words, words_len, "this CPU's L2 (%lu KiB, %lu-way)", v[0] / 1024, v[1]);
}

int icount_open(struct icount *ic, char *why, size_t why_len) {
    enum icount_sim sim = ic->sim;
    memset(ic, 0, sizeof *ic);
    ic->sim = sim;
    const char *forced = getenv("HAK_ICOUNT_TOOL");
    int perf_ok = -1;
    if (sim) {
        if (works("valgrind --version") != 0) {
            snprintf(why, why_len, "%s needs valgrind (scripts/install-deps.sh installs it)",
                     sim == ICOUNT_SIM_TLB ? "--tlbsim" : "--cachesim");
            return -1;
        }
        ic->tool = ICOUNT_CALLGRIND;
    } else if (forced && *forced) {
        if (!strcmp(forced, "perf"))
            ic->tool = ICOUNT_PERF;
        else if (!strcmp(forced, "callgrind"))
            ic->tool = ICOUNT_CALLGRIND;
        else {
            snprintf(why, why_len, "HAK_ICOUNT_TOOL must be perf or callgrind, not '%.40s'", forced);
            return -1;
        }
    } else if ((perf_ok = works("perf stat -x, -e instructions:u true 2>&1 | grep -q '^[0-9]'")) == 0) {
        ic->tool = ICOUNT_PERF;
    } else if (works("valgrind --version") == 0) {
        ic->tool = ICOUNT_CALLGRIND;
    } else {
        snprintf(why, why_len, "--icount needs perf with a hardware PMU or valgrind, and this "
                               "machine has neither (scripts/install-deps.sh installs valgrind)");
        return -1;
    }
    if (scratch_dir_make(ic->dir, sizeof ic->dir, "icount") != 0) {
        snprintf(why, why_len, "cannot create a directory under /tmp for the instruction counts");
        return -1;
    }
    int n = 0;
    if (ic->tool == ICOUNT_PERF) {
        snprintf(ic->out, sizeof ic->out, "%s/perf", ic->dir);
        snprintf(ic->arg_out, sizeof ic->arg_out, "--output=%s", ic->out);
        ic->prefix[n++] = "perf";
        ic->prefix[n++] = "stat";
        ic->prefix[n++] = "-x,";
        ic->prefix[n++] = "-e";
        ic->prefix[n++] = "instructions:u";
        ic->prefix[n++] = ic->arg_out;
        ic->prefix[n++] = "--";
        snprintf(why, why_len, "counting instructions with perf stat -e instructions:u");
    } else {
        /* One file per process (%p), summed: the workload and anything it runs. */
        snprintf(ic->out, sizeof ic->out, "%s/callgrind", ic->dir);
        snprintf(ic->arg_out, sizeof ic->arg_out, "--callgrind-out-file=%s.%%p", ic->out);
        ic->prefix[n++] = "valgrind";
        ic->prefix[n++] = "--tool=callgrind";
        ic->prefix[n++] = "--trace-children=yes";
        ic->prefix[n++] = "-q";
        ic->prefix[n++] = ic->arg_out;
        if (sim) ic->prefix[n++] = "--cache-sim=yes";
        if (sim == ICOUNT_SIM_TLB) {
            snprintf(ic->arg_d1, sizeof ic->arg_d1, "--D1=%d,%d,%d", 64 * 4096, 64, 4096);
            snprintf(ic->arg_ll, sizeof ic->arg_ll, "--LL=%d,%d,%d", 1536 * 4096, 6, 4096);
            ic->prefix[n++] = ic->arg_d1;
            ic->prefix[n++] = ic->arg_ll;
            snprintf(why, why_len,
                     "simulating the data TLBs with valgrind --tool=callgrind --cache-sim=yes, "
                     "4 KiB pages as lines: 64 entries fully associative, then 1,536 6-way");
        } else if (sim) {
            char words[64];
            l2_shape(ic->arg_ll, sizeof ic->arg_ll, words, sizeof words);
            if (ic->arg_ll[0]) ic->prefix[n++] = ic->arg_ll;
            snprintf(why, why_len,
                     "simulating the caches with valgrind --tool=callgrind --cache-sim=yes: "
                     "D1 as valgrind finds it, LL as %s",
                     words);
        } else {
            snprintf(why, why_len, "counting instructions with valgrind --tool=callgrind%s",
                     forced ? " (HAK_ICOUNT_TOOL)"
                     : perf_ok ? " (perf stat -e instructions is not supported on this machine)"
                               : "");
        }
    }
    ic->prefix[n] = NULL;
    return 0;
}

void icount_wrap(struct icount *ic, char **argv, char **out) {
    scratch_dir_clear(ic->dir);
    int n = 0;
    for (int i = 0; ic->prefix[i]; i++)
        out[n++] = (char *)ic->prefix[i];
    for (int i = 0; argv[i]; i++)
        out[n++] = argv[i];
    out[n] = NULL;
}

/* Adds one counter file: callgrind's "events:" names the columns of its "summary:" (or
 * "totals:") line, of which Ir is the instructions and D1mr + D1mw, DLmr + DLmw the data misses;
 * perf's CSV row "N,,instructions:u,..." has the instructions only.  A file without one adds
 * nothing. */
static void add_file(const struct icount *ic, const char *path, struct icount_counts *c) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    int found = 0, col[5] = {-1, -1, -1, -1, -1}; /* Ir D1mr D1mw DLmr DLmw */
    static const char *const names[5] = {"Ir", "D1mr", "D1mw", "DLmr", "DLmw"};
    double v[5] = {0, 0, 0, 0, 0};
    while (fgets(line, sizeof line, f)) {
        if (ic->tool == ICOUNT_CALLGRIND) {
            if (!strncmp(line, "events:", 7)) {
                int k = 0;
                for (char *t = strtok(line + 7, " \t\n"); t; t = strtok(NULL, " \t\n"), k++)
                    for (int i = 0; i < 5; i++)
                        if (!strcmp(t, names[i])) col[i] = k;
            }
            /* "summary:" is the whole run; "totals:" repeats it, so take one of them. */
            if (!strncmp(line, "summary:", 8) || (!found && !strncmp(line, "totals:", 7))) {
                char *p = strchr(line, ':') + 1;
                memset(v, 0, sizeof v);
                for (int k = 0;; k++) {
                    char *end;
                    double x = strtod(p, &end);
                    if (end == p) break;
                    for (int i = 0; i < 5; i++)
                        if (col[i] == k) v[i] = x;
                    p = end;
                }
                if (col[0] < 0) v[0] = strtod(strchr(line, ':') + 1, NULL); /* no events line */
                found = 1;
            }
        } else if (strstr(line, ",instructions") && line[0] >= '0' && line[0] <= '9') {
            v[0] += strtod(line, NULL);
            found = 1;
        }
    }
    fclose(f);
    if (!found) return;
    c->instructions += v[0];
    c->d1 += v[1] + v[2];
    c->ll += v[3] + v[4];
}

/* The sums over the last wrapped run's counter files. */
static void read_counts(struct icount *ic, struct icount_counts *c) {
    memset(c, 0, sizeof *c);
    DIR *d = opendir(ic->dir);
    if (!d) return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", ic->dir, e->d_name);
        add_file(ic, path, c);
    }
    closedir(d);
}

int icount_read(struct icount *ic, struct icount_counts *out) {
    read_counts(ic, out);
    if (out->instructions <= 0) return -1;
    return ic->sim && out->d1 <= 0 ? -2 : 0;
}

void icount_close(struct icount *ic) {
    scratch_dir_remove(ic->dir);
}
