// Writes 4096 bytes of 'A' to FILE and fsyncs them, overwrites them with
// 4096 bytes of 'B' without a sync, reads the 4096 bytes back (pread64)
// and says what it read: `B x 4096` when the read sees the last write.
// `stale_read FILE`.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SIZE 4096

static int write_all(int fd, char byte) {
    char buf[SIZE];
    memset(buf, byte, SIZE);
    return pwrite(fd, buf, SIZE, 0) == SIZE ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: stale_read FILE\n");
        return 2;
    }
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write_all(fd, 'A') != 0 || fsync(fd) != 0 || write_all(fd, 'B') != 0) {
        perror("stale_read: write");
        return 1;
    }
    char buf[SIZE];
    if (pread(fd, buf, SIZE, 0) != SIZE) {
        perror("stale_read: read");
        return 1;
    }
    // The first byte, and how many bytes equal it.
    int same = 0;
    for (int i = 0; i < SIZE; i++)
        same += buf[i] == buf[0];
    printf("%c x %d\n", buf[0], same);
    return 0;
}
