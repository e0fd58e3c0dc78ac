/* crash_daemon PIDFILE: daemonizes as a server does (fork, setsid, fork
 * again; the first child exits, so the daemon is orphaned), and the daemon
 * writes its pid to PIDFILE and waits forever. The original process waits
 * until PIDFILE holds a whole line, says "started" and exits. */
#include "fi_test.h"
#include <fcntl.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    const char *pidfile = argv[1];
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        setsid();
        pid_t daemon = fork();
        if (daemon < 0)
            die("fork");
        if (daemon > 0)
            _exit(0);
        char line[32];
        int n = snprintf(line, sizeof line, "%d\n", getpid());
        int fd = open(pidfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, line, n) != n)
            die("pidfile");
        close(fd);
        for (;;)
            pause();
    }
    waitpid(child, NULL, 0);
    for (;;) {
        char buf[32] = {0};
        int fd = open(pidfile, O_RDONLY);
        if (fd >= 0) {
            ssize_t n = read(fd, buf, sizeof buf - 1);
            close(fd);
            if (n > 0 && buf[n - 1] == '\n')
                break;
        }
        usleep(1000);
    }
    say("started");
    return 0;
}
