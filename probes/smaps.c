/*
 * The smaps reader and mapping classifier (smaps.h).
 */
#include "smaps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hak_smaps_open(struct hak_smaps_source *src, pid_t pid) {
    char path[64];
    memset(src, 0, sizeof *src);
    src->smaps_fd = src->statm_fd = src->pagemap_fd = -1;
    src->page_kb = sysconf(_SC_PAGESIZE) / 1024;
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    src->rollup_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (src->rollup_fd < 0) return -1;
    snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
    src->smaps_fd = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    src->statm_fd = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
    src->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC); /* optional */
    if (src->smaps_fd < 0 || src->statm_fd < 0) {
        int e = errno;
        hak_smaps_close(src);
        errno = e;
        return -1;
    }
    return 0;
}

void hak_smaps_close(struct hak_smaps_source *src) {
    if (src->rollup_fd >= 0) close(src->rollup_fd);
    if (src->smaps_fd >= 0) close(src->smaps_fd);
    if (src->statm_fd >= 0) close(src->statm_fd);
    if (src->pagemap_fd >= 0) close(src->pagemap_fd);
    free(src->buf);
    memset(src, 0, sizeof *src);
    src->rollup_fd = src->smaps_fd = src->statm_fd = src->pagemap_fd = -1;
}

int hak_smaps_same_mm(struct hak_smaps_source *src) {
    if (src->pagemap_fd < 0) return -1;
    uint64_t entry;
    ssize_t n;
    while ((n = pread(src->pagemap_fd, &entry, sizeof entry, 0)) < 0 && errno == EINTR) {
    }
    return n == (ssize_t)sizeof entry;
}

/* Reads a whole /proc file from offset 0 into *buf (grown as needed, NUL-terminated).  Returns the
 * length, or -1. */
