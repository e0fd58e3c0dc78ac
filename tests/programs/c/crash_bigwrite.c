/* crash_bigwrite FILE TOTAL_MIB REGION_MIB: overwrites the first REGION_MIB
 * MiB of the existing FILE over and over in 1 MiB pwrites, TOTAL_MIB MiB in
 * all; every byte of the Nth pass over the region is N (0, 1, ...), and
 * each pass ends with an fsync. Prints "done". */
#include "fi_test.h"
#include <fcntl.h>

#define MIB (1L << 20)

int main(int argc, char **argv) {
    if (argc != 4)
        return 2;
    long total = atol(argv[2]), region = atol(argv[3]);
    int fd = open(argv[1], O_WRONLY);
    if (fd < 0)
        die("open");
    char *buf = malloc(MIB);
    if (!buf)
        die("malloc");
    for (long i = 0; i < total; i++) {
        memset(buf, (int)(i / region), MIB);
        if (pwrite(fd, buf, MIB, (i % region) * MIB) != MIB)
            die("pwrite");
        if ((i + 1) % region == 0 && fsync(fd) != 0)
            die("fsync");
    }
    say("done");
    return 0;
}
