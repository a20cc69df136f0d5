/*
 * The processes of one recording: the command (or the attached process) and every descendant it
 * starts, each with its /proc files open.  The recorder scans for new descendants at every tick
 * and notices execs, so a shim (env, nice, a script ending in exec) or a shell that starts
 * several programs is sampled as a whole: docs/collector.md ("Processes, execs and children").
 */
#ifndef HAK_PROCESS_TREE_H
#define HAK_PROCESS_TREE_H

#include <stddef.h>
#include <sys/types.h>

#include "smaps.h"

#define HAK_PROC_COMM_MAX 16

struct hak_proc {
    pid_t pid, ppid;
    unsigned long long start; /* start time in clock ticks since boot: tells a reused pid apart */
    char comm[HAK_PROC_COMM_MAX + 1];
    struct hak_smaps_source src;
    int open;    /* src holds the process's current files */
    int present; /* seen by the last scan */
};

struct hak_process_tree {
    struct hak_proc *procs; /* procs[0] is the root, for as long as it lives */
    size_t count, cap;
    size_t max;             /* processes followed at once; more are counted in `untracked` */
    pid_t *foreign;         /* sorted: pids seen in /proc that do not descend from the root */
    size_t nforeign, foreign_cap;
    long seen;      /* distinct processes followed over the recording, the root included */
    long execs;     /* execs noticed (files reopened on a new address space) */
    long untracked; /* descendants not followed because `max` were already */
};

/* Starts with the root only.  0, or -1 with errno from opening its files (ESRCH: no such process,
 * EACCES/EPERM: another user's). */
int hak_tree_init(struct hak_process_tree *t, pid_t root, size_t max);

/* Reads /proc once: adds the root's new descendants, drops the processes that are gone (their
 * files are closed).  The root stays, whatever /proc says, until the recorder lets it go. */
void hak_tree_scan(struct hak_process_tree *t);

/* Reopens p's files when its address space changed (an exec) or when `failed` says a read just
 * failed while the process still exists.  Returns 1 when the files were reopened on a new image,
 * 0 when nothing changed, -1 when the process is gone. */
int hak_tree_refresh(struct hak_process_tree *t, struct hak_proc *p, int failed);

void hak_tree_free(struct hak_process_tree *t);

#endif
