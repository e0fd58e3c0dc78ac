/* timed_fsync N FILE: times each of N fsyncs with CLOCK_MONOTONIC:
 *   fsync I: ok|ERRNO ms=MILLISECONDS                                      */
#include "fi_test.h"
#include <fcntl.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 3)
        return 2;
    int fd = open(argv[2], O_WRONLY | O_CREAT, 0644);
    if (fd < 0)
        die("open");
    int count = atoi(argv[1]);
    for (int i = 1; i <= count; i++) {
        double start = now_ms();
        int r = fsync(fd);
        int err = errno;
        double took = now_ms() - start;
        say("fsync %d: %s ms=%.1f", i, r == 0 ? "ok" : err_name(err), took);
    }
    return 0;
}
