/* fsyncs N FILE [both]: fsync FILE N times; one line per call:
 *   fsync I: ok | fsync I: ERRNO
 * With "both", each fsync is followed by an fdatasync, reported as
 *   fdatasync I: ok | fdatasync I: ERRNO
 * Exits 1 if any call failed.                                              */
#include "fi_test.h"
#include <fcntl.h>

static int report(const char *name, int i, int r) {
    if (r == 0) {
        say("%s %d: ok", name, i);
        return 0;
    }
    say("%s %d: %s", name, i, err_name(errno));
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        say("usage: fsyncs N FILE [both]");
        return 2;
    }
    int count = atoi(argv[1]);
    int both = argc > 3 && strcmp(argv[3], "both") == 0;
    int fd = open(argv[2], O_WRONLY | O_CREAT, 0644);
    if (fd < 0)
        die("open");
    int failures = 0;
    for (int i = 1; i <= count; i++) {
        failures += report("fsync", i, fsync(fd));
        if (both)
            failures += report("fdatasync", i, fdatasync(fd));
    }
    return failures ? 1 : 0;
}
