/* interrupt_once BYTES: writes BYTES (at most 60000, so they fit in the pipe)
 * into a pipe with one write, then reads them back with one read, assuming
 * both complete: the bug a short read or write catches. Prints
 *   read N of BYTES
 * and exits 1 if N is not BYTES.                                           */
#include "fi_test.h"

int main(int argc, char **argv) {
    size_t want = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
    static char buf[60000];
    if (want > sizeof buf)
        want = sizeof buf;
    memset(buf, 'x', want);
    int fds[2];
    if (pipe(fds) != 0)
        die("pipe");
    if (write(fds[1], buf, want) < 0)
        die("write");
    ssize_t got = read(fds[0], buf, want);
    if (got < 0)
        die("read");
    say("read %zd of %zu", got, want);
    return (size_t)got != want;
}
