/*
 * The one launcher of the toolkit: how `hak record` and `hak bench` start a command.  The child is
 * forked first and waits until the caller says go, so whatever must be attached to it before its
 * first instruction (perf events, the pid in the run database) is; its exec is confirmed through
 * a close-on-exec pipe that carries errno when the exec fails.  The environment is the caller's
 * minus any preload and phase channel, plus the ones asked for.
 */
#ifndef HAK_LAUNCHER_H
#define HAK_LAUNCHER_H

#include <signal.h>
#include <sys/types.h>

struct hak_launch {
    pid_t pid;  /* the child, once started */
    int go_fd;  /* write end: one byte lets the child exec */
    int err_fd; /* read end: the errno of a failed exec, or EOF once the exec succeeded */
};

struct hak_launch_opts {
    char *const *argv;       /* argv[0] is looked up in PATH */
    const char *preload;     /* LD_PRELOAD for the command; "" removes it; NULL keeps ours */
    int phase_fd, ack_fd;    /* the phase channel's ends the command gets; -1: none */
    int stdout_fd;           /* the command's stdout; -1: ours */
    const sigset_t *mask;    /* the signal mask the command starts with */
};

/* Forks the command, parked before its exec.  0, or -1 with errno (nothing is left running). */
int hak_launch_start(struct hak_launch *l, const struct hak_launch_opts *o);

/* Lets the command exec and waits for the verdict: 0 once it runs, else the exec's errno (the
 * child has then been reaped, its status in *wait_status). */
int hak_launch_go(struct hak_launch *l, int *wait_status);

#endif
