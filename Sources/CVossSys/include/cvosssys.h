#ifndef VOSS_CVOSSSYS_H
#define VOSS_CVOSSSYS_H

#include <sys/types.h>

/// Spawns `path` with `argv`/`envp` (NULL-terminated). In the child, `fds[i]` becomes descriptor
/// `3 + i`; stdin is /dev/null; stdout/stderr are inherited; every other descriptor is closed; all
/// signal dispositions are reset to default and the signal mask is emptied; the child leads a new
/// process group (so a terminal's Ctrl-C reaches only the keeper, which stops workers in order).
/// Returns 0 and stores the pid, or an errno value.
int voss_spawn(const char *path, char *const argv[], char *const envp[], const int *fds, int nfds, pid_t *pid);

/// Non-blocking reap of any child. Returns the pid reaped (0 if none is ready, -1 with errno on
/// error, e.g. ECHILD). `*exited` is 1 for a normal exit (`*code` = status), 0 for death by signal
/// (`*code` = signal number).
pid_t voss_reap_any(int *exited, int *code);

/// Non-blocking reap of one child; same results as `voss_reap_any`.
pid_t voss_reap_pid(pid_t pid, int *exited, int *code);

/// prctl(PR_SET_PDEATHSIG, sig). Returns 0 or errno.
int voss_set_parent_death_signal(int sig);

/// A listening TCP socket bound to `address:port` (IPv4 or IPv6 literal, or a host name) with
/// SO_REUSEADDR and CLOEXEC. Returns the descriptor, or -errno.
int voss_listen_tcp(const char *address, int port, int backlog);

/// A listening Unix-domain stream socket at `path` (an existing socket file there is replaced) with
/// the given file mode. Returns the descriptor, or -errno.
int voss_listen_unix(const char *path, int backlog, unsigned int mode);

/// A connected AF_UNIX stream socketpair, both ends CLOEXEC. Returns 0 or errno.
int voss_socketpair(int fds[2]);

/// Turns terminal echo on `fd` on or off. Returns 0 or errno (ENOTTY when `fd` is not a terminal).
int voss_set_echo(int fd, int on);

/// The port a bound socket listens on (for port 0 binds), or -errno.
int voss_local_port(int fd);



/// CLOCK_MONOTONIC in microseconds (what systemd's MONOTONIC_USEC= expects).
unsigned long long voss_monotonic_usec(void);
/// syncfs(2): writes back every dirty page and inode of the file system holding `fd`. Returns 0 or errno.
int voss_syncfs(int fd);

/// The file system type (statfs `f_type`, e.g. 0xEF53 for ext2/3/4) holding `fd`. Returns 0 or errno.
int voss_fs_type(int fd, long *type);

/// How many CPUs this thread may run on (sched_getaffinity: taskset, systemd's CPUAffinity=); 0 if unknown.
int voss_affinity_cpus(void);

#endif
