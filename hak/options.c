/*
 * What the verbs' option parsing shares (hak.h): one wording of a usage error.
 */
#include <getopt.h>
#include <stdio.h>

#include "hak.h"

int hak_bad_option(const char *verb, char *const *argv) {
    fprintf(stderr, "hak %s: unknown or incomplete option '%s' (hak %s --help)\n", verb,
            argv[optind - 1], verb);
    return 2;
}
