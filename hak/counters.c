/*
 * hak counters PID: prints a running hakmem process's counter totals
 * (and, with --regions, the address ranges it owns per tier; with
 * --classes, its thread caches per size class), read from its counter
 * segment while it runs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter_reader.h"
#include "hak.h"

static void counters_usage(FILE *out)
{
    fprintf(out, "usage: hak counters [--all] [--regions] [--classes] PID\n"
                 "  --all        also print counters (and size classes) that are zero\n"
                 "  --regions    print the address ranges hakmem owns, per tier\n"
                 "  --classes    print the thread caches per size class: threads with a\n"
                 "               cache, their adaptive capacity and the blocks they hold\n"
                 "The process's counter segment is a memfd found through /proc/PID/fd:\n"
                 "reading it takes the process's user or root.\n");
}

static void print_regions(const struct hak_reader *r)
{
    size_t cap = hak_reader_header(r)->region_capacity;
    struct hak_probe_region *regions = calloc(cap, sizeof(*regions));
    long n = regions ? hak_reader_regions(r, regions, cap) : -1;
    if (n < 0) {
        fprintf(stderr, "hak counters: no consistent region table (process busy mapping)\n");
        free(regions);
        return;
    }
    uint64_t bytes[4] = {0}, count[4] = {0};
    for (long i = 0; i < n && (size_t)i < cap; i++) {
        uint32_t t = regions[i].tier < 4 ? regions[i].tier : 3;
        bytes[t] += regions[i].size;
        count[t]++;
    }
    printf("\n%-8s %10s %16s\n", "tier", "regions", "bytes");
    for (uint32_t t = 0; t < 4; t++)
        printf("%-8s %10llu %16llu\n", hak_reader_tier_name(t), (unsigned long long)count[t],
               (unsigned long long)bytes[t]);
    free(regions);
}

/* The thread caches of every size class: the live threads' capacities and
 * what they hold, in blocks and bytes. */
static void print_classes(const struct hak_reader *r, bool all)
{
    unsigned n = hak_reader_class_count(r);
    struct hak_reader_class *c = calloc(n ? n : 1, sizeof(*c));
    if (!c || !hak_reader_classes(r, c)) {
        fprintf(stderr, "hak counters: no consistent read of the thread caches (process busy)\n");
        free(c);
        return;
    }
    printf("\n%-6s %8s %8s %12s %14s %12s %14s\n", "class", "size", "threads", "capacity",
           "capacity_B", "cached", "cached_B");
    uint64_t cap_b = 0, cached_b = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t size = hak_reader_class_size(r, i);
        cap_b += c[i].capacity * size;
        cached_b += c[i].cached * size;
        if (all || c[i].capacity || c[i].cached)
            printf("%-6u %8llu %8llu %12llu %14llu %12llu %14llu\n", i, (unsigned long long)size,
                   (unsigned long long)c[i].threads, (unsigned long long)c[i].capacity,
                   (unsigned long long)(c[i].capacity * size), (unsigned long long)c[i].cached,
                   (unsigned long long)(c[i].cached * size));
    }
    printf("%-6s %8s %8s %12s %14llu %12s %14llu\n", "total", "", "", "",
           (unsigned long long)cap_b, "", (unsigned long long)cached_b);
    free(c);
}

int cmd_counters(int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
                                         {"regions", no_argument, NULL, 'r'},
                                         {"classes", no_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool all = false, show_regions = false, show_classes = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+arch", opts, NULL)) != -1) {
        switch (c) {
        case 'a': all = true; break;
        case 'r': show_regions = true; break;
        case 'c': show_classes = true; break;
        case 'h': counters_usage(stdout); return 0;
        default:
            fprintf(stderr, "hak counters: unknown option '%s'\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "hak counters: expected one PID\n");
        return 2;
    }
    const char *target = argv[optind];
    char err[600];
    char *end;
    errno = 0;
    long pid = strtol(target, &end, 10);
    if (*end != 0 || errno != 0 || pid <= 0 || pid > 0x7fffffff) {
        fprintf(stderr, "hak counters: '%s' is not a process id\n", target);
        return 2;
    }
    struct hak_reader *r = hak_reader_open_pid((pid_t)pid, err, sizeof err);
    if (!r) {
        fprintf(stderr, "hak counters: %s\n", err);
        return 1;
    }
    unsigned n = hak_reader_counter_count(r);
    uint64_t *v = calloc(n, sizeof(*v));
    if (!v || !hak_reader_totals(r, v)) {
        fprintf(stderr, "hak counters: no consistent snapshot of %s\n", target);
        free(v);
        hak_reader_close(r);
        return 1;
    }
    const struct hak_probe_header *h = hak_reader_header(r);
    printf("# pid %lld, build %s, %s\n", (long long)h->pid, hak_reader_build_id(r),
           hak_reader_alive(r) ? "running" : "not running");
    printf("%-14s %-32s %20s\n", "group", "counter", "value");
    for (unsigned i = 0; i < n; i++)
        if (all || v[i])
            printf("%-14s %-32s %20lld\n", hak_reader_counter_group(r, i),
                   hak_reader_counter_name(r, i), (long long)v[i]);
    if (show_regions) print_regions(r);
    if (show_classes) print_classes(r, all);
    free(v);
    hak_reader_close(r);
    return 0;
}
