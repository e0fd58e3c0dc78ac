/* clock_loop N: calls clock_gettime(CLOCK_MONOTONIC) N times through the C
 * library (which goes through the vDSO), then prints
 *   entry HEX          the first 12 bytes of the vDSO's __vdso_clock_gettime
 *   calls N
 *   ns_per_call X      the loop's cost per call
 * The entry's bytes tell whether fault rewrote the vDSO. */
#include "fi_test.h"
#include "clock_vdso.h"
#include <time.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    const unsigned char *entry = vdso_symbol("__vdso_clock_gettime");
    if (!entry)
        die("no __vdso_clock_gettime");
    char hex[64] = "";
    for (int i = 0; i < 12; i++)
        snprintf(hex + 2 * i, 3, "%02x", entry[i]);
    say("entry %s", hex);
    struct timespec start, end, t;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < n; i++)
        if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
            die("clock_gettime");
    clock_gettime(CLOCK_MONOTONIC, &end);
    long long ns = (end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec);
    say("calls %ld", n);
    say("ns_per_call %.1f", n ? (double)ns / n : 0.0);
    return 0;
}
