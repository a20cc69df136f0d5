/*
 * hak record -o run.db [options] -- COMMAND [ARGS...]: runs a command (optionally on a chosen
 * allocator) and records it into a run database: smaps_rollup every interval, full smaps, hakmem
 * counters and perf events at every phase mark and every N intervals.  The recording itself is
 * recorder.c; this file is the command line.  docs/collector.md is the user's guide.
 *
 * Exit status: the command's own (128 + N when a signal N ended it or the recording was
 * interrupted by it, 124 after --timeout); 1 when the database cannot be opened or written; 2 for
 * bad usage (options, unknown allocator or event); 126/127 when the command cannot be run.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "allocators.h"
#include "hak.h"
#include "recorder.h"
#include "run_db.h"

#define PROG "hak record"

static void record_usage(FILE *out) {
    fprintf(out,
            "usage: hak record -o FILE [options] -- COMMAND [ARGS...]\n"
            "       hak record -o FILE -p PID [--duration S] [options]\n"
            "\n"
            "Runs COMMAND and records its memory into the SQLite database FILE (created, or\n"
            "appended to): smaps_rollup every interval; every mapping, hakmem's counters and perf\n"
            "events at each phase mark and every N intervals.  docs/collector.md has the details.\n"
            "\n"
            "  -o, --output FILE      run database to write (required)\n"
            "  -a, --alloc NAME       preload an allocator: hakmem, glibc, mimalloc, jemalloc,\n"
            "                         tcmalloc, or NAME=PATH for a library of your own\n"
            "                         (default: none, the command's own malloc)\n"
            "  -i, --interval MS      sampling interval in milliseconds (default %g)\n"
            "      --smaps-every N    full smaps snapshot every N intervals, 0: only at phase\n"
            "                         marks (default %d)\n"
            "      --max-cpu PCT      CPU the timer's page-table walks may use, %% of one CPU\n"
            "                         (default %g); a tick over budget reads statm instead of\n"
            "                         smaps_rollup; 100: the rollup at every tick\n"
            "  -e, --events LIST      perf events, comma-separated, or 'none'\n"
            "                         (default %s;\n"
            "                         task-clock, page-faults, context-switches where those\n"
            "                         are unsupported)\n"
            "      --timeout S        kill the command after S seconds\n"
            "  -p, --pid PID          sample a running process instead of a command (no perf\n"
            "                         events); until it exits, --duration ends, or a signal\n"
            "      --duration S       with -p: stop sampling after S seconds\n"
            "  -q, --quiet            no summary line\n",
            HAK_RECORD_DEFAULT_INTERVAL_MS, HAK_RECORD_DEFAULT_SMAPS_EVERY,
            HAK_RECORD_DEFAULT_MAX_CPU_PCT, HAK_RECORD_DEFAULT_EVENTS);
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see hak record --help)\n");
    return 2;
}

/* "--name=value", "--name value", "-x value"; advances *i past a separate value.  Returns 1 when
 * arg is this option (value NULL if it is missing). */
