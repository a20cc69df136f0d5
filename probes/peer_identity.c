/*
 * The allocator library's identity (see peer_identity.h).  dpkg-query answers from dpkg's
 * database: `-S FILE` names the package that ships a file, `-W -f '${Version}' PKG` its version.
 * It runs through fork/exec with the path as one argument, so no character of it is ever parsed by
 * a shell.
 */
#include "peer_identity.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs argv (no shell), its stdout's first line into out; 0 when it exited 0 with some output. */
static int first_line_of(char *const argv[], char *out, size_t n) {
    out[0] = 0;
    int fd[2];
    if (pipe2(fd, O_CLOEXEC) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (dup2(fd[1], 1) < 0 || null < 0 || dup2(null, 2) < 0 || dup2(null, 0) < 0) _exit(127);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    size_t used = 0;
    ssize_t got;
    while ((got = read(fd[0], out + used, n - 1 - used)) > 0 || (got < 0 && errno == EINTR))
        if (got > 0 && (used += (size_t)got) >= n - 1) break;
    close(fd[0]);
    out[used] = 0;
    out[strcspn(out, "\n")] = 0;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 && out[0] ? 0 : -1;
}

/* The package that ships `file`: dpkg-query -S prints "PKG[:ARCH]: FILE". */
static int owning_package(const char *file, char *pkg, size_t n) {
    char line[4096 + 256];
    char *argv[] = {"dpkg-query", "-S", (char *)file, NULL};
    if (first_line_of(argv, line, sizeof line) != 0) return -1;
    char *sep = strstr(line, ": ");
    if (!sep) return -1;
    *sep = 0;
    /* "diversion by ..." or several owners ("a, b: FILE") are not one package. */
    if (strchr(line, ' ') || strchr(line, ',')) return -1;
    size_t len = strlen(line);
    if (len >= n) return -1;
    memcpy(pkg, line, len + 1);
    return 0;
}

void hak_peer_identify(const char *allocator, const char *lib, struct hak_peer_identity *out) {
    memset(out, 0, sizeof *out);
    char path[PATH_MAX] = "";
    if (lib && *lib)
        snprintf(path, sizeof path, "%s", lib);
    else if (allocator && !strcmp(allocator, "glibc")) {
        /* The libc hak itself runs on is the one an unpreloaded command gets. */
        Dl_info info;
        if (dladdr((void *)&malloc, &info) && info.dli_fname)
            snprintf(path, sizeof path, "%s", info.dli_fname);
    }
    if (!path[0]) return;
    char real[PATH_MAX];
    snprintf(out->file, sizeof out->file, "%s", realpath(path, real) ? real : path);
    if (allocator && !strcmp(allocator, "hakmem")) return; /* built here: its build id says it */
    /* dpkg knows the path the package installed (often the symlink), or the file it points to. */
    if (owning_package(path, out->package, sizeof out->package) != 0 &&
        owning_package(out->file, out->package, sizeof out->package) != 0)
        return;
    char *argv[] = {"dpkg-query", "-W", "-f=${Version}", out->package, NULL};
    first_line_of(argv, out->version, sizeof out->version);
}
