/*
 * Performance events through libpfm4 and perf_event_open (events.h).
 */
#include "events.h"

#include <errno.h>
#include <perfmon/pfmlib_perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int pfm_ready; /* 1 after pfm_initialize succeeded, -1 after it failed */

static int pfm_setup(char *err, size_t errlen) {
    if (pfm_ready == 0) {
        int r = pfm_initialize();
        pfm_ready = r == PFM_SUCCESS ? 1 : -1;
        if (r != PFM_SUCCESS)
            snprintf(err, errlen, "libpfm4 cannot initialise: %s", pfm_strerror(r));
    } else if (pfm_ready < 0) {
        snprintf(err, errlen, "libpfm4 cannot initialise");
    }
    return pfm_ready > 0 ? 0 : -1;
}

/* Resolves one name into ev.  0, or a libpfm4 error code. */
static int resolve(struct hak_event *ev, const char *name) {
    memset(ev, 0, sizeof *ev);
    ev->fd = -1;
    snprintf(ev->name, sizeof ev->name, "%s", name);
    pfm_perf_encode_arg_t arg;
    memset(&arg, 0, sizeof arg);
    char *fstr = NULL;
    arg.attr = &ev->attr;
    arg.fstr = &fstr;
    arg.size = sizeof arg;
    int r = pfm_get_os_event_encoding(name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
    if (r != PFM_SUCCESS) return r;
    snprintf(ev->pfm_name, sizeof ev->pfm_name, "%s", fstr ? fstr : name);
    free(fstr);
    ev->attr.size = sizeof ev->attr;
    return 0;
}

static int find(const struct hak_event_set *set, const char *name) {
    for (int i = 0; i < set->count; i++)
        if (strcmp(set->ev[i].name, name) == 0) return i;
    return -1;
}

/* Adds the names of a comma-separated list; fallback marks them as stand-ins.  0 or -1. */
static int add_list(struct hak_event_set *set, const char *list, int fallback, char *err,
                    size_t errlen) {
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        char name[64];
        while (n > 0 && *p == ' ') {
            p++;
            n--;
        }
        if (n >= sizeof name) {
            snprintf(err, errlen, "event name '%.*s...' is too long", 40, p);
            return -1;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        while (n > 0 && name[n - 1] == ' ')
            name[--n] = '\0';
        p += strcspn(p, ",");
        if (*p == ',') p++;
        if (n == 0 || find(set, name) >= 0) continue;
        if (set->count == HAK_EVENTS_MAX) {
            snprintf(err, errlen, "too many events (at most %d)", HAK_EVENTS_MAX);
            return -1;
        }
        int r = resolve(&set->ev[set->count], name);
        if (r != 0) {
            snprintf(err, errlen,
                     "unknown event '%s' (libpfm4: %s); try cycles, instructions, cache-misses, "
                     "task-clock, page-faults, context-switches",
                     name, pfm_strerror(r));
            return -1;
        }
        set->ev[set->count].fallback = fallback;
        set->count++;
    }
    return 0;
}

int hak_events_init(struct hak_event_set *set, const char *list, char *err, size_t errlen) {
    memset(set, 0, sizeof *set);
    set->fallback_enabled = 1;
    if (!list || !*list || strcmp(list, "none") == 0) return 0;
    if (pfm_setup(err, errlen) != 0) return -1;
    return add_list(set, list, 0, err, errlen);
}

static int is_hardware(const struct perf_event_attr *a) {
    return a->type != PERF_TYPE_SOFTWARE && a->type != PERF_TYPE_TRACEPOINT;
}

static int perf_open(struct perf_event_attr *attr, pid_t pid, int group_fd) {
    return (int)syscall(SYS_perf_event_open, attr, pid, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
}

/* Opens one event; retries user-only counting where the kernel allows no more (EACCES). */
static int open_one(struct hak_event *ev, pid_t pid, int group_fd) {
    struct perf_event_attr *a = &ev->attr;
    a->read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    a->inherit = 1;
    a->disabled = group_fd < 0;
    a->enable_on_exec = group_fd < 0;
    int fd = perf_open(a, pid, group_fd);
    if (fd < 0 && (errno == EACCES || errno == EPERM)) {
        a->exclude_kernel = 1;
        a->exclude_hv = 1;
        fd = perf_open(a, pid, group_fd);
    }
    return fd;
}

/* Appends "name, " lists to buf. */
static void append(char *buf, size_t len, const char *text) {
    size_t used = strlen(buf);
    if (used < len) snprintf(buf + used, len - used, "%s", text);
}

int hak_events_open(struct hak_event_set *set, pid_t pid, char *note, size_t notelen) {
    if (note && notelen) note[0] = '\0';
    int leader = -1, counting = 0, unsupported = 0, why = 0;
    char missing[256] = "";
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < set->count; i++) {
            struct hak_event *ev = &set->ev[i];
            if (ev->state != HAK_EVENT_NOT_OPENED) continue;
            int fd = -1;
            if (is_hardware(&ev->attr)) {
                fd = open_one(ev, pid, leader);
                /* A member the group cannot hold is counted on its own. */
                if (fd < 0 && leader >= 0)
                    fd = open_one(ev, pid, -1);
                else if (fd >= 0 && leader < 0)
                    leader = fd;
            } else {
                fd = open_one(ev, pid, -1);
            }
            if (fd < 0) {
                ev->state = HAK_EVENT_UNSUPPORTED;
                ev->open_errno = errno;
                if (!why) why = errno;
                unsupported++;
                append(missing, sizeof missing, missing[0] ? ", " : "");
                append(missing, sizeof missing, ev->name);
                continue;
            }
            ev->fd = fd;
            ev->state = HAK_EVENT_COUNTING;
            counting++;
        }
        if (pass == 1 || !unsupported || !set->fallback_enabled) break;
        char err[256];
        int before = set->count;
        if (add_list(set, HAK_EVENTS_FALLBACK, 1, err, sizeof err) != 0 || set->count == before)
            break;
    }
    if (unsupported && note && notelen) {
        char added[256] = "";
        for (int i = 0; i < set->count; i++)
            if (set->ev[i].fallback && set->ev[i].state == HAK_EVENT_COUNTING) {
                append(added, sizeof added, added[0] ? ", " : "; falling back to ");
                append(added, sizeof added, set->ev[i].name);
            }
        int no_pmu = why == ENOENT || why == EOPNOTSUPP || why == ENODEV;
        snprintf(note, notelen, "%s not supported (perf_event_open: %s%s)%s", missing,
                 strerror(why), no_pmu ? "; no hardware PMU on this machine?" : "", added);
    }
    return counting;
}

int hak_events_read(const struct hak_event_set *set, int i, struct hak_event_value *out) {
    const struct hak_event *ev = &set->ev[i];
    memset(out, 0, sizeof *out);
    if (ev->state != HAK_EVENT_COUNTING || ev->fd < 0) return -1;
    uint64_t v[3];
    ssize_t n = read(ev->fd, v, sizeof v);
    if (n != (ssize_t)sizeof v) return -1;
    out->raw = v[0];
    out->enabled_ns = v[1];
    out->running_ns = v[2];
    out->value = v[0];
    if (v[2] > 0 && v[2] < v[1])
        out->value = (uint64_t)((double)v[0] * (double)v[1] / (double)v[2]);
    return 0;
}

void hak_events_close(struct hak_event_set *set) {
    /* Members first, the group leader last. */
    for (int i = set->count - 1; i >= 0; i--)
        if (set->ev[i].fd >= 0) {
            close(set->ev[i].fd);
            set->ev[i].fd = -1;
        }
}

const char *hak_event_state_name(enum hak_event_state s) {
    switch (s) {
    case HAK_EVENT_COUNTING:
        return "counting";
    case HAK_EVENT_UNSUPPORTED:
        return "unsupported";
    default:
        return "not opened";
    }
}
