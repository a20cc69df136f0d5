/*
 * Profiles: named, documented workload parameter sets (datasets/profiles/NAME.profile).
 *
 * A profile is a text file of `key = value` lines and `#` comments.  Top-level keys describe the
 * profile (`description`); a section header `[larson]` or `[battle]` starts a benchmark run, and
 * the keys below it are that benchmark's parameters (bench_params.h), checked against its table.  A
 * profile with two sections runs both benchmarks.  The format is documented in
 * datasets/profiles/README.md.
 */
#ifndef HAK_PROFILE_H
#define HAK_PROFILE_H

#include <stddef.h>

#include "bench_params.h"

#define PROFILE_MAX_SECTIONS 16
#define PROFILE_PATH_MAX 4096

struct profile_section {
    const struct bench_spec *spec;
    long long values[BENCH_MAX_PARAMS];
};

struct profile {
    char name[128];              /* file name without .profile */
    char path[PROFILE_PATH_MAX]; /* the file it came from */
    char description[512];       /* may be empty */
    int nsections;
    struct profile_section sections[PROFILE_MAX_SECTIONS];
};

/* Directory of the named profiles: $HAK_PROFILES_DIR, else datasets/profiles of the source tree the
 * running binary was built in (<exe>/../../datasets/profiles), else ./datasets/profiles. */
const char *profile_dir(char *buf, size_t len);

/* Loads a profile by name ("quick", looked up in profile_dir) or by path (anything with a '/' or
 * ending in .profile).  0, or -1 with one line in err ("profile 'x' not found (...)",
 * "FILE:LINE: unknown parameter ..."). */
int profile_load(const char *name_or_path, struct profile *out, char *err, size_t err_len);

/* Calls fn for each *.profile in profile_dir, sorted by name, with its description.  Returns the
 * number of profiles, or -1 when the directory cannot be read. */
int profile_list(void (*fn)(const char *name, const char *description, void *arg), void *arg);

#endif