static ssize_t read_whole(int fd, char **buf, size_t *cap) {
    size_t len = 0;
    for (;;) {
        if (*cap - len < 4096) {
            size_t ncap = *cap ? *cap * 2 : 16384;
            char *n = realloc(*buf, ncap);
            if (!n) return -1;
            *buf = n;
            *cap = ncap;
        }
        ssize_t r = pread(fd, *buf + len, *cap - len - 1, (off_t)len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        len += (size_t)r;
    }
    (*buf)[len] = '\0';
    return (ssize_t)len;
}

/* "Name:   123 kB" -> 123 when line starts with name. */
static int field_value(const char *line, const char *name, size_t name_len, uint64_t *out) {
    if (strncmp(line, name, name_len) != 0 || line[name_len] != ':') return 0;
    *out = strtoull(line + name_len + 1, NULL, 10);
    return 1;
}

#define FIELD(line, lit, dst) field_value(line, lit, sizeof(lit) - 1, dst)

/* Applies one "Key: value kB" line to f. */
static void parse_field_line(const char *line, struct hak_smaps_fields *f) {
    switch (line[0]) {
    case 'S':
        if (FIELD(line, "Size", &f->size)) return;
        FIELD(line, "Swap", &f->swap);
        return;
    case 'R':
        FIELD(line, "Rss", &f->rss);
        return;
    case 'P':
        if (FIELD(line, "Pss", &f->pss)) return;
        FIELD(line, "Private_Dirty", &f->private_dirty);
        return;
    case 'A':
        if (FIELD(line, "Anonymous", &f->anonymous)) return;
        FIELD(line, "AnonHugePages", &f->anon_huge);
        return;
    case 'L':
        FIELD(line, "LazyFree", &f->lazyfree);
        return;
    default:
        return;
    }
}

void hak_smaps_parse_fields(const char *text, struct hak_smaps_fields *out) {
    memset(out, 0, sizeof *out);
    for (const char *line = text; line && *line;) {
        parse_field_line(line, out);
        line = strchr(line, '\n');
        if (line) line++;
    }
}

int hak_smaps_read_rollup(struct hak_smaps_source *src, struct hak_smaps_fields *out) {
    ssize_t n = read_whole(src->rollup_fd, &src->buf, &src->buf_cap);
    /* A process that has exited (zombie) has no address space: the file reads empty. */
    if (n <= 0 || !strstr(src->buf, "Rss:")) return -1;
    const char *nl = strchr(src->buf, '\n'); /* skip the "[rollup]" header line */
    hak_smaps_parse_fields(nl ? nl + 1 : src->buf, out);
    return 0;
}

int hak_smaps_read_statm(struct hak_smaps_source *src, struct hak_smaps_fields *out) {
    char buf[256];
    ssize_t n;
    while ((n = pread(src->statm_fd, buf, sizeof buf - 1, 0)) < 0 && errno == EINTR) {
    }
    if (n <= 0) return -1;
    buf[n] = '\0';
    unsigned long long size, resident, shared;
    if (sscanf(buf, "%llu %llu %llu", &size, &resident, &shared) != 3) return -1;
    /* A zombie keeps its statm file but reads all zeros: no address space any more. */
    if (size == 0) return -1;
    memset(out, 0, sizeof *out);
    out->rss = resident * (uint64_t)src->page_kb;
    /* The kernel reads its counters without a lock: shared may briefly exceed resident. */
    out->anonymous = (resident > shared ? resident - shared : 0) * (uint64_t)src->page_kb;
    return 0;
}

static int is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Parses a header line "start-end perms offset dev inode   path"; 0 on success.  The line is
 * NUL-terminated; the path stays in place. */
static int parse_header(char *line, struct hak_mapping *m) {
    char *p = line, *end;
    m->start = strtoull(p, &end, 16);
    if (*end != '-') return -1;
    m->end = strtoull(end + 1, &end, 16);
    while (*end == ' ')
        end++;
    /* A short line ends inside the perms: copy no byte past its end. */
    size_t np = 0;
    while (np < 4 && end[np] && end[np] != ' ') {
        m->perms[np] = end[np];
        np++;
    }
    m->perms[np] = '\0';
    p = end + np;
    m->offset = strtoull(p, &end, 16);
    while (*end == ' ')
        end++;
    size_t d = strcspn(end, " ");
    if (d >= sizeof m->dev) d = sizeof m->dev - 1;
    memcpy(m->dev, end, d);
    m->dev[d] = '\0';
    end += strcspn(end, " ");
    m->inode = strtoull(end, &end, 10);
    while (*end == ' ')
        end++;
    m->path = end;
    return 0;
}

/* The class of a mapping from its path and permissions alone. */
static enum hak_map_class class_of(const struct hak_mapping *m) {
    const char *path = m->path;
    if (path[0] == '\0') return HAK_MAP_ANON;
    if (strcmp(path, "[heap]") == 0) return HAK_MAP_HEAP;
    if (strcmp(path, "[stack]") == 0) return HAK_MAP_STACK;
    if (path[0] == '[') {
        /* [anon:name] (prctl PR_SET_VMA_ANON_NAME) is still anonymous memory. */
        if (strncmp(path, "[anon", 5) == 0) return HAK_MAP_ANON;
        return HAK_MAP_SPECIAL;
    }
    if (m->inode == 0 && strncmp(path, "/", 1) != 0) return HAK_MAP_ANON;
    static const char segment[] = "/memfd:" HAK_PROBE_MEMFD_NAME;
    if (strncmp(path, segment, sizeof segment - 1) == 0) return HAK_MAP_COUNTERS;
    return m->perms[2] == 'x' ? HAK_MAP_CODE : HAK_MAP_DATA;
}

size_t hak_smaps_parse(struct hak_smaps *s, char *text, size_t len) {
    if (s->text != text) {
        free(s->text);
        s->text_cap = len + 1;
    }
    s->text = text;
    s->text_len = len;
    s->count = 0;
    struct hak_mapping *cur = NULL;
    for (char *line = text; line < text + len && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        if (is_hex(line[0])) {
            if (s->count == s->cap) {
                size_t ncap = s->cap ? s->cap * 2 : 256;
                struct hak_mapping *n = realloc(s->maps, ncap * sizeof *n);
                if (!n) break;
                s->maps = n;
                s->cap = ncap;
            }
            cur = &s->maps[s->count];
            memset(cur, 0, sizeof *cur);
            if (parse_header(line, cur) == 0) {
                s->count++;
            } else {
                cur = NULL;
            }
        } else if (cur) {
            parse_field_line(line, &cur->f);
        }
        if (!nl) break;
        line = nl + 1;
    }
    for (size_t i = 0; i < s->count; i++)
        s->maps[i].cls = class_of(&s->maps[i]);
    return s->count;
}

int hak_smaps_read(struct hak_smaps_source *src, struct hak_smaps *s) {
    ssize_t n = read_whole(src->smaps_fd, &s->text, &s->text_cap);
    if (n <= 0) return -1;
    hak_smaps_parse(s, s->text, (size_t)n);
    return s->count ? 0 : -1;
}

void hak_smaps_add(struct hak_smaps_fields *sum, const struct hak_smaps_fields *f) {
    sum->size += f->size;
    sum->rss += f->rss;
    sum->pss += f->pss;
    sum->anonymous += f->anonymous;
    sum->private_dirty += f->private_dirty;
    sum->lazyfree += f->lazyfree;
    sum->anon_huge += f->anon_huge;
    sum->swap += f->swap;
}

void hak_smaps_sum(const struct hak_smaps *s, struct hak_smaps_fields *out) {
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < s->count; i++)
        hak_smaps_add(out, &s->maps[i].f);
}

