/*
 * The launcher (launcher.h): fork, park, exec, confirm.
 */
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allocators.h"
#include "hakphase.h"

extern char **environ;

/* The command's environment: ours, without a preload (when another is given) or a phase channel,
 * plus those asked for.  vars holds the added strings. */
static char **command_env(const struct hak_launch_opts *o, char vars[3][HAK_ALLOC_PATH_MAX + 32]) {
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 4, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = environ[i];
        if ((o->preload && strncmp(e, "LD_PRELOAD=", 11) == 0) ||
            strncmp(e, HAK_PHASE_FD_ENV "=", sizeof HAK_PHASE_FD_ENV) == 0 ||
            strncmp(e, HAK_PHASE_ACK_FD_ENV "=", sizeof HAK_PHASE_ACK_FD_ENV) == 0)
            continue;
        env[k++] = environ[i];
    }
    if (o->phase_fd >= 0) {
        snprintf(vars[0], sizeof vars[0], HAK_PHASE_FD_ENV "=%d", o->phase_fd);
        env[k++] = vars[0];
    }
    if (o->ack_fd >= 0) {
        snprintf(vars[1], sizeof vars[1], HAK_PHASE_ACK_FD_ENV "=%d", o->ack_fd);
        env[k++] = vars[1];
    }
    if (o->preload && o->preload[0]) {
        snprintf(vars[2], sizeof vars[2], "LD_PRELOAD=%s", o->preload);
        env[k++] = vars[2];
    }
    env[k] = NULL;
    return env;
}

/* In the child: wires the descriptors, waits for the go, execs.  Never returns. */
static void child(const struct hak_launch_opts *o, char **env, int go_fd, int err_fd) {
    if (o->mask) sigprocmask(SIG_SETMASK, o->mask, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (o->stdout_fd >= 0) dup2(o->stdout_fd, STDOUT_FILENO);
    if (o->phase_fd >= 0) fcntl(o->phase_fd, F_SETFD, 0);
    if (o->ack_fd >= 0) fcntl(o->ack_fd, F_SETFD, 0);
    char go;
    ssize_t n;
    while ((n = read(go_fd, &go, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) _exit(127); /* the launcher went away before the start */
    execvpe(o->argv[0], o->argv, env);
    int e = errno;
    ssize_t ignored = write(err_fd, &e, sizeof e);
    (void)ignored;
    _exit(127);
}

int hak_launch_start(struct hak_launch *l, const struct hak_launch_opts *o) {
    int go[2] = {-1, -1}, err[2] = {-1, -1};
    char vars[3][HAK_ALLOC_PATH_MAX + 32];
    l->pid = -1;
    l->go_fd = l->err_fd = -1;
    char **env = command_env(o, vars);
    if (!env || pipe2(go, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) goto fail;
    fflush(NULL);
    l->pid = fork();
    if (l->pid < 0) goto fail;
    if (l->pid == 0) child(o, env, go[0], err[1]);
    free(env);
    close(go[0]);
    close(err[1]);
    l->go_fd = go[1];
    l->err_fd = err[0];
    return 0;
fail:;
    int e = errno;
    free(env);
    for (int i = 0; i < 2; i++) {
        if (go[i] >= 0) close(go[i]);
        if (err[i] >= 0) close(err[i]);
    }
    errno = e;
    return -1;
}

int hak_launch_go(struct hak_launch *l, int *wait_status) {
    ssize_t w = write(l->go_fd, "g", 1);
    (void)w;
    close(l->go_fd);
    l->go_fd = -1;
    int exec_errno = 0;
    ssize_t n;
    while ((n = read(l->err_fd, &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
    }
    close(l->err_fd);
    l->err_fd = -1;
    if (n != (ssize_t)sizeof exec_errno) return 0;
    while (waitpid(l->pid, wait_status, 0) < 0 && errno == EINTR) {
    }
    return exec_errno ? exec_errno : ECHILD;
}
