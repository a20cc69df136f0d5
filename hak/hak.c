/*
 * hak: the toolkit's single binary, perf-style: `hak VERB [ARGS]`.  This file only dispatches; each
 * verb lives in its own file and is listed once in verbs.def.
 */
#include <stdio.h>
#include <string.h>

#include "hak.h"

#ifndef HAK_BUILD_ID
#define HAK_BUILD_ID "unknown"
#endif

const char hak_build_id[] = HAK_BUILD_ID;

struct hak_verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct hak_verb verbs[] = {
#define HAK_VERB(name, function, summary) {#name, function, summary},
#include "verbs.def"
#undef HAK_VERB
};

static void usage(FILE *out) {
    fprintf(out, "usage: hak VERB [ARGS]    (hak VERB --help for a verb's options)\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out, "\n  help     this text\n  version  the build this binary comes from\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "hak: no verb given\n");
        usage(stderr);
        return 2;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "help") == 0 || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(verb, "version") == 0 || strcmp(verb, "--version") == 0) {
        printf("hak %s\n", hak_build_id);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(verb, verbs[i].name) == 0) return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hak: unknown verb '%s'\n", verb);
    usage(stderr);
    return 2;
}
