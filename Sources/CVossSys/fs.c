#define _GNU_SOURCE
#include "cvosssys.h"

#include <errno.h>
#include <sched.h>
#include <sys/vfs.h>
#include <unistd.h>

int voss_syncfs(int fd) { return syncfs(fd) == 0 ? 0 : errno; }

int voss_fs_type(int fd, long *type) {
    struct statfs s;
    if (fstatfs(fd, &s) != 0) return errno;
    *type = (long)s.f_type;
    return 0;
}

int voss_affinity_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
    return CPU_COUNT(&set);
}
