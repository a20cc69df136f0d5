/*
 * hak diff: compares two builds on the same profile — two run databases, or two builds recorded
 * in one — and with --fail-if-worse PCT acts as a regression gate.  This file is the verb's flow:
 * its options, which runs make each side, the exit status; the comparison is
 * reports/build_diff.c.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "build_diff.h"
#include "hak.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: hak diff A.DB B.DB [--fail-if-worse PCT]\n"
            "       hak diff RUN.DB [BUILD_A BUILD_B] [--fail-if-worse PCT]\n"
            "  compares B against A per benchmark, allocator and phase (Rss - LazyFree, overhead,\n"
            "  ops/s): medians, delta, run-to-run spread, verdict better / worse / within noise.\n"
            "  With one database, BUILD_A and BUILD_B are build ids (or prefixes) of its runs;\n"
            "  without them the database must hold exactly two builds of hakmem (peers are then\n"
            "  left out; a git sha prefix as BUILD selects hakmem and the peers of that tree).\n"
            "  --fail-if-worse PCT  exit 1 when a figure is worse by more than PCT %% (and the "
            "noise)\n"
            "  --json               one JSON document on stdout instead of Markdown\n"
            "Exit 2 when nothing could be compared.\n");
}

int cmd_diff(int argc, char **argv) {
    static const struct option opts[] = {{"fail-if-worse", required_argument, NULL, 'f'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    double fail_pct = NAN;
    int c, json = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "f:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': {
            char *end;
            errno = 0;
            fail_pct = strtod(optarg, &end);
            if (errno || *end || !(fail_pct >= 0)) {
                fprintf(stderr, "hak diff: --fail-if-worse wants a percentage (e.g. 5), not '%s'\n",
                        optarg);
                return 2;
            }
            break;
        }
        case 'j':
            json = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return hak_bad_option("diff", argv);
        }
    }
    int npos = argc - optind;
    char **pos = argv + optind;
    if (npos != 1 && npos != 2 && npos != 3) {
        fprintf(stderr, "hak diff: %s\n",
                npos == 0 ? "no run database given" : "too many arguments");
        return 2;
    }
    char err[1024];
    struct diff_side a = {0}, b = {0};
    struct diff_result res = {0};
    int rc = 1;
    char labels[2][200];
    if (npos == 2) {
        if (diff_load_side(pos[0], &a, err, sizeof err) ||
            diff_load_side(pos[1], &b, err, sizeof err)) {
            fprintf(stderr, "hak diff: %s\n", err);
            goto out;
        }
        snprintf(labels[0], sizeof labels[0], "%s", pos[0]);
        snprintf(labels[1], sizeof labels[1], "%s", pos[1]);
    } else {
        if (diff_load_side(pos[0], &a, err, sizeof err) ||
            diff_load_side(pos[0], &b, err, sizeof err)) {
            fprintf(stderr, "hak diff: %s\n", err);
            goto out;
        }
        const char *ba, *bb;
        if (npos == 3) {
            ba = pos[1];
            bb = pos[2];
        } else {
            int nb = diff_two_builds(&a, &ba, &bb);
            if (nb != 2) {
                fprintf(stderr,
                        "hak diff: %s holds %d build%s; name the two to compare "
                        "(hak diff %s BUILD_A BUILD_B) or give two databases\n",
                        pos[0], nb, nb == 1 ? "" : "s", pos[0]);
                goto out;
            }
        }
        snprintf(labels[0], sizeof labels[0], "%s", ba);
        snprintf(labels[1], sizeof labels[1], "%s", bb);
        if (!diff_keep_build(&a, labels[0]) || !diff_keep_build(&b, labels[1])) {
            fprintf(stderr, "hak diff: %s: no runs of build '%s'\n", pos[0],
                    !a.n ? labels[0] : labels[1]);
            goto out;
        }
    }
    a.label = labels[0];
    b.label = labels[1];
    if (diff_compare(&a, &b, fail_pct, &res, stderr) != 0) {
        fprintf(stderr, "hak diff: out of memory\n");
        goto out;
    }
    /* A gate that compared nothing must not pass: that is a usage error, not a verdict. */
    if (!res.nrows) {
        fprintf(stderr, "hak diff: nothing to compare: %s\n",
                res.matched
                    ? "A and B share benchmarks and allocators but no figure measured on both"
                    : "A and B have no benchmark/allocator/profile in common");
        rc = 2;
        goto out;
    }
    if (json)
        diff_write_json(stdout, &a, &b, &res);
    else
        diff_write_markdown(stdout, &a, &b, &res);
    rc = 0;
    if (!isnan(fail_pct) && res.ngate) {
        fprintf(stderr, "hak diff: %d figure%s worse than A by more than %g%% (and the noise)\n",
                res.ngate, res.ngate == 1 ? " is" : "s are", fail_pct);
        rc = 1;
    }
out:
    diff_free(&a, &b, &res);
    return rc;
}
