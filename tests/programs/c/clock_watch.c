/* clock_watch COUNT MS: COUNT times, every MS milliseconds, reads the wall
 * clock through the C library (so through the vDSO) and prints
 *   tick I realtime=S
 * then `done`. */
#include "fi_test.h"
#include <time.h>

int main(int argc, char **argv) {
    long count = argc > 1 ? atol(argv[1]) : 100;
    long ms = argc > 2 ? atol(argv[2]) : 50;
    for (long i = 1; i <= count; i++) {
        struct timespec now;
        if (clock_gettime(CLOCK_REALTIME, &now))
            die("clock_gettime");
        say("tick %ld realtime=%lld", i, (long long)now.tv_sec);
        struct timespec nap = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&nap, &nap) == -1 && errno == EINTR)
            ;
    }
    say("done");
    return 0;
}
