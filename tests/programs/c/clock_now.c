/* clock_now MS: reads every clock a program reads the time with (through
 * the C library, so through the vDSO), sleeps MS milliseconds, and reads
 * them again. Prints two lines, `before` and `after`, each
 *   realtime=S.N monotonic=S.N boottime=S.N gettimeofday=S.U time=S */
#include "fi_test.h"
#include <sys/time.h>
#include <time.h>

static void report(const char *when) {
    struct timespec real, mono, boot;
    struct timeval tv;
    if (clock_gettime(CLOCK_REALTIME, &real) || clock_gettime(CLOCK_MONOTONIC, &mono) ||
        clock_gettime(CLOCK_BOOTTIME, &boot))
        die("clock_gettime");
    if (gettimeofday(&tv, NULL))
        die("gettimeofday");
    time_t now = time(NULL);
    say("%s realtime=%lld.%09ld monotonic=%lld.%09ld boottime=%lld.%09ld "
        "gettimeofday=%lld.%06ld time=%lld",
        when, (long long)real.tv_sec, real.tv_nsec, (long long)mono.tv_sec, mono.tv_nsec,
        (long long)boot.tv_sec, boot.tv_nsec, (long long)tv.tv_sec, (long)tv.tv_usec,
        (long long)now);
}

int main(int argc, char **argv) {
    long ms = argc > 1 ? atol(argv[1]) : 0;
    report("before");
    struct timespec nap = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&nap, &nap) == -1 && errno == EINTR)
        ;
    report("after");
    return 0;
}
