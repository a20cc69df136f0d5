/*
 * hak replay: `hak replay [--strict=1] [--touch=N] [--rounds=N] FILE.trace` runs the replay
 * workload (build/bin/replay, bench/replay.c) on a trace, so that a trace replays the same way
 * from the toolkit as under `hak bench` and `hak record`.  The allocator is the one preloaded.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "allocators.h"
#include "hak.h"

int cmd_replay(int argc, char **argv) {
    char exe[4096], bin[4200];
    if (hak_exe_dir(exe, sizeof exe) != 0) {
        fprintf(stderr, "hak replay: cannot find the directory of the hak binary\n");
        return 1;
    }
    snprintf(bin, sizeof bin, "%s/replay", exe);
    if (argc < 2) {
        fprintf(stderr,
                "hak replay: no trace given (hak replay [--strict=1] FILE.trace; "
                "%s --help for the options)\n",
                bin);
        return 2;
    }
    argv[0] = bin;
    execv(bin, argv);
    fprintf(stderr, "hak replay: cannot run %s: %s (run make)\n", bin, strerror(errno));
    return 1;
}
