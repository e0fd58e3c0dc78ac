// Writes 1000 bytes of 'A', then of 'B', then of 'C' to FILE at the
// descriptor's offset, each with write(2), or with writev(2) of two
// 500-byte buffers (--writev); says what each returned and where the
// descriptor's offset is after them, then reads the file back (pread64)
// and prints it as runs of equal bytes: `A x 1000, B x 1000, C x 1000`
// when every write landed where it was made.
// `plain_writes [--writev] FILE`.
#include "fi_test.h"
#include <fcntl.h>
#include <sys/uio.h>

static ssize_t put(int fd, char byte, int vectored) {
    char buf[1000];
    memset(buf, byte, sizeof buf);
    if (!vectored)
        return write(fd, buf, sizeof buf);
    struct iovec iov[2] = {{buf, 500}, {buf + 500, 500}};
    return writev(fd, iov, 2);
}

int main(int argc, char **argv) {
    int vectored = argc == 3 && strcmp(argv[1], "--writev") == 0;
    if (argc != 2 && !vectored) {
        fprintf(stderr, "usage: plain_writes [--writev] FILE\n");
        return 2;
    }
    int fd = open(argv[argc - 1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("open");
    for (const char *byte = "ABC"; *byte; byte++) {
        ssize_t wrote = put(fd, *byte, vectored);
        if (wrote < 0)
            die("write");
        printf("wrote %zd\n", wrote);
    }
    printf("offset %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    static char back[16384];
    ssize_t got = pread(fd, back, sizeof back, 0);
    if (got < 0)
        die("pread");
    print_runs(back, got);
    return 0;
}
