// link: -luring
//
// Writes "hello through <path>\n" to the file argv[1] with io_uring, or,
// when the kernel refuses to set up a ring, with plain pwrite: the fallback
// many programs carry. Prints which way it took, and exits 1 with the error
// if the write failed.
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_with_ring(struct io_uring *ring, int fd, const char *data, size_t len) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    io_uring_prep_write(sqe, fd, data, len, 0);
    io_uring_submit(ring);
    struct io_uring_cqe *cqe;
    int err = io_uring_wait_cqe(ring, &cqe);
    if (err < 0)
        return err;
    int res = cqe->res;
    io_uring_cqe_seen(ring, cqe);
    return res;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    struct io_uring ring;
    int err = io_uring_queue_init(4, &ring, 0);
    const char *way = err == 0 ? "io_uring" : "pwrite";
    char data[64];
    int len = snprintf(data, sizeof data, "hello through %s\n", way);
    ssize_t written;
    if (err == 0) {
        written = write_with_ring(&ring, fd, data, len);
        io_uring_queue_exit(&ring);
    } else {
        written = pwrite(fd, data, len, 0);
        if (written < 0)
            written = -errno;
    }
    printf("%s\n", way);
    if (written < 0) {
        fprintf(stderr, "write failed: %s\n", strerror(-written));
        return 1;
    }
    return close(fd) == 0 ? 0 : 1;
}
