/* crash_mmap FILE sync|nosync|none: maps the existing FILE shared and
 * writable, writes "new contents" at its start through the mapping (not
 * with "none"), calls msync(MS_SYNC) with "sync", unmaps it, then makes a
 * getpid system call as a marker for the crash point and prints "done". */
#include "fi_test.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
    if (argc != 3)
        return 2;
    int fd = open(argv[1], O_RDWR);
    if (fd < 0)
        die("open");
    char *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        die("mmap");
    if (strcmp(argv[2], "none") != 0)
        memcpy(map, "new contents", 12);
    if (strcmp(argv[2], "sync") == 0 && msync(map, 4096, MS_SYNC) != 0)
        die("msync");
    munmap(map, 4096);
    syscall(SYS_getpid);
    say("done");
    return 0;
}
