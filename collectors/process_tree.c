/*
 * The processes of one recording (process_tree.h).  This kernel has no /proc/PID/task/TID/children
 * on every configuration, so descendants are found from the ppid field of /proc/PID/stat; pids
 * already known to be someone else's are remembered, so a scan reads the stat file of new pids
 * only and costs one pass over /proc's directory otherwise.
 */
#include "process_tree.h"

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads /proc/PID/stat: ppid, start time and comm.  0, or -1 when the process is gone. */
static int read_stat(pid_t pid, pid_t *ppid, unsigned long long *start, char *comm) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ')'. */
    char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren < open_paren) return -1;
    if (comm) {
        size_t len = (size_t)(close_paren - open_paren - 1);
        if (len > HAK_PROC_COMM_MAX) len = HAK_PROC_COMM_MAX;
        memcpy(comm, open_paren + 1, len);
        comm[len] = '\0';
    }
    char state;
    int parent;
    unsigned long long st = 0;
    /* Fields after comm: state(3) ppid(4) ... starttime(22). */
    if (sscanf(close_paren + 2,
               "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
               &state, &parent, &st) != 3)
        return -1;
    if (state == 'Z' || state == 'X') return -1; /* no address space any more */
    *ppid = parent;
    if (start) *start = st;
    return 0;
}

static struct hak_proc *find(struct hak_process_tree *t, pid_t pid) {
    for (size_t i = 0; i < t->count; i++)
        if (t->procs[i].pid == pid) return &t->procs[i];
    return NULL;
}

static int add(struct hak_process_tree *t, pid_t pid, pid_t ppid) {
    if (t->count == t->max) {
        t->untracked++;
        return -1;
    }
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct hak_proc *p = realloc(t->procs, cap * sizeof *p);
        if (!p) return -1;
        t->procs = p;
        t->cap = cap;
    }
    struct hak_proc *p = &t->procs[t->count];
    memset(p, 0, sizeof *p);
    p->pid = pid;
    p->ppid = ppid;
    if (read_stat(pid, &p->ppid, &p->start, p->comm) != 0) return -1;
    if (hak_smaps_open(&p->src, pid) != 0) return -1;
    p->open = 1;
    p->present = 1;
    t->count++;
    t->seen++;
    return 0;
}

static void drop(struct hak_process_tree *t, size_t i) {
    assert(i < t->count);
    if (t->procs[i].open) hak_smaps_close(&t->procs[i].src);
    t->procs[i] = t->procs[--t->count];
}

int hak_tree_init(struct hak_process_tree *t, pid_t root, size_t max) {
    memset(t, 0, sizeof *t);
    t->max = max ? max : 1;
    if (add(t, root, 0) != 0) {
        int e = errno ? errno : ESRCH;
        hak_tree_free(t);
        errno = e;
        return -1;
    }
    return 0;
}

static int pid_cmp(const void *a, const void *b) {
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

static int push_foreign(pid_t **v, size_t *n, size_t *cap, pid_t pid) {
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        pid_t *p = realloc(*v, c * sizeof *p);
        if (!p) return -1;
        *v = p;
        *cap = c;
    }
    (*v)[(*n)++] = pid;
    return 0;
}

struct candidate {
    pid_t pid, ppid;
};

void hak_tree_scan(struct hak_process_tree *t) {
    DIR *dir = opendir("/proc");
    if (!dir) return;
    for (size_t i = 0; i < t->count; i++)
        t->procs[i].present = 0;
    pid_t *foreign = NULL;
    size_t nforeign = 0, foreign_cap = 0;
    struct candidate *cand = NULL;
    size_t ncand = 0, cand_cap = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0])) continue;
        pid_t pid = (pid_t)atoi(de->d_name);
        struct hak_proc *p = find(t, pid);
        if (p) {
            p->present = 1;
            continue;
        }
        if (t->nforeign && bsearch(&pid, t->foreign, t->nforeign, sizeof pid, pid_cmp)) {
            push_foreign(&foreign, &nforeign, &foreign_cap, pid);
            continue;
        }
        pid_t ppid;
        if (read_stat(pid, &ppid, NULL, NULL) != 0) continue; /* gone, or a zombie */
        if (ncand == cand_cap) {
            size_t c = cand_cap ? cand_cap * 2 : 16;
            struct candidate *v = realloc(cand, c * sizeof *v);
            if (!v) break;
            cand = v;
            cand_cap = c;
        }
        cand[ncand++] = (struct candidate){pid, ppid};
    }
    closedir(dir);
    /* A new grandchild may come before its new parent in /proc's order: repeat until nothing
     * joins.  What never joins belongs to someone else. */
    for (int joined = 1; joined;) {
        joined = 0;
        for (size_t i = 0; i < ncand; i++) {
            if (cand[i].pid <= 0 || !find(t, cand[i].ppid)) continue;
            add(t, cand[i].pid, cand[i].ppid);
            cand[i].pid = 0;
            joined = 1;
        }
    }
    for (size_t i = 0; i < ncand; i++)
        if (cand[i].pid > 0) push_foreign(&foreign, &nforeign, &foreign_cap, cand[i].pid);
    free(cand);
    qsort(foreign, nforeign, sizeof *foreign, pid_cmp);
    free(t->foreign);
    t->foreign = foreign;
    t->nforeign = nforeign;
    t->foreign_cap = foreign_cap;
    /* The root (index 0) stays until the recorder has reaped it. */
    for (size_t i = t->count; i-- > 1;)
        if (!t->procs[i].present) drop(t, i);
}

int hak_tree_refresh(struct hak_process_tree *t, struct hak_proc *p, int failed) {
    int same = p->open ? hak_smaps_same_mm(&p->src) : 0;
    if (same == 1 && !failed) return 0;
    if (same == -1 && !failed) return 0; /* no pagemap: only a failed read tells */
    pid_t ppid;
    unsigned long long start;
    if (read_stat(p->pid, &ppid, &start, NULL) != 0 || start != p->start) return -1;
    if (same == 1) return 0; /* the read failed for another reason; the image is the same */
    if (p->open) hak_smaps_close(&p->src);
    p->open = hak_smaps_open(&p->src, p->pid) == 0;
    if (!p->open) return -1;
    read_stat(p->pid, &p->ppid, &p->start, p->comm); /* the new image's name */
    t->execs++;
    return 1;
}

void hak_tree_free(struct hak_process_tree *t) {
    for (size_t i = 0; i < t->count; i++)
        if (t->procs[i].open) hak_smaps_close(&t->procs[i].src);
    free(t->procs);
    free(t->foreign);
    memset(t, 0, sizeof *t);
}
