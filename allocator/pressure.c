/*
 * Memory pressure as the kernel reports it, for the decay worker (decay.c):
 *
 *   PSI        "some" stall of the process's cgroup (memory.pressure) or of
 *              the whole system (/proc/pressure/memory): a trigger the
 *              worker polls, else avg10 read at pass time;
 *   limits     usage of the process's memory cgroup near its limit: cgroup
 *              v2 memory.current against memory.high / memory.max, cgroup
 *              v1 memory.usage_in_bytes against memory.soft_limit_in_bytes /
 *              memory.limit_in_bytes.
 *
 * The cgroup directories come from /proc/self/cgroup and the mount points in
 * /proc/self/mountinfo, so a hybrid layout (v1 controllers under
 * /sys/fs/cgroup/memory, v2 under /sys/fs/cgroup/unified) is read right.
 * Found once per process; nothing here allocates.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "counters.h"

#define DIR_CAP 512
static char v2_dir[DIR_CAP]; /* the process's cgroup v2 directory, or "" */
static char v1_dir[DIR_CAP]; /* its cgroup v1 memory controller directory, or "" */
static pthread_once_t find_once = PTHREAD_ONCE_INIT;
static bool psi_missing; /* neither PSI file could be read */

static ssize_t read_small_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = 0;
    return n;
}

/* Calls `line_fn` for each line of a file of any length, through a fixed
 * buffer (lines longer than it are skipped). */
static void for_each_line(const char *path, void (*line_fn)(char *line, void *arg), void *arg)
{
    char buf[4096];
    size_t have = 0;
    bool skipping = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
        if (n <= 0) break;
        have += (size_t)n;
        buf[have] = 0;
        char *start = buf, *nl;
        while ((nl = strchr(start, '\n')) != NULL) {
            *nl = 0;
            if (!skipping) line_fn(start, arg);
            skipping = false;
            start = nl + 1;
        }
        have = (size_t)(buf + have - start);
        memmove(buf, start, have);
        if (have == sizeof(buf) - 1) { /* a line longer than the buffer */
            have = 0;
            skipping = true;
        }
    }
    close(fd);
}

/* The n-th space-separated field of `line` (0-based), NUL-terminated in
 * place up to the next space; NULL when there are fewer fields. */
static char *field(char *line, unsigned n, char **end)
{
    char *p = line;
    for (unsigned i = 0; i < n; i++) {
        p = strchr(p, ' ');
        if (!p) return NULL;
        p++;
    }
    *end = strchr(p, ' ');
    return p;
}

struct mounts {
    char v2[DIR_CAP], v1_memory[DIR_CAP];
};

/* A mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SOURCE SUPEROPTS". */
static void mountinfo_line(char *line, void *arg)
{
    struct mounts *m = arg;
    char *sep = strstr(line, " - ");
    char *end, *point = field(line, 4, &end);
    if (!sep || !point || !end || end > sep) return;
    *end = 0;
    char *fstype = sep + 3, *super = strrchr(fstype, ' ');
    if (strlen(point) >= DIR_CAP - 64) return;
    if (!strncmp(fstype, "cgroup2 ", 8) && !m->v2[0]) strcpy(m->v2, point);
    if (!strncmp(fstype, "cgroup ", 7) && super && !m->v1_memory[0]) {
        for (char *opt = super + 1; opt && *opt;) {
            char *comma = strchr(opt, ',');
            size_t len = comma ? (size_t)(comma - opt) : strlen(opt);
            if (len == 6 && !strncmp(opt, "memory", 6)) strcpy(m->v1_memory, point);
            opt = comma ? comma + 1 : NULL;
        }
    }
}

/* Joins a mount point and a cgroup path ("/" adds nothing). */
static void join(char *out, const char *mount, const char *path)
{
    out[0] = 0;
    if (!mount[0] || strlen(mount) + strlen(path) >= DIR_CAP - 32) return;
    strcpy(out, mount);
    if (strcmp(path, "/") != 0) strcat(out, path);
}

