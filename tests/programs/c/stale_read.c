// Writes 4096 bytes of 'A' to FILE and fsyncs them, overwrites them with
// 4096 bytes of 'B' without a sync, reads the file back (pread64) and says
// what it read as runs of equal bytes: `B x 4096` when the read sees the
// last write. `stale_read [--layers] FILE`: with --layers, then also
// writes 'C' over the first 2048 bytes and appends 1024 bytes of 'D',
// neither synced, before the read.
#include "fi_test.h"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int put(int fd, char byte, size_t len, off_t at) {
    char buf[4096];
    memset(buf, byte, len);
    return pwrite(fd, buf, len, at) == (ssize_t)len ? 0 : -1;
}

int main(int argc, char **argv) {
    int layers = argc == 3 && strcmp(argv[1], "--layers") == 0;
    if (argc != 2 && !layers) {
        fprintf(stderr, "usage: stale_read [--layers] FILE\n");
        return 2;
    }
    int fd = open(argv[argc - 1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || put(fd, 'A', 4096, 0) != 0 || fsync(fd) != 0 || put(fd, 'B', 4096, 0) != 0) {
        perror("stale_read: write");
        return 1;
    }
    if (layers && (put(fd, 'C', 2048, 0) != 0 || put(fd, 'D', 1024, 4096) != 0)) {
        perror("stale_read: write");
        return 1;
    }
    char buf[8192];
    ssize_t got = pread(fd, buf, sizeof buf, 0);
    if (got <= 0) {
        perror("stale_read: read");
        return 1;
    }
    print_runs(buf, got);
    return 0;
}
