/* latency_calls N FILE [GAP_US [FILE2]]: opens FILE (and FILE2) for
 * writing, then makes N one-byte write(2) calls to FILE (each followed by
 * one to FILE2, if given), GAP_US microseconds apart (default 0), timing
 * each call with CLOCK_MONOTONIC. Prints one line per call after the last
 * one:
 *   START_NS DURATION_NS WHICH
 * START_NS counted from the first call's start, WHICH 1 for FILE and 2 for
 * FILE2. The lines are written with stdio at the end, so that the timing
 * loop makes no call but the timed ones (and the gap's nanosleep).      */
#include "fi_test.h"
#include <fcntl.h>
#include <time.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5)
        return 2;
    long n = atol(argv[1]);
    long gap_us = argc >= 4 ? atol(argv[3]) : 0;
    int files = argc == 5 ? 2 : 1;
    int fds[2];
    for (int f = 0; f < files; f++) {
        fds[f] = open(argv[2 + 2 * f], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fds[f] < 0)
            die("open");
    }
    if (n <= 0)
        return 2;
    long calls = n * files;
    long long *start = malloc(calls * sizeof *start);
    long long *took = malloc(calls * sizeof *took);
    if (!start || !took)
        die("malloc");
    struct timespec gap = {gap_us / 1000000, (gap_us % 1000000) * 1000};
    long long first = now_ns();
    for (long i = 0; i < calls; i++) {
        long long before = now_ns();
        if (write(fds[i % files], "x", 1) != 1)
            die("write");
        long long after = now_ns();
        start[i] = before - first;
        took[i] = after - before;
        if (gap_us > 0 && i % files == files - 1)
            nanosleep(&gap, NULL);
    }
    for (long i = 0; i < calls; i++)
        printf("%lld %lld %ld\n", start[i], took[i], i % files + 1);
    return 0;
}
