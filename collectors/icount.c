/*
 * Instruction counting for hak bench --icount (icount.h).
 */
#include "icount.h"

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

int icount_open(struct icount *ic, char *why, size_t why_len) {
    memset(ic, 0, sizeof *ic);
    const char *forced = getenv("HAK_ICOUNT_TOOL");
    int perf_ok = -1;
    if (forced && *forced) {
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
    snprintf(ic->dir, sizeof ic->dir, "/tmp/hak-icount-XXXXXX");
    if (!mkdtemp(ic->dir)) {
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
        snprintf(why, why_len, "counting instructions with valgrind --tool=callgrind%s",
                 forced ? " (HAK_ICOUNT_TOOL)"
                 : perf_ok ? " (perf stat -e instructions is not supported on this machine)"
                           : "");
    }
    ic->prefix[n] = NULL;
    return 0;
}

/* Removes every file of the private directory. */
static void clear_dir(const struct icount *ic) {
    DIR *d = opendir(ic->dir);
    if (!d) return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", ic->dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

void icount_wrap(struct icount *ic, char **argv, char **out) {
    clear_dir(ic);
    int n = 0;
    for (int i = 0; ic->prefix[i]; i++)
        out[n++] = (char *)ic->prefix[i];
    for (int i = 0; argv[i]; i++)
        out[n++] = argv[i];
    out[n] = NULL;
}

/* Adds the count in one counter file: callgrind's "summary:"/"totals:" line, or perf's CSV row
 * "N,,instructions:u,...".  1 when the file had one. */
static int add_file(const struct icount *ic, const char *path, double *sum) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[1024];
    int found = 0;
    double total = 0;
    while (fgets(line, sizeof line, f)) {
        if (ic->tool == ICOUNT_CALLGRIND) {
            /* "summary:" is the whole run; "totals:" repeats it, so take one of them. */
            if (!strncmp(line, "summary:", 8) || (!found && !strncmp(line, "totals:", 7))) {
                total = strtod(strchr(line, ':') + 1, NULL);
                found = 1;
            }
        } else if (strstr(line, ",instructions") && line[0] >= '0' && line[0] <= '9') {
            total += strtod(line, NULL);
            found = 1;
        }
    }
    fclose(f);
    if (found) *sum += total;
    return found;
}

int icount_read(struct icount *ic, double *instructions) {
    *instructions = 0;
    DIR *d = opendir(ic->dir);
    if (!d) return -1;
    struct dirent *e;
    char path[512];
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", ic->dir, e->d_name);
        files += add_file(ic, path, instructions);
    }
    closedir(d);
    return files > 0 && *instructions > 0 ? 0 : -1;
}

void icount_close(struct icount *ic) {
    if (!ic->dir[0]) return;
    clear_dir(ic);
    rmdir(ic->dir);
    ic->dir[0] = '\0';
}
