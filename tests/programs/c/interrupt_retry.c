/* interrupt_retry BYTES: a child writes BYTES of a pattern into a pipe,
 * alternating write and writev; the parent reads them back from the pipe's
 * non-blocking end, alternating read and readv and waiting in poll when
 * nothing is there. Both sides are correct: they resume after a short
 * count and retry EINTR and EAGAIN. A SIGUSR1 handler (without SA_RESTART)
 * is installed, so a signal could interrupt them. Prints
 *   bytes N sum HASH
 * with a full-write loop; exits 1 if the data differ from the pattern.    */
#include "fi_test.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define CHUNK 8192

static void on_usr1(int sig) { (void)sig; }

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + i / 251); }

/* Write all of buf, resuming after short writes, retrying EINTR/EAGAIN. */
static void write_all(int fd, const unsigned char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            die("write");
        buf += n;
        len -= (size_t)n;
    }
}

/* One chunk by writev in two halves; what a short writev leaves goes by
 * write_all. */
static void writev_all(int fd, const unsigned char *buf, size_t len) {
    struct iovec iov[2] = {{(void *)buf, len / 2}, {(void *)(buf + len / 2), len - len / 2}};
    ssize_t n;
    do
        n = writev(fd, iov, 2);
    while (n < 0 && (errno == EINTR || errno == EAGAIN));
    if (n < 0)
        die("writev");
    write_all(fd, buf + n, len - (size_t)n);
}

static void child(int fd, size_t total) {
    unsigned char buf[CHUNK];
    for (size_t done = 0, round = 0; done < total; round++) {
        size_t len = total - done < CHUNK ? total - done : CHUNK;
        for (size_t i = 0; i < len; i++)
            buf[i] = pattern(done + i);
        if (round % 2)
            writev_all(fd, buf, len);
        else
            write_all(fd, buf, len);
        done += len;
    }
    close(fd);
    _exit(0);
}

int main(int argc, char **argv) {
    size_t total = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    struct sigaction sa = {.sa_handler = on_usr1};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        die("sigaction");
    int fds[2];
    if (pipe(fds) != 0)
        die("pipe");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], total);
    }
    close(fds[1]);
    if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0)
        die("fcntl");
    unsigned char buf[CHUNK];
    size_t got = 0, wrong = 0;
    uint64_t hash = 1469598103934665603ull;
    for (unsigned round = 0;; round++) {
        ssize_t n;
        if (round % 2) {
            struct iovec iov[2] = {{buf, CHUNK / 2}, {buf + CHUNK / 2, CHUNK / 2}};
            n = readv(fds[0], iov, 2);
        } else {
            n = read(fds[0], buf, CHUNK);
        }
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = fds[0], .events = POLLIN};
            if (poll(&p, 1, -1) < 0 && errno != EINTR)
                die("poll");
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("read");
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            wrong += buf[i] != pattern(got + (size_t)i);
            hash = (hash ^ buf[i]) * 1099511628211ull;
        }
        got += (size_t)n;
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        die("waitpid");
    char line[128];
    int len = snprintf(line, sizeof line, "bytes %zu sum %016llx\n", got, (unsigned long long)hash);
    write_all(1, (unsigned char *)line, (size_t)len);
    return wrong || got != total || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}
