#define _GNU_SOURCE
#include "cvosssys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int voss_spawn(const char *path, char *const argv[], char *const envp[], const int *fds, int nfds, pid_t *pid) {
    int rc = 0;
    int *tmp = NULL;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t all, none;

    if (nfds < 0 || nfds > 64) return EINVAL;
    if (nfds > 0) {
        tmp = calloc((size_t)nfds, sizeof(int));
        if (!tmp) return ENOMEM;
    }
    /* Copy every source above the target range first, so no dup2 clobbers a source still needed. */
    for (int i = 0; i < nfds; i++) {
        tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + nfds);
        if (tmp[i] < 0) {
            rc = errno;
            for (int j = 0; j < i; j++) close(tmp[j]);
            free(tmp);
            return rc;
        }
    }
    if ((rc = posix_spawn_file_actions_init(&actions)) != 0) goto out_fds;
    if ((rc = posix_spawnattr_init(&attr)) != 0) goto out_actions;

    if ((rc = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)) != 0) goto out_attr;
    for (int i = 0; i < nfds; i++) {
        if ((rc = posix_spawn_file_actions_adddup2(&actions, tmp[i], 3 + i)) != 0) goto out_attr;
    }
    if ((rc = posix_spawn_file_actions_addclosefrom_np(&actions, 3 + nfds)) != 0) goto out_attr;

    sigfillset(&all);
    sigemptyset(&none);
    if ((rc = posix_spawnattr_setsigdefault(&attr, &all)) != 0) goto out_attr;
    if ((rc = posix_spawnattr_setsigmask(&attr, &none)) != 0) goto out_attr;
    if ((rc = posix_spawnattr_setpgroup(&attr, 0)) != 0) goto out_attr;
    if ((rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP)) != 0)
        goto out_attr;

    rc = posix_spawn(pid, path, &actions, &attr, argv, envp);

out_attr:
    posix_spawnattr_destroy(&attr);
out_actions:
    posix_spawn_file_actions_destroy(&actions);
out_fds:
    for (int i = 0; i < nfds; i++) close(tmp[i]);
    free(tmp);
    return rc;
}

static pid_t decode(pid_t r, int status, int *exited, int *code) {
    if (r > 0) {
        if (WIFEXITED(status)) {
            *exited = 1;
            *code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            *exited = 0;
            *code = WTERMSIG(status);
        } else {
            *exited = 1;
            *code = -1;
        }
    }
    return r;
}

pid_t voss_reap_any(int *exited, int *code) {
    int status = 0;
    pid_t r = waitpid(-1, &status, WNOHANG);
    return decode(r, status, exited, code);
}

pid_t voss_reap_pid(pid_t pid, int *exited, int *code) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    return decode(r, status, exited, code);
}

int voss_set_parent_death_signal(int sig) {
    return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0 ? 0 : errno;
}

#include <time.h>
unsigned long long voss_monotonic_usec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL;
}
