#define _GNU_SOURCE
#include "cvosssys.h"

#include <errno.h>
#include <sys/vfs.h>
#include <unistd.h>

int voss_syncfs(int fd) { return syncfs(fd) == 0 ? 0 : errno; }

int voss_fs_type(int fd, long *type) {
    struct statfs s;
    if (fstatfs(fd, &s) != 0) return errno;
    *type = (long)s.f_type;
    return 0;
}