/* A /proc/self/cgroup line: "0::PATH" (v2) or "N:CONTROLLERS:PATH" (v1). */
static void cgroup_line(char *line, void *arg)
{
    const struct mounts *m = arg;
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) return;
    *c2 = 0;
    const char *controllers = c1 + 1, *path = c2 + 1;
    if (!strcmp(line, "0") && !controllers[0]) {
        join(v2_dir, m->v2, path);
        return;
    }
    for (const char *opt = controllers; opt && *opt;) {
        const char *comma = strchr(opt, ',');
        size_t len = comma ? (size_t)(comma - opt) : strlen(opt);
        if (len == 6 && !strncmp(opt, "memory", 6)) join(v1_dir, m->v1_memory, path);
        opt = comma ? comma + 1 : NULL;
    }
}

static void dir_file(char *out, const char *dir, const char *name)
{
    strcpy(out, dir);
    strcat(out, "/");
    strcat(out, name);
}

/* Finds the cgroup directories and whether any PSI file can be read. */
static void find_sources(void)
{
    static struct mounts m; /* static: two 512-byte paths stay off the caller's stack */
    for_each_line("/proc/self/mountinfo", mountinfo_line, &m);
    for_each_line("/proc/self/cgroup", cgroup_line, &m);
    char path[DIR_CAP + 32], buf[8];
    bool cgroup_psi = false;
    if (v2_dir[0]) {
        dir_file(path, v2_dir, "memory.pressure");
        cgroup_psi = read_small_file(path, buf, sizeof(buf)) >= 0;
    }
    psi_missing = !cgroup_psi && read_small_file("/proc/pressure/memory", buf, sizeof(buf)) < 0;
    if (psi_missing) HAK_COUNT(pressure_source_missing);
}

/* A number at the start of `s` ("max" and garbage read as 0). */
static uint64_t parse_u64(const char *s)
{
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') v = v * 10 + (uint64_t)(*s++ - '0');
    return v;
}

/* "some avg10=12.34 ..." of 10 % or more (the integer part is enough). */
static bool psi_some_avg10_high(const char *path)
{
    char buf[256];
    if (read_small_file(path, buf, sizeof(buf)) <= 0) return false;
    const char *a = strstr(buf, "some avg10=");
    return a && parse_u64(a + 11) >= 10;
}

/* Whether the usage file of `dir` is within 1/16 of any of its limit files
 * (an unlimited cgroup's limit is "max" or a huge number: never near). */
static bool near_limit(const char *dir, const char *usage, const char *const limits[2])
{
    char path[DIR_CAP + 32], buf[64];
    dir_file(path, dir, usage);
    if (read_small_file(path, buf, sizeof(buf)) <= 0) return false;
    uint64_t used = parse_u64(buf);
    for (unsigned i = 0; i < 2; i++) {
        dir_file(path, dir, limits[i]);
        if (read_small_file(path, buf, sizeof(buf)) <= 0) continue;
        uint64_t limit = parse_u64(buf);
        if (limit && used >= limit - limit / 16) return true;
    }
    return false;
}

bool hak_pressure_read(bool have_trigger)
{
    static const char *const v2_limits[2] = {"memory.high", "memory.max"};
    static const char *const v1_limits[2] = {"memory.soft_limit_in_bytes", "memory.limit_in_bytes"};
    pthread_once(&find_once, find_sources);
    char path[DIR_CAP + 32];
    if (!psi_missing && !have_trigger) {
        if (v2_dir[0]) {
            dir_file(path, v2_dir, "memory.pressure");
            if (psi_some_avg10_high(path)) return true;
        }
        if (psi_some_avg10_high("/proc/pressure/memory")) return true;
    }
    return (v2_dir[0] && near_limit(v2_dir, "memory.current", v2_limits)) ||
           (v1_dir[0] && near_limit(v1_dir, "memory.usage_in_bytes", v1_limits));
}

int hak_pressure_trigger_open(void)
{
    static const char *const specs[] = {"some 150000 1000000", "some 150000 2000000"};
    char path[DIR_CAP + 32];
    pthread_once(&find_once, find_sources);
    const char *files[2] = {NULL, "/proc/pressure/memory"};
    if (v2_dir[0]) {
        dir_file(path, v2_dir, "memory.pressure");
        files[0] = path;
    }
    for (unsigned f = 0; f < 2; f++) {
        if (!files[f]) continue;
        for (unsigned s = 0; s < 2; s++) {
            int fd = open(files[f], O_RDWR | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) break;
            if (write(fd, specs[s], strlen(specs[s]) + 1) >= 0) return fd;
            close(fd);
        }
    }
    HAK_COUNT(pressure_trigger_unavailable);
    return -1;
}
