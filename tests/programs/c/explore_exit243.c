// Saves a line to out.dat; on any error it says why and exits 243, as npm
// does after its own error message. An exit status above 128 is not a
// signal: there is no bug here.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fail(const char *what) {
    fprintf(stderr, "error: %s: %s\n", what, strerror(errno));
    exit(243);
}

int main(void) {
    int fd = open("out.dat", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        fail("open out.dat");
    const char line[] = "saved\n";
    if (write(fd, line, sizeof line - 1) != (ssize_t)(sizeof line - 1))
        fail("write out.dat");
    if (fsync(fd) < 0)
        fail("fsync out.dat");
    if (close(fd) < 0)
        fail("close out.dat");
    puts("done");
    return 0;
}
