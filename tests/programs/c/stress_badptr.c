/* Syscalls with hostile pointers, for fi's reading of tracee memory: a path
 * at address 1, a NULL path, a path that runs off the end of a mapping with
 * no NUL, a 4096-byte path with no NUL, and a write from an unmapped buffer.
 * Prints one line per call, "NAME: RESULT" (ok or the errno name), and
 * exits 0; the result must be the same natively and under fi.            */
#include "fi_test.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static void report(const char *name, long r) {
    say("%s: %s", name, r >= 0 ? "ok" : err_name(errno));
}

int main(void) {
    report("open-addr-1", syscall(SYS_openat, AT_FDCWD, (char *)1, O_RDONLY));
    report("open-null", syscall(SYS_openat, AT_FDCWD, (char *)0, O_RDONLY));

    long page = sysconf(_SC_PAGESIZE);
    char *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        die("mmap");
    if (munmap(map + page, page) != 0)
        die("munmap");
    memset(map, 'a', page); /* no NUL before the unmapped page */
    report("open-off-the-end", syscall(SYS_openat, AT_FDCWD, map + page - 8, O_RDONLY));
    report("open-page-no-nul", syscall(SYS_openat, AT_FDCWD, map, O_RDONLY));
    report("unlink-off-the-end", syscall(SYS_unlink, map + page - 1));

    int fd = open("/dev/null", O_WRONLY);
    if (fd < 0)
        die("open /dev/null");
    report("write-unmapped", syscall(SYS_write, fd, map + page, 16));
    report("write-null", syscall(SYS_write, fd, (char *)0, 16));
    return 0;
}
