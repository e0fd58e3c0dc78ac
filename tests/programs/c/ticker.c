/* ticker FILE COUNT INTERVAL_MS [PIDFILE]: writes its pid to PIDFILE (with
 * pwrite, so that write rules do not touch it), then COUNT times: sleeps
 * INTERVAL_MS, writes "tick I\n" to FILE, and reports "tick I: ok|ERRNO".
 * On SIGINT it stops early, reports "got SIGINT" and exits 42.             */
#include "fi_test.h"
#include <fcntl.h>
#include <signal.h>
#include <time.h>

static volatile sig_atomic_t interrupted;

static void on_int(int sig) {
    (void)sig;
    interrupted = 1;
}

int main(int argc, char **argv) {
    if (argc < 4)
        return 2;
    struct sigaction sa = {0};
    sa.sa_handler = on_int;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (fd < 0)
        die("open");
    if (argc > 4) {
        int pf = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char pid[32];
        int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
        if (pf < 0 || pwrite(pf, pid, len, 0) != len)
            die("pidfile");
        close(pf);
    }
    int count = atoi(argv[2]);
    long interval = atol(argv[3]);
    for (int i = 1; i <= count && !interrupted; i++) {
        struct timespec ts = {interval / 1000, (interval % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !interrupted)
            ;
        if (interrupted)
            break;
        char line[32];
        int len = snprintf(line, sizeof line, "tick %d\n", i);
        ssize_t n = write(fd, line, len);
        if (n == len)
            say("tick %d: ok", i);
        else
            say("tick %d: %s", i, n < 0 ? err_name(errno) : "short");
    }
    if (interrupted) {
        say("got SIGINT");
        return 42;
    }
    say("done");
    return 0;
}
