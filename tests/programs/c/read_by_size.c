// Trusts st_size, as many programs do: reads exactly as many bytes as
// fstat says the file holds (stopping early only at the end of the file)
// and writes them to standard output. `read_by_size [--pread] FILE`:
// with --pread, through pread64 at increasing offsets rather than read.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int positioned = argc == 3 && strcmp(argv[1], "--pread") == 0;
    if (argc != 2 && !positioned) {
        fprintf(stderr, "usage: read_by_size [--pread] FILE\n");
        return 2;
    }
    int fd = open(argv[argc - 1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror("read_by_size");
        return 1;
    }
    char *buf = malloc(st.st_size + 1);
    off_t got = 0;
    while (buf != NULL && got < st.st_size) {
        ssize_t n = positioned ? pread(fd, buf + got, st.st_size - got, got)
                               : read(fd, buf + got, st.st_size - got);
        if (n < 0) {
            perror("read_by_size: read");
            return 1;
        }
        if (n == 0)
            break;
        got += n;
    }
    fwrite(buf, 1, got, stdout);
    fprintf(stderr, "read_by_size: st_size %lld, read %lld\n", (long long)st.st_size,
            (long long)got);
    return 0;
}
