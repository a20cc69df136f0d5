/*
 * Driving gnuplot (gnuplot.h): where the chart scripts are, running one, and the text filter every
 * name from a run database goes through on its way to a chart.
 */
#include "gnuplot.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* scripts/ next to the build (build/bin/hak -> ../../scripts), or where make install put them
 * (PREFIX/bin/hak -> ../share/hakmem); HAK_SCRIPTS_DIR overrides. */
int gnuplot_scripts_dir(char *out, size_t n) {
    const char *env = getenv("HAK_SCRIPTS_DIR");
    if (env && *env) {
        /* Absolute, since gnuplot runs in the chart folder. */
        char abs[PATH_MAX];
        if (!realpath(env, abs)) return -1;
        snprintf(out, n, "%s", abs);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return -1;
    exe[len] = 0;
    char *bin = strrchr(exe, '/');
    if (bin) {
        *bin = 0;
        snprintf(out, n, "%.3800s/../share/hakmem/rss-timeline.gp", exe);
        if (access(out, R_OK) == 0 && realpath(exe, out)) {
            char *slash = strrchr(out, '/'); /* PREFIX/bin -> PREFIX */
            if (slash) *slash = 0;
            size_t used = strlen(out);
            snprintf(out + used, n - used, "/share/hakmem");
            return 0;
        }
        *bin = '/';
    }
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(exe, '/');
        if (!slash) return -1;
        *slash = 0;
        snprintf(out, n, "%.3800s/scripts/rss-timeline.gp", exe);
        if (access(out, R_OK) == 0) {
            snprintf(out, n, "%.3800s/scripts", exe);
            return 0;
        }
    }
    return -1;
}

/* Runs gnuplot in folder `cwd` with -e DEFINITION for each of vars, then the script (an absolute
 * path).  The chart files are named relative to cwd, so no user path reaches gnuplot's parser.
 * 0 on success. */
int gnuplot_run(const char *script, const char *cwd, const char *const *vars, int nvars, char *err,
                size_t errlen) {
    char *argv[2 * GNUPLOT_MAX_VARS + 3];
    int a = 0;
    argv[a++] = "gnuplot";
    assert(nvars <= GNUPLOT_MAX_VARS);
    for (int i = 0; i < nvars && i < GNUPLOT_MAX_VARS; i++) {
        argv[a++] = "-e";
        argv[a++] = (char *)vars[i];
    }
    argv[a++] = (char *)script;
    argv[a] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        if (chdir(cwd) != 0) _exit(126);
        execvp("gnuplot", argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
        snprintf(err, errlen,
                 "gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)");
        return -1;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 126) {
        snprintf(err, errlen, "cannot enter %s to draw its charts", cwd);
        return -1;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(err, errlen, "gnuplot failed on %s", script);
        return -1;
    }
    return 0;
}

/* Text read from a run database, made safe to show on a chart: every byte outside a small set
 * becomes '_', so no quote, backquote, newline or other gnuplot syntax survives.  Spaces are kept
 * only where asked (titles); labels are words in data files and in `names`. */
void gnuplot_safe_text(char *out, size_t n, const char *in, int keep_spaces) {
    size_t o = 0;
    for (; *in && o + 1 < n; in++) {
        char ch = *in;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 (ch && strchr("._:+=/,()@-", ch)) || (ch == ' ' && keep_spaces);
        out[o++] = ok ? ch : '_';
    }
    out[o] = 0;
}

/* A gnuplot -e definition name='value'.  Single-quoted gnuplot strings expand no backquotes, and
 * chart_text leaves no quote in the value, so the value stays data. */
void gnuplot_string_def(char *out, size_t n, const char *name, const char *value) {
    char safe[2000];
    gnuplot_safe_text(safe, sizeof safe, value, 1);
    snprintf(out, n, "%s='%s'", name, safe);
}