#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_SWAPPED (1ull << 62)

int hak_smaps_tier_rss(struct hak_smaps_source *src, const struct hak_probe_region *regions,
                       size_t n, struct hak_tier_rss out[4]) {
    memset(out, 0, 4 * sizeof *out);
    if (src->pagemap_fd < 0) return -1;
    uint64_t page = (uint64_t)src->page_kb * 1024;
    uint64_t entries[512];
    for (size_t i = 0; i < n; i++) {
        unsigned tier = regions[i].tier < 4 ? regions[i].tier : HAK_PROBE_TIER_HUGE;
        out[tier].regions++;
        out[tier].mapped_kb += regions[i].size / 1024;
        uint64_t first = regions[i].start / page;
        uint64_t last = (regions[i].start + regions[i].size + page - 1) / page;
        for (uint64_t p = first; p < last;) {
            size_t want = last - p < 512 ? (size_t)(last - p) : 512;
            ssize_t got = pread(src->pagemap_fd, entries, want * 8, (off_t)(p * 8));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) return -1;
            size_t k = (size_t)got / 8;
            if (k == 0) return -1; /* a partial entry: the file is not a pagemap */
            for (size_t e = 0; e < k; e++) {
                if (entries[e] & PAGEMAP_PRESENT)
                    out[tier].rss_kb += (uint64_t)src->page_kb;
                else if (entries[e] & PAGEMAP_SWAPPED)
                    out[tier].swap_kb += (uint64_t)src->page_kb;
            }
            p += k;
        }
    }
    return 0;
}

static int region_cmp(const void *a, const void *b) {
    const struct hak_probe_region *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

void hak_regions_sort(struct hak_probe_region *regions, size_t n) {
    qsort(regions, n, sizeof *regions, region_cmp);
}

void hak_smaps_classify(struct hak_smaps *s, const struct hak_probe_region *regions, size_t n) {
    /* Both lists are sorted by address: one sweep.  Regions never overlap each other. */
    size_t r = 0;
    for (size_t i = 0; i < s->count; i++) {
        struct hak_mapping *m = &s->maps[i];
        m->hakmem_kb = 0;
        if (!regions || m->cls != HAK_MAP_ANON) continue;
        while (r < n && regions[r].start + regions[r].size <= m->start)
            r++;
        uint64_t by_tier[4] = {0, 0, 0, 0}, covered = 0;
        for (size_t k = r; k < n && regions[k].start < m->end; k++) {
            uint64_t lo = regions[k].start > m->start ? regions[k].start : m->start;
            uint64_t hi = regions[k].start + regions[k].size;
            if (hi > m->end) hi = m->end;
            if (hi <= lo) continue;
            by_tier[regions[k].tier < 4 ? regions[k].tier : HAK_PROBE_TIER_HUGE] += hi - lo;
            covered += hi - lo;
        }
        m->hakmem_kb = covered / 1024;
        if (covered * 2 < m->end - m->start) continue;
        unsigned best = 0;
        for (unsigned t = 1; t < 4; t++)
            if (by_tier[t] > by_tier[best]) best = t;
        m->cls = (enum hak_map_class)best;
    }
}

void hak_smaps_free(struct hak_smaps *s) {
    free(s->maps);
    free(s->text);
    memset(s, 0, sizeof *s);
}

const char *const hak_map_class_names[HAK_MAP_CLASS_COUNT] = {
#define HAK_TIER(upper, lower) #lower,
#include "tiers.def"
#undef HAK_TIER
    "heap", "anon", "stack", "code", "data", "special", "counters"};

const char *hak_map_class_name(enum hak_map_class c) {
    return (unsigned)c < HAK_MAP_CLASS_COUNT ? hak_map_class_names[c] : "unknown";
}
