/*
 * Hardware and software performance events of a process and everything it starts, counted with
 * perf_event_open(2); event names are resolved by libpfm4, so "cycles", "instructions",
 * "cache-misses", "task-clock", "page-faults", "context-switches" or a PMU-specific name
 * ("perf::L1-DCACHE-LOAD-MISSES", "INST_RETIRED:ANY_P") all work.
 *
 * The events are attached to a child that has not yet called exec (inherit=1, enable_on_exec=1):
 * counting starts at exec and covers every thread and child process it creates.  Hardware events
 * form one group, so their ratios (instructions per cycle) cover the same instants; software
 * events are counted on their own.
 *
 * Where the machine has no PMU (most VMs) perf_event_open fails for hardware events: they are kept
 * in the set marked unsupported, and the software events task-clock, page-faults and
 * context-switches, which work everywhere, are added in their place.
 */
#ifndef HAK_EVENTS_H
#define HAK_EVENTS_H

#include <linux/perf_event.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HAK_EVENTS_MAX 32
#define HAK_EVENTS_FALLBACK "task-clock,page-faults,context-switches"

enum hak_event_state {
    HAK_EVENT_NOT_OPENED,  /* resolved, not attached yet */
    HAK_EVENT_COUNTING,    /* attached and counting */
    HAK_EVENT_UNSUPPORTED, /* perf_event_open refused it on this machine */
};

struct hak_event {
    char name[64];      /* as asked: "cycles" */
    char pfm_name[192]; /* libpfm4's full name: "perf::PERF_COUNT_HW_CPU_CYCLES:u=1:k=1..." */
    struct perf_event_attr attr;
    int fd;
    int fallback;   /* added because a requested event is unsupported */
    int open_errno; /* why it is unsupported */
    enum hak_event_state state;
};

struct hak_event_set {
    struct hak_event ev[HAK_EVENTS_MAX];
    int count;
    int fallback_enabled; /* 1 (default): add HAK_EVENTS_FALLBACK when an event is unsupported */
};

struct hak_event_value {
    uint64_t value;      /* raw scaled by enabled/running when the kernel multiplexed it */
    uint64_t raw;        /* counted while scheduled */
    uint64_t enabled_ns; /* time the event was enabled */
    uint64_t running_ns; /* time it was actually counting */
};

/* Resolves a comma-separated list of event names ("" or "none": no events).  0, or -1 with one
 * line in err naming the first unknown event. */
int hak_events_init(struct hak_event_set *set, const char *list, char *err, size_t errlen);

/* Attaches every event to pid, a child stopped before its exec.  Unsupported events are marked and
 * the fallback added; note receives one line saying so ("" when everything counts).  Returns the
 * number of events counting. */
int hak_events_open(struct hak_event_set *set, pid_t pid, char *note, size_t notelen);

/* Reads event i (counting ones only).  0, or -1. */
int hak_events_read(const struct hak_event_set *set, int i, struct hak_event_value *out);

/* Closes the descriptors; the set keeps its names and states. */
void hak_events_close(struct hak_event_set *set);

/* "counting", "unsupported", "not opened". */
const char *hak_event_state_name(enum hak_event_state s);

#endif
