// A small record store with many error paths: most handled, three planted
// bugs. `store` writes store.dat and index.dat; `store verify` checks them.
//
// Planted bugs (what `fault explore` must find, and nothing else):
//  1. the record body is written with one write() whose short result is
//     ignored (only -1 is checked): a short write leaves a torn record;
//  2. index.dat is closed without checking close();
//  3. the optional notes file is fopen()ed and used without a NULL check:
//     a failed open crashes.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *RECORDS[] = {"alpha=1\n", "beta=22\n", "gamma=333\n"};
static const int COUNT = 3;

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int verify(void) {
    char buf[256] = {0};
    int fd = open("store.dat", O_RDONLY);
    if (fd < 0)
        return 1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    char want[256] = "store v1\n";
    for (int i = 0; i < COUNT; i++)
        strcat(want, RECORDS[i]);
    if (n < 0 || strcmp(buf, want) != 0)
        return 1;
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "verify") == 0)
        return verify();

    int fd = open("store.dat", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror("store: open store.dat");
        return 1;
    }
    if (write_all(fd, "store v1\n", 9) < 0) {
        perror("store: write header");
        return 1;
    }
    for (int i = 0; i < COUNT; i++) {
        size_t len = strlen(RECORDS[i]);
        // Bug 1: a short write goes unnoticed.
        if (write(fd, RECORDS[i], len) < 0) {
            perror("store: write record");
            return 1;
        }
    }
    if (fsync(fd) < 0) {
        perror("store: fsync store.dat");
        return 1;
    }
    if (close(fd) < 0) {
        perror("store: close store.dat");
        return 1;
    }

    int index = open("index.dat", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (index < 0) {
        perror("store: open index.dat");
        return 1;
    }
    char line[32];
    int len = snprintf(line, sizeof line, "%d records\n", COUNT);
    if (write_all(index, line, (size_t)len) < 0) {
        perror("store: write index");
        return 1;
    }
    // Bug 2: the error of close, the last chance to hear of a failed
    // write-back, is dropped.
    close(index);

    // Bug 3: no NULL check.
    FILE *notes = fopen("notes.txt", "w");
    fputs("stored\n", notes);
    if (fclose(notes) != 0) {
        perror("store: close notes.txt");
        return 1;
    }
    puts("stored 3 records");
    return 0;
}
