/*
 * libFuzzer harness for the workload parameters: profile files (collectors/profile.c,
 * datasets/profiles/NAME.profile) and benchmark command lines (bench/bench_params.c).  A profile is
 * a file users write and share; a bad one must give one line naming the file and line.
 *
 * Input: the profile text.  The same bytes, split at NULs and newlines, also serve as the
 * arguments of a larson and a battle command line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_params.h"
#include "profile.h"

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!path[0]) snprintf(path, sizeof path, "/tmp/hak-profile-fuzz.%ld.profile", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    fwrite(data, 1, size, f);
    fclose(f);
    static struct profile p;
    char err[512];
    err[0] = 0;
    if (profile_load(path, &p, err, sizeof err) != 0) {
        /* One line naming what is wrong. */
        if (!err[0] || strchr(err, '\n')) abort();
    } else {
        if (p.nsections < 1 || p.nsections > PROFILE_MAX_SECTIONS) abort();
    }
    unlink(path);

    char *copy = malloc(size + 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    copy[size] = 0;
    char *argv[66];
    int argc = 0;
    argv[argc++] = "bench";
    for (char *s = copy; s < copy + size && argc < 65;) {
        size_t n = strcspn(s, "\n");
        s[n] = 0;
        argv[argc++] = s;
        s += n + 1;
    }
    argv[argc] = NULL;
    const struct bench_spec *specs[2] = {&larson_spec, &battle_spec};
    for (int k = 0; k < 2; k++) {
        long long values[BENCH_MAX_PARAMS];
        bench_defaults(specs[k], values);
        err[0] = 0;
        if (bench_parse_args(specs[k], values, argc, argv, err, sizeof err) < 0 &&
            (!err[0] || strchr(err, '\n')))
            abort();
        char buf[1024];
        bench_format_params(specs[k], values, buf, sizeof buf);
    }
    free(copy);
    return 0;
}
