/* crash_rename safe|unsafe [OUTSIDE]: replace data.txt (in the working
 * directory) with a new version, written to data.tmp and renamed over it.
 * "unsafe" syncs nothing (ALICE's classic pattern); "safe" fsyncs data.tmp
 * before the rename and the directory after it. With OUTSIDE, also writes
 * "outside\n" to that file (meant to lie outside the crash root) first.
 * The new version is 1000 bytes of "new version" lines; prints "done". */
#include "fi_test.h"
#include <fcntl.h>

static void write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0)
            die("write");
        buf += n;
        len -= (size_t)n;
    }
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    int safe = strcmp(argv[1], "safe") == 0;
    if (argc > 2) {
        int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0)
            die("open outside");
        write_all(out, "outside\n", 8);
        close(out);
    }
    char version[1000];
    for (size_t i = 0; i < sizeof version; i++)
        version[i] = "new version\n"[i % 12];
    int fd = open("data.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("open data.tmp");
    write_all(fd, version, sizeof version);
    if (safe && fsync(fd) != 0)
        die("fsync data.tmp");
    close(fd);
    if (rename("data.tmp", "data.txt") != 0)
        die("rename");
    if (safe) {
        int dir = open(".", O_RDONLY | O_DIRECTORY);
        if (dir < 0 || fsync(dir) != 0)
            die("fsync .");
        close(dir);
    }
    say("done");
    return 0;
}
