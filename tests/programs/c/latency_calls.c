/* latency_calls N FILE [GAP_US]: opens FILE for writing, then makes N
 * one-byte write(2) calls to it, GAP_US microseconds apart (default 0),
 * timing each with CLOCK_MONOTONIC. Prints one line per call after the
 * last one:
 *   START_NS DURATION_NS
 * START_NS counted from the first call's start. The lines are written with
 * stdio at the end, so that the timed calls are the only writes to FILE
 * and the timing loop makes no other call.                              */
#include "fi_test.h"
#include <fcntl.h>
#include <time.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4)
        return 2;
    long n = atol(argv[1]);
    long gap_us = argc == 4 ? atol(argv[3]) : 0;
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || n <= 0)
        die("open");
    long long *start = malloc(n * sizeof *start);
    long long *took = malloc(n * sizeof *took);
    if (!start || !took)
        die("malloc");
    struct timespec gap = {gap_us / 1000000, (gap_us % 1000000) * 1000};
    long long first = now_ns();
    for (long i = 0; i < n; i++) {
        long long before = now_ns();
        if (write(fd, "x", 1) != 1)
            die("write");
        long long after = now_ns();
        start[i] = before - first;
        took[i] = after - before;
        if (gap_us > 0)
            nanosleep(&gap, NULL);
    }
    for (long i = 0; i < n; i++)
        printf("%lld %lld\n", start[i], took[i]);
    return 0;
}
