// Writes 1000 bytes of 'A', then of 'B', then of 'C' to FILE at the
// descriptor's offset, each with write(2), or with writev(2) of two
// 500-byte buffers (--writev); says what each returned and where the
// descriptor's offset is after them, then reads the file back (pread64)
// and prints it as runs of equal bytes: `A x 1000, B x 1000, C x 1000`
// when every write landed where it was made.
// `plain_writes [--writev] [--traced] FILE`: with --traced, first waits
// (10 s at most) until a tracer attached to it.
#include "fi_test.h"
#include <fcntl.h>
#include <sys/uio.h>
#include <time.h>

/* Whether /proc/self/status names a tracer. */
static int traced(void) {
    char line[256];
    int pid = 0;
    FILE *status = fopen("/proc/self/status", "r");
    if (!status)
        die("/proc/self/status");
    while (fgets(line, sizeof line, status))
        if (sscanf(line, "TracerPid: %d", &pid) == 1)
            break;
    fclose(status);
    return pid != 0;
}

static ssize_t put(int fd, char byte, int vectored) {
    char buf[1000];
    memset(buf, byte, sizeof buf);
    if (!vectored)
        return write(fd, buf, sizeof buf);
    struct iovec iov[2] = {{buf, 500}, {buf + 500, 500}};
    return writev(fd, iov, 2);
}

int main(int argc, char **argv) {
    int vectored = 0, wait = 0, arg = 1;
    for (; arg < argc - 1; arg++) {
        if (strcmp(argv[arg], "--writev") == 0)
            vectored = 1;
        else if (strcmp(argv[arg], "--traced") == 0)
            wait = 1;
        else
            break;
    }
    if (arg != argc - 1) {
        fprintf(stderr, "usage: plain_writes [--writev] [--traced] FILE\n");
        return 2;
    }
    int fd = open(argv[arg], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("open");
    struct timespec nap = {0, 10 * 1000 * 1000};
    for (int naps = 0; wait && !traced(); naps++) {
        if (naps == 1000) {
            fprintf(stderr, "plain_writes: no tracer came\n");
            return 1;
        }
        nanosleep(&nap, NULL);
    }
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
