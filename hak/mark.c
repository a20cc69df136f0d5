/*
 * hak mark NAME: marks a phase from a shell script run under `hak record`, through the phase
 * protocol's descriptors that the recorder passes in the environment (docs/phase-protocol.md).
 * It is one short-lived client of libhakphase: the collector snapshots the process tree at the
 * mark before it acknowledges, so the script's state at the mark is what gets recorded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hak.h"
#include "hakphase.h"

static void usage(FILE *out) {
    fprintf(out, "usage: hak mark NAME [--live BYTES] [--value KEY=N]...\n"
                 "  marks phase NAME of the recording this runs under (hak record -o DB -- script):\n"
                 "  the collector takes a snapshot before this returns.\n"
                 "  --live BYTES   the bytes the program holds at the mark (live_bytes)\n"
                 "  --value KEY=N  also report a result KEY (a number), e.g. ops_per_sec=1200\n"
                 "NAME and KEY: [A-Za-z0-9_.-], 1 to %d characters.\n",
            HAK_PHASE_NAME_MAX);
}

static int name_ok(const char *s, size_t n) {
    if (n == 0 || n > HAK_PHASE_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", s[i]))
            return 0;
    return 1;
}

static int number_ok(const char *s, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *s && !*end && !errno;
}

int cmd_mark(int argc, char **argv) {
    const char *name = NULL, *live = NULL;
    const char *values[32];
    int nvalues = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--live") || !strcmp(a, "--value")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hak mark: %s needs a value (hak mark --help)\n", a);
                return 2;
            }
            if (a[2] == 'l')
                live = argv[++i];
            else if (nvalues < 32)
                values[nvalues++] = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "hak mark: unknown option '%s' (hak mark --help)\n", a);
            return 2;
        } else if (name) {
            fprintf(stderr, "hak mark: one phase name at a time ('%s' and '%s')\n", name, a);
            return 2;
        } else {
            name = a;
        }
    }
    if (!name) {
        fprintf(stderr, "hak mark: no phase name given (hak mark NAME)\n");
        return 2;
    }
    if (!name_ok(name, strlen(name))) {
        fprintf(stderr, "hak mark: '%s' is not a phase name ([A-Za-z0-9_.-], 1 to %d characters)\n",
                name, HAK_PHASE_NAME_MAX);
        return 2;
    }
    double live_bytes = 0;
    if (live && (!number_ok(live, &live_bytes) || live_bytes < 0)) {
        fprintf(stderr, "hak mark: --live wants a number of bytes, not '%s'\n", live);
        return 2;
    }
    for (int k = 0; k < nvalues; k++) {
        const char *eq = strchr(values[k], '=');
        double v;
        if (!eq || !name_ok(values[k], (size_t)(eq - values[k])) || !number_ok(eq + 1, &v)) {
            fprintf(stderr, "hak mark: --value wants KEY=NUMBER, not '%s'\n", values[k]);
            return 2;
        }
    }
    /* Outside a recording there is nobody to tell: say so rather than succeed silently. */
    const char *fd_text = getenv(HAK_PHASE_FD_ENV);
    char *end;
    long fd = fd_text ? strtol(fd_text, &end, 10) : -1;
    if (!fd_text || !*fd_text) {
        fprintf(stderr, "hak mark: not running under hak record (%s is not set); nothing marked\n",
                HAK_PHASE_FD_ENV);
        return 1;
    }
    if (*end || fd < 0 || fd > 1 << 20 || fcntl((int)fd, F_GETFD) < 0) {
        fprintf(stderr,
                "hak mark: %s=%s is not an open descriptor (was it closed by the script?); "
                "nothing marked\n",
                HAK_PHASE_FD_ENV, fd_text);
        return 1;
    }
    if (!hak_phase_init(HAK_PHASE_MARK_TOOL)) return 1; /* libhakphase said why */
    for (int k = 0; k < nvalues; k++) {
        const char *eq = strchr(values[k], '=');
        char key[HAK_PHASE_NAME_MAX + 1];
        snprintf(key, sizeof key, "%.*s", (int)(eq - values[k]), values[k]);
        hak_phase_result_f64(key, strtod(eq + 1, NULL));
    }
    if (live)
        hak_phase_mark_live(name, (uint64_t)live_bytes);
    else
        hak_phase_mark(name);
    return 0;
}
