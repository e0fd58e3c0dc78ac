/* bench/run section 6: calls fsync N times on FILE (errors ignored), so that
 * a policy subscribed to fsync is asked N times. Usage: fsync_loop FILE N */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE N\n", argv[0]);
        return 2;
    }
    int fd = open(argv[1], O_WRONLY | O_CREAT, 0644);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    long n = atol(argv[2]);
    for (long i = 0; i < n; i++)
        (void)fsync(fd);
    return close(fd) != 0;
}