static int option(const char *longname, const char *shortname, int argc, char **argv, int *i,
                  const char **value) {
    const char *arg = argv[*i];
    size_t n = strlen(longname);
    *value = NULL;
    if (strncmp(arg, longname, n) == 0 && arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (strcmp(arg, longname) == 0 || (shortname && strcmp(arg, shortname) == 0)) {
        if (*i + 1 < argc) *value = argv[++*i];
        return 1;
    }
    return 0;
}

static int parse_number(const char *text, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

int cmd_record(int argc, char **argv) {
    struct hak_record_opts o;
    hak_record_defaults(&o);
    o.hak_build = hak_build_id;
    o.prog = PROG;
    const char *output = NULL, *alloc_name = NULL;
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i], *value;
        double num;
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            record_usage(stdout);
            return 0;
        } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
            o.quiet = 1;
        } else if (option("--output", "-o", argc, argv, &i, &value)) {
            if (!value) return usage_error("%s needs a file name", arg);
            output = value;
        } else if (option("--alloc", "-a", argc, argv, &i, &value)) {
            if (!value) return usage_error("%s needs an allocator name", arg);
            alloc_name = value;
        } else if (option("--interval", "-i", argc, argv, &i, &value)) {
            if (!value || parse_number(value, 0.1, 60000, &num) != 0)
                return usage_error("bad --interval '%s' (milliseconds, 0.1 to 60000)",
                                   value ? value : "");
            o.interval_ms = num;
        } else if (option("--smaps-every", NULL, argc, argv, &i, &value)) {
            if (!value || parse_number(value, 0, 1000000, &num) != 0 || num != (int)num)
                return usage_error("bad --smaps-every '%s' (a count of intervals, 0: marks only)",
                                   value ? value : "");
            o.smaps_every = (int)num;
        } else if (option("--max-cpu", NULL, argc, argv, &i, &value)) {
            if (!value || parse_number(value, 0.01, 100, &num) != 0)
                return usage_error("bad --max-cpu '%s' (percent of one CPU, 0.01 to 100)",
                                   value ? value : "");
            o.max_cpu_pct = num;
        } else if (option("--events", "-e", argc, argv, &i, &value)) {
            if (!value) return usage_error("%s needs a list of events", arg);
            o.events = value;
            o.events_named = 1;
        } else if (option("--pid", "-p", argc, argv, &i, &value)) {
            if (!value || parse_number(value, 1, 4194304, &num) != 0 || num != (int)num)
                return usage_error("bad --pid '%s' (a process id)", value ? value : "");
            o.attach_pid = (int)num;
        } else if (option("--duration", NULL, argc, argv, &i, &value)) {
            if (!value || parse_number(value, 0.01, 86400 * 7, &num) != 0)
                return usage_error("bad --duration '%s' (seconds)", value ? value : "");
            o.duration_s = num;
        } else if (option("--timeout", NULL, argc, argv, &i, &value)) {
            if (!value || parse_number(value, 1, 86400 * 7, &num) != 0)
                return usage_error("bad --timeout '%s' (seconds)", value ? value : "");
            o.timeout_s = (int)num;
        } else if (arg[0] == '-') {
            return usage_error("unknown option '%s'", arg);
        } else {
            break; /* the command, without a "--" */
        }
    }
    if (!output) return usage_error("%s", "no output database given (-o FILE)");
    if (o.attach_pid > 0) {
        if (i < argc) return usage_error("%s", "-p and a command exclude each other");
        if (alloc_name) return usage_error("%s", "--alloc needs a command: -p attaches as it is");
        if (o.timeout_s) return usage_error("%s", "--timeout kills a command; with -p use --duration");
        /* Perf events attach at the command's exec (enable_on_exec); a running process has
         * none, so an attached recording samples memory and counters only. */
        o.events = "none";
    } else {
        if (o.duration_s > 0) return usage_error("%s", "--duration goes with -p PID");
        if (i >= argc)
            return usage_error("%s", "no command given (hak record -o FILE -- COMMAND, or -p PID)");
        o.argv = &argv[i];
    }

    char err[1024], path[HAK_ALLOC_PATH_MAX];
    if (alloc_name) {
        const struct hak_allocator *a = hak_allocator_lookup(alloc_name, err, sizeof err);
        if (!a) {
            fprintf(stderr, PROG ": %s\n", err);
            return 2;
        }
        if (hak_allocator_resolve(a, path, sizeof path, err, sizeof err) != 0) {
            fprintf(stderr, PROG ": %s\n", err);
            return 2;
        }
        o.allocator = a->name;
        o.preload = path;
    }
    if (hak_record_check_events(o.events, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return 2;
    }
    int status;
    if (o.argv && hak_record_check_command(o.argv[0], err, sizeof err, &status) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return status;
    }
    struct run_db *db = run_db_open(output, RUN_DB_CREATE, err, sizeof err);
    if (!db) {
        fprintf(stderr, PROG ": %s\n", err);
        return 1;
    }

    struct hak_record_result res;
    int rc = hak_record_run(db, &o, &res);
    int close_rc = run_db_close(db);
    if (rc != 0) {
        fprintf(stderr, PROG ": %s\n", res.error);
        if (res.exec_errno) return res.exec_errno == ENOENT ? 127 : 126;
        return 1;
    }
    if (close_rc != 0 && !res.db_failed) {
        fprintf(stderr, PROG ": closing %s failed; the last samples may be missing\n", output);
        res.db_failed = 1;
    }

    int st = res.wait_status, exit_code;
    char how[160];
    if (o.attach_pid > 0) {
        if (strcmp(res.state, "exited") == 0)
            snprintf(how, sizeof how, "process %d exited while recorded; sampled until then",
                     o.attach_pid);
        else
            snprintf(how, sizeof how, "detached from process %d", o.attach_pid);
        exit_code = 0;
    } else if (res.interrupted) {
        snprintf(how, sizeof how, "interrupted by signal %d (%s); the command was stopped",
                 res.interrupted, strsignal(res.interrupted));
        exit_code = 128 + res.interrupted;
    } else if (res.timed_out) {
        snprintf(how, sizeof how, "killed after --timeout %d s", o.timeout_s);
        exit_code = 124;
    } else if (WIFSIGNALED(st)) {
        snprintf(how, sizeof how, "%s killed by signal %d (%s)%s", o.argv[0], WTERMSIG(st),
                 strsignal(WTERMSIG(st)), WCOREDUMP(st) ? ", core dumped" : "");
        exit_code = 128 + WTERMSIG(st);
    } else {
        exit_code = WEXITSTATUS(st);
        snprintf(how, sizeof how, "%s, exit status %d", res.state, exit_code);
    }
    if (res.db_failed) exit_code = exit_code ? exit_code : 1;
    /* Abnormal ends are always reported; a normal one unless --quiet. */
    /* Abnormal ends and lost samples are always reported; a normal run unless --quiet. */
    if (!o.quiet || res.interrupted || res.timed_out || WIFSIGNALED(st) || res.db_failed ||
        res.gaps || res.processes == 0) {
        char share[64] = "", procs[96] = "", gaps[160] = "";
        if (res.wall_s >= 0.1) /* a share of a few milliseconds says nothing */
            snprintf(share, sizeof share, " (%.1f%% of one CPU)",
                     100.0 * res.collector_cpu_s / res.wall_s);
        if (res.processes > 1 || res.execs > 0)
            snprintf(procs, sizeof procs, " over %ld processes and %ld execs", res.processes,
                     res.execs);
        if (res.gaps)
            snprintf(gaps, sizeof gaps,
                     "; INCOMPLETE: %ld sampling gaps, the longest %.0f ms (runs.note)", res.gaps,
                     res.longest_gap_ms);
        else if (res.processes == 0)
            snprintf(gaps, sizeof gaps,
                     "; NOT SAMPLED: the command ended before it could be read (rusage only)");
        fprintf(stderr,
                PROG ": run %lld in %s: %s; %ld samples%s (%ld from smaps_rollup), %ld snapshots, "
                     "%ld marks in %.2f s; collector CPU %.3f s%s%s\n",
                (long long)res.run_id, output, how, res.samples, procs, res.rollups,
                res.snapshots, res.marks, res.wall_s, res.collector_cpu_s, share, gaps);
    }
    return exit_code;
}
