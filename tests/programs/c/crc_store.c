// A small record store that checksums every record with CRC-32, as storage
// engines do. `crc_store write` writes store.db; `crc_store read` reads it
// back, record by record (an 8-byte header, then the body, each with its
// own read), checks each record's CRC and prints the records.
// `crc_store read --no-checksum` trusts what it reads: a bit flipped on the
// way from the disk becomes a wrong result, reported nowhere.
//
// Record: u32 length, u32 CRC-32 of the body, then the body. A bad header
// (a length past the end of the file) or a CRC mismatch is reported on
// stderr, with exit status 3.
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *RECORDS[] = {
    "alpha: the first record of the store, long enough to be worth a checksum\n",
    "beta: a second record, with other words in it, and some digits 0123456789\n",
    "gamma: the third and last record of the store, which ends the file here\n",
};
static const int COUNT = 3;

static uint32_t crc32(const unsigned char *data, size_t len) {
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static int write_store(void) {
    int fd = open("store.db", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror("crc_store: open store.db");
        return 1;
    }
    for (int i = 0; i < COUNT; i++) {
        uint32_t header[2] = {(uint32_t)strlen(RECORDS[i]), 0};
        header[1] = crc32((const unsigned char *)RECORDS[i], header[0]);
        if (write(fd, header, sizeof header) != sizeof header ||
            write(fd, RECORDS[i], header[0]) != (ssize_t)header[0]) {
            perror("crc_store: write store.db");
            return 1;
        }
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        perror("crc_store: sync store.db");
        return 1;
    }
    return 0;
}

static int read_store(int check) {
    int fd = open("store.db", O_RDONLY);
    if (fd < 0) {
        perror("crc_store: open store.db");
        return 1;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    off_t at = 0;
    for (int i = 0; at < size; i++) {
        uint32_t header[2];
        if (pread(fd, header, sizeof header, at) != sizeof header) {
            fprintf(stderr, "crc_store: record %d: short header\n", i);
            return 3;
        }
        at += sizeof header;
        if (header[0] > (uint64_t)(size - at)) {
            fprintf(stderr, "crc_store: record %d: length %u past the end of the file\n", i,
                    header[0]);
            return 3;
        }
        unsigned char *body = malloc(header[0] + 1);
        if (body == NULL || pread(fd, body, header[0], at) != (ssize_t)header[0]) {
            fprintf(stderr, "crc_store: record %d: short body\n", i);
            return 3;
        }
        at += header[0];
        uint32_t crc = crc32(body, header[0]);
        if (check && crc != header[1]) {
            fprintf(stderr, "crc_store: record %d: checksum mismatch (stored %08x, computed %08x)\n",
                    i, header[1], crc);
            return 3;
        }
        fwrite(body, 1, header[0], stdout);
        free(body);
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "write") == 0)
        return write_store();
    if (argc > 1 && strcmp(argv[1], "read") == 0)
        return read_store(!(argc > 2 && strcmp(argv[2], "--no-checksum") == 0));
    fprintf(stderr, "usage: crc_store write | read [--no-checksum]\n");
    return 2;
}
