// Saves out.txt the careful way, through a temporary file whose name is
// random letters only (as GNU patch's `out.txt.oVDvfBg`): create it
// exclusively, write, fsync, rename over out.txt. Every error is reported
// and exits 1.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static void fail(const char *what, const char *path) {
    fprintf(stderr, "tempname: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

int main(void) {
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    unsigned char random[7];
    if (getrandom(random, sizeof random, 0) != sizeof random)
        fail("getrandom", "");
    char temp[32] = "out.txt.";
    for (size_t i = 0; i < sizeof random; i++)
        temp[8 + i] = letters[random[i] % 52];
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        fail("open", temp);
    const char text[] = "the new contents\n";
    if (write(fd, text, sizeof text - 1) != (ssize_t)(sizeof text - 1))
        fail("write", temp);
    if (fsync(fd) < 0)
        fail("fsync", temp);
    if (close(fd) < 0)
        fail("close", temp);
    if (rename(temp, "out.txt") < 0)
        fail("rename", temp);
    return 0;
}
